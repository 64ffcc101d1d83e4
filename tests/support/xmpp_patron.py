# A patron's XMPP client for askdesk's tests: Debian's slixmpp (python3-slixmpp, so always
# run with /usr/bin/python3), driven one JSON object a line. It reads commands on stdin and
# prints events on stdout, or on the descriptors given as --commands-fd and --events-fd
# (tests/support/xmpp_patron.cpp passes pipes, as its child's stdout and stderr go to a log);
# slixmpp's own log, every stanza included, goes to stderr.
#
# Every command may carry "seq" and is answered by exactly one event, in order:
#   {"event": "done", "seq": N, "command": ..., ...}     (message commands add "id")
#   {"event": "command_failed", "seq": N, "command": ..., "reason": ...}
# Commands (fields after the name; optional ones in brackets):
#   connect     jid password host port [tls: starttls|direct|none] [ca_file] [insecure]
#               [auto_receipts: true] [auto_authorize: null|true|false] [auto_subscribe]
#               "done" once the session started (with the bound "jid"); fails on a refused
#               connection, a certificate that does not verify, a refused login. Connecting
#               again drops the previous connection first; after a server restart, connect
#               again (no automatic reconnection).
#   disconnect  "done" once the stream is closed.
#   message     to body [id] [request_receipt] [chat_state] [type: chat]
#   chat_state  to state (active, composing, paused, inactive, gone): no body.
#   receipt     to id: <received id=.../> alone, as a client acknowledging that message.
#   error       to [id] [condition: service-unavailable] [error_type: cancel] [text]
#   burst       to count [body: "message "] [id: "burst-"] [request_receipt]: bodies and ids
#               are the prefix followed by 1..count, sent back to back.
#   subscribe   to;  accept_subscription  to [subscribe_back];  presence  [show] [status]
#   disco_info  [jid: the server]: "done" with "features" and "identities".
#   ping        [jid: the server] (XEP-0199).
#   archive     [with] [max: 100]: the account's MAM archive, oldest first: one
#               "archived_message" event each, then "done" with "count".
#   quit        disconnects and exits (so does the end of the commands).
# Events, as they happen:
#   message          from to id type body receipt_requested chat_state delay
#   chat_state       from id state has_body
#   receipt          from id (the message acknowledged) message_id
#   message_error    from id error_type condition text
#   presence         from to type show status priority
#   archived_message archive_id from to id body stamp
#   session_started jid stream_features (namespaces offered after login); connect_failed reason; disconnected reason; stream_error condition text
import argparse
import asyncio
import json
import logging
import os
import ssl
import sys
from pathlib import Path

import slixmpp

log = logging.getLogger('xmpp_patron')


class Patron(slixmpp.ClientXMPP):
    """One connection; a new one is made for every connect command."""

    def __init__(self, command, emit):
        super().__init__(command['jid'], command['password'])
        self.emit = emit
        self.target = (command['host'], int(command['port']))
        self.tls = command.get('tls', 'starttls')
        self.stream_features = []
        self.use_ipv6 = False
        self.whitespace_keepalive = False
        for plugin in ('xep_0030', 'xep_0085', 'xep_0184', 'xep_0199', 'xep_0203', 'xep_0313'):
            self.register_plugin(plugin)
        self['xep_0184'].auto_ack = bool(command.get('auto_receipts', True))
        self['xep_0184'].auto_request = False
        self.auto_authorize = command.get('auto_authorize')
        self.auto_subscribe = bool(command.get('auto_subscribe', False))
        if command.get('insecure'):
            self.ssl_context.check_hostname = False
            self.ssl_context.verify_mode = ssl.CERT_NONE
        elif command.get('ca_file'):
            self.ca_certs = Path(command['ca_file'])
        # The outcome of connect(): None once the session started, else why not.
        self.outcome = asyncio.get_event_loop().create_future()
        # Done once the connection is gone (or never came).
        self.gone = asyncio.get_event_loop().create_future()
        self.add_event_handler('session_start', self.on_session_start)
        self.add_event_handler('connection_failed', self.on_connection_failed)
        self.add_event_handler('failed_all_auth', self.on_failed_auth)
        self.add_event_handler('ssl_invalid_chain', self.on_invalid_chain)
        self.add_event_handler('stream_error', self.on_stream_error)
        self.add_event_handler('stream_negotiated', self.on_stream_negotiated)
        self.add_event_handler('disconnected', self.on_disconnected)
        self.add_event_handler('message', self.on_message)
        self.add_event_handler('chatstate', self.on_chat_state)
        self.add_event_handler('receipt_received', self.on_receipt)
        self.add_event_handler('message_error', self.on_message_error)
        self.add_event_handler('presence', self.on_presence)

    async def get_dns_records(self, domain, port=None):
        # The test names the server's address: never ask DNS about the JID's domain.
        return [(domain, self.target[0], self.target[1])]

    async def _handle_stream_features(self, features):
        # Kept for session_started: what the server offered once logged in (urn:xmpp:sm:3...).
        self.stream_features = sorted({child.tag[1:].split('}')[0] for child in features.xml
                                       if child.tag.startswith('{')})
        return await super()._handle_stream_features(features)

    def start(self):
        self.connect(self.target, use_ssl=self.tls == 'direct',
                     force_starttls=self.tls == 'starttls', disable_starttls=self.tls != 'starttls')

    def settle(self, outcome):
        if not self.outcome.done():
            self.outcome.set_result(outcome)

    async def on_session_start(self, _):
        self.send_presence()
        await self.get_roster()
        self.emit({'event': 'session_started', 'jid': str(self.boundjid),
                   'stream_features': self.stream_features})
        self.settle(None)

    def on_connection_failed(self, error):
        # slixmpp would try again forever; a test wants to know now.
        self.cancel_connection_attempt()
        self.fail('connection failed: %s' % error)

    def on_failed_auth(self, _):
        self.fail('authentication failed')
        self.disconnect()

    def on_invalid_chain(self, error):
        self.fail('certificate not trusted: %s' % error)
        self.abort()

    def on_stream_negotiated(self, _):
        # Features done and still not logged in: the server offered no way to (for one,
        # plain text to a server that requires encryption).
        if not self.authenticated:
            self.fail('the server offered no way to log in')
            self.disconnect()

    def fail(self, reason):
        if not self.outcome.done():
            self.emit({'event': 'connect_failed', 'reason': reason})
        self.settle(reason)

    def on_stream_error(self, error):
        self.emit({'event': 'stream_error', 'condition': error['condition'],
                   'text': error['text']})

    def on_disconnected(self, reason):
        self.fail('disconnected: %s' % reason)
        self.emit({'event': 'disconnected', 'reason': str(reason or '')})
        if not self.gone.done():
            self.gone.set_result(None)

    def on_message(self, msg):
        if msg['type'] == 'error':
            return
        self.emit({'event': 'message', 'from': str(msg['from']), 'to': str(msg['to']),
                   'id': msg['id'], 'type': msg['type'], 'body': msg['body'],
                   'receipt_requested': bool(msg['request_receipt']),
                   'chat_state': msg['chat_state'] or '',
                   'delay': str(msg['delay']['stamp'] or '') if msg.xml.find(
                       '{urn:xmpp:delay}delay') is not None else ''})

    def on_chat_state(self, msg):
        self.emit({'event': 'chat_state', 'from': str(msg['from']), 'id': msg['id'],
                   'state': msg['chat_state'], 'has_body': bool(msg['body'])})

    def on_receipt(self, msg):
        self.emit({'event': 'receipt', 'from': str(msg['from']), 'id': msg['receipt'],
                   'message_id': msg['id']})

    def on_message_error(self, msg):
        self.emit({'event': 'message_error', 'from': str(msg['from']), 'id': msg['id'],
                   'error_type': msg['error']['type'], 'condition': msg['error']['condition'],
                   'text': msg['error']['text']})

    def on_presence(self, pres):
        self.emit({'event': 'presence', 'from': str(pres['from']), 'to': str(pres['to']),
                   'type': pres['type'], 'show': pres['show'], 'status': pres['status'],
                   'priority': pres['priority']})


class Driver:
    """Reads commands, runs them one after the other, answers each."""

    def __init__(self, events):
        self.events = events
        self.patron = None

    def emit(self, event):
        self.events.write(json.dumps(event, ensure_ascii=False) + '\n')
        self.events.flush()

    async def run(self, commands):
        while True:
            line = await commands.readline()
            if not line:
                break
            if not line.strip():
                continue
            try:
                command = json.loads(line)
            except ValueError as e:
                self.emit({'event': 'command_failed', 'reason': 'not JSON: %s' % e})
                continue
            if command.get('command') == 'quit':
                break
            await self.answer(command)
        await self.disconnect({})

    async def answer(self, command):
        name = command.get('command', '')
        reply = {'seq': command.get('seq'), 'command': name}
        handler = getattr(self, 'do_' + name, None)
        try:
            if handler is None:
                raise ValueError('unknown command %r' % name)
            if name != 'connect' and (self.patron is None or not self.patron.is_connected()):
                raise ValueError('not connected')
            reply.update(await handler(command) or {})
            reply['event'] = 'done'
        except Exception as e:  # the test reads the reason; the client carries on
            log.exception('%s failed', name)
            reply.update({'event': 'command_failed', 'reason': '%s: %s' % (type(e).__name__, e)})
        self.emit(reply)

    async def do_connect(self, command):
        await self.disconnect({})
        self.patron = Patron(command, self.emit)
        self.patron.start()
        outcome = await asyncio.wait_for(self.patron.outcome, float(command.get('timeout', 20)))
        if outcome is not None:
            raise ConnectionError(outcome)
        return {'jid': str(self.patron.boundjid),
                'stream_features': self.patron.stream_features}

    async def disconnect(self, _):
        if self.patron is not None and not self.patron.gone.done():
            self.patron.disconnect()
            await asyncio.wait_for(asyncio.shield(self.patron.gone), 10)

    do_disconnect = disconnect

    def new_message(self, command, mtype='chat'):
        msg = self.patron.make_message(mto=command['to'], mtype=command.get('type', mtype))
        msg['id'] = command.get('id') or self.patron.new_id()
        return msg

    async def do_message(self, command):
        msg = self.new_message(command)
        msg['body'] = command['body']
        if command.get('request_receipt'):
            msg['request_receipt'] = True
        if command.get('chat_state'):
            msg['chat_state'] = command['chat_state']
        msg.send()
        return {'id': msg['id']}

    async def do_chat_state(self, command):
        msg = self.new_message(command)
        msg['chat_state'] = command['state']
        msg.send()
        return {'id': msg['id']}

    async def do_receipt(self, command):
        msg = self.patron.make_message(mto=command['to'])
        if command.get('type'):
            msg['type'] = command['type']
        msg['id'] = self.patron.new_id()
        msg['receipt'] = command['id']
        msg.send()
        return {'id': msg['id']}

    async def do_error(self, command):
        msg = self.new_message(command, mtype='error')
        msg['error']['type'] = command.get('error_type', 'cancel')
        msg['error']['condition'] = command.get('condition', 'service-unavailable')
        if command.get('text'):
            msg['error']['text'] = command['text']
        msg.send()
        return {'id': msg['id']}

    async def do_burst(self, command):
        body, ids = command.get('body', 'message '), command.get('id', 'burst-')
        count = int(command['count'])
        for i in range(1, count + 1):
            msg = self.patron.make_message(mto=command['to'], mbody='%s%d' % (body, i),
                                           mtype='chat')
            msg['id'] = '%s%d' % (ids, i)
            if command.get('request_receipt'):
                msg['request_receipt'] = True
            msg.send()
        return {'count': count}

    async def do_subscribe(self, command):
        self.patron.send_presence(pto=command['to'], ptype='subscribe')

    async def do_accept_subscription(self, command):
        self.patron.send_presence(pto=command['to'], ptype='subscribed')
        if command.get('subscribe_back'):
            self.patron.send_presence(pto=command['to'], ptype='subscribe')

    async def do_presence(self, command):
        self.patron.send_presence(pshow=command.get('show'), pstatus=command.get('status'))

    async def do_disco_info(self, command):
        iq = await self.patron['xep_0030'].get_info(
            jid=command.get('jid') or self.patron.boundjid.domain, timeout=10)
        info = iq['disco_info']
        return {'features': sorted(info['features']),
                'identities': [list(i) for i in info['identities']]}

    async def do_ping(self, command):
        rtt = await self.patron['xep_0199'].ping(
            jid=command.get('jid') or self.patron.boundjid.domain, timeout=10)
        return {'rtt': rtt}

    async def do_archive(self, command):
        count = 0
        archive = self.patron['xep_0313'].iterate(
            with_jid=slixmpp.JID(command['with']) if command.get('with') else None,
            rsm={'max': int(command.get('max', 100))})
        async for result in archive:
            forwarded = result['mam_result']['forwarded']
            msg = forwarded['stanza']
            self.emit({'event': 'archived_message', 'archive_id': result['mam_result']['id'],
                       'from': str(msg['from']), 'to': str(msg['to']), 'id': msg['id'],
                       'body': msg['body'], 'stamp': str(forwarded['delay']['stamp'] or '')})
            count += 1
        return {'count': count}


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--commands-fd', type=int, default=0)
    parser.add_argument('--events-fd', type=int, default=1)
    parser.add_argument('--quiet', action='store_true', help='log warnings only, not stanzas')
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING if options.quiet else logging.DEBUG,
                        stream=sys.stderr,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands),
                                 os.fdopen(options.commands_fd, 'rb', buffering=0))
    # A copy of the descriptor: the commands and the events may share one socket.
    events = os.fdopen(os.dup(options.events_fd), 'w', encoding='utf-8', buffering=1)
    await Driver(events).run(commands)


if __name__ == '__main__':
    asyncio.run(main())
