// Failed sends, for supervisors and admins: the "dead letters" of every connector's outbound
// lane (GET /api/v1/outbound/dead), a send the channel refused for good or that ran out of
// retries. A count in the list column; opened, each one with its channel, when it failed,
// the channel's error code and text and the message, a button to open its conversation, and
// Retry (the send goes back on its lane; its message shows 'pending', then what the channel
// answers) and Discard (the message stays failed).
// The list is read when the dashboard loads, when the panel opens, after an action, when a
// message.updated event says a send failed (or a listed message changed: another supervisor
// retried it), and on the dashboard's minute tick (a discard sends no event).
import { api } from './api.js';
import { addressIsPersonal, channelName } from './channels.js';
import { clockTime, el, fullTime } from './dom.js';

export class DeadLetterPanel {
  // `ui` holds the template's dead-section, dead-toggle, dead-count, dead-body, dead-list and
  // dead-empty elements. `onOpen(conversation)` opens a conversation; `onProblem(text)` shows
  // an error in the dashboard's error area.
  constructor(ui, { onOpen, onProblem }) {
    this.ui = ui;
    this.onOpen = onOpen;
    this.onProblem = onProblem;
    this.letters = [];
    this.loading = null;
    this.again = false;
    this.loud = false;  // whether a refresh under way should report its errors
    this.busy = new Set();  // ids with an action under way
    ui['dead-section'].hidden = false;
    ui['dead-toggle'].addEventListener('click', () => this.toggle());
  }

  get isOpen() {
    return this.ui['dead-toggle'].getAttribute('aria-expanded') === 'true';
  }

  toggle() {
    const open = !this.isOpen;
    this.ui['dead-toggle'].setAttribute('aria-expanded', String(open));
    this.ui['dead-body'].hidden = !open;
    if (open) this.refresh({ quiet: false });
  }

  // Reads the list again; calls that come while one is under way make it read once more
  // after it. Quiet refreshes (load, events, the clock) leave network errors to the
  // connection indicator.
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
        try {
          const answer = await api.deadLetters();
          this.show(Array.isArray(answer?.dead_letters) ? answer.dead_letters : []);
        } catch (e) {
          if (e.status === 403) {  // no longer a supervisor
            this.ui['dead-section'].hidden = true;
            return;
          }
          if (loud || e.status !== 0) this.onProblem(e.message);
        }
      } while (this.again);
    })().finally(() => { this.loading = null; });
    return this.loading;
  }

  // An event from /ws/staff.
  onEvent(frame) {
    const m = frame.data?.message;
    if (frame.event !== 'message.updated' || !m) return;
    if (m.status === 'failed' || this.letters.some((l) => l.entry?.message === m.id)) this.refresh();
  }

  show(letters) {
    if (!this.ui['dead-list'].isConnected) return;  // signed out
    // Newest first, whichever lane.
    this.letters = [...letters].sort((a, b) => String(b.failed_at).localeCompare(String(a.failed_at))
      || String(b.id).localeCompare(String(a.id)));
    const count = this.letters.length;
    this.ui['dead-count'].textContent = String(count);
    this.ui['dead-count'].hidden = count === 0;
    this.ui['dead-empty'].hidden = count > 0;
    // Rebuilt only when the letters changed (a letter never changes), so a click or the
    // focus is not lost to a refresh.
    const list = this.ui['dead-list'];
    const shown = [...list.children].map((n) => n.dataset.id);
    if (shown.join() === this.letters.map((l) => l.id).join()) return;
    const focused = document.activeElement?.closest('[data-testid="dead-letter"]');
    const focusedAction = focused ? document.activeElement.dataset.action : '';
    const focusedIndex = focused ? shown.indexOf(focused.dataset.id) : -1;
    list.replaceChildren(...this.letters.map((l) => this.item(l)));
    if (!focused) return;
    // The same button of the same letter; else (it went) the next letter's, else the toggle.
    const again = [...list.children].find((n) => n.dataset.id === focused.dataset.id)
      || list.children[Math.min(focusedIndex, list.children.length - 1)];
    const target = again?.querySelector(`[data-action="${focusedAction}"]`)
      || again?.querySelector('button') || this.ui['dead-toggle'];
    target.focus();
  }

  item(letter) {
    const entry = letter.entry || {};
    const where = { connector: letter.connector || entry.connector };
    const channel = channelName(where) || where.connector || '';
    const patron = entry.patron_name || (addressIsPersonal(where) ? entry.to : '') || '';
    const describedBy = `dead-${letter.id}`;
    const attempts = Number(letter.attempts) > 1 ? `after ${letter.attempts} attempts` : '';
    const button = (action, text, extra = {}) => {
      const b = el('button', {
        type: 'button', 'data-action': action, 'data-testid': `dead-${action}`,
        'aria-describedby': describedBy, text, ...extra,
      });
      b.addEventListener('click', () => this.act(letter, action));
      return b;
    };
    return el('li', {
      class: 'dead-letter', 'data-testid': 'dead-letter', 'data-id': letter.id,
      // Not data-conversation: app.js puts the focus back on the list item that has it.
      'data-for-conversation': entry.conversation || false,
    }, [
      el('p', { class: 'meta', id: describedBy }, [
        el('span', { class: 'channel', 'data-testid': 'dead-channel', text: channel }),
        patron ? el('span', { class: 'name', text: patron }) : null,
        entry.automatic === '1' ? el('span', { text: 'automatic message' }) : null,
        el('time', { datetime: letter.failed_at, title: fullTime(letter.failed_at), text: clockTime(letter.failed_at) }),
        attempts ? el('span', { text: attempts }) : null,
      ]),
      el('p', {
        class: 'error', 'data-testid': 'dead-error',
        text: [letter.error_code, letter.error].filter(Boolean).join(': ') || 'Failed',
      }),
      el('p', { class: 'text', 'data-testid': 'dead-text', text: entry.text || '' }),
      el('div', { class: 'actions' }, [
        entry.conversation ? button('open', 'Open conversation', { class: 'secondary' }) : null,
        button('retry', 'Retry'),
        button('discard', 'Discard', { class: 'secondary' }),
      ]),
    ]);
  }

  async act(letter, action) {
    if (action === 'open') {
      this.onOpen(letter.entry.conversation);
      return;
    }
    if (this.busy.has(letter.id)) return;
    this.busy.add(letter.id);
    const node = [...this.ui['dead-list'].children].find((n) => n.dataset.id === letter.id);
    // aria-disabled, not disabled: the focus stays on the button.
    const buttons = node ? [...node.querySelectorAll('[data-action="retry"], [data-action="discard"]')] : [];
    for (const b of buttons) b.setAttribute('aria-disabled', 'true');
    try {
      if (action === 'retry') await api.retryDead(letter.id);
      else await api.discardDead(letter.id);
    } catch (e) {
      this.onProblem(e.status === 404 ? 'That failed send was already retried or discarded.' : e.message);
    } finally {
      this.busy.delete(letter.id);
      for (const b of buttons) b.removeAttribute('aria-disabled');
    }
    await this.refresh({ quiet: false });
  }
}
