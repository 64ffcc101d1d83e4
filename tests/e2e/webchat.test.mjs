// Web chat end to end in headless Chromium: a patron on a library page with the widget, a
// librarian on the dashboard in a second browser profile, against a real askdesk and Redis.
// Run by ctest (label e2e) or directly: node --test tests/e2e/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack, waitFor } from './harness.mjs';

const question = 'Can I renew my books online?';
const answer = 'Yes: sign in at catalog.example.org and choose Renew.';
let stack;

before(async () => {
  stack = await startStack();
  stack.addUser('ann', 'ann-password-1', { displayName: 'Ann' });
});
after(async () => { await stack?.stop(); });

// Signs in without waiting: the wrong-password test expects no dashboard at all.
function staffLogin(context, user = 'ann', password = 'ann-password-1') {
  return stack.signIn(context, user, password, { live: false });
}

async function openWidget(page) {
  const launcher = page.getByTestId('askdesk-launcher');
  await launcher.waitFor();
  if ((await launcher.getAttribute('aria-expanded')) !== 'true') await launcher.click();
  await page.getByTestId('askdesk-input').waitFor();
}

async function patronSays(page, text) {
  await page.getByTestId('askdesk-input').fill(text);
  await page.getByTestId('askdesk-input').press('Enter');
}

function message(page, direction, text) {
  return page.locator(`[data-testid="${page.isStaff ? 'message' : 'askdesk-message'}"][data-direction="${direction}"]`,
    { hasText: text });
}

test('a patron asks, a librarian claims and answers, both reload, the librarian closes', async () => {
  const staff = await stack.newContext();
  const patron = await stack.newContext();
  const desk = await stack.step('librarian logs in', async () => {
    const page = await staffLogin(staff);
    page.isStaff = true;
    await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
    return page;
  });
  const library = await stack.step('patron opens the widget', async () => {
    const page = await patron.newPage();
    await page.goto(`${stack.url}/demo/`);
    await openWidget(page);
    await page.getByTestId('askdesk-status').filter({ hasText: /online/i }).waitFor();
    await page.getByTestId('askdesk-name').fill('Ada');
    return page;
  });

  await stack.step('the question arrives live on the dashboard', async () => {
    const sent = Date.now();
    await patronSays(library, question);
    await desk.getByTestId('queue-item').filter({ hasText: question }).waitFor({ timeout: 5000 });
    console.log(`# widget → dashboard: ${Date.now() - sent} ms`);
    await message(library, 'in', question).waitFor();
  });

  await stack.step('the librarian claims and replies; the patron sees it', async () => {
    await desk.getByTestId('queue-item').filter({ hasText: question }).click();
    const view = desk.getByTestId('conversation-view');
    await view.waitFor();
    await message(desk, 'in', question).waitFor();
    await desk.getByTestId('claim').click();
    await desk.locator('[data-testid="conversation-view"][data-status="assigned"]').waitFor();
    const sent = Date.now();
    await desk.getByTestId('reply-input').fill(answer);
    await desk.getByTestId('reply-input').press('Enter');
    await message(library, 'out', answer).waitFor({ timeout: 5000 });
    console.log(`# dashboard → widget: ${Date.now() - sent} ms`);
    await desk.locator('[data-testid="message"][data-direction="out"][data-status="sent"]', { hasText: answer }).waitFor();
  });

  await stack.step('both reload and keep their state', async () => {
    await library.reload();
    await openWidget(library);
    await message(library, 'in', question).waitFor();
    await message(library, 'out', answer).waitFor();
    assert.equal(await message(library, 'in', question).count(), 1, 'the question shows once');
    await desk.reload();
    await desk.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
    await desk.getByTestId('mine-item').filter({ hasText: 'Ada' }).click();
    await message(desk, 'out', answer).waitFor();
    assert.equal(await message(desk, 'out', answer).count(), 1, 'the reply shows once');
  });

  await stack.step('the librarian closes with a READ level; the widget shows the chat ended', async () => {
    await desk.getByTestId('read-level').selectOption('2');
    await desk.getByTestId('close').click();
    await desk.locator('[data-testid="conversation-view"][data-status="closed"]').waitFor();
    await library.locator('[data-ended]').waitFor({ timeout: 5000 });
    const id = await desk.getByTestId('conversation-view').getAttribute('data-conversation');
    const level = await desk.evaluate(async (id) =>
      (await (await fetch(`/api/v1/conversations/${id}`)).json()).read_level, id);
    assert.equal(level, 2, 'the READ level chosen is stored with the conversation');
  });

  await stack.step('the patron is asked once how satisfied they were and rates 4 with a comment', async () => {
    const form = library.getByTestId('askdesk-rating');
    await form.waitFor({ timeout: 10000 });
    assert.equal(await form.count(), 1);
    await library.getByTestId('askdesk-rating-4').check();
    await library.getByTestId('askdesk-rating-comment').fill('Very helpful');
    await library.getByTestId('askdesk-rating-send').click();
    await library.getByTestId('askdesk-rated').waitFor();
    const id = await desk.getByTestId('conversation-view').getAttribute('data-conversation');
    await waitFor('the score on the conversation', async () => {
      const c = await desk.evaluate(async (id) => (await fetch(`/api/v1/conversations/${id}`)).json(), id);
      return c.csat?.score === 4 && c.csat?.comment === 'Very helpful' && c.status === 'closed';
    });
    await library.reload();
    await openWidget(library);
    await library.getByTestId('askdesk-rated').or(library.locator('[data-ended]')).first().waitFor();
    assert.equal(await library.getByTestId('askdesk-rating').count(), 0, 'not asked again after a reload');
  });

  assert.deepEqual(staff.problems, [], 'no errors or CSP violations on the dashboard');
  assert.deepEqual(patron.problems, [], 'no errors or CSP violations on the library page');
});

test('patron text that looks like HTML is shown as text and runs nothing', async () => {
  const hostile = '<img src=x onerror=alert(1)>';
  const staff = await stack.newContext();
  const patron = await stack.newContext();
  let dialogs = 0;
  const desk = await staffLogin(staff);
  desk.isStaff = true;
  desk.on('dialog', (d) => { dialogs += 1; d.dismiss(); });
  const library = await patron.newPage();
  library.on('dialog', (d) => { dialogs += 1; d.dismiss(); });
  await stack.step('the patron sends markup', async () => {
    await library.goto(`${stack.url}/demo/`);
    await openWidget(library);
    await patronSays(library, hostile);
    await message(library, 'in', hostile).waitFor();
  });
  await stack.step('the dashboard shows it literally', async () => {
    await desk.getByTestId('queue-item').filter({ hasText: hostile }).click();
    await message(desk, 'in', hostile).waitFor();
    assert.equal(await desk.getByTestId('transcript').locator('img').count(), 0);
    assert.equal(await library.getByTestId('askdesk-log').locator('img').count(), 0);
    assert.equal(dialogs, 0, 'no script ran');
  });
});

test('a wrong password is refused with a message', async () => {
  const context = await stack.newContext();
  const page = await staffLogin(context, 'ann', 'not-the-password');
  await stack.step('the login page says so', async () => {
    await page.getByTestId('login-error').filter({ hasText: /wrong/i }).waitFor();
    assert.equal(await page.getByTestId('connection').count(), 0);
    const cookies = await context.cookies();
    assert.equal(cookies.filter((c) => c.name === 'askdesk_session').length, 0);
  });
});

test('the widget and the dashboard have no serious accessibility problems', async () => {
  // axe is injected as a script, which the pages' CSP rightly refuses: bypass it here only.
  const context = await stack.newContext({ bypassCSP: true });
  await stack.step('library page with the widget open', async () => {
    const page = await context.newPage();
    await page.goto(`${stack.url}/demo/`);
    await openWidget(page);
    await patronSays(page, 'Where is the local history room?');
    await message(page, 'in', 'local history').waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
  });
  await stack.step('login page', async () => {
    const page = await context.newPage();
    await page.goto(`${stack.url}/`);
    await page.getByTestId('login-form').waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
  });
  await stack.step('dashboard with a conversation open', async () => {
    const page = await staffLogin(context);
    page.isStaff = true;
    await page.getByTestId('queue-item').filter({ hasText: 'local history' }).click();
    await message(page, 'in', 'local history').waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
  });
});

test('on a public computer the chat is forgotten with the browser session, unless the page asks to remember it', async () => {
  const context = await stack.newContext();
  const patron = await context.newPage();
  await stack.step('a patron chats; the chat lives in this tab only', async () => {
    await patron.goto(`${stack.url}/demo/`);
    await openWidget(patron);
    await patronSays(patron, 'Where is the public printer?');
    await message(patron, 'in', 'public printer').and(patron.locator('[data-id]')).waitFor();
    const where = await patron.evaluate(() => ({
      session: Object.keys(sessionStorage).filter((k) => k.startsWith('askdesk:')).length,
      local: Object.keys(localStorage).filter((k) => k.startsWith('askdesk:')).length,
    }));
    assert.deepEqual(where, { session: 1, local: 0 });
    await patron.reload();
    await openWidget(patron);
    await message(patron, 'in', 'public printer').waitFor();
  });
  await stack.step('the next person at the computer starts afresh', async () => {
    await patron.close();
    const next = await context.newPage();
    await next.goto(`${stack.url}/demo/`);
    await openWidget(next);
    assert.equal(await next.getByTestId('askdesk-message').count(), 0);
  });
  await stack.step('a page with data-remember keeps the chat for those days', async () => {
    // The demo page that remembers: data-remember="7" on the widget's script tag.
    const first = await context.newPage();
    await first.goto(`${stack.url}/demo/remember.html`);
    await openWidget(first);
    await patronSays(first, 'Can I reserve a laptop?');
    await message(first, 'in', 'laptop').and(first.locator('[data-id]')).waitFor();
    const expires = await first.evaluate(() => JSON.parse(Object.entries(localStorage)
      .find(([k]) => k.startsWith('askdesk:'))[1]).expires);
    assert.ok(expires > Date.now() + 6.9 * 86400000 && expires <= Date.now() + 7 * 86400000);
    await first.close();
    const again = await context.newPage();
    await again.goto(`${stack.url}/demo/remember.html`);
    await openWidget(again);
    await message(again, 'in', 'laptop').waitFor();
  });
  assert.deepEqual(context.problems, []);
});

test('End and forget this chat: the chat ends and the library deletes it now', async () => {
  const desk = await stack.signIn(await stack.newContext({ bypassCSP: true }), 'ann', 'ann-password-1');
  const patron = await (await stack.newContext()).newPage();
  await stack.step('a patron asks something personal', async () => {
    await patron.goto(`${stack.url}/demo/`);
    await openWidget(patron);
    await patron.getByTestId('askdesk-name').fill('Noor Forgetme');
    await patronSays(patron, 'Do you have books on debt counselling?');
    await message(patron, 'in', 'debt counselling').and(patron.locator('[data-id]')).waitFor();
    await desk.getByTestId('queue-item').filter({ hasText: 'debt counselling' }).waitFor();
  });
  const id = await desk.getByTestId('queue-item').filter({ hasText: 'debt counselling' }).getAttribute('data-conversation');
  await stack.step('they end and forget it', async () => {
    await patron.getByTestId('askdesk-forget').locator('summary').click();
    await patron.getByTestId('askdesk-forget-confirm').click();
    await patron.getByTestId('askdesk-forgotten').filter({ hasText: 'deleted' }).waitFor();
    assert.equal(await patron.getByTestId('askdesk-message').count(), 0);
    await desk.getByTestId('queue-item').filter({ hasText: 'debt counselling' }).waitFor({ state: 'detached' });
  });
  await stack.step('the library keeps the conversation without its words or its patron', async () => {
    const kept = await desk.evaluate(async (conversation) => {
      const c = await (await fetch(`/api/v1/conversations/${conversation}`)).json();
      return { status: c.status, messages: c.messages.length, name: c.patron.name || null, text: JSON.stringify(c) };
    }, id);
    assert.equal(kept.status, 'closed');
    assert.equal(kept.messages, 0);
    assert.equal(kept.name, null);
    assert.ok(!kept.text.includes('Forgetme') && !kept.text.includes('debt'), kept.text);
  });
  await stack.step('the next message starts a new, unrelated chat', async () => {
    await patronSays(patron, 'Is the library open on Sunday?');
    await message(patron, 'in', 'Sunday').and(patron.locator('[data-id]')).waitFor();
    assert.equal(await patron.getByTestId('askdesk-message').count(), 1);
  });
});
