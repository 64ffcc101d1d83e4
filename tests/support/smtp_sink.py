# A real SMTP server for askdesk's email tests: Debian's aiosmtpd with this handler, run as
#   /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Sink FOLDER [refuse-login]
# (PYTHONPATH=tests/support). Each accepted message is written to FOLDER/NNNNNN.eml, first
# lines "X-Envelope-From: <sender>" and "X-Envelope-TLS: <TLS version, or none>" so tests see
# the envelope and how it came. Recipients that start with "reject" get 550 (permanent); those
# that start with "flaky" get 451 the first time. With refuse-login it offers AUTH and refuses
# every login (aiosmtpd answers 538 without TLS). After STARTTLS (aiosmtpd's --tlscert) it
# offers AUTH and takes the test mailbox's login, ask / secret, as a submission server would;
# over smtps:// (--smtpscert) aiosmtpd offers no AUTH.
import binascii
import os

from aiosmtpd.smtp import MISSING, AuthResult, SMTP

LOGIN = (b'ask', b'secret')


class Sink:
    def __init__(self, folder, refuse_login=False):
        self.folder = folder
        self.refuse_login = refuse_login
        self.count = 0
        self.refused_once = set()

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) not in (1, 2) or (len(args) == 2 and args[1] != 'refuse-login'):
            parser.error('smtp_sink.Sink takes the folder for messages, then refuse-login')
        return cls(args[0], len(args) == 2)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.refuse_login:
            responses.insert(1, '250-AUTH PLAIN LOGIN')
        return responses

    # aiosmtpd's own AUTH mechanisms refuse every login; these check the test login.
    async def auth_PLAIN(self, server, args):
        data = await server.challenge_auth('') if len(args) == 1 else decode(args[1])
        parts = data.split(b'\0') if isinstance(data, bytes) else []
        return self.check(parts[1:] if len(parts) == 3 else None)

    async def auth_LOGIN(self, server, args):
        login = (await server.challenge_auth(SMTP.AuthLoginUsernameChallenge) if len(args) == 1
                 else decode(args[1]))
        if not isinstance(login, bytes):
            return AuthResult(success=False)
        password = await server.challenge_auth(SMTP.AuthLoginPasswordChallenge)
        return self.check([login, password] if isinstance(password, bytes) else None)

    def check(self, login_password):
        ok = not self.refuse_login and login_password is not None and \
            tuple(login_password) == LOGIN
        return AuthResult(success=ok)

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
            tls = server.transport.get_extra_info('ssl_object')
            f.write(b'X-Envelope-TLS: ' + (tls.version() if tls else 'none').encode() + b'\r\n')
            f.write(envelope.original_content)
        os.rename(path + '.tmp', path)
        return '250 OK'


def decode(text):
    try:
        return binascii.a2b_base64(text.encode())
    except binascii.Error:
        return MISSING
