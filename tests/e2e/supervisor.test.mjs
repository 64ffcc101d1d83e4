// The supervisor's live view in the browser (/supervisor): every team's queue with the
// conversations past the team's wait alert marked, who is on and at what load, kept live as a
// librarian claims and goes away; a conversation opened read-only takes a note and is
// reassigned; staff are refused; the page passes axe. The stack's first daemon runs its
// clock ten minutes behind and takes one patron's question alone, then hands over to a daemon
// on the real clock: that question has waited ten minutes by every clock after.
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack, waitFor } from './harness.mjs';

let stack;
let desk;  // the daemon on the real clock

before(async () => {
  const tenMinutesAgo = new Date(Date.now() - 10 * 60 * 1000).toISOString();
  stack = await startStack({
    config: {
      teams: [{ id: 'reference', name: 'Reference desk', capacity: 2, wait_alert_minutes: 5 },
        { id: 'circulation', name: 'Circulation' }],
    },
    serveArgs: ['--clock-start', tenMinutesAgo],
  });
  stack.addUser('sue', 'sue-password-1', { role: 'supervisor', teams: [], displayName: 'Sue' });
  stack.addUser('ann', 'ann-password-1', { displayName: 'Ann' });
  await patronAsks(stack.url, 'Pat', 'Where are the old atlases?');
  await waitFor('the first question in the queue', async () =>
    execFileSync('redis-cli', ['-p', String(stack.redisPort), 'ZCARD', 'queue:reference']).toString().trim() === '1');
  desk = await stack.secondDaemon({ serveArgs: [] });
  await stack.daemon.stop();
});
after(async () => { await stack?.stop(); });

async function patronAsks(url, name, text) {
  const page = await (await stack.newContext()).newPage();
  await page.goto(`${url}/demo/`);
  await page.getByTestId('askdesk-launcher').click();
  await page.getByTestId('askdesk-name').fill(name);
  await page.getByTestId('askdesk-input').fill(text);
  await page.getByTestId('askdesk-input').press('Enter');
  return page;
}

async function openDesk(context, name, password) {
  const page = await stack.signIn(context, name, password, { at: desk.url });
  await page.getByTestId('supervisor-link').click();
  await page.waitForURL(/\/supervisor$/);
  return page;
}

test('the live desk: queues past their alert, who is on at what load, notes and reassigning', async () => {
  const ann = await stack.signIn(await stack.newContext(), 'ann', 'ann-password-1', { at: desk.url });
  const supervisor = await stack.newContext({ bypassCSP: true });
  const page = await openDesk(supervisor, 'sue', 'sue-password-1');
  const team = (id) => page.locator(`[data-testid="desk-team"][data-team="${id}"]`);
  const waiting = (text) => team('reference').getByTestId('desk-waiting').filter({ hasText: text });
  const annRow = team('reference').locator('[data-testid="desk-member"][data-user="ann"]');

  await stack.step('every team and its staff, live', async () => {
    await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
    await team('circulation').getByTestId('desk-stats').filter({ hasText: /0 waiting/ }).waitFor();
    await annRow.getByTestId('member-status').filter({ hasText: 'Available' }).waitFor();
    assert.equal(await annRow.getByTestId('member-load').textContent(), '0 of 2 open');
    assert.equal(await team('reference').locator('[data-user="sue"]').count(), 0, 'Sue is in no team');
  });

  await stack.step('a conversation waiting past the alert stands out; a new one does not', async () => {
    await patronAsks(desk.url, 'Quinn', 'Is there a quiet room?');
    await waiting('atlases').getByTestId('over-alert').filter({ hasText: 'over 5 min' }).waitFor();
    await waiting('quiet room').waitFor();
    assert.equal(await waiting('quiet room').getByTestId('over-alert').isHidden(), true);
    const stats = await team('reference').getByTestId('desk-stats').textContent();
    assert.match(stats, /2 waiting · longest 1\d min · 1 over 5 min · 1 on the desk/);
  });

  await stack.step('the librarian claims one and goes away: the desk follows', async () => {
    await ann.getByTestId('queue-item').filter({ hasText: 'quiet room' }).click();
    await ann.getByTestId('claim').click();
    await waiting('quiet room').waitFor({ state: 'detached' });
    await annRow.getByTestId('desk-held').filter({ hasText: 'quiet room' }).waitFor();
    await annRow.getByTestId('member-load').filter({ hasText: '1 of 2 open' }).waitFor();
    await ann.getByTestId('presence').selectOption('away');
    await annRow.getByTestId('member-status').filter({ hasText: 'Away' }).waitFor();
  });

  await stack.step('a held conversation opens read-only and takes a note', async () => {
    await annRow.getByTestId('desk-held').filter({ hasText: 'quiet room' }).locator('button').click();
    const view = page.getByTestId('conversation-view');
    await view.getByTestId('message').filter({ hasText: 'quiet room' }).waitFor();
    for (const hidden of ['claim', 'close', 'reply-send', 'read-level']) {
      assert.equal(await view.getByTestId(hidden).isHidden(), true, `${hidden} is hidden`);
    }
    await view.getByTestId('reply-input').fill('Room 2 is free after four.');
    await view.getByTestId('reply-input').press('Enter');
    await view.locator('[data-testid="message"][data-direction="note"]', { hasText: 'Room 2' }).waitFor();
    // The librarian holding it sees the note too.
    await ann.locator('[data-testid="message"][data-direction="note"]', { hasText: 'Room 2' }).waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
  });

  await stack.step('the waiting one is reassigned to the librarian', async () => {
    await waiting('atlases').locator('button').click();
    const view = page.getByTestId('conversation-view');
    await view.getByTestId('message').filter({ hasText: 'atlases' }).waitFor();
    await view.getByTestId('transfer').filter({ hasText: 'Reassign' }).click();
    await view.getByTestId('transfer-user').fill('ann');
    await view.getByTestId('transfer-submit').click();
    await waiting('atlases').waitFor({ state: 'detached' });
    await annRow.getByTestId('desk-held').filter({ hasText: 'atlases' }).waitFor();
    await annRow.getByTestId('member-load').filter({ hasText: '2 of 2 open' }).waitFor();
    await team('reference').getByTestId('desk-stats').filter({ hasText: /0 waiting/ }).waitFor();
    await ann.getByTestId('mine-item').filter({ hasText: 'atlases' }).waitFor();
  });
  assert.deepEqual(supervisor.problems, []);
});

test('staff are refused the live desk, on the page and in the API', async () => {
  const context = await stack.newContext();
  const page = await stack.signIn(context, 'ann', 'ann-password-1', { at: desk.url });
  assert.equal(await page.getByTestId('supervisor-link').isHidden(), true);
  await page.goto(`${desk.url}/supervisor`);
  await page.getByTestId('desk-problem').filter({ hasText: 'for supervisors' }).waitFor();
  const answer = await context.request.get(`${desk.url}/api/v1/desk`);
  assert.equal(answer.status(), 403);
});
