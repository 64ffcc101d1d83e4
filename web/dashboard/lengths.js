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
};

// The length of `text` in `unit`; null for a unit this dashboard does not know.
export function measure(text, unit) {
  const t = String(text);
  switch (unit) {
    case 'characters': return [...t].length;
    case 'graphemes': return graphemes ? [...graphemes.segment(t)].length : [...t].length;
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
    shown = `${number.format(length)} of ${number.format(rule.max)} ${words(rule.unit, rule.max)}`;
  }
  if (over) shown += `: ${number.format(length - rule.max)} ${words(rule.unit, length - rule.max)} too many to send`;
  return { text: shown, over };
}
