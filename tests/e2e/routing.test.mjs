// Routing on the dashboard: a waiting conversation is offered to the available librarian,
// who accepts it; an away librarian gets nothing; a transfer hands it to another team.
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack, waitFor } from './harness.mjs';

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

// A command on the stack's Redis, through redis-cli; its answer as text.
function redis(...args) {
  return execFileSync('redis-cli', ['-p', String(stack.redisPort), ...args], { stdio: 'pipe' })
    .toString().trim();
}

async function routingPasses() {
  const body = await (await fetch(`${stack.url}/metrics`)).text();
  return Number(/^askdesk_routing_passes_total (\d+)$/m.exec(body)?.[1] ?? 0);
}

// Resolves once a routing pass that read its snapshot after this call has carried out what
// it decided. Passes run one at a time and count after reading: three past the count now, the
// second of them began after now, and the third only after the second applied its offers.
async function routingCaughtUp() {
  const target = (await routingPasses()) + 3;
  await waitFor('three routing passes', async () => (await routingPasses()) >= target);
}

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
    await waitFor('ann away in Redis', () => redis('HGET', 'staff:ann', 'presence') === 'away');
    await patronAsks('Can I print in color?');
    await desk.getByTestId('queue-item').filter({ hasText: 'print in color' }).waitFor();
    // A whole routing pass has decided since the question was queued: an offer to ann would
    // now be in Redis, and on her dashboard.
    await routingCaughtUp();
    assert.equal(redis('SCARD', 'offers:ann'), '0');
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
