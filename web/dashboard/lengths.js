// How long a reply is in its channel's unit (GET /api/v1/channels: `length.unit` and
// `length.max`), and what the reply box says about it: SMS segments always, any other unit
// once the text passes 80% of the most the channel carries, and how much is too much once it
// is over. Pure functions, tested without a browser.
import { describeSegments, smsSegments } from './gsm.js';

const number = new Intl.NumberFormat('en');
const graphemes = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;
const encoder = new TextEncoder();

// [singular, plural] of each unit as staff read it.
const unitWords = {
  characters: ['character', 'characters'],
  graphemes: ['character', 'characters'],
  gsm_segments: ['segment', 'segments'],
  bytes: ['byte', 'bytes'],
  graphemes_short_urls: ['character', 'characters'],
};

// What staff need to know to read a count in `unit` that is not what they see.
const unitNotes = { graphemes_short_urls: ' (a link counts as 23)' };

// C's isspace() and isalnum() in the C locale, as daemon/core/channel.cpp asks them of each
// byte: only ASCII is a space or a letter there, so testing UTF-16 code units is the same.
const asciiSpace = (c) => c === ' ' || (c >= '\t' && c <= '\r');
const handleChar = (c) => c !== undefined && /^[A-Za-z0-9_.-]$/.test(c);

// `text` as Mastodon counts it (daemon/core/channel.cpp, shortened()): each http(s) URL that
// starts a word (or follows '(') up to the next space as 23 characters, each @user@domain
// as @user.
export function shortened(text) {
  const t = String(text);
  const boundary = (at) => at === 0 || asciiSpace(t[at - 1]) || t[at - 1] === '(';
  let out = '';
  let i = 0;
  while (i < t.length) {
    if (boundary(i) && /^https?:\/\//i.test(t.slice(i, i + 8))) {
      let j = i;
      while (j < t.length && !asciiSpace(t[j])) j += 1;
      out += 'x'.repeat(23);
      i = j;
      continue;
    }
    if (t[i] === '@' && boundary(i)) {
      let userEnd = i + 1;
      while (userEnd < t.length && handleChar(t[userEnd]) && t[userEnd] !== '.') userEnd += 1;
      let domainEnd = userEnd + 1;
      while (domainEnd < t.length && handleChar(t[domainEnd])) domainEnd += 1;
      if (userEnd > i + 1 && t[userEnd] === '@' && domainEnd > userEnd + 1) {
        out += t.slice(i, userEnd);
        i = domainEnd;
        continue;
      }
    }
    out += t[i];
    i += 1;
  }
  return out;
}

const graphemeCount = (t) => (graphemes ? [...graphemes.segment(t)].length : [...t].length);

// The length of `text` in `unit`; null for a unit this dashboard does not know.
export function measure(text, unit) {
  const t = String(text);
  switch (unit) {
    case 'characters': return [...t].length;
    case 'graphemes': return graphemeCount(t);
    case 'graphemes_short_urls': return graphemeCount(shortened(t));
    case 'gsm_segments': return smsSegments(t).segments;
    case 'bytes': return encoder.encode(t).length;
    default: return null;
  }
}

const words = (unit, n) => unitWords[unit][n === 1 ? 0 : 1];

// { text, over } for the reply box under `rule` ({unit, max} or null): what to show ('' for
// nothing) and whether the text is too long to send.
export function lengthHint(text, rule) {
  const length = rule ? measure(text, rule.unit) : null;
  if (length === null || !text) return { text: '', over: false };
  const over = length > rule.max;
  let shown = '';
  if (rule.unit === 'gsm_segments') shown = describeSegments(text);
  else if (over || length > rule.max * 0.8) {
    shown = `${number.format(length)} of ${number.format(rule.max)} ${words(rule.unit, rule.max)}${unitNotes[rule.unit] || ''}`;
  }
  if (over) shown += `: ${number.format(length - rule.max)} ${words(rule.unit, length - rule.max)} too many to send`;
  return { text: shown, over };
}
