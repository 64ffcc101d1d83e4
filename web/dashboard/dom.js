// Small DOM helpers. Text from patrons and staff only ever goes in through textContent (the
// `text` attribute of el()), never as HTML.
import { addressIsPersonal } from './channels.js';

export function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

// The elements of `root` marked data-ref="name", as an object.
export function refs(root) {
  const found = {};
  for (const node of root.querySelectorAll('[data-ref]')) found[node.dataset.ref] = node;
  return found;
}

export function clockTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return today ? time : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

export function fullTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
}

// "just now", "4 min", "1 h 12 min", "2 d 3 h".
export function waited(iso, now = Date.now()) {
  const ms = now - new Date(iso).getTime();
  if (!(ms >= 0)) return '';
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

// A patron's name; else, where their address means something to staff (a phone number, an
// email address, not a web session id like "w:3b1f…"), the address.
export function patronName(conversation) {
  const p = conversation.patron || {};
  const anonymous = addressIsPersonal(conversation) ? p.address : 'Anonymous visitor';
  return p.name || p.email || anonymous || 'Patron';
}

// When a waiting conversation started waiting.
export const waitingSince = (c) => c.waiting_since || c.created_at;

// Queue order as the router offers it: what arrived after hours first (in arrival order),
// then priority (routing.priorities), then the longest wait; the id breaks ties.
export function queueOrder(a, b) {
  return Number(Boolean(b.after_hours)) - Number(Boolean(a.after_hours))
    || (a.after_hours ? waitingSince(a).localeCompare(waitingSince(b)) : 0)
    || (b.priority || 0) - (a.priority || 0)
    || waitingSince(a).localeCompare(waitingSince(b))
    || Number(BigInt(a.id) - BigInt(b.id));
}
