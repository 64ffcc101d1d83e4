# A real SMTP server for askdesk's email tests: Debian's aiosmtpd with this handler, run as
#   /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Sink FOLDER
# (PYTHONPATH=tests/support). Each accepted message is written to FOLDER/NNNNNN.eml, first
# line "X-Envelope-From: <sender>" so tests see the envelope. Recipients that start with
# "reject" get 550 (permanent); those that start with "flaky" get 451 the first time.
import os


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.refused_once = set()

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error('smtp_sink.Sink takes one argument: the folder for messages')
        return cls(args[0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith('reject'):
            return '550 5.1.1 <%s>: Recipient address rejected: User unknown' % address
        if address.startswith('flaky') and address not in self.refused_once:
            self.refused_once.add(address)
            return '451 4.3.0 <%s>: Temporary lookup failure' % address
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.folder, '%06d.eml' % self.count)
        with open(path + '.tmp', 'wb') as f:
            f.write(b'X-Envelope-From: <' + (envelope.mail_from or '').encode() + b'>\r\n')
            f.write(envelope.original_content)
        os.rename(path + '.tmp', path)
        return '250 OK'
