// The staff member's side of routing: their presence switch, how many conversations they
// hold against their capacity, and the offers waiting for them with accept and decline.
// Offers come from /api/v1/me/routing when the lists load and from offer.* events after.
import { api } from './api.js';
import { channelName } from './channels.js';
import { el, patronName } from './dom.js';
import { KeyedList } from './keyed.js';

export class RoutingPanel {
  // `ui` holds the template's presence, capacity, offers and offers-section elements.
  constructor(ui, { user, onAccepted, onOffer, onProblem }) {
    this.ui = ui;
    this.user = user;
    this.onAccepted = onAccepted;
    this.onOffer = onOffer;
    this.onProblem = onProblem;
    // {id, conversation, expires (ms)}, soonest to end first.
    this.offers = new KeyedList(ui.offers, {
      key: (o) => o.id,
      compare: (a, b) => a.expires - b.expires || Number(BigInt(a.id) - BigInt(b.id)),
      create: (o) => this.item(o.id),
      update: (node, o) => this.fill(node, o),
      onFocusLost: () => ui.presence.focus(),
    });
    this.refreshing = null;
    ui.presence.addEventListener('change', async () => {
      try {
        this.show(await api.setPresence(ui.presence.value));
      } catch (e) {
        this.onProblem(e.message);
        this.refresh();
      }
    });
    this.ticker = setInterval(() => this.draw(), 1000);
  }

  stop() {
    clearInterval(this.ticker);
  }

  // Reads the state again (after load, and when something of ours changed). A call that
  // comes while a read is under way reads once more after it: that read may have started
  // before the change that asked.
  refresh() {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.again = false;
    this.refreshing = api.myRouting()
      .then((state) => this.show(state))
      .catch(() => {})
      .finally(() => {
        this.refreshing = null;
        if (this.again) this.refresh();
      });
    return this.refreshing;
  }

  show(state) {
    this.ui.presence.value = state.presence;
    this.ui.capacity.textContent = state.capacity
      ? `${state.open} of ${state.capacity} open` : `${state.open} open`;
    this.ui.capacity.dataset.full = String(state.capacity > 0 && state.open >= state.capacity);
    this.offers.replace(state.offers.map((o) => ({
      id: o.conversation.id, conversation: o.conversation, expires: Date.parse(o.expires),
    })));
    this.draw();
  }

  // An event from /ws/staff.
  onEvent(frame) {
    const data = frame.data || {};
    const forMe = Array.isArray(data.to) && data.to.includes(this.user.name);
    if (frame.event === 'offer.created' && forMe && data.conversation) {
      const c = data.conversation;
      this.offers.set({ id: c.id, conversation: c, expires: Date.parse(data.expires) });
      this.draw();
      this.onOffer(data.conversation);
    } else if (frame.event === 'offer.ended' && forMe) {
      this.offers.delete(frame.conversation);
      this.draw();
    } else if (frame.event === 'conversation.updated' && data.conversation) {
      const c = data.conversation;
      if (c.status !== 'queued' && this.offers.delete(c.id)) this.draw();
    }
  }

  // Counts down the seconds left and drops the offers that ended; the items themselves are
  // keyed, so a click on Accept is never lost to a redraw.
  draw() {
    if (!this.ui.offers.isConnected) {
      this.stop();  // signed out
      return;
    }
    const now = Date.now();
    for (const offer of this.offers.items()) {
      if (offer.expires <= now) this.offers.delete(offer.id);
      else this.offers.node(offer.id).querySelector('.wait').textContent = `${Math.ceil((offer.expires - now) / 1000)} s left`;
    }
    this.ui['offers-section'].hidden = this.offers.size === 0;
  }

  item(id) {
    const accept = el('button', { type: 'button', 'data-testid': 'offer-accept', text: 'Accept' });
    const decline = el('button', { type: 'button', class: 'secondary', 'data-testid': 'offer-decline', text: 'Decline' });
    accept.addEventListener('click', () => this.answer(id, 'accept'));
    decline.addEventListener('click', () => this.answer(id, 'decline'));
    return el('li', { class: 'offer', 'data-testid': 'offer', 'data-conversation': id }, [
      el('span', { class: 'name' }), el('span', { class: 'wait' }), el('span', { class: 'last' }),
      el('span', { class: 'channel' }), el('span', { class: 'actions' }, [accept, decline]),
    ]);
  }

  fill(node, { conversation: c }) {
    const [name, , last, channel] = node.children;
    name.textContent = patronName(c);
    last.textContent = c.last_message ? c.last_message.text : '';
    channel.textContent = [c.topic, channelName(c)].filter(Boolean).join(' · ');
  }

  async answer(id, verb) {
    try {
      const answer = verb === 'accept' ? await api.accept(id) : await api.decline(id);
      this.offers.delete(id);
      this.draw();
      if (verb === 'accept' && answer && answer.conversation) this.onAccepted(answer.conversation);
    } catch (e) {
      this.offers.delete(id);
      this.draw();
      this.onProblem(e.status === 409 ? 'That offer has ended.' : e.message);
    }
    this.refresh();
  }
}
