// The widget while the library is closed: it shows the hours and the next opening and offers
// the offline form; the question reaches the team's queue marked after hours, with the
// automatic acknowledgement in both transcripts. The daemon's clock starts at Monday 23:00
// in Toronto (serve --clock-start).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack, waitFor } from './harness.mjs';

let stack;

before(async () => {
  const weekday = [['09:00', '17:00']];
  stack = await startStack({
    config: {
      teams: [{
        id: 'reference', name: 'Reference desk', timezone: 'America/Toronto',
        hours: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday, sat: [['10:00', '16:00']] },
        exceptions: [{ date: '2026-12-25', hours: [] }],
      }],
    },
    serveArgs: ['--clock-start', '2026-11-24T04:00:00Z'],
  });
  stack.addUser('tess', 'tess-password-1', { role: 'supervisor', teams: [], displayName: 'Tess' });
});
after(async () => { await stack?.stop(); });

// The sum of every sample of a /metrics family (all its labels).
async function metricSum(family) {
  const body = await (await fetch(`${stack.url}/metrics`)).text();
  let sum = 0;
  for (const [, value] of body.matchAll(new RegExp(`^${family}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    sum += Number(value);
  }
  return sum;
}

test('a patron at 23:00 sees the hours, leaves a question, and gets one acknowledgement', async () => {
  const patron = await (await stack.newContext({ bypassCSP: true })).newPage();
  await stack.step('the closed widget shows the next opening and the hours', async () => {
    await patron.goto(`${stack.url}/demo/`);
    await patron.getByTestId('askdesk-launcher').click();
    await patron.getByTestId('askdesk-status')
      .filter({ hasText: 'We are closed now. We open Tuesday, November 24 at 9:00 AM.' }).waitFor();
    await patron.getByTestId('askdesk-hours').getByText('Opening hours').click();
    await patron.getByTestId('askdesk-hours').getByText('Saturday').waitFor();
    assert.match(await patron.getByTestId('askdesk-hours').innerText(), /Monday\s+09:00–17:00/);
    assert.match(await patron.getByTestId('askdesk-hours').innerText(), /Sunday\s+Closed/);
    assert.equal(await patron.getByTestId('askdesk-input').isVisible(), false);
    assert.deepEqual(await accessibilityProblems(patron), []);
  });
  await stack.step('the offline form refuses a question without an address', async () => {
    await patron.getByTestId('askdesk-offline-text').fill('Can you find the 1901 census for Kingston?');
    await patron.getByTestId('askdesk-offline-send').click();
    await patron.getByTestId('askdesk-error').filter({ hasText: 'email address' }).waitFor();
  });
  await stack.step('with an email it is sent and acknowledged once', async () => {
    await patron.getByTestId('askdesk-offline-name').fill('Ada');
    await patron.getByTestId('askdesk-offline-address').fill('ada@example.org');
    await patron.getByTestId('askdesk-offline-send').click();
    await patron.getByTestId('askdesk-offline-sent').filter({ hasText: 'Thank you' }).waitFor();
    const ack = patron.locator('[data-testid="askdesk-message"][data-direction="auto"]');
    await ack.filter({ hasText: 'Reference desk is closed right now' }).waitFor();
    assert.match(await ack.innerText(), /Tuesday, November 24 at 9:00 AM/);
    // A second message the same night: the chat goes on, no second acknowledgement.
    await patron.getByTestId('askdesk-input').fill('Or the 1911 one.');
    await patron.getByTestId('askdesk-input').press('Enter');
    await patron.locator('[data-testid="askdesk-message"][data-direction="in"][data-id]',
      { hasText: '1911' }).waitFor();
    // The hub decided about acknowledging both messages (sent, or skipped and why), so a
    // second acknowledgement would already be stored and on its way to the widget.
    const acks = async () => (await metricSum('askdesk_auto_acks_sent_total'))
      + (await metricSum('askdesk_auto_acks_skipped_total'));
    await waitFor('the acknowledgement decisions', async () => (await acks()) >= 2);
    assert.equal(await metricSum('askdesk_auto_acks_sent_total'), 1);
    assert.equal(await ack.count(), 1);
  });

  const staff = await stack.newContext({ bypassCSP: true });
  const desk = await stack.signIn(staff, 'tess', 'tess-password-1');
  await stack.step('staff see it at the top of the queue, marked after hours', async () => {
    const item = desk.getByTestId('queue-item').filter({ hasText: 'Ada' });
    await item.getByTestId('after-hours').waitFor();
    await item.click();
    await desk.locator('[data-testid="message"][data-direction="auto"]',
      { hasText: 'Reference desk is closed right now' }).waitFor();
    await desk.getByTestId('patron-panel').getByText('ada@example.org').first().waitFor();
    assert.deepEqual(await accessibilityProblems(desk), []);
  });
  assert.deepEqual(staff.problems, []);
});
