// The social desk in the browser, against the fake Mastodon (tests/support/fake_mastodon, run
// as a program: askdesk_fake_mastodon, driven over its stdin and stdout). Public mentions wait
// in the Social panel, not the queue; one behind a content warning, in a thread, is shown
// with its warning first and its thread above it, revealed on demand; the librarian replies
// from the panel, the conversation opens with the reply box saying the reply is public, and
// the fake receives a public status in reply to the patron's. A direct message goes to the
// queue, and its reply box says only the patron sees it (the fake receives a direct status).
// Dismiss and Mark as abuse (confirmed first) move posts between the tabs; a post marked as
// abuse shows blurred until revealed; sensitive media wait behind a button; a new mention
// appears while the panel is open. axe finds nothing serious.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { accessibilityProblems, sourceDir, startStack, waitFor } from './harness.mjs';

const program = process.env.ASKDESK_FAKE_MASTODON || join(sourceDir, 'build/debug/tests/askdesk_fake_mastodon');
const libraryId = '109000000000000001';  // fake_mastodon::library_id
let mastodon;
let stack;
const people = {};

// The fake Mastodon as a child process: ask(command) sends one JSON line and resolves to the
// JSON line it answers.
async function startFakeMastodon() {
  const child = spawn(program, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  let first;
  const hello = new Promise((ok) => { first = ok; });
  lines.on('line', (line) => {
    if (first) {
      first(JSON.parse(line));
      first = null;
    } else {
      waiting.shift()?.(JSON.parse(line));
    }
  });
  child.on('exit', (code) => { for (const w of waiting.splice(0)) w({ ok: false, error: `exited with ${code}` }); });
  const started = await Promise.race([hello, new Promise((_, fail) => {
    child.once('error', fail);
    setTimeout(() => fail(new Error(`${program} said nothing within 10 s\n${log}`)), 10000);
  })]);
  return {
    ...started,
    log: () => log,
    async ask(command) {
      const answer = new Promise((ok) => waiting.push(ok));
      child.stdin.write(`${JSON.stringify(command)}\n`);
      const a = await answer;
      if (!a.ok) throw new Error(`fake Mastodon, ${command.command}: ${a.error}`);
      return a;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const ended = new Promise((ok) => child.once('exit', ok));
      child.stdin.end();  // it stops at the end of its input
      await ended;
    },
  };
}

// A status by `who`; `mention` makes it mention the library (a notification), as Mastodon
// writes one.
async function post(who, text, { mention = true, ...spec } = {}) {
  const at = mention
    ? `<span class="h-card"><a href="${mastodon.base}/@library" class="u-url mention">@<span>library</span></a></span> `
    : '';
  const { id } = await mastodon.ask({
    command: 'add_status', account_id: who.id, content: `<p>${at}${text}</p>`,
    mentions: mention ? [libraryId] : [], ...spec,
  });
  return id;
}

before(async () => {
  mastodon = await startFakeMastodon();
  stack = await startStack({
    config: {
      teams: [{ id: 'reference', name: 'Reference desk' }],
      connectors: [{
        id: 'mastodon', type: 'mastodon', instance: mastodon.base, access_token: mastodon.token, poll_seconds: 1,
      }],
    },
  });
  stack.addUser('ann', 'ann-password-1', { displayName: 'Ann' });
  people.ada = (await mastodon.ask({ command: 'add_account', username: 'ada', display_name: 'Ada Lovelace' })).account;
  people.bo = (await mastodon.ask({
    command: 'add_remote_account', username: 'bo', domain: 'other.example', display_name: 'Bo',
  })).account;
  people.cy = (await mastodon.ask({ command: 'add_account', username: 'cy', display_name: 'Cy' })).account;
  people.dee = (await mastodon.ask({ command: 'add_account', username: 'dee', display_name: 'Dee' })).account;
});
after(async () => {
  await stack?.stop();
  await mastodon?.stop();
});

function logs() {
  const tail = (text) => text.slice(-8000);
  return `\n--- askdesk:\n${tail(stack?.log() ?? '')}\n--- fake Mastodon:\n${tail(mastodon?.log() ?? '')}`;
}

async function posted(n) {
  let list = [];
  await waitFor(`${n} posted statuses`, async () => {
    list = (await mastodon.ask({ command: 'posted' })).posted;
    return list.length >= n;
  }, 20000);
  return list;
}

test('social posts are triaged, answered in public or directly, dismissed and marked as abuse', async () => {
  try {
    // A thread Bo started; Ada answers it mentioning the library, behind a content warning.
    const root = await post(people.bo, 'Our book club meets at the library on Fridays.', { mention: false });
    const parent = await post(people.bo, 'Does anyone know the Friday hours?', { mention: false, in_reply_to_id: root });
    const question = await post(people.ada, 'Is the reading room open late on Friday?', {
      in_reply_to_id: parent, spoiler_text: 'Opening hours',
    });
    const secret = await post(people.bo, 'Privately: can you waive my late fee?', { visibility: 'direct' });
    await post(people.cy, 'Great talk at the library yesterday!', {
      sensitive: true, media: [{ url: 'https://files.example/talk.jpg', description: 'The speaker on stage' }],
    });
    await post(people.dee, 'Buy cheap pills at spam dot example');

    const staff = await stack.newContext({ bypassCSP: true });
    const desk = await stack.signIn(staff, 'ann', 'ann-password-1');
    const toggle = desk.getByTestId('social-toggle');
    const items = desk.getByTestId('social-item');
    const ada = items.filter({ hasText: 'Ada Lovelace' });
    const cy = items.filter({ hasText: 'Great talk' });
    const dee = items.filter({ hasText: 'Buy cheap pills' });

    await stack.step('public mentions wait in the Social panel, the direct message in the queue', async () => {
      await desk.getByTestId('queue-item').filter({ hasText: 'waive my late fee' }).waitFor({ timeout: 20000 });
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
      await desk.getByTestId('social-count').filter({ hasText: /^3 new$/ }).waitFor({ timeout: 20000 });
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      await items.nth(2).waitFor();
      assert.equal(await items.count(), 3);
      assert.equal(await items.filter({ hasText: 'late fee' }).count(), 0);
      assert.equal(await desk.getByTestId('queue-item').filter({ hasText: 'reading room' }).count(), 0);
      assert.equal(await desk.getByRole('tab', { name: 'New' }).getAttribute('aria-selected'), 'true');
    });

    await stack.step('a post behind its content warning, in its thread, revealed on demand', async () => {
      assert.equal(await ada.getByTestId('social-author').innerText(), 'Ada Lovelace');
      const profile = ada.getByTestId('profile-link');
      assert.equal(await profile.innerText(), `@ada@${mastodon.domain}`);
      assert.equal(await profile.getAttribute('href'), people.ada.url);
      assert.equal(await ada.getByTestId('social-channel').innerText(), 'Mastodon');
      assert.equal(await ada.getByTestId('post-link').getAttribute('href'), `${mastodon.base}/@ada/${question}`);
      assert.match(await ada.getByTestId('thread-parent').innerText(), /^In reply to: Does anyone know the Friday hours\?/);
      assert.match(await ada.getByTestId('thread-root').innerText(), /^Thread started with: Our book club meets/);
      assert.equal(await ada.getByTestId('thread-root').getByRole('link').getAttribute('href'), `https://other.example/@bo/${root}`);
      assert.equal(await ada.getByTestId('content-warning').innerText(), 'Content warning: Opening hours');
      const text = ada.getByTestId('social-text');
      assert.equal(await text.isVisible(), false);
      const reveal = ada.getByRole('button', { name: 'Show post' });
      assert.equal(await reveal.getAttribute('aria-expanded'), 'false');
      await reveal.focus();
      await desk.keyboard.press('Enter');
      await text.waitFor();
      assert.match(await text.innerText(), /Is the reading room open late on Friday\?/);
      assert.equal(await ada.getByRole('button', { name: 'Hide post' }).getAttribute('aria-expanded'), 'true');
    });

    await stack.step('sensitive media wait behind a button', async () => {
      assert.equal(await cy.getByText('Great talk at the library yesterday!').isVisible(), true);
      const media = cy.getByTestId('sensitive-media');
      assert.equal(await media.isVisible(), false);
      await cy.getByRole('button', { name: 'Show the attachment (marked sensitive)' }).click();
      await media.waitFor();
      const link = media.getByRole('link');
      assert.match(await link.innerText(), /^Attachment: The speaker on stage/);
      assert.equal(await link.getAttribute('href'), 'https://files.example/talk.jpg');
      assert.deepEqual(await accessibilityProblems(desk), []);
    });

    await stack.step('Reply opens the conversation, whose reply box says the reply is public', async () => {
      await ada.getByTestId('social-reply').click();
      const audience = desk.getByTestId('reply-audience');
      await audience.filter({ hasText: 'Public reply: anyone can see it' }).waitFor();
      assert.equal(await audience.isVisible(), true);
      assert.equal(await desk.getByTestId('reply-input').evaluate((n) => n === document.activeElement), true);
      assert.match(await desk.getByTestId('reply-input').getAttribute('aria-describedby'), /reply-audience/);
      // Ada's post left triage for the queue.
      await items.filter({ hasText: 'Ada Lovelace' }).waitFor({ state: 'detached' });
      // The transcript shows the post as the panel did: warning first, thread above.
      const asked = desk.locator('[data-testid="message"][data-direction="in"]');
      assert.equal(await asked.getByTestId('content-warning').innerText(), 'Content warning: Opening hours');
      assert.equal(await asked.getByText('Is the reading room open late').isVisible(), false);
      await asked.getByRole('button', { name: 'Show post' }).click();
      await asked.getByText('Is the reading room open late').waitFor();
      assert.match(await asked.getByTestId('thread-parent').innerText(), /Does anyone know the Friday hours\?/);
      assert.equal(await asked.getByTestId('profile-link').getAttribute('href'), people.ada.url);
      assert.equal(await asked.locator('.who').innerText(), 'Ada Lovelace');
    });

    await stack.step('the answer is a public status in reply to the patron\'s', async () => {
      await desk.getByTestId('reply-input').fill('Yes, until nine on Fridays.');
      await desk.getByTestId('reply-input').press('Enter');
      const [status] = await posted(1);
      assert.equal(status.in_reply_to_id, question);
      assert.equal(status.visibility, 'public');
      assert.equal(status.status, `@ada@${mastodon.domain} Yes, until nine on Fridays.`);
      const reply = desk.locator('[data-testid="message"][data-direction="out"]', { hasText: 'until nine' });
      await reply.locator('.state').filter({ hasText: /^sent$/ }).waitFor({ timeout: 15000 });
      // The redraws the reply caused left the focus in the reply box.
      assert.equal(await desk.getByTestId('reply-input').evaluate((n) => n === document.activeElement), true);
      assert.deepEqual(await accessibilityProblems(desk), []);
    });

    await stack.step('the direct message\'s reply box says only the patron sees the answer', async () => {
      await desk.getByTestId('queue-item').filter({ hasText: 'waive my late fee' }).click();
      await desk.getByTestId('transcript').filter({ hasText: 'waive my late fee' }).waitFor();
      const audience = desk.getByTestId('reply-audience');
      await audience.filter({ hasText: 'Direct message: only @bo@other.example sees it' }).waitFor();
      assert.equal(await audience.getAttribute('data-visibility'), 'direct');
      await desk.getByTestId('reply-input').fill('Done: the fee is waived.');
      await desk.getByTestId('reply-input').press('Enter');
      const list = await posted(2);
      const direct = list.find((s) => s.status.includes('fee is waived'));
      assert.equal(direct.visibility, 'direct');
      assert.equal(direct.in_reply_to_id, secret);
    });

    await stack.step('Dismiss moves a post to the Dismissed tab', async () => {
      await cy.getByTestId('social-dismiss').click();
      await cy.waitFor({ state: 'detached' });
      await desk.getByTestId('social-count').filter({ hasText: /^1 new$/ }).waitFor();
      // The tabs by keyboard: the arrow moves to Dismissed and shows it.
      await desk.getByRole('tab', { name: 'New' }).focus();
      await desk.keyboard.press('ArrowRight');
      const dismissedTab = desk.getByRole('tab', { name: 'Dismissed' });
      assert.equal(await dismissedTab.getAttribute('aria-selected'), 'true');
      assert.equal(await dismissedTab.evaluate((n) => n === document.activeElement), true);
      await cy.waitFor();
      assert.equal(await cy.getAttribute('data-state'), 'dismissed');
      assert.equal(await cy.getByTestId('social-dismiss').count(), 0);
      await desk.getByRole('tab', { name: 'New' }).click();
      await dee.waitFor();
    });

    await stack.step('Mark as abuse asks first, then moves the post to Abuse, blurred until revealed', async () => {
      const dialog = desk.getByTestId('social-abuse-dialog');
      await dee.getByTestId('social-abuse').click();
      await dialog.waitFor();
      assert.match(await dialog.innerText(), /The post by Dee leaves the queue and triage, and Dee is muted/);
      assert.equal(await dialog.getByRole('button', { name: 'Cancel' }).evaluate((n) => n === document.activeElement), true);
      await desk.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await dee.count(), 1);  // nothing happened
      await dee.getByTestId('social-abuse').click();
      await dialog.getByRole('button', { name: 'Mark as abuse' }).click();
      await dee.waitFor({ state: 'detached' });
      await desk.getByTestId('social-empty').filter({ hasText: 'No posts wait in triage.' }).waitFor();
      assert.equal(await desk.getByTestId('social-count').isVisible(), false);

      await desk.getByRole('tab', { name: 'Abuse' }).click();
      await dee.waitFor();
      const content = dee.getByTestId('guarded-content');
      assert.equal(await content.getAttribute('aria-hidden'), 'true');
      assert.match(await content.getAttribute('class'), /\bblurred\b/);
      assert.notEqual(await content.evaluate((n) => getComputedStyle(n).filter), 'none');
      assert.equal(await dee.getByTestId('social-abuse').count(), 0);
      assert.equal(await dee.getByTestId('social-reply').innerText(), 'Reply and unmute');
      await dee.getByRole('button', { name: 'Show post' }).click();
      assert.equal(await content.getAttribute('aria-hidden'), null);
      assert.equal(await content.evaluate((n) => getComputedStyle(n).filter), 'none');
      assert.match(await content.innerText(), /Buy cheap pills/);
      assert.deepEqual(await accessibilityProblems(desk), []);
    });

    await stack.step('a new mention appears while the panel is open', async () => {
      await desk.getByRole('tab', { name: 'New' }).click();
      await post(people.cy, 'When is the next talk?');
      await items.filter({ hasText: 'When is the next talk?' }).waitFor({ timeout: 20000 });
      await desk.getByTestId('social-count').filter({ hasText: /^1 new$/ }).waitFor();
    });

    await stack.step('a dismissed post opened from the patron panel is answered by taking it out of triage', async () => {
      await items.filter({ hasText: 'When is the next talk?' }).getByTestId('social-reply').click();
      await desk.getByTestId('transcript').filter({ hasText: 'When is the next talk?' }).waitFor();
      await desk.getByTestId('patron-panel').getByRole('button', { name: /Dismissed/ }).click();
      await desk.getByTestId('transcript').filter({ hasText: 'Great talk' }).waitFor();
      assert.match(await desk.locator('.conversation .summary').innerText(), /Dismissed$/);
      assert.match(await desk.getByTestId('social-state').innerText(), /^This post was dismissed: no answer needed/);
      assert.equal(await desk.getByTestId('reply-input').isVisible(), false);
      assert.equal(await desk.getByTestId('close').isVisible(), false);
      await desk.getByTestId('social-state-reply').click();
      await desk.getByTestId('reply-audience').filter({ hasText: 'Public reply: anyone can see it' }).waitFor();
      assert.equal(await desk.getByTestId('reply-input').evaluate((n) => n === document.activeElement), true);
      assert.equal(await desk.getByTestId('social-state').isVisible(), false);
      await desk.getByTestId('social-tab-dismissed').click();
      await desk.getByTestId('social-empty').filter({ hasText: 'Nothing dismissed.' }).waitFor();
    });
    assert.deepEqual(staff.problems, []);
  } catch (error) {
    error.message += logs();
    throw error;
  }
});
