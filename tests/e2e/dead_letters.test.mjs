// Failed sends on the dashboard: Twilio refuses two replies for good (21211, an invalid
// number), a supervisor sees them in the "Failed sends" panel with Twilio's code, retries one
// once Twilio accepts again (the message shows as sent) and discards the other (it stays
// failed); a staff member gets no such panel.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack, waitFor } from './harness.mjs';
import {
  libraryNumber, postText, smsConnector, startFakeTwilio, twilioAccount,
} from './fake_twilio.mjs';

const account = twilioAccount;
const library = libraryNumber;
const invalid = (number) => `The 'To' number ${number} is not a valid phone number.`;
let stack;
let twilio;

before(async () => {
  twilio = await startFakeTwilio();
  stack = await startStack({
    config: {
      teams: [{ id: 'reference', name: 'Reference desk' }],
      connectors: [
        { id: 'webchat', type: 'webchat' },
        smsConnector(twilio),
      ],
    },
  });
  stack.addUser('sue', 'sue-password-1', { role: 'supervisor', displayName: 'Sue' });
  stack.addUser('sam', 'sam-password-1', { displayName: 'Sam' });
});
after(async () => {
  await stack?.stop();
  await twilio?.stop();
});

let sid = 0;
async function textArrives(from, body) {
  const answer = await postText(stack.url, {
    MessageSid: `SM7d00000000000000000000000000${String(++sid).padStart(4, '0')}`, AccountSid: account,
    From: from, To: library, Body: body, NumMedia: '0',
  });
  assert.equal(answer.status, 200);
}

async function deadLetterGauge() {
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('askdesk_outbound_dead_letters{connector="sms"}'));
  return line ? Number(line.split(' ').pop()) : NaN;
}

// The reply is typed into the conversation holding `question` and refused by Twilio.
async function replyFails(desk, question, reply) {
  await desk.getByTestId('queue-item').filter({ hasText: question }).click();
  await desk.getByTestId('transcript').filter({ hasText: question }).waitFor();
  await desk.getByTestId('reply-input').fill(reply);
  await desk.getByTestId('reply-input').press('Enter');
  await desk.locator('[data-testid="message"][data-direction="out"][data-status="failed"]', { hasText: reply })
    .waitFor({ timeout: 10000 });
}

test('a supervisor sees failed sends, retries one and discards another', async () => {
  await textArrives('+15550100142', 'Is the library open on Sunday?');
  await textArrives('+15550100143', 'Can I renew by text?');
  const context = await stack.newContext({ bypassCSP: true });
  const desk = await stack.signIn(context, 'sue', 'sue-password-1');
  const panel = desk.getByTestId('dead-letters');
  const count = desk.getByTestId('dead-count');
  const letters = desk.getByTestId('dead-letter');
  const sunday = letters.filter({ hasText: 'noon to five' });
  const renew = letters.filter({ hasText: 'RENEW' });

  await stack.step('refused replies appear as failed sends, live', async () => {
    await desk.getByRole('button', { name: 'Failed sends', exact: true }).waitFor();  // none yet: no count
    twilio.failNext(400, 21211, invalid('+15550100142'));
    twilio.failNext(400, 21211, invalid('+15550100143'));
    await replyFails(desk, 'open on Sunday', 'Yes, from noon to five.');
    await count.filter({ hasText: /^1$/ }).waitFor();
    await replyFails(desk, 'renew by text', 'Yes: reply RENEW with your card number.');
    await count.filter({ hasText: /^2$/ }).waitFor();
    await waitFor('the dead-letter gauge at 2', async () => (await deadLetterGauge()) === 2);
  });

  await stack.step('the panel shows channel, Twilio code and text, and the message', async () => {
    const channels = await (await context.request.get(`${stack.url}/api/v1/channels`)).json();
    const sms = channels.channels.find((c) => c.id === 'sms');
    assert.ok(sms?.name);
    await desk.getByTestId('dead-toggle').focus();
    await desk.keyboard.press('Enter');  // keyboard reachable
    assert.equal(await desk.getByTestId('dead-toggle').getAttribute('aria-expanded'), 'true');
    await sunday.waitFor();
    await renew.waitFor();
    assert.equal(await letters.count(), 2);
    assert.equal((await sunday.getByTestId('dead-channel').textContent()).trim(), sms.name);
    assert.equal(await sunday.getByTestId('dead-error').textContent(), `21211: ${invalid('+15550100142')}`);
    assert.equal(await sunday.getByTestId('dead-text').textContent(), 'Yes, from noon to five.');
    assert.equal(await renew.getByTestId('dead-error').textContent(), `21211: ${invalid('+15550100143')}`);
    assert.ok(await sunday.locator('time').getAttribute('datetime'));
    assert.deepEqual(await accessibilityProblems(desk), []);
  });

  await stack.step('Retry, with Twilio accepting again, sends the message', async () => {
    await sunday.getByTestId('dead-open').click();
    const view = desk.getByTestId('conversation-view').filter({ hasText: 'open on Sunday' });
    const reply = view.locator('[data-testid="message"][data-direction="out"]', { hasText: 'noon to five' });
    await reply.and(desk.locator('[data-status="failed"]')).waitFor();
    const before = twilio.received.length;
    await sunday.getByTestId('dead-retry').focus();
    await desk.keyboard.press('Enter');
    await reply.and(desk.locator('[data-status="sent"]')).locator('.state', { hasText: /^sent$/ }).waitFor({ timeout: 10000 });
    await sunday.waitFor({ state: 'detached' });
    await count.filter({ hasText: /^1$/ }).waitFor();
    const resent = twilio.received.slice(before);
    assert.equal(resent.length, 1);
    assert.equal(resent[0].refused, undefined);
    assert.equal(resent[0].form.To, '+15550100142');
    assert.equal(resent[0].form.Body, 'Yes, from noon to five.');
  });

  await stack.step('Discard drops the other; its message stays failed', async () => {
    const before = twilio.received.length;
    await renew.getByTestId('dead-discard').click();
    await renew.waitFor({ state: 'detached' });
    await count.waitFor({ state: 'hidden' });
    await panel.getByText('No failed sends.').waitFor();
    const list = await (await context.request.get(`${stack.url}/api/v1/outbound/dead`)).json();
    assert.deepEqual(list.dead_letters, []);
    await desk.getByTestId('mine-item').filter({ hasText: '+15550100143' }).click();  // replying took it
    await desk.getByTestId('conversation-view').filter({ hasText: 'renew by text' })
      .locator('[data-testid="message"][data-direction="out"][data-status="failed"]', { hasText: 'RENEW' }).waitFor();
    assert.equal(twilio.received.length, before);
    assert.deepEqual(await accessibilityProblems(desk), []);
  });
  assert.deepEqual(context.problems, []);
});

test('a staff member gets no failed-sends panel', async () => {
  const context = await stack.newContext({ bypassCSP: true });
  const desk = await stack.signIn(context, 'sam', 'sam-password-1');
  await stack.step('the lists load without the panel, and the API refuses', async () => {
    await desk.locator('[data-testid="queue"][data-team="reference"]').waitFor();
    assert.equal(await desk.getByTestId('dead-letters').count(), 0);
    assert.equal(await desk.getByText('Failed sends').count(), 0);
    const answer = await context.request.get(`${stack.url}/api/v1/outbound/dead`);
    assert.equal(answer.status(), 403);
    assert.equal((await answer.json()).error.code, 'forbidden');
    assert.deepEqual(await accessibilityProblems(desk), []);
  });
  assert.deepEqual(context.problems, []);
});
