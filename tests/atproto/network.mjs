#!/usr/bin/env node
// A real local AT Protocol network for askdesk's Bluesky tests: PLC, a PDS, the bsky AppView
// (with bsync) and ozone from @atproto/dev-env's TestNetwork, in this one node process, driven
// one JSON line at a time. tests/support/atproto_network.cpp runs it; a person can too:
//
//   node tests/atproto/network.mjs [--rate-limits]
//
// Protocol. Once the network is up it prints one line on stdout,
//   {"ok":true,"pds":"http://127.0.0.1:P","appview":"http://127.0.0.1:A","plc":"http://127.0.0.1:L"}
// (or {"ok":false,"error":"..."} and exits 1 when it cannot start), then reads commands on
// stdin, one JSON object a line, and answers each, in order, with exactly one line:
// {"ok":true,...} or {"ok":false,"error":"..."}. A command's optional "id" is echoed in its
// answer. Commands ("cmd"): account, post, delete, thread, notifications, search, process;
// tests/atproto/README.md lists their fields. It stops the network and exits 0 at the end of
// stdin, SIGTERM or SIGINT. Everything else it or the network says goes to stderr, so stdout
// carries only the protocol.
//
// PostgreSQL. The AppView and ozone need a PostgreSQL, which refuses to run as root (the tests
// and CI run as root). Unless DB_POSTGRES_URL is set, this process starts a throw-away cluster
// with Debian's `pg_virtualenv -t -v 15` (-t: in a temporary folder, owned by `postgres`, even
// as root) on a free PGPORT chosen here, and keeps it for as long as it lives: pg_virtualenv
// runs a holder that prints the connection and then waits for its stdin to end. That stdin
// is a pipe from this process, so the cluster is dropped when this process ends, however it
// ends (even SIGKILL, which the tests' child_process sends when a test binary dies).
// The network runs in this process rather than under pg_virtualenv so that stdout belongs to
// the protocol alone: pg_virtualenv and the clusters it starts inherit neither end of it.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Protocol lines go through this; anything a library logs goes to stderr.
const protocol = process.stdout;
for (const level of ['log', 'info', 'debug', 'warn']) console[level] = console.error;
// The atproto services log with pino to stdout when LOG_ENABLED is set: send that to stderr.
// Read when their modules load, so before the dynamic imports below.
if (!process.env.LOG_DESTINATION) process.env.LOG_DESTINATION = '/dev/stderr';

const options = { rateLimits: process.argv.includes('--rate-limits') };
// The PDS's data and blobs and the AppView's image cache go to folders under os.tmpdir() that
// dev-env never removes: give them one folder of ours, removed at the end.
const scratch = mkdtempSync(join(tmpdir(), 'askdesk-atproto-'));
process.env.TMPDIR = scratch;
const say = (line) => protocol.write(JSON.stringify(line) + '\n');
const note = (text) => process.stderr.write(`network.mjs: ${text}\n`);
process.on('unhandledRejection', (e) => note(`unhandled rejection: ${e?.stack ?? e}`));
process.on('uncaughtException', (e) => note(`uncaught exception: ${e?.stack ?? e}`));

// --- PostgreSQL -----------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts `pg_virtualenv -t -v 15` around a holder; resolves to {url, holder} once the cluster
// answers. The holder prints one line on fd 3 (a pipe read here; stdout and stderr of
// pg_virtualenv, chatter and PostgreSQL's log on failure, go to our stderr) and then waits
// for the end of its stdin.
async function startPostgres() {
  const port = await freePort();
  const env = { ...process.env, PGPORT: String(port) };
  // pg_virtualenv's folder must be reachable by `postgres`, which a caller's TMPDIR (or our
  // scratch folder) may not be: /tmp.
  delete env.TMPDIR;
  const holder = spawn(
    'pg_virtualenv',
    ['-t', '-v', '15', 'sh', '-c',
     'printf "%s %s %s %s %s\\n" "$PGHOST" "$PGPORT" "$PGUSER" "$PGDATABASE" "$PGPASSWORD" >&3; ' +
     'exec 3>&-; exec cat >/dev/null'],
    { env, stdio: ['pipe', 2, 2, 'pipe'] },
  );
  const exited = new Promise((resolve) => holder.once('exit', (code, signal) => resolve(code ?? signal)));
  holder.once('error', (e) => note(`pg_virtualenv: ${e.message}`));
  const line = await new Promise((resolve, reject) => {
    let text = '';
    holder.stdio[3].on('data', (chunk) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
    holder.stdio[3].once('end', () => reject(new Error('pg_virtualenv ended before its cluster ran (see the log above)')));
    holder.once('error', (e) => reject(new Error(`pg_virtualenv could not start: ${e.message} (Debian: postgresql-15, postgresql-common)`)));
  });
  const [host, pgPort, user, database, password] = line.trim().split(' ');
  const url = `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${pgPort}/${database}`;
  return {
    url,
    port: pgPort,
    // Ends the holder; pg_virtualenv then stops and drops the cluster.
    async stop(timeoutMs = 15000) {
      holder.stdin.end();
      const timer = setTimeout(() => holder.kill('SIGTERM'), timeoutMs);
      const outcome = await exited;
      clearTimeout(timer);
      return outcome;
    },
  };
}

// --- the network ----------------------------------------------------------------------------

let postgres = null;
let network = null;
let AtpAgent = null;
let urls = null;
const accounts = new Map(); // handle -> {did, handle, password, appPassword, agent}

function loopback(url) {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  return u.origin;
}

async function start() {
  // The packages first: without them there is no point in a cluster.
  let TestNetwork;
  try {
    ({ AtpAgent } = await import('@atproto/api'));
    ({ TestNetwork } = await import('@atproto/dev-env'));
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new Error(`${e.message}: run \`npm_config_nodedir=/usr npm ci\` in tests/atproto (./deploy/test.sh does)`);
  }
  if (!process.env.DB_POSTGRES_URL) {
    postgres = await startPostgres();
    process.env.DB_POSTGRES_URL = postgres.url;
    note(`PostgreSQL 15 from pg_virtualenv on port ${postgres.port}`);
  }
  // dev-env asserts REDIS_HOST and hands it to nothing: a name that cannot resolve, so a use
  // would show instead of reaching a test's redis-server.
  if (!process.env.REDIS_HOST) process.env.REDIS_HOST = 'unused.invalid:6379';
  // Letters and _ only; unique, in case DB_POSTGRES_URL names a shared server.
  const schema = 'askdesk_' + [...randomBytes(8)].map((b) => String.fromCharCode(97 + (b % 26))).join('');
  network = await TestNetwork.create({
    dbPostgresSchema: schema,
    pds: { rateLimitsEnabled: options.rateLimits },
  });
  urls = {
    pds: loopback(network.pds.url),
    appview: loopback(network.bsky.url),
    plc: loopback(network.plc.url),
  };
}

let stopping = null;
function stop(reason) {
  stopping ??= (async () => {
    note(`stopping (${reason})`);
    const started = Date.now();
    try {
      await Promise.race([
        starting.catch(() => {}).then(() => network?.close()),
        new Promise((_, reject) => setTimeout(() => reject(new Error('the network did not close within 20 s')), 20000)),
      ]);
    } catch (e) {
      note(`closing the network: ${e?.message ?? e}`);
    }
    if (postgres) note(`pg_virtualenv ended: ${await postgres.stop()}`);
    rmSync(scratch, { recursive: true, force: true });
    note(`stopped in ${Date.now() - started} ms`);
    process.exit(process.exitCode ?? 0);
  })();
  return stopping;
}

// --- commands -------------------------------------------------------------------------------

function must(value, what) {
  if (value === undefined || value === null || value === '') throw new Error(`${what} is required`);
  return value;
}

function accountOf(handle, command) {
  const account = accounts.get(must(handle, `${command}: "as"`));
  if (!account) throw new Error(`${command}: no account ${handle} was made through this launcher`);
  return account;
}

async function didOf(handle) {
  if (accounts.has(handle)) return accounts.get(handle).did;
  const { data } = await new AtpAgent({ service: urls.pds }).com.atproto.identity.resolveHandle({ handle });
  return data.did;
}

const utf8Length = (text) => Buffer.byteLength(text, 'utf8');

// Every occurrence of `needle` in `text` standing as a word of its own, as UTF-8 byte ranges
// (end exclusive). A handle followed by "." and then a letter or digit is a longer handle; a
// trailing period is not part of it.
function byteRanges(text, needle) {
  const ranges = [];
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const before = text[at - 1] ?? '';
    const after = text.slice(at + needle.length, at + needle.length + 2);
    if (/[A-Za-z0-9]/.test(before)) continue;
    if (/^[A-Za-z0-9_-]/.test(after) || /^\.[A-Za-z0-9]/.test(after)) continue;
    const byteStart = utf8Length(text.slice(0, at));
    ranges.push({ byteStart, byteEnd: byteStart + utf8Length(needle) });
  }
  return ranges;
}

function parseAtUri(uri) {
  const m = /^at:\/\/([^/]+)\/([^/]+)\/([^/?#]+)$/.exec(uri ?? '');
  if (!m) throw new Error(`not an at:// record URI: ${uri}`);
  return { repo: m[1], collection: m[2], rkey: m[3] };
}

// A 1x1 PNG: images in tests need a blob, not a picture.
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64');

const commands = {
  // {handle, password?, displayName?, email?, appPassword? (default true), privileged?}
  async account(c) {
    const handle = must(c.handle, 'account: handle');
    if (accounts.has(handle)) throw new Error(`account: ${handle} exists already`);
    const password = c.password || `pw-${randomBytes(9).toString('base64url')}`;
    const agent = new AtpAgent({ service: urls.pds });
    const { data } = await agent.createAccount({
      handle,
      password,
      email: c.email || `${handle.replace(/[^A-Za-z0-9]/g, '-')}@askdesk.example`,
    });
    await agent.com.atproto.repo.putRecord({
      repo: data.did,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record: {
        $type: 'app.bsky.actor.profile',
        displayName: c.displayName ?? handle.split('.')[0],
        createdAt: new Date().toISOString(),
      },
    });
    let appPassword;
    if (c.appPassword !== false) {
      const res = await agent.com.atproto.server.createAppPassword({
        name: 'askdesk', privileged: Boolean(c.privileged),
      });
      appPassword = res.data.password;
    }
    const account = { did: data.did, handle: data.handle, password, appPassword };
    accounts.set(handle, { ...account, agent });
    return account;
  },

  // {as, text, mentions?: [handle], links?: [url], replyTo?: uri, images?: [{alt}],
  //  langs?: [tag], rkey?, createdAt?}
  async post(c) {
    const author = accountOf(c.as, 'post');
    const text = c.text ?? '';
    const facets = [];
    for (const handle of c.mentions ?? []) {
      const ranges = byteRanges(text, `@${handle}`);
      if (ranges.length === 0) throw new Error(`post: the text has no "@${handle}" to mention`);
      const did = await didOf(handle);
      for (const index of ranges) {
        facets.push({ index, features: [{ $type: 'app.bsky.richtext.facet#mention', did }] });
      }
    }
    for (const uri of c.links ?? []) {
      const ranges = byteRanges(text, uri);
      if (ranges.length === 0) throw new Error(`post: the text has no "${uri}" to link`);
      for (const index of ranges) {
        facets.push({ index, features: [{ $type: 'app.bsky.richtext.facet#link', uri }] });
      }
    }
    facets.sort((a, b) => a.index.byteStart - b.index.byteStart);
    const record = { $type: 'app.bsky.feed.post', text, createdAt: c.createdAt ?? new Date().toISOString() };
    if (facets.length) record.facets = facets;
    if (c.langs) record.langs = c.langs;
    if (c.replyTo) {
      const { repo, collection, rkey } = parseAtUri(c.replyTo);
      const { data: parent } = await author.agent.com.atproto.repo.getRecord({ repo, collection, rkey });
      const parentRef = { uri: parent.uri, cid: parent.cid };
      record.reply = { root: parent.value?.reply?.root ?? parentRef, parent: parentRef };
    }
    if (c.images?.length) {
      const images = [];
      for (const image of c.images) {
        const { data } = await author.agent.com.atproto.repo.uploadBlob(PIXEL, { encoding: 'image/png' });
        images.push({ image: data.blob, alt: image.alt ?? '', aspectRatio: { width: 1, height: 1 } });
      }
      record.embed = { $type: 'app.bsky.embed.images', images };
    }
    const { data } = await author.agent.com.atproto.repo.createRecord({
      repo: author.did, collection: 'app.bsky.feed.post', record, ...(c.rkey ? { rkey: c.rkey } : {}),
    });
    return { uri: data.uri, cid: data.cid };
  },

  // {as, uri}: deletes one of that account's records.
  async delete(c) {
    const author = accountOf(c.as, 'delete');
    const { repo, collection, rkey } = parseAtUri(c.uri);
    if (repo !== author.did) throw new Error(`delete: ${c.uri} is not ${author.handle}'s`);
    await author.agent.com.atproto.repo.deleteRecord({ repo, collection, rkey });
    return {};
  },

  // {uri, depth?, parentHeight?, as?}: the AppView's getPostThread; with "as", through that
  // account's PDS (as a client asks, viewer state included), else straight from the AppView.
  async thread(c) {
    const agent = c.as ? accountOf(c.as, 'thread').agent : new AtpAgent({ service: urls.appview });
    const params = { uri: must(c.uri, 'thread: uri') };
    if (c.depth !== undefined) params.depth = c.depth;
    if (c.parentHeight !== undefined) params.parentHeight = c.parentHeight;
    const { data } = await agent.app.bsky.feed.getPostThread(params);
    return { data };
  },

  // {as, limit?, cursor?, reasons?}: listNotifications as that account, through its PDS.
  async notifications(c) {
    const { agent } = accountOf(c.as, 'notifications');
    const params = {};
    for (const key of ['limit', 'cursor', 'reasons']) if (c[key] !== undefined) params[key] = c[key];
    const { data } = await agent.app.bsky.notification.listNotifications(params);
    return { data };
  },

  // {q, as?, limit?}: searchPosts. The local AppView searches post text with SQL LIKE
  // (case-sensitive substring; "from:handle" works), not as the production search does.
  async search(c) {
    const agent = c.as ? accountOf(c.as, 'search').agent : new AtpAgent({ service: urls.appview });
    const params = { q: must(c.q, 'search: q') };
    if (c.limit !== undefined) params.limit = c.limit;
    const { data } = await agent.app.bsky.feed.searchPosts(params);
    return { data };
  },

  // {timeoutMs?}: until the PDS's background queue, ozone and the AppView's firehose
  // subscription have caught up with everything written so far.
  async process(c) {
    await network.processAll(c.timeoutMs ?? 20000);
    return {};
  },
};

function describe(error) {
  const parts = [];
  if (error?.status) parts.push(String(error.status));
  if (error?.error && error.error !== error.message) parts.push(error.error);
  parts.push(error?.message ?? String(error));
  return parts.join(' ');
}

async function answer(line) {
  let command;
  try {
    command = JSON.parse(line);
  } catch (e) {
    return { ok: false, error: `not a JSON line: ${e.message}` };
  }
  const id = command?.id;
  const reply = (body) => (id === undefined ? body : { id, ...body });
  const run = commands[command?.cmd];
  if (!run || !Object.hasOwn(commands, command.cmd)) {
    return reply({ ok: false, error: `unknown command "${command?.cmd}" (${Object.keys(commands).join(', ')})` });
  }
  try {
    return reply({ ok: true, ...(await run(command)) });
  } catch (e) {
    note(`${command.cmd} failed: ${e?.stack ?? e}`);
    return reply({ ok: false, error: `${command.cmd}: ${describe(e)}` });
  }
}

// --- main -----------------------------------------------------------------------------------

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
// stdout gone (the reader died): nothing can be answered any more.
protocol.on('error', () => stop('stdout closed'));

const startedAt = Date.now();
const starting = start();
// Commands are read from the start but answered, one after the other, once the network runs.
let queue = starting.catch(() => {});
const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    if (stopping) return;
    say(await answer(line));
  });
});
input.on('close', () => queue.then(() => stop('end of stdin')));

try {
  await starting;
  note(`ready in ${Date.now() - startedAt} ms: ${JSON.stringify(urls)}`);
  say({ ok: true, ...urls });
} catch (e) {
  note(`could not start: ${e?.stack ?? e}`);
  say({ ok: false, error: `could not start the network: ${describe(e)}` });
  process.exitCode = 1;
  stop('start failed');
}
