// Topics on the dashboard: a rule places a question in its team's queue, the conversation
// says which topic and why, and a librarian's correction moves it to the right team.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack({
    config: {
      teams: [{ id: 'reference', name: 'Reference desk' }, { id: 'circulation', name: 'Circulation' },
        { id: 'programs', name: 'Programs' }],
      topics: [
        { id: 'circulation', team: 'circulation', keywords: ['renew', 'due date'] },
        { id: 'events', team: 'programs', keywords: ['story time'] },
        { id: 'general', team: 'reference' },
      ],
      routing: { default_topic: 'general' },
    },
  });
  stack.addUser('tess', 'tess-password-1', { role: 'supervisor', teams: [], displayName: 'Tess' });
});
after(async () => { await stack?.stop(); });

test('a question lands in its topic team, says why, and a correction moves it', async () => {
  const staff = await stack.newContext({ bypassCSP: true });
  const desk = await stack.signIn(staff, 'tess', 'tess-password-1');

  const patron = await (await stack.newContext()).newPage();
  await stack.step('the renewal question goes to circulation', async () => {
    await patron.goto(`${stack.url}/demo/`);
    await patron.getByTestId('askdesk-launcher').click();
    await patron.getByTestId('askdesk-input').fill('Can I renew the makerspace kit?');
    await patron.getByTestId('askdesk-input').press('Enter');
    await desk.locator('[data-testid="queue"][data-team="circulation"] [data-testid="queue-item"]',
      { hasText: 'makerspace kit' }).waitFor({ timeout: 5000 });
  });
  await stack.step('the conversation shows its topic and the rule behind it', async () => {
    await desk.getByTestId('queue-item').filter({ hasText: 'makerspace kit' }).click();
    await desk.getByTestId('topic-reason').filter({ hasText: "keyword 'renew'" }).waitFor();
    assert.equal(await desk.getByTestId('topic-select').inputValue(), 'circulation');
    assert.deepEqual(await accessibilityProblems(desk), []);
  });
  await stack.step('the librarian changes the topic; it moves to programs', async () => {
    await desk.getByTestId('topic-select').selectOption('events');
    await desk.getByTestId('topic-reason').filter({ hasText: 'set by tess' }).waitFor();
    await desk.locator('[data-testid="queue"][data-team="programs"] [data-testid="queue-item"]',
      { hasText: 'makerspace kit' }).waitFor({ timeout: 5000 });
    assert.equal(await desk.locator('[data-testid="queue"][data-team="circulation"] [data-testid="queue-item"]',
      { hasText: 'makerspace kit' }).count(), 0);
  });
  assert.deepEqual(staff.problems, []);
});
