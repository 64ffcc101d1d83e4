// SMS end to end: a signed Twilio webhook starts a conversation, a librarian answers it in the
// dashboard (seeing how many segments the reply takes), and the reply reaches the local
// Twilio stand-in with the right To, From and Body.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack } from './harness.mjs';
import {
  libraryNumber, postText, smsConnector, startFakeTwilio, twilioAccount, twilioToken,
} from './fake_twilio.mjs';

const account = twilioAccount;
const token = twilioToken;
const library = libraryNumber;
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
  stack.addUser('ann', 'ann-password-1', { displayName: 'Ann' });
});
after(async () => {
  await stack?.stop();
  await twilio?.stop();
});

test('a text arrives, a librarian answers, and the answer goes to Twilio', async () => {
  await stack.step('a signed webhook is answered with empty TwiML', async () => {
    const answer = await postText(stack.url, {
      MessageSid: 'SM4d5e6f00000000000000000000000001', AccountSid: account, From: '+15550100142',
      To: library, Body: 'Do you have the new Louise Penny?', NumMedia: '0',
    });
    assert.equal(answer.status, 200);
    assert.match(await answer.text(), /<Response\/>/);
  });

  const staff = await stack.newContext({ bypassCSP: true });
  const desk = await stack.signIn(staff, 'ann', 'ann-password-1');
  await stack.step('the librarian sees it and how long the reply will be', async () => {
    await desk.getByTestId('queue-item').filter({ hasText: 'Louise Penny' }).click();
    await desk.getByTestId('reply-input').fill('Yes, it is on the new books shelf.');
    await desk.getByTestId('reply-length').filter({ hasText: '1 SMS segment (GSM-7, 34 of 160)' }).waitFor();
    await desk.getByTestId('reply-input').fill('Yes — it’s on the new books shelf.');
    await desk.getByTestId('reply-length').filter({ hasText: 'UCS-2' }).waitFor();
    assert.deepEqual(await accessibilityProblems(desk), []);
  });
  await stack.step('the reply reaches Twilio and shows as sent', async () => {
    await desk.getByTestId('reply-input').fill('Yes, it is on the new books shelf.');
    await desk.getByTestId('reply-input').press('Enter');
    await desk.locator('[data-testid="message"][data-direction="out"][data-status="sent"]').waitFor({ timeout: 10000 });
    assert.equal(twilio.received.length, 1);
    const sent = twilio.received[0];
    assert.equal(sent.form.To, '+15550100142');
    assert.equal(sent.form.From, library);
    assert.equal(sent.form.Body, 'Yes, it is on the new books shelf.');
    assert.equal(sent.authorization, `Basic ${Buffer.from(`${account}:${token}`).toString('base64')}`);
  });
  assert.deepEqual(staff.problems, []);
});
