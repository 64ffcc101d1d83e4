// What a message says about itself beyond its text, as the transcript and the social panel
// show it, whatever its channel: the facts a connector gives (docs/connectors.md) — a content
// warning the text waits behind, media marked sensitive, the author's profile, the post's own
// page, the thread it answers, the watch that found it — and who will read a reply on a
// channel whose replies are public. Channel text only ever goes in as textContent; a URL
// becomes a link only when it is http(s).
import { publicReplies } from './channels.js';
import { el } from './dom.js';
import { fileSize } from './mail.js';

// `value` when it is an http(s) URL, else ''.
export function webUrl(value) {
  return typeof value === 'string' && /^https?:\/\/[^\s]/i.test(value) ? value : '';
}

// "watched: #books", "watched: “Riverside Library”" for facts.watched ("hashtag:books",
// "keyword:Riverside Library"); '' when the post was not found by a watch.
export function watchedLabel(facts) {
  const watched = facts && typeof facts.watched === 'string' ? facts.watched : '';
  if (!watched) return '';
  const [kind, ...rest] = watched.split(':');
  const what = rest.join(':');
  if (kind === 'hashtag' && what) return `watched: #${what}`;
  if (kind === 'keyword' && what) return `watched: “${what}”`;
  return `watched: ${watched}`;
}

// Who reads a reply to `conversation` whose patron last wrote `latest` (their latest message:
// its facts.visibility, its sender): null on a channel whose replies are private anyway,
// else { visibility, text }. The connector answers a direct message directly and a
// followers-only post to followers; anything else is public.
export function replyAudience(conversation, latest) {
  if (!conversation || !publicReplies(conversation)) return null;
  const visibility = latest?.facts?.visibility;
  // GET /conversations/{id} gives the patron's record, without the conversation's address.
  const address = conversation.patron?.address || latest?.sender || '';
  const acct = address && !address.startsWith('@') ? `@${address}` : address;
  if (visibility === 'direct') {
    return { visibility, text: `Direct message: only ${acct || 'the patron'} sees it` };
  }
  if (visibility === 'private') {
    return { visibility, text: `Followers only: the library's followers and ${acct || 'the patron'} see it` };
  }
  return { visibility: 'public', text: 'Public reply: anyone can see it' };
}

// A link that opens outside the dashboard.
export function outsideLink(href, text, attributes = {}) {
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer', text, ...attributes });
}

// A link only for web addresses, or for a file askdesk itself serves to signed-in staff
// (a path under /api/v1/connectors/: the channel's credentials stay in the daemon); a
// channel's URL is never trusted to be one.
export function attachmentNode(a) {
  const about = [a.content_type, fileSize(a.size)].filter(Boolean).join(', ');
  const label = `Attachment: ${a.name || 'file'}${about ? ` (${about})` : ''}`;
  if (webUrl(a.url) || (typeof a.url === 'string' && /^\/api\/v1\/connectors\/[^/]/.test(a.url))) {
    return el('p', { class: 'attachment' }, [outsideLink(a.url, label)]);
  }
  return el('p', { class: 'attachment', text: label });
}

let nextId = 0;
const uniqueId = (prefix) => `${prefix}-${(nextId += 1)}`;

// A disclosure: `button` shows and hides `target` (aria-expanded, aria-controls). `hide(target,
// hidden)` does the hiding; `onToggle(shown)` hears each change.
function disclose(button, target, { shown, showText, hideText, hide, onToggle }) {
  target.id = target.id || uniqueId('reveal');
  button.setAttribute('aria-controls', target.id);
  const set = (on) => {
    button.setAttribute('aria-expanded', String(on));
    button.textContent = on ? hideText : showText;
    hide(target, !on);
  };
  set(shown);
  button.addEventListener('click', () => {
    const on = button.getAttribute('aria-expanded') !== 'true';
    set(on);
    onToggle?.(on);
  });
}

// `content` (nodes) behind what a reader should know first. With a content warning
// (facts.content_warning) the content is hidden and the warning shown; `blurred` (a post
// marked as abuse) keeps it blurred and out of the accessibility tree. Either way one
// "Show post" button reveals it. `shown` reveals it from the start; `onToggle(shown)` hears
// the reader's choice (the transcript keeps it across redraws). Without either, the content
// as it is.
export function guarded(content, { warning = '', blurred = false, shown = false, onToggle } = {}) {
  if (!warning && !blurred) return content;
  const body = el('div', { class: 'guarded-content', 'data-testid': 'guarded-content' }, content);
  const notices = [
    blurred ? el('span', { class: 'abuse-notice', text: 'Marked as abuse.' }) : null,
    warning ? el('span', { class: 'content-warning', 'data-testid': 'content-warning' }, [
      el('span', { class: 'label', text: 'Content warning: ' }), el('span', { text: warning })]) : null,
  ];
  const button = el('button', { type: 'button', class: 'secondary reveal', 'data-testid': 'reveal' });
  disclose(button, body, {
    shown,
    showText: 'Show post',
    hideText: 'Hide post',
    onToggle,
    hide(target, hidden) {
      if (warning) target.hidden = hidden;
      target.classList.toggle('blurred', blurred && hidden);
      if (blurred && hidden) target.setAttribute('aria-hidden', 'true');
      else target.removeAttribute('aria-hidden');
      if (blurred && hidden) target.setAttribute('inert', '');
      else target.removeAttribute('inert');
    },
  });
  return [el('p', { class: 'guard' }, [...notices, button]), body];
}

// The attachments of a message; media marked sensitive (facts.sensitive) wait behind a
// "Show media" button.
export function mediaNodes(attachments, facts) {
  const list = Array.isArray(attachments) ? attachments : [];
  if (list.length === 0) return [];
  const nodes = list.map(attachmentNode);
  if (!(facts && facts.sensitive === '1')) return nodes;
  const box = el('div', { class: 'sensitive-media', 'data-testid': 'sensitive-media' }, nodes);
  const button = el('button', { type: 'button', class: 'secondary reveal', 'data-testid': 'show-media' });
  const count = list.length === 1 ? 'the attachment' : `${list.length} attachments`;
  disclose(button, box, {
    shown: false,
    showText: `Show ${count} (marked sensitive)`,
    hideText: `Hide ${count} (marked sensitive)`,
    hide(target, hidden) { target.hidden = hidden; },
  });
  return [el('p', { class: 'guard' }, [button]), box];
}

// The thread a post answers, above it: where the thread started (facts.root_text, with a link
// to it: facts.root_url) and the post it replies to (facts.parent_text). [] when neither.
export function threadContext(facts) {
  if (!facts || (!facts.parent_text && !facts.root_text)) return [];
  const rootUrl = webUrl(facts.root_url);
  return [el('div', { class: 'thread-context', 'data-testid': 'thread-context' }, [
    facts.root_text ? el('p', { class: 'root', 'data-testid': 'thread-root' }, [
      el('span', { class: 'label', text: 'Thread started with: ' }),
      el('span', { class: 'quote', text: facts.root_text }),
      rootUrl ? ' ' : null,
      rootUrl ? outsideLink(rootUrl, 'open the first post') : null,
    ]) : null,
    facts.parent_text ? el('p', { class: 'parent', 'data-testid': 'thread-parent' }, [
      el('span', { class: 'label', text: 'In reply to: ' }),
      el('span', { class: 'quote', text: facts.parent_text }),
    ]) : null,
  ])];
}

// The sender's address, a link to their profile (facts.profile_url) when there is one.
export function senderAddress(address, facts) {
  if (!address) return null;
  const profile = webUrl(facts && facts.profile_url);
  return profile
    ? outsideLink(profile, address, { class: 'address', 'data-testid': 'profile-link', title: 'Their profile' })
    : el('span', { class: 'address', text: address });
}

// A link to the post's own page (facts.status_url); null without one.
export function postLink(facts, attributes = {}) {
  const url = webUrl(facts && facts.status_url);
  return url ? outsideLink(url, 'Open the post', { class: 'post-link', 'data-testid': 'post-link', ...attributes }) : null;
}
