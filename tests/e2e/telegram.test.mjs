// Telegram in the browser, against an emulator of the Bot API nobody here wrote (npm
// telegram-test-api, ../shared/PEERS.md lists how it differs from Telegram): a patron's
// message, sent by the emulator's own client, reaches the queue by long polling, saying which
// channel it came by ("Telegram", as GET /api/v1/channels names it); a librarian answers it in
// the dashboard, the emulator holds the bot's message to that chat with that text, and the
// dashboard shows the reply as sent. The happy path only: delivery guarantees (offset, 429,
// retries) are checked against the connector's own fake, since this emulator ignores them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import TelegramServer from 'telegram-test-api';
import { accessibilityProblems, freePort, startStack, waitFor } from './harness.mjs';

const token = '123456789:AAHe2eTokenForTheEmulator_0123456789';
// In a private chat Telegram's chat id is the patron's user id; the emulator's client keeps
// them apart (chatId defaults to 1), so both are given.
const patronId = 424242;
const question = 'Do you have study rooms I can book?';
const answer = 'Yes, book one at the front desk.';
let telegram;
let stack;
let patron;

before(async () => {
  telegram = new TelegramServer({
    host: '127.0.0.1', port: await freePort(), storage: 'RAM',
    // Seconds. Unread messages are purged after 60 by default; a slow run must not lose one.
    storeTimeout: 3600,
  });
  await telegram.start();
  stack = await startStack({
    config: {
      teams: [{ id: 'reference', name: 'Reference desk' }],
      connectors: [{
        id: 'telegram', type: 'telegram', token, api_base: telegram.config.apiURL, mode: 'poll',
      }],
    },
  });
  stack.addUser('ann', 'ann-password-1', { displayName: 'Ann' });
  patron = telegram.getClient(token, {
    userId: patronId, chatId: patronId, firstName: 'Grace', userName: 'grace_reads',
  });
});
after(async () => {
  await stack?.stop();
  await telegram?.stop();
});

// What askdesk logged, for a failure's message (the last part).
function logs() {
  return `\n--- askdesk:\n${(stack?.log() ?? '').slice(-8000)}`;
}

// The bot's messages the emulator holds for the patron's chat.
function botMessagesToPatron() {
  return telegram.storage.botMessages.filter((m) => m.botToken === token
    && String(m.message.chat_id) === String(patronId));
}

test('a Telegram message shows its channel, and the reply reaches the chat and shows sent', async () => {
  try {
    await stack.step('the patron writes to the bot', async () => {
      // A real client also sends the last name and the app's language.
      const message = patron.makeMessage(question, { from: { last_name: 'Hopper', language_code: 'en' } });
      assert.deepEqual(await patron.sendMessage(message), { ok: true, result: null });
      // What the bot is given for it: the fields the connector needs are there.
      const [update] = telegram.storage.userMessages.map((u) => TelegramServer.formatUpdate(u));
      assert.equal(update.message.chat.type, 'private');
      assert.equal(update.message.chat.id, patronId);
      assert.equal(update.message.from.is_bot, false);
      assert.equal(update.message.text, question);
    });

    const staff = await stack.newContext({ bypassCSP: true });
    const desk = await stack.signIn(staff, 'ann', 'ann-password-1');
    await stack.step('the conversation is in the queue, named by its channel', async () => {
      const { channels } = await desk.evaluate(async () => (await fetch('/api/v1/channels')).json());
      const listed = channels.find((c) => c.id === 'telegram');
      assert.equal(listed?.name, 'Telegram', JSON.stringify(channels));
      assert.equal(listed.channel, 'telegram');
      const item = desk.getByTestId('queue-item').filter({ hasText: 'study rooms' });
      await item.locator('.channel').filter({ hasText: 'Telegram' }).waitFor({ timeout: 15000 });
      assert.equal(await item.locator('.channel').innerText(), 'Telegram');
      await item.click();
      const asked = desk.locator('[data-testid="message"][data-direction="in"]', { hasText: question });
      await asked.waitFor();
      assert.equal(await asked.locator('.channel').innerText(), 'Telegram');
      assert.equal(await asked.locator('.who').innerText(), 'Grace Hopper');
      // The emulator handed the update over once; nothing else came of it.
      assert.equal(await desk.locator('[data-testid="message"][data-direction="in"]').count(), 1);
    });

    await stack.step('the librarian replies and the emulator holds it for the chat', async () => {
      await desk.getByTestId('reply-input').fill(answer);
      await desk.getByTestId('reply-input').press('Enter');
      await waitFor('the bot\'s reply in the emulator', () => botMessagesToPatron().length > 0);
      const [held] = botMessagesToPatron();
      assert.equal(held.message.text, answer);
      assert.equal(Number(held.message.chat_id), patronId);
      // The patron's client is given it too.
      const { result } = await patron.getUpdates();
      assert.deepEqual(result.map((u) => [Number(u.message.chat_id), u.message.text]), [[patronId, answer]]);
    });

    await stack.step('the reply shows sent', async () => {
      const reply = desk.locator('[data-testid="message"][data-direction="out"]', { hasText: answer });
      await reply.locator('.state').filter({ hasText: /^sent$/ }).waitFor({ timeout: 15000 });
      assert.equal(await reply.getAttribute('data-status'), 'sent');
      assert.equal(await reply.locator('.channel').innerText(), 'Telegram');
      assert.equal(await reply.locator('.who').innerText(), 'Ann');
      // Sent once: the connector did not try again after the emulator's answer.
      assert.equal(botMessagesToPatron().length, 1);
      assert.deepEqual(await accessibilityProblems(desk), []);
    });
    assert.deepEqual(staff.problems, []);
  } catch (error) {
    error.message += logs();
    throw error;
  }
});

