// The askdesk chat widget. One line on any library page adds it:
//
//   <script src="https://HOST/widget.js" data-team="reference" async></script>
//
// It draws a chat button and a panel inside a shadow root (the page's styles cannot break it,
// and it cannot break the page), and talks to the daemon over /ws/patron (docs/protocol.md).
// The transcript, the session token and unsent messages live in sessionStorage, so a reload or
// a dropped connection loses nothing and closing the browser (a library's public computer)
// forgets the chat; a page that adds data-remember="7" keeps them in localStorage for that many
// days instead. Patron and librarian text is only ever set as text.
(() => {
  'use strict';

  const script = document.currentScript;
  if (!script || document.getElementById('askdesk-widget')) return;
  const base = new URL(script.src, document.baseURI);
  const team = script.dataset.team || 'reference';
  const storageKey = `askdesk:${base.origin}:${team}`;
  // Days to remember the chat across browser sessions (data-remember), else 0: this tab only.
  const rememberDays = Math.min(365, Math.max(0, Number.parseInt(script.dataset.remember || '0', 10) || 0));
  const store = (() => {
    try {
      if (rememberDays > 0) return window.localStorage;
      window.localStorage.removeItem(storageKey);  // kept by an older widget: forget it
      return window.sessionStorage;
    } catch {
      return null;  // storage refused (private mode, a sandboxed frame)
    }
  })();
  const socketUrl = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}/ws/patron`;
  const keptMessages = 200;
  const typingEvery = 2000;
  const typingShownFor = 4000;

  // ---- stored state ------------------------------------------------------------------------

  function load() {
    try {
      let saved = JSON.parse(store?.getItem(storageKey) || '{}');
      if (typeof saved.expires === 'number' && saved.expires < Date.now()) {
        store.removeItem(storageKey);
        saved = {};
      }
      return {
        token: typeof saved.token === 'string' ? saved.token : '',
        name: typeof saved.name === 'string' ? saved.name : '',
        email: typeof saved.email === 'string' ? saved.email : '',
        open: saved.open === true,
        ended: saved.ended === true,
        rated: typeof saved.rated === 'string' ? saved.rated : '',
        messages: Array.isArray(saved.messages) ? saved.messages : [],
        pending: Array.isArray(saved.pending) ? saved.pending : [],
      };
    } catch {
      return { token: '', name: '', email: '', open: false, ended: false, rated: '', messages: [], pending: [] };
    }
  }

  const state = load();

  function save() {
    state.messages = state.messages.slice(-keptMessages);
    try {
      const expires = rememberDays > 0 ? { expires: Date.now() + rememberDays * 86400000 } : {};
      store?.setItem(storageKey, JSON.stringify({ ...state, ...expires }));
    } catch {
      // Storage full or refused (private mode): the chat still works, it just will not
      // survive a reload.
    }
  }

  function lastSeenId() {
    let last = '';
    for (const m of state.messages) {
      if (m.id && (last === '' || BigInt(m.id) > BigInt(last))) last = m.id;
    }
    return last;
  }

  // ---- the DOM -----------------------------------------------------------------------------

  function el(tag, attributes = {}, children = []) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attributes)) {
      if (v === false || v === null || v === undefined) continue;
      if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) node.append(c);
    return node;
  }

  const host = el('div', { id: 'askdesk-widget' });
  const root = host.attachShadow({ mode: 'open' });
  const css = el('link', { rel: 'stylesheet', href: new URL('/widget/widget.css', base).href });

  const launcher = el('button', {
    type: 'button', class: 'launcher', 'data-testid': 'askdesk-launcher',
    'aria-expanded': 'false', 'aria-controls': 'askdesk-panel', text: 'Ask a librarian',
  });
  const status = el('p', { class: 'status', 'data-testid': 'askdesk-status', role: 'status', text: 'Connecting…' });
  const closeButton = el('button', { type: 'button', class: 'close', 'aria-label': 'Hide the chat', text: '×' });
  const log = el('div', {
    class: 'log', 'data-testid': 'askdesk-log', role: 'log', 'aria-live': 'polite',
    'aria-label': 'Conversation with the library', tabindex: '0',
  });
  const typing = el('p', { class: 'typing', 'data-testid': 'askdesk-typing', 'aria-live': 'polite', hidden: true });
  const error = el('p', { class: 'error', 'data-testid': 'askdesk-error', role: 'alert', hidden: true });
  const nameInput = el('input', {
    id: 'askdesk-name', 'data-testid': 'askdesk-name', type: 'text', autocomplete: 'name', maxlength: '80',
  });
  const emailInput = el('input', {
    id: 'askdesk-email', 'data-testid': 'askdesk-email', type: 'email', autocomplete: 'email', maxlength: '254',
  });
  const input = el('textarea', {
    id: 'askdesk-input', 'data-testid': 'askdesk-input', rows: '3', 'aria-describedby': 'askdesk-hint',
  });
  const hint = el('p', { id: 'askdesk-hint', class: 'hint', text: 'Enter sends, Shift+Enter starts a new line.' });
  const send = el('button', { type: 'submit', class: 'send', 'data-testid': 'askdesk-send', text: 'Send' });
  const form = el('form', { class: 'compose', novalidate: true }, [
    el('details', { class: 'about-you', open: !state.name && state.messages.length === 0 }, [
      el('summary', { text: 'About you (optional)' }),
      el('label', { for: 'askdesk-name', text: 'Your name' }), nameInput,
      el('label', { for: 'askdesk-email', text: 'Email, if you would like an answer there too' }), emailInput,
    ]),
    el('label', { for: 'askdesk-input', text: 'Your message' }), input, hint, send,
  ]);
  // While the team is closed: its hours, and a form for a question answered by email or text.
  const hoursBox = el('div', { class: 'hours', 'data-testid': 'askdesk-hours', hidden: true });
  const offlineText = el('textarea', { id: 'askdesk-offline-text', 'data-testid': 'askdesk-offline-text', rows: '3' });
  const offlineName = el('input', {
    id: 'askdesk-offline-name', 'data-testid': 'askdesk-offline-name', type: 'text', autocomplete: 'name', maxlength: '80',
  });
  const replyByEmail = el('input', { id: 'askdesk-by-email', type: 'radio', name: 'reply_by', value: 'email', checked: true });
  const replyBySms = el('input', { id: 'askdesk-by-sms', type: 'radio', name: 'reply_by', value: 'sms' });
  const offlineAddressLabel = el('label', { for: 'askdesk-offline-address', text: 'Your email address' });
  const offlineAddress = el('input', {
    id: 'askdesk-offline-address', 'data-testid': 'askdesk-offline-address', type: 'email', autocomplete: 'email',
    maxlength: '254', required: true,
  });
  const offlineSent = el('p', { class: 'sent', 'data-testid': 'askdesk-offline-sent', role: 'status', hidden: true });
  const offlineForm = el('form', { class: 'offline', 'data-testid': 'askdesk-offline', novalidate: true, hidden: true }, [
    el('label', { for: 'askdesk-offline-text', text: 'Your question' }), offlineText,
    el('label', { for: 'askdesk-offline-name', text: 'Your name (optional)' }), offlineName,
    el('fieldset', {}, [
      el('legend', { text: 'How should we answer?' }),
      el('span', {}, [replyByEmail, el('label', { for: 'askdesk-by-email', text: 'By email' })]),
      el('span', {}, [replyBySms, el('label', { for: 'askdesk-by-sms', text: 'By text message' })]),
    ]),
    offlineAddressLabel, offlineAddress,
    el('button', { type: 'submit', class: 'send', 'data-testid': 'askdesk-offline-send', text: 'Send my question' }),
  ]);
  // "Email me this transcript", when the library sends email from askdesk.
  const transcriptAddress = el('input', {
    id: 'askdesk-transcript-address', 'data-testid': 'askdesk-transcript-address', type: 'email',
    autocomplete: 'email', maxlength: '254',
  });
  const transcriptSent = el('p', { class: 'sent', 'data-testid': 'askdesk-transcript-sent', role: 'status', hidden: true });
  const transcriptForm = el('form', { class: 'transcript', novalidate: true }, [
    el('label', { for: 'askdesk-transcript-address', text: 'Your email address' }), transcriptAddress,
    el('button', { type: 'submit', class: 'send', 'data-testid': 'askdesk-transcript-send', text: 'Email it to me' }),
  ]);
  const transcriptBox = el('details', { class: 'transcript', 'data-testid': 'askdesk-transcript', hidden: true }, [
    el('summary', { text: 'Email me this transcript' }), transcriptForm, transcriptSent,
  ]);
  // "End and forget this chat": the chat ends and the library deletes it, and the patron's
  // name and address, now (the statistics stay, without them).
  const forgetButton = el('button', {
    type: 'button', class: 'send', 'data-testid': 'askdesk-forget-confirm', text: 'End the chat and delete it',
  });
  const forgetBox = el('details', { class: 'transcript forget', 'data-testid': 'askdesk-forget', hidden: true }, [
    el('summary', { text: 'End and forget this chat' }),
    el('p', { text: 'The chat ends, and the library deletes it and your name and address from its records now.' }),
    forgetButton,
  ]);
  const forgotten = el('p', { class: 'sent', 'data-testid': 'askdesk-forgotten', role: 'status', hidden: true });
  let transcriptByEmail = false;
  let transcriptRequest = null;  // the client_id of the transcript asked for, until answered
  const panel = el('section', {
    id: 'askdesk-panel', class: 'panel', 'data-testid': 'askdesk-panel',
    role: 'region', 'aria-labelledby': 'askdesk-title', hidden: true,
  }, [
    el('header', {}, [el('h2', { id: 'askdesk-title', text: 'Ask a librarian' }), closeButton, status]),
    hoursBox, log, typing, error, offlineSent, forgotten, offlineForm, form, transcriptBox, forgetBox,
  ]);
  root.append(css, el('div', { class: 'askdesk' }, [panel, launcher]));
  nameInput.value = state.name;
  emailInput.value = state.email;

  function timeOf(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function whoWrote(m) {
    if (m.direction === 'in') return 'You';
    if (m.direction === 'auto') return 'Automatic reply';
    return m.author || 'Librarian';
  }

  function messageNode(m) {
    const node = el('div', {
      class: `message ${m.direction}${m.id ? '' : ' pending'}`, 'data-testid': 'askdesk-message',
      'data-direction': m.direction, 'data-id': m.id || false, 'data-client-id': m.client_id || false,
    }, [
      el('p', { class: 'meta' }, [
        el('span', { class: 'who', text: whoWrote(m) }),
        el('time', { datetime: m.sent_at || false, text: m.id ? timeOf(m.sent_at) : 'sending…' }),
      ]),
      el('p', { class: 'text', text: m.text }),
    ]);
    if (m.asks_rating && state.rated !== m.id) node.append(ratingForm(m.id));
    return node;
  }

  // The satisfaction question's answer: 1 to 5 and a comment, sent as the patron's message
  // ("4" or "4 - comment"), which askdesk keeps as their score.
  function ratingForm(id) {
    const choices = [1, 2, 3, 4, 5].map((n) => {
      const radio = el('input', {
        type: 'radio', name: `askdesk-rating-${id}`, id: `askdesk-rating-${id}-${n}`, value: String(n),
        'data-testid': `askdesk-rating-${n}`,
      });
      return el('span', { class: 'choice' }, [radio, el('label', { for: radio.id, text: String(n) })]);
    });
    const comment = el('input', {
      id: `askdesk-rating-comment-${id}`, 'data-testid': 'askdesk-rating-comment', maxlength: '1000', autocomplete: 'off',
    });
    const rating = el('form', { class: 'rating', 'data-testid': 'askdesk-rating', novalidate: true }, [
      el('fieldset', {}, [el('legend', { text: 'Your rating, from 1 (not at all) to 5 (very satisfied)' }), ...choices]),
      el('label', { for: comment.id, text: 'A comment (optional)' }), comment,
      el('button', { type: 'submit', class: 'send', 'data-testid': 'askdesk-rating-send', text: 'Send rating' }),
    ]);
    rating.addEventListener('submit', (e) => {
      e.preventDefault();
      const chosen = rating.querySelector('input[type="radio"]:checked');
      if (!chosen) {
        showError('Please choose a number from 1 to 5.');
        return;
      }
      const words = comment.value.trim();
      state.rated = id;
      rating.replaceWith(el('p', { class: 'rated', 'data-testid': 'askdesk-rated', role: 'status', text: 'Thank you for your rating.' }));
      sendText(words ? `${chosen.value} - ${words}` : chosen.value);
    });
    return rating;
  }

  function endedNode() {
    return el('p', { class: 'ended', 'data-ended': true, text: 'The chat has ended. Write again to start a new one.' });
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function render() {
    log.replaceChildren();
    for (const m of state.messages) log.append(m.ended ? endedNode() : messageNode(m));
    for (const m of state.pending) log.append(messageNode(m));
    offerTranscript();
    scrollDown();
  }

  // Once there is a conversation to send, and the library sends email.
  function offerTranscript() {
    const said = state.messages.some((m) => !m.ended);
    transcriptBox.hidden = !transcriptByEmail || !said;
    forgetBox.hidden = !said;
    if (!transcriptAddress.value && state.email) transcriptAddress.value = state.email;
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  // The week's hours as a list ("Monday 09:00–17:00"); the exceptions of the coming weeks.
  function renderHours() {
    hoursBox.replaceChildren();
    const isClosed = closed();
    hoursBox.hidden = !isClosed || !hours.hours;
    // Someone in the middle of a conversation keeps the chat; others get the form.
    const chatting = state.messages.length > 0 && !state.ended;
    offlineForm.hidden = !isClosed || chatting;
    form.hidden = isClosed && !chatting;
    // Until there is a conversation, the form and the hours have the panel to themselves.
    log.hidden = !offlineForm.hidden && state.messages.length === 0 && state.pending.length === 0;
    if (hoursBox.hidden) return;
    const dayName = new Intl.DateTimeFormat(language || undefined, { weekday: 'long', timeZone: 'UTC' });
    const list = el('dl');
    ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].forEach((key, i) => {
      const ranges = hours.hours[key] || [];
      list.append(
        el('dt', { text: dayName.format(new Date(Date.UTC(2026, 10, 23 + i))) }),
        el('dd', { text: ranges.length ? ranges.map(([a, b]) => `${a}–${b}`).join(', ') : 'Closed' }),
      );
    });
    for (const e of hours.exceptions || []) {
      const day = new Date(`${e.date}T12:00:00Z`).toLocaleDateString(language || undefined, {
        weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC',
      });
      list.append(el('dt', { text: day }), el('dd', {
        text: e.hours.length ? e.hours.map(([a, b]) => `${a}–${b}`).join(', ') : 'Closed',
      }));
    }
    hoursBox.append(el('details', {}, [
      el('summary', { text: 'Opening hours' }), list,
      el('p', { class: 'zone', text: `Times are in ${hours.timezone.replaceAll('_', ' ')}.` }),
    ]));
  }

  // Ask again when the team opens or closes, so an open panel never shows stale hours.
  function scheduleHoursCheck() {
    clearTimeout(hoursTimer);
    const next = hours && (hours.open ? hours.closes_at : hours.next_open);
    if (!next) return;
    // A page whose clock is ahead of the library's sees the time as past: ask once a minute.
    const wait = new Date(next).getTime() - Date.now() + 1000;
    hoursTimer = setTimeout(() => transmit({ type: 'hours' }), wait > 0 ? Math.min(wait, 2 ** 31 - 1) : 60000);
  }

  function setHours(value) {
    hours = value || null;
    renderHours();
    setStatus();
    scheduleHoursCheck();
  }

  // ---- the connection ----------------------------------------------------------------------

  let socket = null;
  let ready = false;
  let attempts = 0;
  let retryTimer = 0;
  let online = null;
  let limits = { max_message_chars: 2000, messages_per_minute: 20 };
  let profileSent = { name: '', email: '' };
  let lastTyping = 0;
  let typingTimer = 0;
  let unread = 0;  // replies that arrived while the panel was hidden
  let hours = null;  // the team's opening hours (docs/protocol.md, "hours")
  let hoursTimer = 0;
  // The page's language as a BCP 47 tag Intl accepts ("en_US" on many sites means en-US).
  const language = (() => {
    const tag = (document.documentElement.lang || navigator.language || '').replace(/_/g, '-');
    try {
      return Intl.getCanonicalLocales(tag)[0] || '';
    } catch {
      return '';
    }
  })();

  function labelLauncher() {
    if (!panel.hidden) launcher.textContent = 'Hide the chat';
    else if (unread > 0) launcher.textContent = `Ask a librarian (${unread} new)`;
    else launcher.textContent = 'Ask a librarian';
  }

  function closed() {
    return hours !== null && hours.open === false;
  }

  function setStatus() {
    if (!ready) status.textContent = attempts > 0 ? 'Reconnecting…' : 'Connecting…';
    else if (closed()) {
      status.textContent = hours.next_open_text
        ? `We are closed now. We open ${hours.next_open_text}.`
        : 'We are closed now.';
    } else if (online) status.textContent = 'A librarian is online.';
    else status.textContent = 'Librarians are away right now. Leave a message and we will answer as soon as we can.';
  }

  function transmit(frame) {
    if (!ready || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    clearTimeout(retryTimer);
    if (socket) return;
    socket = new WebSocket(socketUrl);
    socket.addEventListener('open', () => {
      const hello = { type: 'hello', team, name: state.name, email: state.email, lang: language };
      if (state.token) hello.token = state.token;
      const after = lastSeenId();
      if (after) hello.after = after;
      socket.send(JSON.stringify(hello));
      profileSent = { name: state.name, email: state.email };
    });
    socket.addEventListener('message', (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      receive(frame);
    });
    socket.addEventListener('close', () => {
      socket = null;
      ready = false;
      attempts += 1;
      setStatus();
      // 1 s, 2 s, 4 s … up to 30 s, with jitter so a restarted daemon is not hit all at once.
      const delay = Math.min(30000, 1000 * 2 ** Math.min(attempts - 1, 5)) * (0.5 + Math.random() / 2);
      retryTimer = setTimeout(connect, delay);
    });
  }

  function receive(frame) {
    switch (frame.type) {
      case 'welcome': {
        if (frame.token !== state.token) {
          // A new session (first visit, or the old token expired): nothing of the old one shows.
          state.messages = [];
          state.ended = false;
          state.token = frame.token;
        }
        ready = true;
        attempts = 0;
        online = frame.online === true;
        transcriptByEmail = frame.transcript_by_email === true;
        if (frame.limits) limits = frame.limits;
        for (const m of frame.messages || []) addMessage(m);
        if (!frame.conversation && state.messages.length > 0 && !state.ended) {
          // It was closed while this page was away.
          state.ended = true;
          state.messages.push({ ended: true });
        }
        save();
        render();
        setHours(frame.hours);
        for (const p of state.pending) transmit({ type: 'message', text: p.text, client_id: p.client_id });
        break;
      }
      case 'message':
        if (frame.message) addMessage(frame.message, true);
        break;
      case 'ack':
        break;
      case 'hours':
        setHours(frame.hours);
        break;
      case 'offline_ack':
        offlineSent.textContent = `Thank you. Your question is with the library; a librarian will answer ${
          { sms: 'by text message', email: 'by email' }[frame.channel] || 'here'
        }${hours && hours.next_open_text ? ` after we open ${hours.next_open_text}` : ''}.`;
        offlineSent.hidden = false;
        offlineText.value = '';
        break;
      case 'forgotten':
        // Nothing of it stays here either; the new session's welcome follows.
        state.messages = [];
        state.pending = [];
        state.ended = false;
        state.rated = '';
        state.token = '';
        try {
          store?.removeItem(storageKey);
        } catch {
          // refused storage: nothing was kept
        }
        forgetBox.open = false;
        forgotten.textContent = 'The chat has ended and the library has deleted it.';
        forgotten.hidden = false;
        render();
        launcher.focus();
        break;
      case 'transcript_ack':
        transcriptRequest = null;
        showError('');
        transcriptSent.textContent = `The transcript is on its way to ${frame.address}.`;
        transcriptSent.hidden = false;
        break;
      case 'presence':
        online = frame.online === true;
        setStatus();
        break;
      case 'typing':
        typing.textContent = `${frame.name || 'A librarian'} is typing…`;
        typing.hidden = false;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => { typing.hidden = true; }, typingShownFor);
        break;
      case 'conversation':
        if (frame.conversation && frame.conversation.status === 'closed' && !state.ended) {
          state.ended = true;
          state.messages.push({ ended: true });
          save();
          log.append(endedNode());
          scrollDown();
        }
        break;
      case 'error':
        refused(frame);
        break;
      default:
        break;
    }
  }

  function addMessage(m, live = false) {
    if (!m || typeof m.id !== 'string' || state.messages.some((x) => x.id === m.id)) return;
    const kept = {
      id: m.id, direction: m.direction, text: String(m.text || ''), sent_at: m.sent_at,
      author: m.author || null, client_id: m.client_id || null, asks_rating: m.asks_rating === true,
    };
    if (m.direction === 'in') state.ended = false;
    state.messages.push(kept);
    const waiting = m.client_id ? state.pending.findIndex((p) => p.client_id === m.client_id) : -1;
    if (waiting >= 0) state.pending.splice(waiting, 1);
    if (m.direction !== 'in') {
      typing.hidden = true;
      if (live && panel.hidden) {
        unread += 1;
        labelLauncher();
      }
    }
    if (!live) return;
    save();
    offerTranscript();
    if (closed()) renderHours();  // a conversation started: the chat replaces the form
    const node = messageNode(kept);
    const placeholder = m.client_id
      ? [...log.querySelectorAll('.pending')].find((n) => n.dataset.clientId === m.client_id)
      : null;
    if (placeholder) placeholder.remove();
    // Stored messages come before the ones still being sent.
    const firstPending = log.querySelector('.pending');
    if (firstPending) log.insertBefore(node, firstPending);
    else log.append(node);
    scrollDown();
  }

  function refused(frame) {
    // A transcript request is not a message: nothing waits to be sent again.
    if (frame.client_id && frame.client_id === transcriptRequest) {
      transcriptRequest = null;
      showError(frame.code === 'unavailable'
        ? 'The transcript could not be sent just now; please try again in a moment.'
        : frame.message || 'The transcript could not be sent.');
      return;
    }
    const index = frame.client_id ? state.pending.findIndex((p) => p.client_id === frame.client_id) : -1;
    if (frame.code === 'unavailable') {
      showError('The chat is unavailable for a moment; your message will be sent when it is back.');
      return;
    }
    if (index >= 0) {
      const [p] = state.pending.splice(index, 1);
      save();
      render();
      if (!input.value) input.value = p.text;
    }
    const messages = {
      too_long: `Messages can be at most ${limits.max_message_chars} characters. Please shorten it or send it in parts.`,
      rate_limited: frame.message || 'You are sending messages very quickly; please wait a moment.',
      empty: 'Please write a message first.',
    };
    showError(messages[frame.code] || frame.message || 'The message could not be sent.');
  }

  // ---- what the patron does ----------------------------------------------------------------

  function newClientId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function sendProfileIfChanged() {
    state.name = nameInput.value.trim();
    state.email = emailInput.value.trim();
    save();
    if (state.name === profileSent.name && state.email === profileSent.email) return;
    if (transmit({ type: 'profile', name: state.name, email: state.email })) {
      profileSent = { name: state.name, email: state.email };
    }
  }

  function submit() {
    const text = input.value.trim();
    if (!text) {
      showError('Please write a message first.');
      return;
    }
    if ([...text].length > limits.max_message_chars) {
      showError(`Messages can be at most ${limits.max_message_chars} characters; this one has ${[...text].length}.`);
      return;
    }
    showError('');
    input.value = '';
    lastTyping = 0;  // the next keystroke starts a new reply: say so at once
    sendText(text);
  }

  function sendText(text) {
    sendProfileIfChanged();
    const pending = { direction: 'in', text, client_id: newClientId() };
    state.pending.push(pending);
    save();
    log.append(messageNode(pending));
    scrollDown();
    transmit({ type: 'message', text, client_id: pending.client_id });
    if (!socket) connect();
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    if (open) unread = 0;
    labelLauncher();
    state.open = open;
    save();
    if (open) {
      connect();
      scrollDown();
      (form.hidden ? offlineText : input).focus();
    }
  }

  function submitOffline() {
    const text = offlineText.value.trim();
    const address = offlineAddress.value.trim();
    const by = replyBySms.checked ? 'sms' : 'email';
    if (!text) {
      showError('Please write your question first.');
      offlineText.focus();
      return;
    }
    if (!address) {
      showError(by === 'sms' ? 'Please give a phone number for our answer.' : 'Please give an email address for our answer.');
      offlineAddress.focus();
      return;
    }
    showError('');
    offlineSent.hidden = true;
    if (!transmit({ type: 'offline', text, name: offlineName.value.trim(), reply_by: by, address, client_id: newClientId() })) {
      showError('The chat is unavailable for a moment; please try again shortly.');
    }
  }

  function chooseReplyBy() {
    const sms = replyBySms.checked;
    offlineAddressLabel.textContent = sms ? 'Your mobile phone number' : 'Your email address';
    offlineAddress.type = sms ? 'tel' : 'email';
    offlineAddress.autocomplete = sms ? 'tel' : 'email';
  }

  forgetButton.addEventListener('click', () => {
    if (!transmit({ type: 'forget' })) showError('Not connected; try again in a moment.');
  });
  transcriptForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const address = transcriptAddress.value.trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(address)) {
      showError('Please give an email address, e.g. ada@example.org');
      transcriptAddress.focus();
      return;
    }
    transcriptSent.hidden = true;
    transcriptRequest = newClientId();
    if (!transmit({ type: 'transcript', address, client_id: transcriptRequest })) {
      transcriptRequest = null;
      showError('Not connected; please try again in a moment.');
    }
  });
  offlineForm.addEventListener('submit', (e) => {
    e.preventDefault();
    submitOffline();
  });
  replyByEmail.addEventListener('change', chooseReplyBy);
  replyBySms.addEventListener('change', chooseReplyBy);
  launcher.addEventListener('click', () => setOpen(panel.hidden));
  closeButton.addEventListener('click', () => {
    setOpen(false);
    launcher.focus();
  });
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      setOpen(false);
      launcher.focus();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', () => {
    const now = Date.now();
    if (input.value && now - lastTyping >= typingEvery && transmit({ type: 'typing' })) lastTyping = now;
  });
  nameInput.addEventListener('change', sendProfileIfChanged);
  emailInput.addEventListener('change', sendProfileIfChanged);
  window.addEventListener('online', () => {
    if (!socket) connect();
  });

  function mount() {
    document.body.append(host);
    render();
    setStatus();
    // Someone mid-conversation gets replies at once; others connect when they open the chat.
    if (state.open) setOpen(true);
    else if (state.token && (state.messages.length > 0 || state.pending.length > 0)) connect();
  }

  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
