// The social desk: public posts that mention the library or match a watch wait here, in
// triage, instead of the queue (GET /api/v1/social/items). Staff reply (the post becomes a
// queued conversation, opened here), dismiss it (no answer needed; kept for statistics) or,
// after confirming, mark it as abuse (hidden, and its sender's later posts go straight to the
// abuse list). Three tabs: New, Dismissed, Abuse.
// Each item shows its author with their profile, channel, time, the watch that found it, the
// thread it answers and the post itself — behind its content warning, its sensitive media
// behind a button, and blurred in the abuse list — each revealed on demand, plus a link to
// the post's own page.
// The list is read when the dashboard loads, when the panel opens or changes tab, after an
// action, and when an event says a conversation is (or was) a social item.
import { api } from './api.js';
import { channelName, someChannelIsPublic } from './channels.js';
import { clockTime, el, fullTime } from './dom.js';
import { guarded, mediaNodes, postLink, senderAddress, threadContext, watchedLabel } from './posts.js';

const states = ['new', 'dismissed', 'abuse'];
// The conversation statuses of social items, by the list they are in.
const socialStatuses = new Set(['triage', 'dismissed', 'abuse']);
const emptyText = {
  new: 'No posts wait in triage.', dismissed: 'Nothing dismissed.', abuse: 'No posts marked as abuse.',
};
const listLimit = 200;

export class SocialPanel {
  // `ui` holds the template's social-section, social-toggle, social-count, social-body,
  // social-tab-* (one per state), social-list, social-empty and social-status elements.
  // `onOpen(conversation)` opens a conversation; `onChanged(conversation)` keeps the lists in
  // step; `onProblem(text)` shows an error in the dashboard's error area.
  constructor(ui, { onOpen, onChanged, onProblem }) {
    this.ui = ui;
    this.onOpen = onOpen;
    this.onChanged = onChanged;
    this.onProblem = onProblem;
    this.state = 'new';
    this.items = [];
    this.newCount = 0;
    this.loading = null;
    this.again = false;
    this.loud = false;
    this.busy = new Set();  // conversation ids with an action under way
    this.revealed = new Set();  // conversation ids whose post the reader chose to see
    this.confirming = null;  // {conversation, name, from}: what the abuse dialog asks about
    this.tabs = states.map((s) => ui[`social-tab-${s}`]);
    this.dialog = this.buildDialog();
    ui['social-section'].append(this.dialog);
    ui['social-toggle'].addEventListener('click', () => this.toggle());
    for (const tab of this.tabs) {
      tab.addEventListener('click', () => this.choose(tab.dataset.state));
      tab.addEventListener('keydown', (e) => this.tabKey(e));
    }
  }

  get isOpen() {
    return this.ui['social-toggle'].getAttribute('aria-expanded') === 'true';
  }

  toggle() {
    const open = !this.isOpen;
    this.ui['social-toggle'].setAttribute('aria-expanded', String(open));
    this.ui['social-body'].hidden = !open;
    if (open) this.refresh({ quiet: false });
  }

  // Shows the list of `state`; the tabs follow (one in the tab order: arrows move between them).
  choose(state, { focus = false } = {}) {
    if (!states.includes(state)) return;
    const changed = state !== this.state;
    this.state = state;
    for (const tab of this.tabs) {
      const selected = tab.dataset.state === state;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
    this.ui['social-panel'].setAttribute('aria-labelledby', `social-tab-${state}`);
    if (changed) {
      this.items = [];
      this.ui['social-list'].replaceChildren();
      this.ui['social-empty'].hidden = true;
      this.refresh({ quiet: false });
    }
  }

  tabKey(e) {
    const at = states.indexOf(this.state);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: states.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    this.choose(states[(to + states.length) % states.length], { focus: true });
  }

  // Reads the lists again; calls that come while one is under way make it read once more
  // after it. Quiet refreshes (load, events) leave network errors to the connection indicator.
  refresh({ quiet = true } = {}) {
    if (!quiet) this.loud = true;
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        const loud = this.loud;
        this.loud = false;
        const state = this.state;
        try {
          const [shown, fresh] = await Promise.all([
            api.socialItems(state, listLimit),
            state === 'new' ? null : api.socialItems('new', listLimit),
          ]);
          const items = Array.isArray(shown?.items) ? shown.items : [];
          const newItems = state === 'new' ? items : (Array.isArray(fresh?.items) ? fresh.items : []);
          if (state === this.state) this.show(items);
          this.count(newItems.length);
        } catch (e) {
          if (loud || e.status !== 0) this.onProblem(e.message);
        }
      } while (this.again);
    })().finally(() => { this.loading = null; });
    return this.loading;
  }

  // An event from /ws/staff: a conversation that is a social item, or was one of those shown.
  onEvent(frame) {
    if (!['conversation.created', 'conversation.updated', 'message.created'].includes(frame.event)) return;
    const c = frame.data?.conversation;
    if (!c) return;
    const listed = this.items.some((item) => item.conversation?.id === c.id);
    if (socialStatuses.has(c.status) || listed) this.refresh();
  }

  count(n) {
    this.newCount = n;
    const badge = this.ui['social-count'];
    badge.textContent = n >= listLimit ? `${listLimit}+ new` : `${n} new`;
    badge.hidden = n === 0;
    this.ui['social-section'].hidden = !(someChannelIsPublic() || n > 0 || this.items.length > 0);
  }

  show(items) {
    const list = this.ui['social-list'];
    if (!list.isConnected) return;  // signed out
    this.items = items;
    this.ui['social-empty'].textContent = emptyText[this.state];
    this.ui['social-empty'].hidden = items.length > 0;
    // Rebuilt only when the items changed, so a click or the focus is not lost to a refresh.
    const key = (item) => `${item.conversation.id}:${item.conversation.updated_at}:${this.state}`;
    const shown = [...list.children].map((n) => n.dataset.key);
    if (shown.join() === items.map(key).join()) return;
    const focused = document.activeElement?.closest('[data-testid="social-item"]');
    const focusedAction = focused ? document.activeElement.dataset.action : '';
    const focusedIndex = focused ? [...list.children].indexOf(focused) : -1;
    list.replaceChildren(...items.map((item) => {
      const node = this.item(item);
      node.dataset.key = key(item);
      return node;
    }));
    if (!focused || this.dialog.open) return;
    // The same button of the same item; else (it went) the next item's, else the tab.
    const again = [...list.children].find((n) => n.dataset.id === focused.dataset.id)
      || list.children[Math.min(focusedIndex, list.children.length - 1)];
    const target = again?.querySelector(`[data-action="${focusedAction}"]`)
      || again?.querySelector('[data-action]') || this.tabs[states.indexOf(this.state)];
    target.focus();
  }

  item({ conversation: c, post }) {
    const m = post || {};
    const facts = m.facts || {};
    const describedBy = `social-${c.id}`;
    const name = m.sender_name || c.patron?.name || m.sender || c.patron?.address || 'Someone';
    const address = m.sender || c.patron?.address || '';
    const watched = watchedLabel(facts);
    const thread = Number(c.messages) > 1 ? `${c.messages} posts in this thread` : '';
    const content = [
      el('p', { class: 'text', 'data-testid': 'social-text', text: m.text || '' }),
      ...mediaNodes(m.attachments, facts),
    ];
    const button = (action, text, extra = {}) => {
      const b = el('button', {
        type: 'button', 'data-action': action, 'data-testid': `social-${action}`,
        'aria-describedby': describedBy, text, ...extra,
      });
      b.addEventListener('click', () => this.act(c, action, name));
      return b;
    };
    return el('li', {
      class: `social-item ${this.state}`, 'data-testid': 'social-item', 'data-id': c.id,
      'data-state': this.state,
    }, [
      el('p', { class: 'meta', id: describedBy }, [
        el('span', { class: 'name', 'data-testid': 'social-author', text: name }),
        name !== address ? senderAddress(address, facts) : null,
        el('span', { class: 'channel', 'data-testid': 'social-channel', text: channelName(c) }),
        m.sent_at ? el('time', { datetime: m.sent_at, title: fullTime(m.sent_at), text: clockTime(m.sent_at) }) : null,
        watched ? el('span', { class: 'watched', 'data-testid': 'social-watched', text: watched }) : null,
        thread ? el('span', { text: thread }) : null,
      ]),
      ...threadContext(facts),
      ...guarded(content, {
        warning: facts.content_warning || '',
        blurred: this.state === 'abuse',
        shown: this.revealed.has(c.id),
        onToggle: (on) => { if (on) this.revealed.add(c.id); else this.revealed.delete(c.id); },
      }),
      el('div', { class: 'actions' }, [
        // From the abuse list a reply undoes a mistake: the sender is no longer muted.
        button('reply', this.state === 'abuse' ? 'Reply and unmute' : 'Reply'),
        this.state === 'new' ? button('dismiss', 'Dismiss', { class: 'secondary' }) : null,
        this.state !== 'abuse' ? button('abuse', 'Mark as abuse…', { class: 'secondary danger' }) : null,
        postLink(facts, { 'aria-describedby': describedBy }),
      ]),
    ]);
  }

  // "Mark as abuse" asks first, in a modal dialog whose Cancel has the focus (askAbuse()).
  buildDialog() {
    const text = el('p', { id: 'social-abuse-text' });
    this.abuseText = text;
    const confirm = el('button', { type: 'submit', class: 'danger', 'data-testid': 'social-abuse-confirm', text: 'Mark as abuse' });
    const cancel = el('button', { type: 'button', class: 'secondary', 'data-testid': 'social-abuse-cancel', text: 'Cancel' });
    this.abuseCancel = cancel;
    const form = el('form', { method: 'dialog', novalidate: true }, [
      el('h3', { id: 'social-abuse-title', text: 'Mark this post as abuse?' }),
      text,
      el('div', { class: 'actions' }, [confirm, cancel]),
    ]);
    const dialog = el('dialog', {
      class: 'confirm', 'data-testid': 'social-abuse-dialog',
      'aria-labelledby': 'social-abuse-title', 'aria-describedby': 'social-abuse-text',
    }, [form]);
    cancel.addEventListener('click', () => dialog.close('cancel'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      dialog.close('confirm');
    });
    dialog.addEventListener('close', () => {
      const pending = this.confirming;
      this.confirming = null;
      if (!pending) return;
      if (dialog.returnValue === 'confirm') this.run(pending.conversation, 'abuse', pending.name);
      else pending.from?.focus();
    });
    return dialog;
  }

  askAbuse(conversation, name) {
    this.abuseText.textContent = `The post by ${name} leaves the queue and triage, and ${name} is muted: `
      + 'their later posts go straight to the abuse list.';
    this.confirming = { conversation, name, from: document.activeElement };
    this.dialog.returnValue = '';
    this.dialog.showModal();
    this.abuseCancel.focus();
  }

  act(c, action, name) {
    if (action === 'abuse') {
      if (!this.busy.has(c.id)) this.askAbuse(c, name);
      return;
    }
    this.run(c, action, name);
  }

  async run(c, action, name) {
    if (this.busy.has(c.id)) return;
    this.busy.add(c.id);
    const node = [...this.ui['social-list'].children].find((n) => n.dataset.id === c.id);
    // aria-disabled, not disabled: the focus stays on the button.
    const buttons = node ? [...node.querySelectorAll('button[data-action]')] : [];
    for (const b of buttons) b.setAttribute('aria-disabled', 'true');
    const calls = { reply: api.socialReply, dismiss: api.socialDismiss, abuse: api.socialAbuse };
    const done = { reply: 'is in the queue', dismiss: 'was dismissed', abuse: 'was marked as abuse' };
    let replied = false;
    try {
      const answer = await calls[action](c.id);
      this.ui['social-status'].textContent = `The post by ${name} ${done[action]}.`;
      if (answer?.conversation) this.onChanged(answer.conversation);
      replied = action === 'reply';
    } catch (e) {
      this.onProblem(e.status === 409 ? `That post was already handled: ${e.message}.` : e.message);
    } finally {
      this.busy.delete(c.id);
      for (const b of buttons) b.removeAttribute('aria-disabled');
    }
    await this.refresh({ quiet: false });
    // Then to the conversation, where the reply is written (the focus goes to its reply box).
    if (replied) this.onOpen(c.id);
  }
}
