// The supervisor's live view (/supervisor): every team's queue with its longest wait against
// the team's wait alert (teams[].wait_alert_minutes), who of its staff is on and at what
// load, and what each holds; kept live from /ws/staff (conversation events move items,
// staff.updated and presence.updated read GET /api/v1/desk again). Any conversation opens
// beside it read-only, to leave an internal note or reassign it. Supervisors and admins.
import { allConversations, api, ApiError } from './api.js';
import { ConversationView } from './conversation.js';
import { channelName, channelsLoaded, setChannels } from './channels.js';
import { el, patronName, queueOrder, waited, waitingSince } from './dom.js';
import { KeyedList } from './keyed.js';
import { LiveConnection } from './live.js';

const $ = (id) => document.getElementById(id);
const connectionText = { live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };
const presenceText = { available: 'Available', away: 'Away', offline: 'Offline' };

let user = null;
let topics = [];
let allTeams = [];
const conversations = new Map();  // queued and assigned, by id
const sections = new Map();  // team id → {info, stats, queue, staff, staffEmpty, queueEmpty}
let view = null;
let live = null;

function showProblem(text) {
  $('desk-problem').textContent = text;
  $('desk-problem').hidden = !text;
}

const overAlert = (c, info, now) => now - Date.parse(waitingSince(c)) > info.wait_alert_seconds * 1000;
const alertText = (info) => `over ${waited(new Date(0).toISOString(), info.wait_alert_seconds * 1000)}`;

// ---- a team's section -------------------------------------------------------------------------

function waitingItem(c) {
  const button = el('button', { type: 'button' }, [
    el('span', { class: 'name' }), el('span', { class: 'wait' }), el('span', { class: 'last' }),
    el('span', { class: 'channel' }),
    el('span', { class: 'over-alert', 'data-testid': 'over-alert' }),
  ]);
  button.addEventListener('click', () => open(c.id));
  return el('li', { 'data-testid': 'desk-waiting', 'data-conversation': c.id }, [button]);
}

// Fills a waiting item: its texts, and whether it waits past the team's alert.
function fillWaiting(node, c, info, now = Date.now()) {
  const [name, wait, last, channel, over] = node.firstChild.children;
  name.textContent = patronName(c);
  last.textContent = c.last_message ? c.last_message.text : '';
  channel.textContent = [c.topic, channelName(c)].filter(Boolean).join(' · ');
  wait.textContent = `waiting ${waited(waitingSince(c), now)}`;
  const late = overAlert(c, info, now);
  over.textContent = late ? alertText(info) : '';
  over.hidden = !late;
  node.classList.toggle('late', late);
  node.firstChild.setAttribute('aria-current', String(view?.id === c.id));
}

function memberItem(m) {
  return el('li', { class: 'member', 'data-testid': 'desk-member', 'data-user': m.name }, [
    el('p', { class: 'member-head' }, [
      el('span', { class: 'name' }), el('span', { class: 'status', 'data-testid': 'member-status' }),
      el('span', { class: 'load', 'data-testid': 'member-load' }),
    ]),
    el('ul', { class: 'items held', 'aria-label': `Held by ${m.display_name || m.name}` }),
  ]);
}

const onDesk = (m) => m.dashboards > 0;

function fillMember(node, m) {
  const [head, held] = node.children;
  const [name, status, load] = head.children;
  name.textContent = m.display_name || m.name;
  status.textContent = onDesk(m) ? presenceText[m.presence] || m.presence : 'Not signed in';
  status.dataset.presence = onDesk(m) ? m.presence : 'signed-out';
  const holds = [...conversations.values()]
    .filter((c) => c.status === 'assigned' && c.assignee === m.name)
    .sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  load.textContent = m.capacity ? `${holds.length} of ${m.capacity} open` : `${holds.length} open`;
  load.dataset.full = String(m.capacity > 0 && holds.length >= m.capacity);
  const shown = [...held.children].map((li) => `${li.dataset.conversation}:${li.dataset.updated}`);
  if (shown.join() === holds.map((c) => `${c.id}:${c.updated_at}`).join()) return;
  // What one person holds is a handful: made again when it changed, keeping the focus.
  const focused = document.activeElement?.closest('li[data-conversation]');
  const focusedId = held.contains(focused) ? focused.dataset.conversation : null;
  held.replaceChildren(...holds.map((c) => {
    const button = el('button', { type: 'button', 'aria-current': String(view?.id === c.id) }, [
      el('span', { class: 'name', text: patronName(c) }),
      el('span', { class: 'channel', text: [c.team, channelName(c)].join(' · ') }),
      el('span', { class: 'last', text: c.last_message ? c.last_message.text : '' }),
    ]);
    button.addEventListener('click', () => open(c.id));
    return el('li', { 'data-testid': 'desk-held', 'data-conversation': c.id, 'data-updated': c.updated_at }, [button]);
  }));
  if (focusedId) held.querySelector(`li[data-conversation="${CSS.escape(focusedId)}"] button`)?.focus();
}

function buildSection(info) {
  const titleId = `desk-team-${info.id}`;
  const title = el('h2', { id: titleId, tabindex: '-1', text: info.name || info.id });
  const stats = el('p', { class: 'desk-stats', 'data-testid': 'desk-stats' });
  const queueList = el('ul', { class: 'items', 'data-testid': 'desk-queue', 'aria-label': `Waiting for ${info.name || info.id}` });
  const queueEmpty = el('p', { class: 'empty', text: 'Nobody is waiting.' });
  const staffList = el('ul', { class: 'desk-staff', 'data-testid': 'desk-staff', 'aria-label': `Staff of ${info.name || info.id}` });
  const staffEmpty = el('p', { class: 'empty', text: 'No staff in this team.' });
  const section = {
    info, stats, queueEmpty, staffEmpty,
    node: el('section', { class: 'desk-team', 'data-testid': 'desk-team', 'data-team': info.id, 'aria-labelledby': titleId },
      [title, stats, el('h3', { text: 'Waiting' }), queueList, queueEmpty, el('h3', { text: 'Staff' }), staffList, staffEmpty]),
  };
  section.queue = new KeyedList(queueList, {
    key: (c) => c.id, compare: queueOrder, create: waitingItem,
    update: (node, c) => fillWaiting(node, c, section.info), onFocusLost: () => title.focus(),
  });
  section.staff = new KeyedList(staffList, {
    key: (m) => m.name,
    compare: (a, b) => Number(onDesk(b)) - Number(onDesk(a)) || a.name.localeCompare(b.name),
    create: memberItem, update: fillMember, onFocusLost: () => title.focus(),
  });
  return section;
}

// The team's numbers, from what its section shows: waiting, longest wait, past the alert.
function fillStats(section, now = Date.now()) {
  const { info, queue } = section;
  const waiting = queue.items();
  const longest = waiting.reduce((most, c) => Math.max(most, now - Date.parse(waitingSince(c))), -1);
  const late = waiting.filter((c) => overAlert(c, info, now)).length;
  const parts = [
    info.open ? 'Open' : 'Closed',
    `${waiting.length} waiting`,
    longest >= 0 ? `longest ${waited(new Date(now - longest).toISOString(), now)}` : null,
    late ? `${late} ${alertText(info)}` : null,
    `${info.online} on the desk`,
  ];
  const text = parts.filter(Boolean).join(' · ');
  if (section.stats.textContent !== text) section.stats.textContent = text;
  section.stats.dataset.late = String(late);
  section.queueEmpty.hidden = waiting.length > 0;
  section.staffEmpty.hidden = section.staff.size > 0;
}

// ---- the data ---------------------------------------------------------------------------------

// Reads GET /api/v1/desk (teams, staff, presence); calls while a read is under way make it
// read once more after it.
let deskReading = null;
let deskAgain = false;
function refreshDesk() {
  if (deskReading) {
    deskAgain = true;
    return deskReading;
  }
  deskAgain = false;
  deskReading = api.desk().then(showDesk, (e) => {
    if (e.status !== 0) showProblem(e.message);
  }).finally(() => {
    deskReading = null;
    if (deskAgain) refreshDesk();
  });
  return deskReading;
}

function showDesk(desk) {
  const ids = desk.teams.map((t) => t.id);
  if (ids.join() !== [...sections.keys()].join()) {
    sections.clear();
    for (const info of desk.teams) sections.set(info.id, buildSection(info));
    $('desk-teams').replaceChildren(...[...sections.values()].map((s) => s.node));
    for (const c of conversations.values()) placeInQueue(c, null);
  }
  for (const info of desk.teams) {
    const section = sections.get(info.id);
    section.info = info;
    section.staff.replace(info.staff);
    fillStats(section);
  }
}

function placeInQueue(c, before) {
  if (before && before.status === 'queued' && (c.status !== 'queued' || before.team !== c.team)) {
    sections.get(before.team)?.queue.delete(c.id);
  }
  if (c.status === 'queued') sections.get(c.team)?.queue.set(c);
}

// Members shown under any team, by name (a person in two teams shows in both).
function refillMember(name) {
  if (!name) return;
  for (const section of sections.values()) {
    const m = section.staff.get(name);
    if (m) section.staff.set(m);
  }
}

// Keeps the newer version of a conversation and moves it where it belongs now.
function upsert(c) {
  const before = conversations.get(c.id) || null;
  if (before && c.updated_at < before.updated_at) return;
  if (c.status === 'queued' || c.status === 'assigned') conversations.set(c.id, c);
  else conversations.delete(c.id);
  placeInQueue(c, before);
  for (const team of new Set([before?.team, c.team])) {
    const section = sections.get(team);
    if (section) fillStats(section);
  }
  for (const name of new Set([before?.assignee, c.assignee])) refillMember(name);
}

async function reload() {
  try {
    const [teamList, topicList, queued, assigned, channelList] = await Promise.all([
      api.allTeams(), api.topics(),
      allConversations({ status: 'queued' }), allConversations({ status: 'assigned' }),
      channelsLoaded() ? null : api.channels().catch(() => null),
    ]);
    if (channelList) setChannels(channelList.channels);
    allTeams = teamList.items;
    topics = topicList.items;
    const before = new Map(conversations);
    conversations.clear();
    for (const c of [...queued, ...assigned]) conversations.set(c.id, c);
    for (const section of sections.values()) {
      section.queue.replace(queued.filter((c) => c.team === section.info.id));
    }
    for (const c of before.values()) if (!conversations.has(c.id)) upsert({ ...c, status: 'gone' });
    await refreshDesk();
    if (view.id) view.open(view.id);
  } catch (e) {
    if (e.status === 401) location.assign('/');
    else setTimeout(reload, 2000);
  }
}

function apply(frame) {
  const data = frame.data || {};
  switch (frame.event) {
    case 'conversation.created':
    case 'conversation.updated':
    case 'message.created':
    case 'message.updated':
      if (data.conversation) {
        upsert(data.conversation);
        view.onConversation(data.conversation);
      }
      if (data.message) view.onMessage(data.message);
      break;
    case 'typing':
      view.onTyping(frame.conversation, data.who, data.name);
      break;
    case 'staff.updated':
    case 'presence.updated':
      refreshDesk();
      break;
    default:
      break;
  }
}

// ---- the view beside ---------------------------------------------------------------------------

let marked = null;
function markCurrent() {
  for (const node of document.querySelectorAll('#desk-teams li[data-conversation] > button')) {
    const id = node.parentElement.dataset.conversation;
    if (id === marked || id === view.id) node.setAttribute('aria-current', String(id === view.id));
  }
  marked = view.id;
}

function open(id) {
  view.open(id).then(markCurrent);
}

// Waits move with the clock: the items' and the teams' numbers, every five seconds; the desk
// itself (a team opening, a daemon that died with dashboards on it) every thirty.
let ticks = 0;
function tick() {
  const now = Date.now();
  for (const section of sections.values()) {
    for (const c of section.queue.items()) fillWaiting(section.queue.node(c.id), c, section.info, now);
    fillStats(section, now);
  }
  ticks += 1;
  if (ticks % 6 === 0) refreshDesk();
}

async function start() {
  try {
    user = (await api.me()).user;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) location.assign('/');
    else showProblem(e.message);
    return;
  }
  $('who').textContent = `${user.display_name || user.name} (${user.role})`;
  if (user.role === 'staff') {
    showProblem('The live desk is for supervisors and admins.');
    return;
  }
  const connection = $('connection');
  live = new LiveConnection({
    onState(state) {
      connection.textContent = connectionText[state];
      connection.dataset.state = state;
    },
    onHello(hello, resumed) { if (!resumed) reload(); },
    onReset: reload,
    onEvent: (frame) => apply(frame),
    onSignedOut: () => location.assign('/'),
  });
  view = new ConversationView($('detail'), {
    user, live, watch: true,
    topics: () => topics,
    teams: () => allTeams,
    people: () => {
      const seen = new Map();
      for (const s of sections.values()) for (const m of s.staff.items()) seen.set(m.name, m);
      return [...seen.values()];
    },
    onChanged: upsert,
    onOpen: open,
  });
  $('open-by-id').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('open-id').value.trim();
    if (!/^[0-9]+$/.test(id)) {
      showProblem('A conversation number is digits only.');
      return;
    }
    showProblem('');
    open(id);
  });
  setInterval(tick, 5000);
  live.connect();
}

start();
