// Routing on the dashboard: a waiting conversation is offered to the available librarian,
// who accepts it; an away librarian gets nothing; a transfer hands it to another team.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack({
    config: {
      teams: [{ id: 'reference', name: 'Reference desk', mode: 'broadcast', capacity: 2 },
        { id: 'circulation', name: 'Circulation' }],
    },
  });
  stack.addUser('ann', 'ann-password-1', { displayName: 'Ann' });
});
after(async () => { await stack?.stop(); });

async function patronAsks(text) {
  const page = await (await stack.newContext()).newPage();
  await page.goto(`${stack.url}/demo/`);
  await page.getByTestId('askdesk-launcher').click();
  await page.getByTestId('askdesk-input').fill(text);
  await page.getByTestId('askdesk-input').press('Enter');
  return page;
}

test('offers, presence, capacity and transfer', async () => {
  const staff = await stack.newContext({ bypassCSP: true });
  const desk = await stack.signIn(staff, 'ann', 'ann-password-1');

  await stack.step('a new question is offered to the available librarian', async () => {
    assert.equal(await desk.getByTestId('presence').inputValue(), 'available');
    await desk.getByTestId('capacity').filter({ hasText: '0 of 2 open' }).waitFor();
    await patronAsks('Do you lend telescopes?');
    const offer = desk.getByTestId('offer').filter({ hasText: 'telescopes' });
    await offer.waitFor({ timeout: 5000 });
    assert.match(await offer.textContent(), /\d+ s left/);
    assert.deepEqual(await accessibilityProblems(desk), []);
    await offer.getByTestId('offer-accept').click();
    await desk.locator('[data-testid="conversation-view"][data-status="assigned"]').waitFor();
    await desk.getByTestId('mine-item').filter({ hasText: 'telescopes' }).waitFor();
    await desk.getByTestId('capacity').filter({ hasText: '1 of 2 open' }).waitFor();
    assert.equal(await desk.getByTestId('offer').count(), 0);
  });

  await stack.step('away means no offers; available again brings them', async () => {
    await desk.getByTestId('presence').selectOption('away');
    await patronAsks('Can I print in color?');
    await desk.getByTestId('queue-item').filter({ hasText: 'print in color' }).waitFor();
    await desk.waitForTimeout(2000);  // two routing passes
    assert.equal(await desk.getByTestId('offer').count(), 0);
    await desk.getByTestId('presence').selectOption('available');
    await desk.getByTestId('offer').filter({ hasText: 'print in color' }).waitFor({ timeout: 5000 });
  });

  await stack.step('a transfer with a note hands the conversation to another team', async () => {
    await desk.getByTestId('mine-item').filter({ hasText: 'telescopes' }).click();
    await desk.getByTestId('transfer').click();
    await desk.getByTestId('transfer-dialog').waitFor();
    await desk.getByTestId('transfer-team').selectOption('circulation');
    await desk.getByTestId('transfer-note').fill('Circulation lends the equipment.');
    await desk.getByTestId('transfer-submit').click();
    await desk.getByTestId('transfer-dialog').waitFor({ state: 'hidden' });
    await desk.locator('[data-testid="message"][data-direction="note"]', { hasText: 'lends the equipment' }).waitFor();
    await desk.getByTestId('mine-item').filter({ hasText: 'telescopes' }).waitFor({ state: 'detached' });
    await desk.getByTestId('capacity').filter({ hasText: '0 of 2 open' }).waitFor();
  });
  assert.deepEqual(staff.problems, []);
});
