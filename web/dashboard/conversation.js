// The conversation view: transcript, reply box, claim and close, notes, tags and the patron
// panel. Live events reach it through onConversation(), onMessage() and onTyping().
// On a channel whose replies are public, the reply box says who will read the reply; a
// social item still in triage is answered by taking it out of triage first.
import { api } from './api.js';
import { channelName, lengthRule, optOutKeyword } from './channels.js';
import { clockTime, el, fullTime, patronName } from './dom.js';
import { lengthHint } from './lengths.js';
import { foldText, joinedBy } from './mail.js';
import {
  guarded, mediaNodes, postLink, replyAudience, senderAddress, threadContext, watchedLabel,
} from './posts.js';

// As the API: letters and digits of any script, - and _, up to 40 characters.
const tagPattern = /^(?:[A-Za-z0-9_-]|[^\x00-\x7F]){1,40}$/u;
const typingEvery = 2000;
const typingShownFor = 4000;
const noteMax = 4000;  // characters (docs/api.md); replies follow their channel's length rule

const statusNames = {
  queued: 'Waiting', assigned: 'Assigned', closed: 'Closed',
  triage: 'In social triage', dismissed: 'Dismissed', abuse: 'Marked as abuse',
};
// What a social item not yet taken out of triage is, above where the reply box would be.
const socialStates = {
  triage: 'This post waits in social triage. Reply to it to answer it here.',
  dismissed: 'This post was dismissed: no answer needed. Reply to it to answer it after all.',
  abuse: 'This post was marked as abuse and its sender muted. Replying undoes that: the sender is unmuted.',
};
// The READ scale's levels (Reference Effort Assessment Data), short.
const readLevels = [
  'No special knowledge (directions, hours)',
  'Some knowledge of resources',
  'A reference source or search',
  'Several sources or strategies',
  'Substantial research, consultation',
  'The most time and expertise',
];
const topicSources = { rule: 'by rule', classifier: 'guessed', default: 'default', staff: 'set by staff', requested: 'chosen by the patron' };

// "guessed 82% · words: makerspace, open" — how the topic was decided.
function topicReason(reason) {
  if (!reason) return '';
  const how = topicSources[reason.source] || reason.source;
  if (reason.source === 'staff') return reason.why;
  return `${how} ${Math.round((reason.confidence || 0) * 100)}% · ${reason.why}`;
}

export class ConversationView {
  // `container` is the <main> to draw in; `user` the signed-in user; `live` the staff socket
  // (for typing); `onChanged(conversation)` keeps the lists in step; `onOpen(id)` opens another.
  // `topics()` gives the configured topics ([{id, team}]) for the topic chooser.
  // `teams()` every team, for the transfer dialog; `people()` the user names it suggests.
  // `watch`: the supervisor's read-only view: no reply, claim or close, no typing sent; notes
  // and reassigning (the transfer dialog) only.
  constructor(container, { user, live, topics, teams, onChanged, onOpen, people = () => [], watch = false }) {
    this.container = container;
    this.user = user;
    this.topics = topics;
    this.teams = teams;
    this.live = live;
    this.onChanged = onChanged;
    this.onOpen = onOpen;
    this.people = people;
    this.watch = watch;
    this.id = null;
    this.conversation = null;
    this.messages = new Map();
    this.lastTyping = 0;
    this.typingTimer = 0;
    this.token = 0;
    this.revealed = new Set();  // ids of messages whose content the reader chose to see
  }

  async open(id) {
    const token = ++this.token;
    this.id = id;
    this.container.replaceChildren(el('p', { class: 'placeholder', role: 'status', text: 'Loading…' }));
    let detail;
    let patron = null;
    try {
      detail = await api.conversation(id);
      patron = await api.patron(detail.patron.id).catch(() => null);
    } catch (e) {
      if (token !== this.token) return;
      this.container.replaceChildren(el('p', { class: 'error', role: 'alert', text: e.message }));
      return;
    }
    if (token !== this.token) return;  // another conversation was opened meanwhile
    this.messages = new Map();
    this.revealed = new Set();
    this.build(detail, patron || detail.patron);
    for (const m of detail.messages || []) this.onMessage(m);
    this.transcript.scrollTop = this.transcript.scrollHeight;
  }

  clear() {
    this.token += 1;
    this.id = null;
    this.conversation = null;
    this.container.replaceChildren(el('p', { class: 'placeholder', text: 'Choose a conversation.' }));
  }

  build(conversation, patron) {
    this.title = el('h2', { id: 'conversation-title' });
    this.summary = el('p', { class: 'summary' });
    this.claimButton = el('button', { type: 'button', 'data-testid': 'claim', text: 'Claim' });
    this.closeButton = el('button', { type: 'button', 'data-testid': 'close', text: 'Close conversation' });
    // The READ scale: how much effort the question took, given on closing.
    this.readLevel = el('select', { id: 'read-level', 'data-testid': 'read-level' },
      [el('option', { value: '', text: '(not given)' }),
        ...readLevels.map((text, i) => el('option', { value: String(i + 1), text: `${i + 1} · ${text}` }))]);
    this.readRow = el('span', { class: 'read-level' }, [
      el('label', { for: 'read-level', text: 'READ level' }), this.readLevel]);
    this.transferButton = el('button', { type: 'button', class: 'secondary', 'data-testid': 'transfer', text: 'Transfer…' });
    this.transferDialog = this.buildTransferDialog();
    this.topicSelect = el('select', { id: 'topic-select', 'data-testid': 'topic-select' },
      [el('option', { value: '', text: '(none)' }),
        ...this.topics().map((t) => el('option', { value: t.id, text: `${t.id} (${t.team})` }))]);
    this.topicReason = el('span', { class: 'topic-reason', 'data-testid': 'topic-reason' });
    this.topicRow = el('p', { class: 'topic' }, [
      el('label', { for: 'topic-select', text: 'Topic' }), this.topicSelect, this.topicReason]);
    this.topicRow.hidden = this.topics().length === 0;
    this.problem = el('p', { class: 'error', role: 'alert', hidden: true });
    this.transcript = el('div', {
      class: 'transcript', 'data-testid': 'transcript', role: 'log', 'aria-live': 'polite',
      'aria-label': 'Transcript', tabindex: '0',
    });
    this.typing = el('p', { class: 'typing', 'data-testid': 'typing', 'aria-live': 'polite', hidden: true });
    this.replyInput = el('textarea', {
      id: 'reply-input', 'data-testid': 'reply-input', rows: '3',
      'aria-describedby': 'reply-audience reply-length reply-hint',
    });
    // Who will read the reply, on a channel whose replies are public.
    this.replyAudience = el('p', { id: 'reply-audience', class: 'audience', 'data-testid': 'reply-audience', hidden: true });
    this.socialState = el('p', { id: 'social-state', class: 'social-state', 'data-testid': 'social-state' });
    this.socialReply = el('button', {
      type: 'button', 'data-testid': 'social-state-reply', 'aria-describedby': 'social-state', text: 'Reply to this post',
    });
    this.socialBar = el('div', { class: 'social-bar', hidden: true }, [this.socialState, this.socialReply]);
    this.replyLabel = el('label', { for: 'reply-input' });
    this.replySend = el('button', { type: 'submit', 'data-testid': 'reply-send', text: 'Send reply' });
    const noteSend = el('button', { type: 'button', class: 'secondary', 'data-testid': 'note-send', text: 'Save as internal note' });
    // How long the reply is in its channel's unit (SMS segments, characters…), before it is sent.
    this.replyLength = el('p', { id: 'reply-length', class: 'hint length', 'data-testid': 'reply-length', hidden: true });
    this.replyForm = el('form', { class: 'reply', novalidate: true }, [
      this.replyLabel, this.replyAudience, this.replyInput, this.replyLength,
      el('p', { id: 'reply-hint', class: 'hint', text: this.watch
        ? 'Enter saves the note, Shift+Enter starts a new line. Internal notes are never sent to the patron.'
        : 'Enter sends, Shift+Enter starts a new line. Internal notes are never sent to the patron.' }),
      el('div', { class: 'actions' }, [this.replySend, noteSend]),
    ]);
    this.tagList = el('ul', { class: 'tags', 'aria-label': 'Tags' });
    const tagInput = el('input', { id: 'tag-input', 'data-testid': 'tag-input', maxlength: '40', autocomplete: 'off' });
    const tagForm = el('form', { class: 'tag-form', novalidate: true, hidden: this.watch }, [
      el('label', { for: 'tag-input', text: 'Add a tag' }), tagInput,
      el('button', { type: 'submit', class: 'secondary', text: 'Add' }),
    ]);

    const view = el('section', {
      class: 'conversation', 'data-testid': 'conversation-view', 'aria-labelledby': 'conversation-title',
    }, [
      el('header', { class: 'conversation-head' }, [
        el('div', {}, [this.title, this.summary, this.topicRow]),
        el('div', { class: 'actions' }, [this.claimButton, this.transferButton, this.readRow, this.closeButton]),
      ]),
      this.problem,
      this.transferDialog,
      el('div', { class: 'conversation-body' }, [
        el('div', { class: 'conversation-main' }, [this.transcript, this.typing, this.socialBar, this.replyForm,
          el('div', { class: 'tagging' }, [this.tagList, tagForm])]),
        this.patronPanel(patron, conversation.id),
      ]),
    ]);
    this.container.replaceChildren(view);
    this.view = view;
    this.onConversation(conversation, true);

    this.claimButton.addEventListener('click', () => this.act(() =>
      api.claim(this.id, this.conversation.status === 'assigned')));
    this.closeButton.addEventListener('click', () => this.act(() =>
      api.close(this.id, this.readLevel.value ? Number(this.readLevel.value) : undefined)));
    this.socialReply.addEventListener('click', async () => {
      if (await this.act(() => api.socialReply(this.id))) this.focusReply();
    });
    this.transferButton.addEventListener('click', () => this.transferDialog.showModal());
    this.replyForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.post(this.watch ? 'note' : 'reply');
    });
    noteSend.addEventListener('click', () => this.post('note'));
    this.topicSelect.addEventListener('change', () => {
      const topic = this.topicSelect.value;
      if (topic) this.act(() => api.setTopic(this.id, topic));
    });
    this.replyInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.post(this.watch ? 'note' : 'reply');
      }
    });
    this.replyInput.addEventListener('input', () => {
      this.measureReply();
      const now = Date.now();
      if (!this.watch && this.replyInput.value && now - this.lastTyping >= typingEvery) {
        this.lastTyping = now;
        this.live.send({ type: 'typing', conversation: this.id });
      }
    });
    tagForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const tag = tagInput.value.trim();
      if (!tagPattern.test(tag)) {
        this.showProblem('A tag is 1 to 40 letters, digits, - or _.');
        return;
      }
      this.act(() => api.tags(this.id, [tag], [])).then((ok) => { if (ok) tagInput.value = ''; });
    });
  }

  // A modal dialog: to a team's queue and/or a person, with an optional internal note.
  buildTransferDialog() {
    const team = el('select', { id: 'transfer-team', 'data-testid': 'transfer-team' }, [
      el('option', { value: '', text: '(keep the team)' }),
      ...this.teams().map((t) => el('option', { value: t.id, text: t.name || t.id }))]);
    const people = this.people();
    const person = el('input', {
      id: 'transfer-user', 'data-testid': 'transfer-user', autocomplete: 'off', maxlength: '64',
      list: people.length ? 'transfer-people' : false,
    });
    const suggestions = el('datalist', { id: 'transfer-people' },
      people.map((p) => el('option', { value: p.name, text: p.display_name || p.name })));
    const note = el('textarea', { id: 'transfer-note', 'data-testid': 'transfer-note', rows: '3' });
    const problem = el('p', { class: 'error', role: 'alert', hidden: true });
    const cancel = el('button', { type: 'button', class: 'secondary', text: 'Cancel' });
    const form = el('form', { method: 'dialog', novalidate: true }, [
      el('h3', { id: 'transfer-title', text: 'Transfer the conversation' }),
      el('label', { for: 'transfer-team', text: 'To the queue of' }), team,
      el('label', { for: 'transfer-user', text: 'Or to a person (user name)' }), person, suggestions,
      el('label', { for: 'transfer-note', text: 'Note for them (internal)' }), note,
      problem,
      el('div', { class: 'actions' }, [
        el('button', { type: 'submit', 'data-testid': 'transfer-submit', text: 'Transfer' }), cancel]),
    ]);
    const dialog = el('dialog', { class: 'transfer', 'data-testid': 'transfer-dialog', 'aria-labelledby': 'transfer-title' }, [form]);
    cancel.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = {};
      if (team.value) body.team = team.value;
      if (person.value.trim()) body.user = person.value.trim();
      if (note.value.trim()) body.note = note.value.trim();
      if (!body.team && !body.user) {
        problem.textContent = 'Choose a team or name a person.';
        problem.hidden = false;
        return;
      }
      try {
        const answer = await api.transfer(this.id, body);
        dialog.close();
        note.value = '';
        person.value = '';
        team.value = '';
        problem.hidden = true;
        this.onConversation(answer.conversation);
        this.onChanged(answer.conversation);
      } catch (err) {
        problem.textContent = err.message;
        problem.hidden = false;
      }
    });
    return dialog;
  }

  patronPanel(patron, current) {
    const panel = el('aside', { class: 'patron', 'data-testid': 'patron-panel', 'aria-labelledby': 'patron-title' });
    panel.append(el('h3', { id: 'patron-title', text: patron && patron.name ? patron.name : 'Patron' }));
    if (!patron) return panel;
    const facts = el('dl');
    // The number a patron's export or erasure asks for (docs/privacy.md).
    if (patron.id) facts.append(el('dt', { text: 'Patron number' }), el('dd', { 'data-testid': 'patron-number', text: patron.id }));
    if (patron.email) facts.append(el('dt', { text: 'Email' }), el('dd', { text: patron.email }));
    if (patron.phone) facts.append(el('dt', { text: 'Phone' }), el('dd', { text: patron.phone }));
    for (const a of patron.addresses || []) {
      const keyword = optOutKeyword(a);
      facts.append(el('dt', { text: channelName(a) }),
        el('dd', {}, [el('span', { class: 'address', text: a.address }),
          a.last_seen ? el('span', { class: 'seen', text: ` · last seen ${clockTime(a.last_seen)}` }) : null,
          a.opted_out_at ? el('span', { class: 'opted-out', 'data-testid': 'opted-out',
            text: ` · opted out${keyword ? ` (${keyword})` : ''} ${clockTime(a.opted_out_at)}: no messages are sent` }) : null]));
    }
    panel.append(facts, this.linksSection(patron));
    const earlier = (patron.conversations || []).filter((c) => c.id !== current);
    panel.append(el('h4', { text: 'Earlier conversations' }));
    if (earlier.length === 0) {
      panel.append(el('p', { class: 'empty', text: 'None.' }));
      return panel;
    }
    const list = el('ul', { class: 'earlier' });
    for (const c of earlier) {
      const button = el('button', { type: 'button', class: 'link' }, [
        el('span', { text: `${clockTime(c.created_at)} · ${channelName(c)} · ${statusNames[c.status] || c.status}` }),
        c.last_message ? el('span', { class: 'last', text: c.last_message.text }) : null,
      ]);
      button.addEventListener('click', () => this.onOpen(c.id));
      list.append(el('li', {}, [button]));
    }
    panel.append(list);
    return panel;
  }

  // The patron's other records (another channel) that staff linked with the patron's consent,
  // and the form to link one: askdesk never links records by itself (docs/privacy.md).
  linksSection(patron) {
    const section = el('section', { class: 'links', 'data-testid': 'patron-links', 'aria-labelledby': 'links-title' },
      [el('h4', { id: 'links-title', text: 'Linked records' })]);
    const list = el('ul', { class: 'earlier' });
    for (const link of patron.links || []) {
      const c = link.consent || {};
      const unlink = el('button', { type: 'button', class: 'secondary', 'data-testid': 'patron-unlink', text: 'Unlink' });
      unlink.addEventListener('click', () => this.relink(() => api.unlinkPatron(patron.id, link.patron)));
      list.append(el('li', { 'data-testid': 'patron-link', 'data-patron': link.patron }, [
        el('span', { text: `Patron ${link.patron}` }),
        el('span', { class: 'last', text: `Consent: ${c.text || ''} (${c.by || ''}, ${clockTime(c.at)})` }),
        unlink,
      ]));
    }
    if (list.children.length) section.append(list);
    const number = el('input', { id: 'link-number', 'data-testid': 'link-number', inputmode: 'numeric', maxlength: '18', autocomplete: 'off' });
    const consent = el('textarea', { id: 'link-consent', 'data-testid': 'link-consent', rows: '2', maxlength: '500' });
    const form = el('form', { class: 'link-form', novalidate: true }, [
      el('label', { for: 'link-number', text: 'Link another record (patron number)' }), number,
      el('label', { for: 'link-consent', text: 'How the patron agreed' }), consent,
      el('button', { type: 'submit', class: 'secondary', 'data-testid': 'link-submit', text: 'Link with consent' }),
    ]);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!/^\d+$/.test(number.value.trim()) || !consent.value.trim()) {
        this.showProblem('Give the other record\'s patron number and how the patron agreed.');
        return;
      }
      this.relink(() => api.linkPatron(patron.id, number.value.trim(), consent.value.trim()));
    });
    section.append(form);
    return section;
  }

  // Links or unlinks, then shows the patron again.
  async relink(call) {
    this.showProblem('');
    try {
      await call();
      await this.open(this.id);
    } catch (e) {
      this.showProblem(e.message);
    }
  }

  // Runs an API call that answers {conversation}; shows its error instead of throwing.
  async act(call) {
    this.showProblem('');
    try {
      const answer = await call();
      if (answer && answer.conversation) {
        this.onConversation(answer.conversation);
        this.onChanged(answer.conversation);
      }
      return true;
    } catch (e) {
      this.showProblem(e.message);
      return false;
    }
  }

  async post(kind) {
    const text = this.replyInput.value.trim();
    if (!text) return;
    if (kind === 'note' && [...text].length > noteMax) {
      this.showProblem(`A note can be at most ${noteMax} characters; this one has ${[...text].length}.`);
      return;
    }
    const length = lengthHint(text, lengthRule(this.conversation));
    if (kind === 'reply' && length.over) {
      this.showProblem(length.text);
      return;
    }
    this.showProblem('');
    const id = this.id;
    try {
      const answer = kind === 'note' ? await api.note(id, text) : await api.reply(id, text);
      if (this.id !== id) return;
      if (this.replyInput.value.trim() === text) {
        this.replyInput.value = '';
        this.measureReply();
      }
      this.lastTyping = 0;
      if (answer && answer.message) this.onMessage(answer.message);
    } catch (e) {
      if (this.id === id) this.showProblem(e.message);
    }
  }

  showProblem(text) {
    this.problem.textContent = text;
    this.problem.hidden = !text;
  }

  onConversation(c, force = false) {
    if (!this.view || c.id !== this.id) return;
    if (!force && this.conversation && c.updated_at < this.conversation.updated_at) return;
    this.conversation = c;
    const name = patronName(c);
    this.title.textContent = name;
    const who = c.status === 'assigned' ? ` · ${c.assignee === this.user.name ? 'you' : c.assignee}` : '';
    this.summary.textContent = `${channelName(c)} · ${c.team} · ${statusNames[c.status] || c.status}${who}`;
    this.view.dataset.conversation = c.id;
    this.view.dataset.status = c.status;
    const mine = c.status === 'assigned' && c.assignee === this.user.name;
    const mayForce = this.user.role === 'supervisor' || this.user.role === 'admin';
    // A social item leaves triage through the social desk's own actions, not by claim or close.
    const social = Object.hasOwn(socialStates, c.status);
    this.claimButton.hidden = !(c.status === 'queued' || (c.status === 'assigned' && !mine && mayForce));
    this.claimButton.textContent = c.status === 'queued' ? 'Claim' : 'Take over';
    this.closeButton.hidden = c.status === 'closed' || social || this.watch;
    if (this.watch) this.claimButton.hidden = true;
    this.readRow.hidden = this.closeButton.hidden;
    const team = this.teams().find((t) => t.id === c.team);
    this.readLevel.required = Boolean(team?.read_required);
    this.transferButton.hidden = c.status === 'closed' || social;
    this.transferButton.textContent = this.watch ? 'Reassign…' : 'Transfer…';
    this.replyForm.hidden = c.status === 'closed'
      || (!this.watch && (social || (c.status === 'assigned' && !mine && !mayForce)));
    this.replySend.hidden = this.watch;
    this.topicSelect.disabled = this.watch;
    this.socialBar.hidden = !social;
    this.socialState.textContent = social ? socialStates[c.status] : '';
    this.replyLabel.textContent = this.watch ? 'Internal note' : `Reply to ${name}`;
    this.showAudience();
    this.measureReply();
    this.topicSelect.value = c.topic || '';
    this.topicReason.textContent = topicReason(c.topic_reason);
    this.tagList.replaceChildren();
    for (const tag of c.tags || []) {
      const remove = el('button', { type: 'button', class: 'remove', 'aria-label': `Remove tag ${tag}`, text: '×' });
      remove.addEventListener('click', () => this.act(() => api.tags(this.id, [], [tag])));
      this.tagList.append(el('li', { 'data-testid': 'tag' }, [el('span', { text: tag }), remove]));
    }
  }

  // Shows the reply's length against its channel's limit; over it, the reply cannot be sent
  // (a note still can).
  measureReply() {
    if (this.watch) return;  // notes have their own limit, checked on saving
    const { text, over } = lengthHint(this.replyInput.value.trim(), lengthRule(this.conversation));
    this.replyLength.textContent = text;
    this.replyLength.hidden = !text;
    this.replyLength.classList.toggle('over', over);
    this.replySend.disabled = over;
  }

  // On a channel whose replies are public, says above the reply box who will read the reply:
  // as the patron's latest message was (facts.visibility), direct, followers only or public.
  showAudience() {
    let latest = null;
    for (const m of this.messages.values()) {
      if (m.direction === 'in' && (!latest || BigInt(m.id) > BigInt(latest.id))) latest = m;
    }
    const audience = replyAudience(this.conversation, latest);
    this.replyAudience.textContent = audience ? audience.text : '';
    this.replyAudience.hidden = !audience;
    if (audience) this.replyAudience.dataset.visibility = audience.visibility;
  }

  focusReply() {
    if (this.view && !this.replyForm.hidden) this.replyInput.focus();
  }

  onMessage(m) {
    if (!this.view || m.conversation !== this.id) return;
    const existing = this.messages.get(m.id);
    // The answer to our own POST can arrive after the event that it was sent.
    if (existing && existing.status !== 'pending' && m.status === 'pending') return;
    const node = messageNode(m, this.revealed);
    this.messages.set(m.id, m);
    if (m.direction === 'in') this.showAudience();
    if (existing) {
      this.transcript.querySelector(`[data-id="${CSS.escape(m.id)}"]`)?.replaceWith(node);
      return;
    }
    const stick = this.transcript.scrollHeight - this.transcript.scrollTop - this.transcript.clientHeight < 40;
    // Ids grow with time: keep the transcript in id order whatever order events arrive in.
    const later = [...this.transcript.children].find((n) => BigInt(n.dataset.id) > BigInt(m.id));
    this.transcript.insertBefore(node, later || null);
    if (m.direction === 'in') this.typing.hidden = true;
    if (stick) this.transcript.scrollTop = this.transcript.scrollHeight;
  }

  onTyping(conversation, who, name) {
    if (!this.view || conversation !== this.id || who !== 'patron') return;
    this.typing.textContent = `${name || 'The patron'} is typing…`;
    this.typing.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => { this.typing.hidden = true; }, typingShownFor);
  }
}

function author(m) {
  if (m.direction === 'in') return m.sender_name || m.sender || 'Patron';
  if (m.direction === 'auto') return 'Automatic message';
  const staff = m.author_name || m.author || 'staff';
  return m.direction === 'note' ? `Internal note · ${staff}` : staff;
}

const statusText = {
  pending: 'sending…', queued: 'sent', sent: 'sent', delivered: 'delivered', read: 'read',
  undelivered: 'not delivered', failed: 'not delivered',
};

// The text, with quoted history and signature folded away (open on demand) from the line the
// connector marked (facts.fold_line), whatever the channel.
function textNodes(m) {
  const { shown, folded } = foldText(m.text, m.facts);
  if (!folded) return [el('p', { class: 'text', text: m.text })];
  return [
    el('p', { class: 'text', text: shown }),
    el('details', { class: 'quoted', 'data-testid': 'quoted' }, [
      el('summary', { text: 'Quoted text and signature' }),
      el('p', { class: 'text', text: folded }),
    ]),
  ];
}

// A message in the transcript. What a connector says of a post (its author's profile, its own
// page, the thread it answers, a content warning, sensitive media) shows whatever the channel;
// `revealed` holds the ids of messages whose hidden content the reader chose to see.
function messageNode(m, revealed) {
  // What was sent to the patron shows how far it got: replies, automatic messages, and notes
  // that went out (a transcript the patron asked for: their status is then not 'note').
  const sends = m.direction === 'out' || m.direction === 'auto' || (m.direction === 'note' && m.status !== 'note');
  const state = sends ? statusText[m.status] || m.status : '';
  const facts = m.facts || {};
  const from = m.direction === 'in';
  const watched = from ? watchedLabel(facts) : '';
  const content = [...textNodes(m), ...mediaNodes(m.attachments, facts)];
  return el('div', {
    class: `message ${m.direction}${m.status === 'failed' ? ' failed' : ''}`, 'data-testid': 'message',
    'data-id': m.id, 'data-direction': m.direction, 'data-status': m.status,
  }, [
    el('p', { class: 'meta' }, [
      el('span', { class: 'who', text: author(m) }),
      from && m.sender && m.sender !== author(m) && facts.profile_url ? senderAddress(m.sender, facts) : null,
      el('span', { class: 'channel', text: channelName(m) }),
      el('time', { datetime: m.sent_at, title: fullTime(m.sent_at), text: clockTime(m.sent_at) }),
      state ? el('span', { class: 'state', text: state }) : null,
      watched ? el('span', { class: 'watched', text: watched }) : null,
      from ? postLink(facts) : null,
    ]),
    ...(from ? threadContext(facts) : []),
    from && facts.subject ? el('p', { class: 'subject', text: `Subject: ${facts.subject}` }) : null,
    m.joined_by ? el('p', { class: 'joined', 'data-testid': 'joined-by', text: joinedBy(m.joined_by) }) : null,
    ...guarded(content, {
      warning: typeof facts.content_warning === 'string' ? facts.content_warning : '',
      shown: revealed.has(m.id),
      onToggle: (on) => { if (on) revealed.add(m.id); else revealed.delete(m.id); },
    }),
    m.error ? el('p', { class: 'error', text: typeof m.error === 'string' ? m.error : m.error.message || '' }) : null,
  ]);
}
