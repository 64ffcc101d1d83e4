// The staff dashboard: sign-in, the waiting queue of each team, my conversations and the
// conversation view, kept live over /ws/staff. Plain ES modules, no build step.
import { allConversations, api } from './api.js';
import { ConversationView } from './conversation.js';
import { channelName, channelsLoaded, setChannels } from './channels.js';
import { DeadLetterPanel } from './deadletters.js';
import { el, patronName, queueOrder, refs, waited, waitingSince } from './dom.js';
import { KeyedList } from './keyed.js';
import { LiveConnection } from './live.js';
import { RoutingPanel } from './routing.js';
import { SocialPanel } from './social.js';

const connectionText = { live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };
const alertsKey = 'askdesk:dashboard:alerts';

// ---- sign-in --------------------------------------------------------------------------------

const loginPage = document.getElementById('login');
const loginForm = loginPage.querySelector('form');
const loginError = document.getElementById('login-error');

function showLogin(message = '') {
  document.querySelector('.dashboard')?.remove();
  loginPage.hidden = false;
  loginError.textContent = message;
  loginError.hidden = !message;
  document.title = 'Sign in · askdesk';
  loginForm.elements.username.focus();
}

loginForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const username = loginForm.elements.username.value.trim();
  const password = loginForm.elements.password.value;
  if (!username || !password) {
    showLogin('Enter your user name and password.');
    return;
  }
  loginForm.querySelector('button').disabled = true;
  try {
    const answer = await api.login(username, password);
    loginForm.elements.password.value = '';
    loginPage.hidden = true;
    start(answer.user);
  } catch (err) {
    if (err.status === 401) showLogin('Wrong user name or password.');
    else if (err.status === 429) {
      const minutes = Math.max(1, Math.ceil((err.retryAfter || 60) / 60));
      showLogin(`Too many attempts. Try again in ${minutes} min.`);
    } else showLogin(err.message);
  } finally {
    loginForm.querySelector('button').disabled = false;
  }
});

// ---- the signed-in dashboard ----------------------------------------------------------------

function start(user) {
  const shell = el('div', { class: 'dashboard' });
  shell.append(document.getElementById('dashboard').content.cloneNode(true));
  document.body.append(shell);
  const ui = refs(shell);
  const connection = shell.querySelector('[data-testid="connection"]');
  ui.who.textContent = `${user.display_name || user.name} (${user.role})`;
  ui['supervisor-link'].hidden = user.role === 'staff';
  ui['audit-link'].hidden = user.role !== 'admin';

  const teams = new Map();  // id → {id, name, online, waiting}
  let topics = [];  // [{id, team}] from the configuration
  let allTeams = [];  // every team, for transfers
  // The teams whose queues this user sees (the API's rule: supervisors and admins see all).
  const seesTeam = (id) => user.role !== 'staff' || (user.teams || []).includes(id);
  const conversations = new Map();  // id → the conversation as the REST API gives it
  let ready = false;  // lists loaded; until then events wait in `early`
  let early = [];

  const live = new LiveConnection({
    onState(state) {
      connection.textContent = connectionText[state];
      connection.dataset.state = state;
    },
    onHello(hello, resumed) {
      if (!resumed) reload();
    },
    onReset: reload,
    onEvent(frame) {
      if (ready) apply(frame);
      else early.push(frame);
    },
    onSignedOut() {
      showLogin('Your session ended. Please sign in again.');
    },
  });

  let problemTimer = 0;
  function showProblem(text) {
    ui.problem.textContent = text;
    ui.problem.hidden = !text;
    clearTimeout(problemTimer);
    problemTimer = setTimeout(() => { ui.problem.hidden = true; }, 5000);
  }
  const routing = new RoutingPanel(ui, {
    user,
    onAccepted(c) {
      upsert(c);
      open(c.id);
    },
    onOffer: announce,
    onProblem: showProblem,
  });

  // Failed sends are for supervisors and admins (the API's rule); others never get the panel.
  let deadLetters = null;
  if (user.role === 'supervisor' || user.role === 'admin') {
    deadLetters = new DeadLetterPanel(ui, { onOpen: (id) => open(id), onProblem: showProblem });
  } else {
    ui['dead-section'].remove();
  }

  // Posts in triage: anyone may triage their teams' (the API's rule).
  const social = new SocialPanel(ui, {
    onOpen: (id) => open(id, { toReply: true }),
    onChanged: upsert,
    onProblem: showProblem,
  });

  const view = new ConversationView(ui.detail, {
    user,
    live,
    topics: () => topics,
    teams: () => allTeams,
    onChanged: upsert,
    onOpen: open,
  });

  async function reload() {
    ready = false;
    try {
      // The channels once: without them names are raw and the server alone checks lengths.
      const [everyTeam, topicList, queued, held, channelList] = await Promise.all([
        api.allTeams(),
        api.topics(),
        allConversations({ status: 'queued' }),
        allConversations({ status: 'assigned', assignee: 'me' }),
        channelsLoaded() ? null : api.channels().catch(() => null),
      ]);
      if (channelList) setChannels(channelList.channels);
      topics = topicList.items;
      allTeams = everyTeam.items;
      teams.clear();
      for (const t of allTeams) if (seesTeam(t.id)) teams.set(t.id, t);
      conversations.clear();
      for (const c of [...queued, ...held]) conversations.set(c.id, c);
    } catch (err) {
      if (err.status === 401) {
        live.stop();
        showLogin('Your session ended. Please sign in again.');
        return;
      }
      setTimeout(reload, 2000);
      return;
    }
    routing.refresh();
    deadLetters?.refresh();
    social.refresh();
    ready = true;
    showAll();
    const waiting = early;
    early = [];
    for (const frame of waiting) apply(frame);
    if (view.id) view.open(view.id);
  }

  // What I hold counts against my capacity.
  const holds = (c) => Boolean(c) && c.assignee === user.name && c.status !== 'closed';

  // Keeps the newer of two versions of a conversation, whether an event or an action's answer
  // brought it first; when what I hold changed (taken, closed, handed on), my capacity
  // indicator follows.
  function upsert(c) {
    const known = conversations.get(c.id);
    if (known && c.updated_at < known.updated_at) return;
    conversations.set(c.id, c);
    if (holds(known) !== holds(c)) routing.refresh();
    if (ready) place(c);
  }

  function apply(frame) {
    const data = frame.data || {};
    switch (frame.event) {
      case 'conversation.created':
      case 'conversation.updated':
      case 'message.created':
      case 'message.updated':
        if (data.conversation) {
          const isNew = frame.event === 'conversation.created' && !conversations.has(data.conversation.id);
          upsert(data.conversation);
          view.onConversation(data.conversation);
          if (isNew && data.conversation.status === 'queued') announce(data.conversation);
        }
        if (data.message) view.onMessage(data.message);
        routing.onEvent(frame);
        deadLetters?.onEvent(frame);
        social.onEvent(frame);
        break;
      case 'offer.created':
      case 'offer.ended':
        routing.onEvent(frame);
        break;
      case 'typing':
        view.onTyping(frame.conversation, data.who, data.name);
        break;
      case 'presence.updated': {
        const id = frame.team || data.team;
        const team = teams.get(id);
        if (team && typeof data.online === 'number') team.online = data.online;
        if (queues.has(id)) headCount(id);
        break;
      }
      default:
        break;
    }
  }

  // ---- the lists ----------------------------------------------------------------------------
  // Keyed (keyed.js): an event updates, moves or removes the one item it is about.

  const newestFirst = (a, b) => b.updated_at.localeCompare(a.updated_at) || Number(BigInt(a.id) - BigInt(b.id));

  function itemList(container, testid, compare, onFocusLost) {
    return new KeyedList(container, {
      key: (c) => c.id,
      compare,
      onFocusLost,
      create(c) {
        const button = el('button', { type: 'button' }, [
          el('span', { class: 'name' }), el('span', { class: 'wait' }), el('span', { class: 'last' }),
          el('span', { class: 'channel' }),
          el('span', { class: 'after-hours', 'data-testid': 'after-hours', text: 'after hours' }),
        ]);
        button.addEventListener('click', () => open(c.id));
        return el('li', { 'data-testid': testid, 'data-conversation': c.id }, [button]);
      },
      update(node, c) {
        const [name, wait, last, channel, afterHours] = node.firstChild.children;
        name.textContent = patronName(c);
        last.textContent = c.last_message ? c.last_message.text : '';
        channel.textContent = [c.topic, channelName(c)].filter(Boolean).join(' · ');
        afterHours.hidden = !c.after_hours;
        if (c.status === 'queued') {
          wait.dataset.since = waitingSince(c);
          wait.textContent = `waiting ${waited(wait.dataset.since)}`;
        } else {
          delete wait.dataset.since;
          wait.textContent = '';
        }
        node.firstChild.setAttribute('aria-current', String(view.id === c.id));
      },
    });
  }

  const queues = new Map();  // team id → {section, count, list, empty}
  const mine = itemList(ui.mine, 'mine-item', newestFirst, () => ui['mine-title'].focus());
  const shownIn = new Map();  // conversation id → the KeyedList that shows it

  // One section per team this user sees, made again only when the teams themselves changed.
  function buildQueues() {
    const ids = [...teams.keys()];
    if (ids.join() === [...queues.keys()].join()) return;
    queues.clear();
    shownIn.clear();
    mine.replace([]);
    const sections = ids.map((id) => {
      const titleId = `queue-${id}`;
      const title = el('h3', { id: titleId, tabindex: '-1' });
      const count = el('span', { class: 'count' });
      title.append(el('span', { text: teams.get(id).name || id }), count);
      const items = el('ul', { class: 'items' });
      const empty = el('p', { class: 'empty', text: 'Nobody is waiting.' });
      const list = itemList(items, 'queue-item', queueOrder, () => title.focus());
      queues.set(id, { count, list, empty });
      return el('section', { class: 'queue', 'data-testid': 'queue', 'data-team': id, 'aria-labelledby': titleId },
        [title, items, empty]);
    });
    ui.queues.replaceChildren(...sections);
  }

  // The list a conversation belongs in now: its team's queue, mine, or none.
  function listFor(c) {
    if (c.status === 'queued') return queues.get(c.team)?.list || null;
    if (c.status === 'assigned' && c.assignee === user.name) return mine;
    return null;
  }

  // Shows `c` where it belongs now (taking it from where it was), and the counts that moved.
  function place(c) {
    const from = shownIn.get(c.id) || null;
    const to = listFor(c);
    if (from && from !== to) from.delete(c.id);
    if (to) {
      to.set(c);
      shownIn.set(c.id, to);
    } else {
      shownIn.delete(c.id);
    }
    if (from !== to) counted();
  }

  function headCount(id) {
    const q = queues.get(id);
    const team = teams.get(id);
    const text = ` ${q.list.size} waiting · ${team.online ?? 0} online${team.open === false ? ' · closed' : ''}`;
    if (q.count.textContent !== text) q.count.textContent = text;
    if (q.empty.hidden !== q.list.size > 0) q.empty.hidden = q.list.size > 0;
  }

  function counted() {
    let waitingTotal = 0;
    for (const [id, q] of queues) {
      headCount(id);
      waitingTotal += q.list.size;
    }
    ui['mine-empty'].hidden = mine.size > 0;
    document.title = waitingTotal ? `(${waitingTotal}) askdesk` : 'askdesk';
  }

  // Marks the item of the conversation shown in the view (aria-current).
  let marked = null;
  function markCurrent() {
    for (const id of [marked, view.id]) {
      shownIn.get(id)?.node(id)?.firstChild.setAttribute('aria-current', String(view.id === id));
    }
    marked = view.id;
  }

  function showAll() {
    buildQueues();
    const lists = new Map([[mine, []]]);
    for (const q of queues.values()) lists.set(q.list, []);
    shownIn.clear();
    for (const c of conversations.values()) {
      const list = listFor(c);
      if (!list) continue;
      lists.get(list).push(c);
      shownIn.set(c.id, list);
    }
    for (const [list, items] of lists) list.replace(items);
    counted();
    markCurrent();
  }

  // Wait times move on their own.
  let ticks = 0;
  function tick() {
    if (!shell.isConnected) {
      clearInterval(ticker);
      return;
    }
    const now = Date.now();
    for (const node of shell.querySelectorAll('.wait[data-since]')) {
      const text = `waiting ${waited(node.dataset.since, now)}`;
      if (node.textContent !== text) node.textContent = text;
    }
    ticks += 1;
    if (ticks % 4 === 0) {
      refreshTeams();
      deadLetters?.refresh();  // another supervisor's discard sends no event
    }
  }

  // Whether a team is open changes with the clock, and staff sockets that expire (a daemon
  // that died) send no event: look once a minute.
  async function refreshTeams() {
    try {
      for (const t of (await api.teams()).items) {
        const team = teams.get(t.id);
        if (team && (team.open !== t.open || team.online !== t.online)) {
          Object.assign(team, t);
          if (queues.has(t.id)) headCount(t.id);
        }
      }
    } catch {
      // The connection indicator already says when the daemon is away.
    }
  }
  const ticker = setInterval(tick, 15000);

  // `toReply`: the focus goes to the reply box once the conversation is shown.
  function open(id, { toReply = false } = {}) {
    view.open(id).then(() => {
      markCurrent();
      if (toReply && view.id === id) view.focusReply();
    });
  }

  // ---- sound and desktop notification for new waiting conversations ---------------------------

  let audio = null;
  ui.alerts.checked = localStorage.getItem(alertsKey) === 'on';
  ui.alerts.addEventListener('change', () => {
    localStorage.setItem(alertsKey, ui.alerts.checked ? 'on' : 'off');
    if (!ui.alerts.checked) return;
    audio = audio || new AudioContext();
    if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission();
  });

  function announce(c) {
    if (!ui.alerts.checked) return;
    if (audio) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    }
    if ('Notification' in window && Notification.permission === 'granted' && document.hidden) {
      const n = new Notification(`New chat from ${patronName(c)}`, {
        body: c.last_message ? c.last_message.text : channelName(c), tag: `askdesk-${c.id}`,
      });
      n.addEventListener('click', () => {
        window.focus();
        open(c.id);
      });
    }
  }

  ui.logout.addEventListener('click', async () => {
    live.stop();
    routing.stop();
    clearInterval(ticker);
    await api.logout().catch(() => {});
    showLogin();
  });

  connection.dataset.state = 'offline';
  live.connect();
}

// ---- first load -----------------------------------------------------------------------------

api.me().then((answer) => start(answer.user), (err) => {
  if (err.status === 401) showLogin();
  else showLogin(`askdesk cannot be reached (${err.message}). Reload the page to try again.`);
});
