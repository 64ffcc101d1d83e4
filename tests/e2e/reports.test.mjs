// The Reports page in the browser: a supervisor opens /reports from the dashboard, sees the
// totals and the charts Chart.js drew (Debian's libjs-chart.js, served by askdesk), changes
// the team filter and every part follows, downloads the same rows as CSV; the page passes
// axe; a staff member sees only the conversations they took or answered.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibilityProblems, startStack, waitFor } from './harness.mjs';

const token = 'text-token-0123456789';
let stack;

before(async () => {
  stack = await startStack({
    config: {
      teams: [{ id: 'reference', name: 'Reference desk' }, { id: 'ill', name: 'Interlibrary loan' }],
      connectors: [{ id: 'texts', type: 'replay', token, channel: 'sms' }],
    },
  });
  stack.addUser('sue', 'sue-password-1', { role: 'supervisor', displayName: 'Sue' });
  stack.addUser('ann', 'ann-password-1', { teams: ['reference', 'ill'], displayName: 'Ann' });
});
after(async () => {
  await stack?.stop();
});

// A signed-in API client for `name` (the session cookie, the CSRF token, our origin).
async function apiAs(context, name, password) {
  const login = await context.request.post(`${stack.url}/api/v1/login`, { data: { username: name, password } });
  assert.equal(login.status(), 200);
  const { csrf_token: csrf } = await login.json();
  const headers = { 'X-CSRF-Token': csrf, Origin: stack.url };
  return {
    post: async (path, data = {}) => {
      const r = await context.request.post(`${stack.url}/api/v1${path}`, { data, headers });
      assert.ok(r.ok(), `${path}: ${r.status()} ${await r.text()}`);
      return r.json();
    },
    get: async (path) => (await context.request.get(`${stack.url}/api/v1${path}`)).json(),
  };
}

let sent = 0;
async function texts(from, text) {
  const r = await fetch(`${stack.url}/webhooks/replay/texts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: `t${++sent}`, from, name: 'Ada Lovelace', text }),
  });
  assert.equal(r.status, 200);
}

test('a supervisor reads the reports, filters them and downloads the CSV', async () => {
  const staff = await stack.newContext();
  const ann = await apiAs(staff, 'ann', 'ann-password-1');
  const sueContext = await stack.newContext({ bypassCSP: true });
  const sue = await apiAs(sueContext, 'sue', 'sue-password-1');

  await stack.step('three questions: two answered by Ann, one moved to ILL unanswered', async () => {
    await texts('+15550100201', 'Where is my hold?');
    await texts('+15550100202', 'Are you open on Sunday?');
    await texts('+15550100203', 'Can you borrow a thesis for me?');
    let items = [];
    await waitFor('three conversations', async () => {
      items = (await sue.get('/conversations?team=reference')).items;
      return items.length === 3;
    });
    const byText = (t) => items.find((c) => c.last_message.text.includes(t)).id;
    for (const [question, answer] of [['hold', 'On the shelf.'], ['Sunday', 'Noon to five.']]) {
      const id = byText(question);
      await ann.post(`/conversations/${id}/messages`, { text: answer });
      await ann.post(`/conversations/${id}/close`, { read_level: 2 });
    }
    await sue.post(`/conversations/${byText('thesis')}/transfer`, { team: 'ill' });
  });

  const page = await sueContext.newPage();
  await stack.step('the dashboard links to the Reports page, which shows totals and charts', async () => {
    await page.goto(`${stack.url}/`);  // signed in already (the API client's session)
    await page.getByTestId('reports-link').click();
    await page.waitForURL(/\/reports/);
    await page.locator('body[data-loaded]').waitFor();
    assert.equal(await page.getByTestId('total-conversations').textContent(), '3');
    assert.equal(await page.getByTestId('total-answered').textContent(), '2');
    for (const chart of ['chart-volume', 'chart-times', 'chart-staff', 'chart-csat', 'chart-read']) {
      const drawn = await page.evaluate((id) => Boolean(window.Chart?.getChart(document.getElementById(id))), chart);
      assert.ok(drawn, `${chart} is drawn by Chart.js`);
    }
    assert.equal(await page.getByTestId('chart-volume').getAttribute('data-points'), '1');
    assert.match(await page.getByTestId('chart-read').getAttribute('aria-label'), /2: 2/);
    assert.equal(await page.getByTestId('report-staff').locator('tbody tr').count(), 1);
    const total = await page.getByTestId('report-heatmap').locator('td').evaluateAll(
      (cells) => cells.reduce((n, c) => n + Number(c.textContent || 0), 0));
    assert.equal(total, 3, 'the weekday × hour table counts every conversation');
    assert.deepEqual(await accessibilityProblems(page), []);
  });

  await stack.step('the team filter changes every part and the CSV link', async () => {
    await page.getByTestId('report-team').selectOption('ill');
    await page.getByTestId('report-apply').click();
    await page.locator('body[data-loaded$="/ill/"]').waitFor();
    assert.equal(await page.getByTestId('total-conversations').textContent(), '1');
    assert.equal(await page.getByTestId('total-missed').textContent(), '0');  // still open
    assert.equal(await page.getByTestId('report-staff').locator('tbody tr').count(), 0);
    const href = await page.getByTestId('report-csv').getAttribute('href');
    assert.match(href, /format=csv/);
    assert.match(href, /team=ill/);
    const csv = await (await sueContext.request.get(`${stack.url}${href}`)).text();
    const lines = csv.trim().split('\r\n');
    assert.equal(lines.length, 2, csv);
    assert.ok(lines[0].startsWith('id,channel,team,topic,created_at,first_response_seconds'));
    assert.match(lines[1], /,sms,ill,/);
    for (const secret of ['Ada', '5550100', 'thesis']) assert.ok(!csv.includes(secret), `${secret} in the CSV`);
    assert.match(page.url(), /team=ill/, 'the filters are in the address, for a bookmark');
  });

  await stack.step('a wrong range says why', async () => {
    await page.getByTestId('report-from').fill('2026-12-31');
    await page.getByTestId('report-to').fill('2026-01-01');
    await page.getByTestId('report-apply').click();
    await page.getByTestId('report-error').filter({ hasText: 'on or before' }).waitFor();
  });

  await stack.step('staff see the conversations they took or answered', async () => {
    const annPage = await staff.newPage();
    await annPage.goto(`${stack.url}/reports`);
    await annPage.locator('body[data-loaded]').waitFor();
    assert.equal(await annPage.getByTestId('total-conversations').textContent(), '2');
  });

  assert.deepEqual(sueContext.problems, [], 'no errors on the Reports page');
  assert.deepEqual(staff.problems, [], 'no errors on the staff member\'s Reports page');
});
