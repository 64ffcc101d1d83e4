// The access audit in the browser: a librarian opens a patron's conversation on the
// dashboard and, with the patron's consent, links and unlinks their other record; an admin
// finds it all written down at /audit (who, what, which number, from where), filters it, and
// the page passes axe; staff have no way in.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack();
  stack.addUser('ann', 'ann-password-1', { displayName: 'Ann' });
  stack.addUser('ada', 'ada-password-1', { role: 'admin', teams: [], displayName: 'Ada' });
});
after(async () => { await stack?.stop(); });

test('every look at a patron is in the access audit, for admins', async () => {
  const ann = await stack.signIn(await stack.newContext(), 'ann', 'ann-password-1');
  let id;
  await stack.step('a librarian opens a patron\'s conversation', async () => {
    const patron = await (await stack.newContext()).newPage();
    await patron.goto(`${stack.url}/demo/`);
    await patron.getByTestId('askdesk-launcher').click();
    await patron.getByTestId('askdesk-input').fill('Can I borrow a telescope?');
    await patron.getByTestId('askdesk-input').press('Enter');
    const item = ann.getByTestId('queue-item').filter({ hasText: 'telescope' });
    await item.waitFor();
    id = await item.getAttribute('data-conversation');
    await item.click();
    await ann.getByTestId('message').filter({ hasText: 'telescope' }).waitFor();
    // The number a patron's export or erasure asks for.
    assert.match(await ann.getByTestId('patron-number').textContent(), /^\d+$/);
    assert.equal(await ann.getByTestId('audit-link').isHidden(), true);
  });
  await stack.step('with the patron\'s consent, the librarian links their other record, then unlinks it', async () => {
    const other = await (await stack.newContext()).newPage();
    await other.goto(`${stack.url}/demo/`);
    await other.getByTestId('askdesk-launcher').click();
    await other.getByTestId('askdesk-input').fill('And binoculars?');
    await other.getByTestId('askdesk-input').press('Enter');
    const item = ann.getByTestId('queue-item').filter({ hasText: 'binoculars' });
    await item.waitFor();
    const number = await ann.evaluate(async (conversation) =>
      (await (await fetch(`/api/v1/conversations/${conversation}`)).json()).patron.id,
    await item.getAttribute('data-conversation'));
    await ann.getByTestId('link-number').fill(number);
    await ann.getByTestId('link-consent').fill('They asked us to keep both chats together.');
    await ann.getByTestId('link-submit').click();
    const link = ann.locator(`[data-testid="patron-link"][data-patron="${number}"]`);
    await link.filter({ hasText: 'keep both chats together' }).waitFor();
    await link.getByTestId('patron-unlink').click();
    await link.waitFor({ state: 'detached' });
  });
  const context = await stack.newContext({ bypassCSP: true });
  const admin = await stack.signIn(context, 'ada', 'ada-password-1');
  await stack.step('the admin finds it in the audit', async () => {
    await admin.getByTestId('audit-link').click();
    await admin.waitForURL(/\/audit$/);
    const row = admin.getByTestId('audit-row').filter({ hasText: 'ann' }).filter({ hasText: 'Opened a conversation' });
    await row.first().waitFor();
    assert.match(await row.first().textContent(), new RegExp(`${id}127\\.0\\.0\\.1$`));
    assert.deepEqual(await accessibilityProblems(admin), []);
  });
  await stack.step('filters narrow it', async () => {
    await admin.getByTestId('audit-action').selectOption('open_patron');
    await admin.getByTestId('audit-user').fill('ann');
    await admin.getByTestId('audit-apply').click();
    await admin.locator('[data-testid="audit-row"][data-action="open_conversation"]').first().waitFor({ state: 'detached' });
    assert.ok(await admin.getByTestId('audit-row').count() >= 1);
    await admin.getByTestId('audit-action').selectOption('link_patron');
    await admin.getByTestId('audit-apply').click();
    await admin.locator('[data-testid="audit-row"][data-action="link_patron"]').first().waitFor();
  });
  assert.deepEqual(context.problems, []);
});
