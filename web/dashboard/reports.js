// The Reports page (/reports): how well the desk answered over a range of dates, by team and
// channel, from GET /api/v1/reports/summary and /heatmap (docs/api.md, "Reports"). Charts are
// drawn by Chart.js (Debian's libjs-chart.js, served at /vendor/chart.js); each chart's
// numbers are also in its aria-label, and the weekday × hour table and the staff table are
// plain tables. The filters live in the page's address, so a report can be bookmarked; the
// CSV link downloads the same rows the summary counts.
import { api, ApiError } from './api.js';
import { el } from './dom.js';

const $ = (id) => document.getElementById(id);
const weekdays = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const palette = ['#1f6f8b', '#e07a1f', '#5b8c2a', '#8a4fa3', '#c0392b', '#6b7280', '#b58900'];
const charts = new Map();  // canvas id → Chart

// YYYY-MM-DD of a local date.
function isoDate(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function seconds(v) {
  if (v === null || v === undefined) return '—';
  if (v < 90) return `${Math.round(v)} s`;
  if (v < 5400) return `${Math.round(v / 60)} min`;
  return `${(v / 3600).toFixed(1)} h`;
}

function showProblem(text) {
  $('report-error').textContent = text;
  $('report-error').hidden = !text;
}

// Draws (or redraws) a chart on canvas `id`; `label` says its numbers for screen readers.
function draw(id, config, label, points) {
  const canvas = $(id);
  canvas.setAttribute('aria-label', label);
  canvas.dataset.points = String(points);
  charts.get(id)?.destroy();
  charts.delete(id);
  if (typeof window.Chart !== 'function') return;  // the charts' library is not installed
  const base = { animation: false, responsive: true, maintainAspectRatio: false };
  charts.set(id, new window.Chart(canvas, { ...config, options: { ...base, ...config.options } }));
}

function renderTotals(s) {
  const rows = [
    ['Conversations', s.conversations],
    ['Answered', s.answered],
    ['Missed', s.missed],
    ['First response, median', seconds(s.first_response_seconds.median)],
    ['First response, 90th percentile', seconds(s.first_response_seconds.p90)],
    ['Wait, median', seconds(s.wait_seconds.median)],
    ['Duration, median', seconds(s.duration_seconds.median)],
    ['Satisfaction', s.csat.count ? `${s.csat.average.toFixed(2)} of 5 (${s.csat.count})` : '—'],
  ];
  $('report-totals').replaceChildren(...rows.map(([k, v]) => el('div', {}, [
    el('dt', { text: k }), el('dd', { 'data-testid': `total-${k.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, text: String(v) }),
  ])));
}

function renderVolume(s) {
  const dates = s.by_day.map((d) => d.date);
  const channels = [...new Set(s.by_day.flatMap((d) => Object.keys(d.channels)))].sort();
  draw('chart-volume', {
    type: 'bar',
    data: {
      labels: dates,
      datasets: channels.map((c, i) => ({
        label: c, backgroundColor: palette[i % palette.length],
        data: s.by_day.map((d) => d.channels[c] || 0),
      })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  }, `Conversations by day: ${s.by_day.map((d) => `${d.date} ${d.conversations}`).join(', ') || 'none'}`,
  dates.length);
}

function renderTimes(s) {
  const measures = [['First response', s.first_response_seconds], ['Wait', s.wait_seconds]];
  draw('chart-times', {
    type: 'bar',
    data: {
      labels: measures.map(([name]) => name),
      datasets: [
        { label: 'Median', backgroundColor: palette[0], data: measures.map(([, m]) => m.median) },
        { label: '90th percentile', backgroundColor: palette[1], data: measures.map(([, m]) => m.p90) },
      ],
    },
    options: { scales: { y: { beginAtZero: true } } },
  }, measures.map(([name, m]) => `${name}: median ${seconds(m.median)}, 90th percentile ${seconds(m.p90)}`).join('; '),
  measures.length);
}

function renderHeatmap(h) {
  const max = Math.max(1, ...h.volume.flat());
  const head = el('tr', {}, [el('th', { scope: 'col', text: 'Day' }),
    ...Array.from({ length: 24 }, (_, hour) => el('th', { scope: 'col', text: String(hour) }))]);
  const rows = h.volume.map((hours, day) => el('tr', {}, [
    el('th', { scope: 'row', text: weekdays[day] }),
    ...hours.map((n, hour) => {
      const cell = el('td', {
        text: n ? String(n) : '',
        title: `${weekdays[day]} ${hour}:00: ${n} conversations, ${h.missed[day][hour]} missed`,
      });
      cell.dataset.level = String(Math.ceil((n / max) * 4));
      return cell;
    }),
  ]));
  $('report-heatmap').replaceChildren(
    el('caption', { class: 'visually-hidden', text: 'Conversations by weekday and hour of arrival' }),
    el('thead', {}, [head]), el('tbody', {}, rows));
}

function renderStaff(s) {
  draw('chart-staff', {
    type: 'bar',
    data: {
      labels: s.by_staff.map((p) => p.staff),
      datasets: [
        { label: 'Conversations', backgroundColor: palette[0], data: s.by_staff.map((p) => p.conversations) },
        { label: 'Answered', backgroundColor: palette[2], data: s.by_staff.map((p) => p.answered) },
      ],
    },
    options: { indexAxis: 'y', scales: { x: { beginAtZero: true } } },
  }, `Per staff member: ${s.by_staff.map((p) => `${p.staff} ${p.conversations}`).join(', ') || 'none'}`,
  s.by_staff.length);
  $('report-staff').replaceChildren(
    el('thead', {}, [el('tr', {}, ['Staff', 'Conversations', 'Answered', 'First response, median']
      .map((t) => el('th', { scope: 'col', text: t })))]),
    el('tbody', {}, s.by_staff.map((p) => el('tr', {}, [
      el('th', { scope: 'row', text: p.staff }), el('td', { text: String(p.conversations) }),
      el('td', { text: String(p.answered) }), el('td', { text: seconds(p.first_response_seconds.median) }),
    ]))));
}

function renderScales(s) {
  const csat = ['1', '2', '3', '4', '5'];
  draw('chart-csat', {
    type: 'bar',
    data: { labels: csat, datasets: [{ label: 'CSAT score', backgroundColor: palette[3], data: csat.map((k) => s.csat.distribution[k]) }] },
    options: { scales: { y: { beginAtZero: true } } },
  }, `Satisfaction scores: ${csat.map((k) => `${k}: ${s.csat.distribution[k]}`).join(', ')}`, csat.length);
  const read = ['1', '2', '3', '4', '5', '6'];
  draw('chart-read', {
    type: 'bar',
    data: { labels: read, datasets: [{ label: 'READ level', backgroundColor: palette[4], data: read.map((k) => s.read[k]) }] },
    options: { scales: { y: { beginAtZero: true } } },
  }, `READ levels: ${read.map((k) => `${k}: ${s.read[k]}`).join(', ')}`, read.length);
}

function query() {
  const q = { from: $('report-from').value, to: $('report-to').value };
  if ($('report-team').value) q.team = $('report-team').value;
  if ($('report-channel').value) q.channel = $('report-channel').value;
  return q;
}

async function show() {
  const q = query();
  history.replaceState(null, '', `?${new URLSearchParams(q)}`);
  $('report-csv').href = `/api/v1/reports/conversations?${new URLSearchParams({ ...q, format: 'csv' })}`;
  $('report-status').textContent = 'Loading the report…';
  try {
    const [summary, heatmap] = await Promise.all([api.report('summary', q), api.report('heatmap', q)]);
    showProblem('');
    renderTotals(summary);
    renderVolume(summary);
    renderTimes(summary);
    renderHeatmap(heatmap);
    renderStaff(summary);
    renderScales(summary);
    document.body.dataset.loaded = `${q.from}/${q.to}/${q.team || ''}/${q.channel || ''}`;
    $('report-status').textContent = `Report for ${q.from} to ${q.to}: ${summary.conversations} conversations.`;
  } catch (e) {
    showProblem(e.message);
    $('report-status').textContent = '';
  }
}

async function start() {
  let me;
  try {
    me = await api.me();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) location.assign('/');
    else showProblem(e.message);
    return;
  }
  const [teams, channels] = await Promise.all([
    me.role === 'staff' ? api.teams() : api.allTeams(), api.channels()]);
  for (const t of teams.items) $('report-team').append(el('option', { value: t.id, text: t.name || t.id }));
  for (const c of [...new Set(channels.channels.map((c) => c.channel))]) {
    const name = channels.channels.find((x) => x.channel === c).name || c;
    $('report-channel').append(el('option', { value: c, text: name }));
  }
  const given = new URLSearchParams(location.search);
  const today = new Date();
  $('report-to').value = given.get('to') || isoDate(today);
  $('report-from').value = given.get('from') || isoDate(new Date(today.getTime() - 29 * 86400000));
  $('report-team').value = given.get('team') || '';
  $('report-channel').value = given.get('channel') || '';
  if (typeof window.Chart !== 'function') {
    showProblem('Charts need Chart.js (Debian: libjs-chart.js); the tables below still show the numbers.');
  }
  document.querySelector('[data-testid="report-filters"]').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!$('report-from').value || !$('report-to').value || $('report-from').value > $('report-to').value) {
      showProblem('Choose a start date on or before the end date.');
      return;
    }
    show();
  });
  await show();
}

start();
