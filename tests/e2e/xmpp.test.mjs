// XMPP in the browser, against Debian's Prosody and a patron on a real client (slixmpp,
// tests/support/xmpp_patron.py): a patron's chat message reaches the queue saying which
// channel it came by ("XMPP", as GET /api/v1/channels names it), a librarian answers it in
// the dashboard, the patron's client receives the answer and acknowledges it (XEP-0184), and
// the dashboard then shows the reply as delivered.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack } from './harness.mjs';
import { jid, loginFor, signedIn, startProsody, xmppPatron } from './prosody.mjs';

const askPassword = 'ask-password-for-e2e';
const ask = jid('ask');
const ada = jid('ada');
let prosody;
let stack;
let patron;

before(async () => {
  prosody = await startProsody();
  prosody.addUser('ask', askPassword);
  prosody.addUser('ada', 'ada-password');
  stack = await startStack({
    config: {
      teams: [{ id: 'reference', name: 'Reference desk' }],
      connectors: [{
        id: 'xmpp', type: 'xmpp', jid: ask, password: askPassword,
        host: prosody.host, port: prosody.port, tls: 'required', ca_file: prosody.caFile,
      }],
    },
  });
  stack.addUser('ann', 'ann-password-1', { displayName: 'Ann' });
  await signedIn(stack.url).catch((e) => { throw new Error(`${e.message}\n${stack.log()}`); });
  patron = xmppPatron('ada');
  await patron.connect(loginFor(prosody, 'ada', 'ada-password'));
});
after(async () => {
  await stack?.stop();
  await patron?.quit();
  await prosody?.stop();
});

// What the servers and the client said, for a failure's message (the last part of each).
function logs() {
  const tail = (text) => text.slice(-8000);
  return `\n--- askdesk:\n${tail(stack?.log() ?? '')}\n--- the patron's client:\n${tail(patron?.log() ?? '')}`
    + `\n--- Prosody:\n${tail(prosody?.log() ?? '')}`;
}

test('an XMPP chat shows its channel, and the reply shows delivered once the patron has it', async () => {
  try {
    const asked = await patron.send(ask, 'Do you have the 1901 census on microfilm?',
      { request_receipt: true, chat_state: 'active' });
    // askdesk acknowledges the patron's message once it is stored.
    await patron.receipt(asked);

    const staff = await stack.newContext({ bypassCSP: true });
    const desk = await stack.signIn(staff, 'ann', 'ann-password-1');
    await stack.step('the conversation is in the queue, named by its channel', async () => {
      // The name the dashboard shows is the one the API gives the connector.
      const { channels } = await desk.evaluate(async () => (await fetch('/api/v1/channels')).json());
      const listed = channels.find((c) => c.id === 'xmpp');
      assert.equal(listed?.name, 'XMPP', JSON.stringify(channels));
      assert.equal(listed.channel, 'xmpp');
      const item = desk.getByTestId('queue-item').filter({ hasText: '1901 census' });
      await item.locator('.channel').filter({ hasText: 'XMPP' }).waitFor({ timeout: 15000 });
      assert.equal(await item.locator('.channel').innerText(), 'XMPP');
      await item.click();
      const question = desk.locator('[data-testid="message"][data-direction="in"]', { hasText: '1901 census' });
      await question.waitFor();
      assert.equal(await question.locator('.channel').innerText(), 'XMPP');
      assert.match(await question.locator('.who').innerText(), /ada/);
    });

    await stack.step('the librarian replies and the patron receives it', async () => {
      await desk.getByTestId('reply-input').fill('Yes: on microfilm, second floor.');
      await desk.getByTestId('reply-input').press('Enter');
      const reply = await patron.message('Yes: on microfilm, second floor.');
      assert.equal(reply.type, 'chat');
      assert.equal(reply.from.split('/')[0], ask);
      assert.equal(reply.to.split('/')[0], ada);
      assert.match(reply.id, /^askdesk-/);
      assert.equal(reply.receipt_requested, true);
    });

    await stack.step('the reply shows delivered', async () => {
      const reply = desk.locator('[data-testid="message"][data-direction="out"]', { hasText: 'second floor' });
      await reply.locator('.state').filter({ hasText: /^delivered$/ }).waitFor({ timeout: 15000 });
      assert.equal(await reply.getAttribute('data-status'), 'delivered');
      assert.equal(await reply.locator('.state').isVisible(), true);
      assert.equal(await reply.locator('.channel').innerText(), 'XMPP');
      assert.deepEqual(await accessibilityProblems(desk), []);
    });
    assert.deepEqual(staff.problems, []);
  } catch (error) {
    error.message += logs();
    throw error;
  }
});
