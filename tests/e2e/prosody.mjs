// XMPP for the browser tests, as tests/support/prosody_server.cpp and xmpp_patron.cpp do it
// for the C++ ones: Debian's Prosody with a throw-away config in a temp folder (the same
// settings: loopback only, c2s with STARTTLS on a free port and direct TLS on another, a
// self-signed certificate for library.example made by openssl, MAM with every message
// archived, stream management), and a patron on a real client, tests/support/xmpp_patron.py
// (slixmpp, so always /usr/bin/python3), driven one JSON command a line on its stdin, its
// events read one JSON object a line from its stdout (slixmpp's own log goes to stderr).
//
// The config names nothing outside its folder. The tests run as root, so it says
// run_as_root (Prosody and prosodyctl would otherwise try to become the `prosody` user and
// fail on a folder they cannot read). Prosody runs in the foreground (-F) and logs every
// stanza to its console, kept as prosody.log().
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sourceDir, start, waitFor } from './harness.mjs';

export const domain = 'library.example';
export const jid = (user) => `${user}@${domain}`;

// A Lua string literal.
const lua = (text) => `"${String(text).replace(/[\\"]/g, (c) => `\\${c}`)}"`;

function accepts(port) {
  return new Promise((ok) => {
    const c = createConnection({ port, host: '127.0.0.1' }, () => { c.destroy(); ok(true); });
    c.on('error', () => ok(false));
  });
}

// Options as prosody_options: require_encryption (STARTTLS before login), offline_messages
// (mod_offline), smacks_hibernation_seconds.
export async function startProsody({ requireEncryption = true, offlineMessages = true,
  smacksHibernationSeconds = 600 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'askdesk-e2e-prosody-'));
  mkdirSync(join(dir, 'certs'));
  mkdirSync(join(dir, 'data'));
  const caFile = join(dir, `certs/${domain}.crt`);
  const keyFile = join(dir, `certs/${domain}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-days', '2', '-subj', `/CN=${domain}`, '-addext', `subjectAltName=DNS:${domain}`,
    '-keyout', keyFile, '-out', caFile], { stdio: 'pipe', timeout: 20000 });
  const port = await freePort();
  const directTlsPort = await freePort();
  const config = join(dir, 'prosody.cfg.lua');
  writeFileSync(config, [
    '-- A throw-away Prosody for one askdesk browser test (tests/e2e/prosody.mjs).',
    'run_as_root = true',
    `pidfile = ${lua(join(dir, 'prosody.pid'))}`,
    `data_path = ${lua(join(dir, 'data'))}`,
    'log = { { levels = { min = "debug" }, to = "console" } }',
    'interfaces = { "127.0.0.1" }', 'local_interfaces = { "127.0.0.1" }',
    `c2s_ports = { ${port} }`,
    `c2s_direct_tls_ports = { ${directTlsPort} }`,
    's2s_ports = {}', 's2s_direct_tls_ports = {}', 'component_ports = {}',
    'http_ports = {}', 'https_ports = {}',
    `certificates = ${lua(join(dir, 'certs'))}`,
    `ssl = { certificate = ${lua(caFile)}, key = ${lua(keyFile)} }`,
    'modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "mam",',
    '  "smacks", "carbons", "csi_simple" }',
    `modules_disabled = { "s2s"${offlineMessages ? '' : ', "offline"'} }`,
    'authentication = "internal_hashed"',
    `c2s_require_encryption = ${requireEncryption}`,
    `allow_unencrypted_plain_auth = ${!requireEncryption}`,
    'archive_expires_after = "1d"', 'default_archive_policy = true',
    `smacks_hibernation_time = ${smacksHibernationSeconds}`,
    `VirtualHost ${lua(domain)}`, '',
  ].join('\n'));

  let child = null;
  let earlier = '';  // the output of previous starts
  const server = {
    host: '127.0.0.1',
    port,
    directTlsPort,
    domain,
    caFile,
    configPath: config,
    jid,
    log: () => earlier + (child ? child.output() : ''),
    // Creates user@library.example, or changes its password; works running or not.
    addUser(user, password) {
      try {
        execFileSync('prosodyctl', ['--config', config, 'register', user, domain, password],
          { stdio: 'pipe', timeout: 20000 });
      } catch (e) {
        throw new Error(`prosodyctl could not register ${jid(user)}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
    },
    // Ready once both client ports accept a connection: Prosody opens them after it has
    // loaded the VirtualHost.
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error('Prosody is already running');
      if (child) earlier += child.output();
      child = start('prosody', ['--config', config, '-F']);
      const deadline = Date.now() + 10000;
      while (!((await accepts(port)) && (await accepts(directTlsPort)))) {
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`Prosody did not start on ports ${port} and ${directTlsPort}:\n${server.log()}`);
        }
        await new Promise((ok) => setTimeout(ok, 25));
      }
    },
    // Nobody is left to read a goodbye, and a graceful stop takes Prosody 0.12 about 1.7 s.
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const ended = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGKILL');
      await ended;
    },
    async stop() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

// The login for `user` on `server`, as login_for() in tests/support/xmpp_patron.cpp.
export function loginFor(server, user, password, { tls = 'starttls' } = {}) {
  return {
    jid: jid(user), password, host: server.host, tls, ca_file: server.caFile,
    port: tls === 'direct' ? server.directTlsPort : server.port,
  };
}

// A patron's XMPP client. Every command is answered by one "done" (resolved) or
// "command_failed" (rejected) event carrying its seq; everything the client prints is kept
// in `events`, and waitFor() resolves with the first event, past or future, that matches.
export function xmppPatron(name = 'patron') {
  const child = start('/usr/bin/python3', [join(sourceDir, 'tests/support/xmpp_patron.py')],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  const events = [];
  const waiters = new Set();
  let seq = 0;
  let pending = '';
  let ended = null;
  const deliver = (event) => {
    events.push(event);
    for (const w of waiters) w.offer(event);
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (!line.trim()) continue;
      try {
        deliver(JSON.parse(line));
      } catch {
        deliver({ event: 'unreadable', line });
      }
    }
  });
  child.on('exit', (code, signal) => {
    ended = `the XMPP client ${name} ended (${signal || code})`;
    for (const w of waiters) w.end();
  });
  child.stdin.on('error', () => {});  // a client that died is reported by the waiters

  function waitFor(what, predicate, timeoutMs = 15000) {
    const found = events.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((ok, fail) => {
      const waiter = {
        offer(e) { if (predicate(e)) { done(); ok(e); } },
        end() { done(); fail(new Error(`${ended} while waiting for ${what}\n${patron.log()}`)); },
      };
      const timer = setTimeout(() => {
        done();
        fail(new Error(`${name} timed out waiting for ${what}; its events:\n${events.map((e) => JSON.stringify(e)).join('\n')}`));
      }, timeoutMs);
      function done() { clearTimeout(timer); waiters.delete(waiter); }
      if (ended) return waiter.end();
      waiters.add(waiter);
    });
  }

  async function command(name, fields = {}, timeoutMs = 30000) {
    const n = ++seq;
    const answer = waitFor(`the answer to ${name} (seq ${n})`,
      (e) => e.seq === n && (e.event === 'done' || e.event === 'command_failed'), timeoutMs);
    child.stdin.write(`${JSON.stringify({ command: name, seq: n, ...fields })}\n`);
    const e = await answer;
    if (e.event === 'command_failed') throw new Error(`${name} failed: ${e.reason}`);
    return e;
  }

  const patron = {
    name,
    events,
    command,
    waitFor,
    // slixmpp's log (every stanza) and anything else the client printed.
    log: () => child.output(),
    // Resolves once the session started; receipts are acknowledged automatically.
    connect: (login, options = {}) => command('connect', { ...login, ...options }),
    // Resolves to the id of the message sent.
    async send(to, body, options = {}) {
      return (await command('message', { to, body, ...options })).id;
    },
    // The first message received whose body is `body` (or matches it, a RegExp).
    message: (body, timeoutMs) => waitFor(`a message ${body}`, (e) => e.event === 'message'
      && (body instanceof RegExp ? body.test(e.body) : e.body === body), timeoutMs),
    // The receipt (XEP-0184) for the message sent with id `id`.
    receipt: (id, timeoutMs) => waitFor(`a receipt for ${id}`, (e) => e.event === 'receipt' && e.id === id, timeoutMs),
    // Closes the stream and waits for the client to exit (killed after 10 s).
    async quit() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((ok) => child.once('exit', ok));
      child.stdin.end(`${JSON.stringify({ command: 'quit' })}\n`);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
  return patron;
}

// Resolves once `url`'s /metrics says the xmpp connector `id` is signed in.
export function signedIn(url, id = 'xmpp', timeoutMs = 20000) {
  const sample = `askdesk_xmpp_connected{connector="${id}"}`;
  return waitFor(`askdesk signed in to XMPP (${sample} 1)`, async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return text.split('\n').some((line) => line.startsWith(`${sample} `) && Number(line.slice(sample.length)) === 1);
  }, timeoutMs);
}
