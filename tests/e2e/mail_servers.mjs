// Real mail servers for the browser tests, as tests/support/mail_servers.cpp starts them for
// the C++ ones: Dovecot (IMAP, user "ask", password "secret"; as root its processes run as
// dovenull and dovecot and the mail belongs to nobody) and aiosmtpd with
// tests/support/smtp_sink.py (always /usr/bin/python3: Debian's modules import only there).
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, sourceDir, start, stopChild, waitFor } from './harness.mjs';

function accepts(port) {
  return new Promise((ok) => {
    const c = createConnection({ port, host: '127.0.0.1' }, () => { c.destroy(); ok(true); });
    c.on('error', () => ok(false));
  });
}

// `command` started and listening on `port`; throws with its output otherwise.
async function listening(command, args, options, port, what) {
  const child = start(command, args, options);
  try {
    await waitFor(`${what} on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error('ended');
      return accepts(port);
    }, 5000);
  } catch {
    child.kill('SIGKILL');
    throw new Error(`${what} did not start on port ${port}:\n${child.output()}`);
  }
  return child;
}

function stopper(child, dir) {
  return async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
}

export async function startDovecot() {
  const dir = mkdtempSync(join(tmpdir(), 'askdesk-e2e-imap-'));
  chmodSync(dir, 0o755);
  const root = process.getuid() === 0;
  const me = userInfo().username;
  const uid = root ? 65534 : process.getuid();
  const gid = root ? 65534 : process.getgid();
  const maildir = join(dir, 'home/ask/Maildir');
  for (const sub of ['', '/tmp', '/new', '/cur']) mkdirSync(maildir + sub, { recursive: true });
  for (const path of [join(dir, 'home'), join(dir, 'home/ask'), maildir, `${maildir}/tmp`, `${maildir}/new`, `${maildir}/cur`]) {
    chownSync(path, uid, gid);
  }
  writeFileSync(join(dir, 'passwd'), 'ask:{PLAIN}secret\n');
  const port = await freePort();
  writeFileSync(join(dir, 'dovecot.conf'), [
    `base_dir = ${dir}/run`, `state_dir = ${dir}/state`, 'log_path = /dev/stderr',
    'protocols = imap', 'listen = 127.0.0.1', 'ssl = no', 'disable_plaintext_auth = no',
    'auth_mechanisms = plain login', 'first_valid_uid = 1',
    `default_login_user = ${root ? 'dovenull' : me}`, `default_internal_user = ${root ? 'dovecot' : me}`,
    'mail_location = maildir:~/Maildir',
    `passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u ${dir}/passwd\n}`,
    `userdb {\n  driver = static\n  args = uid=${uid} gid=${gid} home=${dir}/home/%u\n}`,
    `service imap-login {\n  chroot =\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
    'service anvil {\n  chroot =\n}', '',
  ].join('\n'));
  const child = await listening('/usr/sbin/dovecot', ['-F', '-c', join(dir, 'dovecot.conf')], {}, port, 'dovecot');
  let delivered = 0;
  return {
    url: `imap://127.0.0.1:${port}/INBOX`,
    // As a delivery agent does: into tmp/, then renamed into new/ (unseen).
    deliver(raw) {
      delivered += 1;
      const name = `${Date.now()}.e2e${delivered}.test`;
      writeFileSync(`${maildir}/tmp/${name}`, raw.replace(/\r?\n/g, '\r\n'));
      chownSync(`${maildir}/tmp/${name}`, uid, gid);
      renameSync(`${maildir}/tmp/${name}`, `${maildir}/new/${name}`);
    },
    stop: stopper(child, dir),
  };
}

export async function startSmtpSink() {
  const dir = mkdtempSync(join(tmpdir(), 'askdesk-e2e-smtp-'));
  const folder = join(dir, 'mail');
  mkdirSync(folder);
  const port = await freePort();
  const child = await listening('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'smtp_sink.Sink', folder],
    { env: { ...process.env, PYTHONPATH: join(sourceDir, 'tests/support') } }, port, 'the SMTP sink (aiosmtpd)');
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages: () => readdirSync(folder).filter((f) => f.endsWith('.eml')).sort()
      .map((f) => readFileSync(join(folder, f), 'utf8')),
    stop: stopper(child, dir),
  };
}
