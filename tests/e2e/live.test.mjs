// What keeps the chat trustworthy when things go wrong: dropped connections on both sides,
// internal notes, tags, typing both ways, the widget's limits and unread replies. Two daemons
// share one Redis so one can be stopped while the other keeps taking messages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';

let stack;
let other;

before(async () => {
  stack = await startStack();
  other = await stack.secondDaemon();
  stack.addUser('bea', 'bea-password-1', { displayName: 'Bea' });
});
after(async () => { await stack?.stop(); });

const signIn = (context) => stack.signIn(context, 'bea', 'bea-password-1');

async function widgetOn(context, url, name) {
  const page = await context.newPage();
  await page.goto(`${url}/demo/`);
  await page.getByTestId('askdesk-launcher').click();
  await page.getByTestId('askdesk-name').fill(name);
  return page;
}

async function say(page, text) {
  await page.getByTestId('askdesk-input').fill(text);
  await page.getByTestId('askdesk-input').press('Enter');
}

const staffMessage = (page, text) => page.locator('[data-testid="message"]', { hasText: text });
const patronMessage = (page, text) => page.locator('[data-testid="askdesk-message"]', { hasText: text });

test('the dashboard resumes after its daemon restarts: nothing missed, nothing twice', async () => {
  const desk = await signIn(await stack.newContext());
  const carl = await widgetOn(await stack.newContext(), other.url, 'Carl');
  await stack.step('a conversation is open on the dashboard', async () => {
    await say(carl, 'Do you have the new Le Guin biography?');
    await desk.getByTestId('queue-item').filter({ hasText: 'Le Guin' }).click();
    await staffMessage(desk, 'Le Guin').waitFor();
  });
  await stack.step('its daemon stops: the dashboard says so', async () => {
    await stack.daemon.stop();
    await desk.getByTestId('connection').filter({ hasText: /Reconnecting|Offline/ }).waitFor({ timeout: 5000 });
  });
  const dora = await widgetOn(await stack.newContext(), other.url, 'Dora');
  await stack.step('meanwhile patrons keep writing through the other daemon', async () => {
    await say(carl, 'Large print would be best.');
    await patronMessage(carl, 'Large print').and(carl.locator('[data-id]')).waitFor();
    await say(dora, 'Is the makerspace open on Sunday?');
    await patronMessage(dora, 'makerspace').and(dora.locator('[data-id]')).waitFor();
  });
  await stack.step('it comes back: the dashboard catches up by itself', async () => {
    await stack.daemon.start();
    await desk.getByTestId('connection').filter({ hasText: 'Live' }).waitFor({ timeout: 20000 });
    await staffMessage(desk, 'Large print').waitFor({ timeout: 5000 });
    await desk.getByTestId('queue-item').filter({ hasText: 'makerspace' }).waitFor({ timeout: 5000 });
    assert.equal(await staffMessage(desk, 'Le Guin').count(), 1);
    assert.equal(await staffMessage(desk, 'Large print').count(), 1);
    assert.equal(await desk.getByTestId('queue-item').filter({ hasText: 'makerspace' }).count(), 1);
  });
});

test('a message written while the widget is disconnected goes out when it reconnects', async () => {
  const desk = await signIn(await stack.newContext());
  const erin = await widgetOn(await stack.newContext(), other.url, 'Erin');
  await stack.step('the widget is connected', async () => {
    await erin.getByTestId('askdesk-status').filter({ hasText: /online/i }).waitFor();
  });
  await stack.step('its daemon stops; the patron writes anyway', async () => {
    await other.stop();
    await erin.getByTestId('askdesk-status').filter({ hasText: /Reconnecting/ }).waitFor({ timeout: 5000 });
    await say(erin, 'Can I book a study room for Tuesday?');
    await patronMessage(erin, 'study room').waitFor();
    assert.equal(await patronMessage(erin, 'study room').getAttribute('data-id'), null, 'not stored yet');
  });
  await stack.step('the daemon is back: the message is stored once and reaches staff', async () => {
    await other.start();
    await erin.locator('[data-testid="askdesk-message"][data-id]', { hasText: 'study room' }).waitFor({ timeout: 20000 });
    await desk.getByTestId('queue-item').filter({ hasText: 'study room' }).click();
    await staffMessage(desk, 'study room').waitFor();
    assert.equal(await staffMessage(desk, 'study room').count(), 1);
    assert.equal(await patronMessage(erin, 'study room').count(), 1);
  });
});

test('notes stay internal, tags stick, typing shows both ways, long messages are refused, unread replies show', async () => {
  const desk = await signIn(await stack.newContext());
  const finn = await widgetOn(await stack.newContext(), stack.url, 'Finn');
  await stack.step('the librarian opens and claims the conversation', async () => {
    await say(finn, 'Where can I print a boarding pass?');
    await desk.getByTestId('queue-item').filter({ hasText: 'boarding pass' }).click();
    await desk.getByTestId('claim').click();
    await desk.locator('[data-testid="conversation-view"][data-status="assigned"]').waitFor();
  });
  await stack.step('typing shows on both sides', async () => {
    // Typing is announced at most every 2 s, so type for a little longer than that.
    await finn.getByTestId('askdesk-input').pressSequentially('It is for my flight tomorrow', { delay: 100 });
    await desk.getByTestId('typing').filter({ hasText: 'Finn is typing' }).waitFor({ timeout: 5000 });
    await desk.getByTestId('reply-input').pressSequentially('One moment, let me check', { delay: 100 });
    await finn.getByTestId('askdesk-typing').filter({ hasText: 'Bea is typing' }).waitFor({ timeout: 5000 });
    await desk.getByTestId('reply-input').fill('');
    await finn.getByTestId('askdesk-input').fill('');
  });
  await stack.step('a note shows distinctly to staff and never reaches the patron', async () => {
    await desk.getByTestId('reply-input').fill('Patron asked about printing last week too.');
    await desk.getByTestId('note-send').click();
    await desk.locator('[data-testid="message"][data-direction="note"]', { hasText: 'last week' }).waitFor();
    await desk.getByTestId('reply-input').fill('The printers are on the first floor.');
    await desk.getByTestId('reply-send').click();
    await patronMessage(finn, 'first floor').waitFor({ timeout: 5000 });
    assert.equal(await patronMessage(finn, 'last week').count(), 0);
  });
  await stack.step('a tag is added and stays after a reload', async () => {
    await desk.getByTestId('tag-input').fill('printing');
    await desk.getByTestId('tag-input').press('Enter');
    await desk.getByTestId('tag').filter({ hasText: 'printing' }).waitFor();
    await desk.reload();
    await desk.getByTestId('mine-item').filter({ hasText: 'Finn' }).click();
    await desk.getByTestId('tag').filter({ hasText: 'printing' }).waitFor();
  });
  await stack.step('a message past the limit gets a clear refusal in the widget', async () => {
    await say(finn, 'x'.repeat(2001));
    await finn.getByTestId('askdesk-error').filter({ hasText: '2000' }).waitFor();
    assert.equal(await patronMessage(finn, 'xxxx').count(), 0);
  });
  await stack.step('a reply to a hidden panel shows on the button', async () => {
    await finn.getByTestId('askdesk-input').press('Escape');
    await finn.getByTestId('askdesk-panel').waitFor({ state: 'hidden' });
    await desk.getByTestId('reply-input').fill('Anything else?');
    await desk.getByTestId('reply-input').press('Enter');
    await finn.getByTestId('askdesk-launcher').filter({ hasText: '1 new' }).waitFor({ timeout: 5000 });
    await finn.getByTestId('askdesk-launcher').click();
    await patronMessage(finn, 'Anything else?').waitFor();
    assert.equal(await finn.getByTestId('askdesk-launcher').textContent(), 'Hide the chat');
  });
});

test('an event updates only the item it is about: the other items, the focus and the reader stay', async () => {
  const desk = await signIn(await stack.newContext());
  const item = (text) => desk.getByTestId('queue-item').filter({ hasText: text });
  const fay = await widgetOn(await stack.newContext(), stack.url, 'Fay');
  const gus = await widgetOn(await stack.newContext(), stack.url, 'Gus');
  await stack.step('two patrons wait; the librarian is on the second', async () => {
    await say(fay, 'Where are the atlases kept?');
    await item('atlases').waitFor();
    await say(gus, 'Can I print in colour?');
    await item('colour').waitFor();
    // Each item's node gets a mark that a node made again would not have, and the queue's
    // changes are recorded from here on.
    await desk.evaluate(() => {
      for (const li of document.querySelectorAll('[data-testid="queue-item"]')) li.keyedMark = li.dataset.conversation;
      window.touched = new Set();
      const itemOf = (n) => (n.nodeType === 1 ? n : n.parentElement)?.closest('[data-testid="queue-item"]');
      new MutationObserver((records) => {
        for (const r of records) {
          const target = r.target.nodeType === 1 ? r.target : r.target.parentElement;
          if (target.closest('.wait')) continue;  // the wait times move with the clock
          const item = itemOf(r.target);
          if (item) window.touched.add(item.dataset.conversation);
          else if (target.closest('h3')) window.touched.add('count');
          else if (r.type !== 'childList') window.touched.add('other');
          else {
            for (const n of [...r.addedNodes, ...r.removedNodes]) {
              window.touched.add(n.matches?.('[data-testid="queue-item"]') ? n.dataset.conversation : 'other');
            }
          }
        }
      }).observe(document.querySelector('[data-ref="queues"]'), { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await item('colour').locator('button').focus();
  });
  const ids = await desk.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-testid="queue-item"]')]
    .map((li) => [li.querySelector('.last').textContent, li.dataset.conversation])));
  const fayId = ids['Where are the atlases kept?'];
  const gusId = ids['Can I print in colour?'];
  await stack.step('the first patron writes again and a third one arrives', async () => {
    await say(fay, 'Especially historical ones.');
    await item('historical').waitFor();
    const hal = await widgetOn(await stack.newContext(), stack.url, 'Hal');
    await say(hal, 'Is there a quiet room?');
    await item('quiet room').waitFor();
  });
  await stack.step('only those two items changed; the focus never moved', async () => {
    const state = await desk.evaluate(([fayId, gusId]) => {
      const node = (id) => document.querySelector(`[data-testid="queue-item"][data-conversation="${id}"]`);
      return {
        fayKept: node(fayId).keyedMark === fayId,
        gusKept: node(gusId).keyedMark === gusId,
        focus: document.activeElement.closest('[data-testid="queue-item"]')?.dataset.conversation,
        touched: [...window.touched],
      };
    }, [fayId, gusId]);
    assert.ok(state.fayKept, 'the updated item is the same node, updated in place');
    assert.ok(state.gusKept, 'an item no event was about is untouched');
    assert.equal(state.focus, gusId);
    assert.ok(!state.touched.includes(gusId), `touched: ${state.touched}`);
    assert.ok(!state.touched.includes('other'), `touched: ${state.touched}`);
    assert.ok(state.touched.includes(fayId));
  });
  await stack.step('an item that leaves hands the focus to its neighbour', async () => {
    const answer = await desk.evaluate(async (id) => {
      const me = await (await fetch('/api/v1/me')).json();
      const r = await fetch(`/api/v1/conversations/${id}/claim`, {
        method: 'POST', headers: { 'X-CSRF-Token': me.csrf_token, 'Content-Type': 'application/json' }, body: '{}',
      });
      return r.status;
    }, gusId);
    assert.equal(answer, 200);
    await item('colour').waitFor({ state: 'detached' });
    await desk.waitForFunction(() => document.activeElement.closest('[data-testid="queue-item"]'));
    assert.notEqual(await desk.evaluate(() => document.activeElement.closest('li').dataset.conversation), gusId);
  });
});
