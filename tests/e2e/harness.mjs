// What every browser test needs: a real redis-server and a real `askdesk serve` on free
// loopback ports in a temp folder, staff accounts made through the CLI, Debian's Chromium
// through playwright-core, and a screenshot of every open page when a step fails.
// Everything started here is stopped by stop(), and by the exit handler if a test crashes.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const sourceDir = resolve(here, '../..');
const binary = process.env.ASKDESK_BINARY || join(sourceDir, 'build/debug/askdesk');
export const artifacts = process.env.ASKDESK_E2E_ARTIFACTS || join(sourceDir, 'build/debug/e2e-artifacts');

const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

// A child process with its output kept (child.output()), killed by the exit handler if a
// test crashes.
export function start(command, args, options) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  child.output = () => output;
  child.on('exit', () => children.delete(child));
  return child;
}

export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await ended;
  clearTimeout(timer);
}

export async function waitFor(what, check, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { if (await check()) return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

// Starts redis-server and askdesk (with `config`, an object written as its config file, or
// none, and `serveArgs` added to its command line); resolves to { url, addUser, browser,
// stop, ... }.
export async function startStack({ config, serveArgs = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'askdesk-e2e-'));
  const redisPort = await freePort();
  const redis = start('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', '--dir', dir]);
  await waitFor('redis-server', async () => {
    execFileSync('redis-cli', ['-p', String(redisPort), 'ping'], { stdio: 'pipe' });
    return true;
  });
  const env = { ...process.env, ASKDESK_REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
    ASKDESK_WEB_ROOT: join(sourceDir, 'web') };
  const configArgs = [];
  if (config) {
    writeFileSync(join(dir, 'askdesk.json'), JSON.stringify(config));
    configArgs.push('--config', join(dir, 'askdesk.json'));
  }
  // One `askdesk serve` on `port`; several can share the Redis, as in production.
  async function launch(port, args = serveArgs) {
    const url = `http://127.0.0.1:${port}`;
    const child = start(binary, ['serve', '--listen', `127.0.0.1:${port}`, ...configArgs, ...args],
      { env });
    await waitFor('askdesk /healthz', async () => (await fetch(`${url}/healthz`)).ok)
      .catch((e) => { throw new Error(`${e.message}\n${child.output()}`); });
    const daemon = { url, port, child };
    daemon.stop = () => stopChild(daemon.child);
    daemon.start = async () => { daemon.child = (await launch(port, args)).child; };
    return daemon;
  }
  const daemons = [await launch(await freePort())];
  const { url } = daemons[0];

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const contexts = [];
  return {
    url,
    redisPort,
    daemon: daemons[0],
    log: () => daemons.map((d) => d.child.output()).join('\n'),
    // Another daemon on the same Redis, stopped with the stack; `serveArgs` replace the
    // stack's (a daemon whose clock runs behind, for instance).
    async secondDaemon({ serveArgs: args = serveArgs } = {}) {
      const d = await launch(await freePort(), args);
      daemons.push(d);
      return d;
    },
    addUser(name, password, { role = 'staff', teams = ['reference'], displayName = name } = {}) {
      const args = ['user', 'add', name, '--role', role, '--name', displayName, '--password-stdin',
        ...configArgs];
      for (const t of teams) args.push('--team', t);
      execFileSync(binary, args, { env, input: `${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
    },
    // Opens the dashboard in `context` and signs in (on the daemon at `at`); with `live`,
    // waits until it says Live.
    async signIn(context, name, password, { live = true, at = url } = {}) {
      const page = await context.newPage();
      await page.goto(`${at}/`);
      await page.getByTestId('login-username').fill(name);
      await page.getByTestId('login-password').fill(password);
      await page.getByTestId('login-submit').click();
      if (live) await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
      return page;
    },
    // A fresh browser profile (its own cookies and localStorage), with console errors kept.
    async newContext(options = {}) {
      const context = await browser.newContext(options);
      context.problems = [];
      context.on('page', (page) => {
        page.on('console', (m) => {
          // The dashboard asks /me to learn whether it is signed in; 401 is the expected "no".
          const expected = m.location().url?.endsWith('/api/v1/me') && m.text().includes('401');
          if (m.type() === 'error' && !expected) context.problems.push(`${m.text()} (${m.location().url})`);
        });
        page.on('pageerror', (e) => context.problems.push(String(e)));
      });
      contexts.push(context);
      return context;
    },
    // Runs one named step; on failure saves a screenshot of every open page, then rethrows.
    async step(name, body) {
      try {
        return await body();
      } catch (error) {
        mkdirSync(artifacts, { recursive: true });
        const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
        let n = 0;
        for (const c of contexts) {
          for (const p of c.pages()) {
            const file = join(artifacts, `${slug}-${++n}.png`);
            await p.screenshot({ path: file, fullPage: true }).catch(() => {});
            error.message += `\n  screenshot: ${file} (${p.url()})`;
          }
        }
        throw error;
      }
    },
    async stop() {
      await browser.close().catch(() => {});
      for (const d of daemons) await d.stop();
      await stopChild(redis);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// axe-core's serious and critical violations on `page`, as readable lines. axe is added as a
// script, which the page's CSP refuses, so the context for this check must bypass CSP.
export async function accessibilityProblems(page) {
  await page.addScriptTag({ content: readFileSync(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8') });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact}: ${v.id} — ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}
