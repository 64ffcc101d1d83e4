// Email in the browser, against a real Dovecot and a real SMTP sink: a patron's reply with
// its quoted history and signature shows its own words first (the rest folded, open on
// demand) and says which header joined it; a patron in the chat widget has the transcript
// emailed, and staff see the note saying where it went.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack, waitFor } from './harness.mjs';
import { startDovecot, startSmtpSink } from './mail_servers.mjs';

let stack;
let imap;
let smtp;

before(async () => {
  imap = await startDovecot();
  smtp = await startSmtpSink();
  stack = await startStack({
    config: {
      teams: [{ id: 'reference', name: 'Reference desk' }],
      connectors: [
        { id: 'webchat', type: 'webchat' },
        {
          id: 'mail', type: 'email', imap_url: imap.url, smtp_url: smtp.url, username: 'ask', password: 'secret',
          address: 'ask@library.example.org', from_name: 'Springfield Library', poll_seconds: 1,
        },
      ],
    },
  });
  stack.addUser('ann', 'ann-password-1', { displayName: 'Ann' });
});
after(async () => {
  await stack?.stop();
  await smtp?.stop();
  await imap?.stop();
});

test('an email thread: the reply goes out, the answer threads back with its quote folded', async () => {
  imap.deliver('From: Ada Lovelace <ada@example.org>\nTo: ask@library.example.org\nSubject: Interlibrary loan\n'
    + 'Message-ID: <ill-1@example.org>\nContent-Type: text/plain; charset=utf-8\n\nCan you borrow a book from Oxford for me?\n');
  const staff = await stack.newContext({ bypassCSP: true });
  const desk = await stack.signIn(staff, 'ann', 'ann-password-1');
  let ours;
  await stack.step('the email is in the queue and the librarian answers it', async () => {
    await desk.getByTestId('queue-item').filter({ hasText: 'Oxford' }).click({ timeout: 15000 });
    await desk.locator('[data-testid="message"]', { hasText: 'Subject: Interlibrary loan' }).waitFor();
    await desk.getByTestId('reply-input').fill('Yes: fill in the form and we will ask them.');
    await desk.getByTestId('reply-input').press('Enter');
    await desk.locator('[data-testid="message"][data-direction="out"][data-status="sent"]').waitFor({ timeout: 10000 });
    await waitFor('the reply at the SMTP sink', () => smtp.messages().length === 1);
    ours = /^Message-ID: (<[^>]+>)/m.exec(smtp.messages()[0])[1];
    assert.match(smtp.messages()[0], /^In-Reply-To: <ill-1@example\.org>/m);
  });
  await stack.step('the answer joins the conversation with its history folded away', async () => {
    imap.deliver(`From: Ada Lovelace <ada@example.org>\nTo: ask@library.example.org\nSubject: Re: Interlibrary loan\n`
      + `Message-ID: <ill-2@example.org>\nIn-Reply-To: ${ours}\nReferences: <ill-1@example.org> ${ours}\n`
      + 'Content-Type: text/plain; charset=utf-8\n\nThank you, form sent.\n\n-- \nAda Lovelace\n\n'
      + 'On Mon, Nov 23, 2026, Springfield Library wrote:\n> Yes: fill in the form and we will ask them.\n');
    const answer = desk.locator('[data-testid="message"][data-direction="in"]', { hasText: 'Thank you, form sent.' });
    await answer.waitFor({ timeout: 15000 });
    await answer.getByTestId('joined-by').filter({ hasText: `In-Reply-To ${ours}` }).waitFor();
    const quoted = answer.getByTestId('quoted');
    assert.equal(await quoted.getByText('Ada Lovelace').isVisible(), false);
    await quoted.locator('summary').click();
    assert.equal(await quoted.getByText('Ada Lovelace').isVisible(), true);
    assert.deepEqual(await accessibilityProblems(desk), []);
  });
  assert.deepEqual(staff.problems, []);
});

test('a patron has the chat transcript emailed', async () => {
  const visitor = await stack.newContext({ bypassCSP: true });
  const page = await visitor.newPage();
  const before = smtp.messages().length;
  await stack.step('the patron chats and asks for the transcript', async () => {
    await page.goto(`${stack.url}/demo/`);
    await page.getByTestId('askdesk-launcher').click();
    await page.getByTestId('askdesk-input').fill('Where is the quiet study room?');
    await page.getByTestId('askdesk-input').press('Enter');
    await page.getByTestId('askdesk-message').filter({ hasText: 'quiet study room' }).waitFor();
    await page.getByTestId('askdesk-transcript').locator('summary').click();
    await page.getByTestId('askdesk-transcript-address').fill('not an address');
    await page.getByTestId('askdesk-transcript-send').click();
    await page.getByTestId('askdesk-error').filter({ hasText: 'Please give an email address' }).waitFor();
    await page.getByTestId('askdesk-transcript-address').fill('bo@example.org');
    await page.getByTestId('askdesk-transcript-send').click();
    await page.getByTestId('askdesk-transcript-sent').filter({ hasText: 'on its way to bo@example.org' }).waitFor();
    assert.equal(await page.getByTestId('askdesk-error').isVisible(), false, 'the earlier error is gone');
    assert.deepEqual(await accessibilityProblems(page), []);
  });
  await stack.step('the mail reaches the SMTP sink', async () => {
    await waitFor('the transcript at the SMTP sink', () => smtp.messages().length === before + 1);
    const mail = smtp.messages()[before];
    assert.match(mail, /^Subject: Your conversation with Reference desk/m);
    assert.match(mail, /Where is the quiet study room\?/);
  });
});
