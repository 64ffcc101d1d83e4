// How long a reply is in its channel's unit and what the reply box says about it
// (web/dashboard/lengths.js), without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lengthHint, measure } from '../../web/dashboard/lengths.js';

test('each unit counts as the server does', () => {
  assert.equal(measure('né 😀', 'characters'), 4);
  assert.equal(measure('👍🏽 e\u0301', 'graphemes'), 3);
  assert.equal(measure('a'.repeat(161), 'gsm_segments'), 2);
  assert.equal(measure('né', 'bytes'), 3);
  assert.equal(measure('abc', 'furlongs'), null);
});

test('SMS segments always show, word for word as before', () => {
  const rule = { unit: 'gsm_segments', max: 10 };
  assert.deepEqual(lengthHint('Hi', rule), { text: '1 SMS segment (GSM-7, 2 of 160)', over: false });
  assert.deepEqual(lengthHint('', rule), { text: '', over: false });
  const long = lengthHint('a'.repeat(153 * 11), rule);
  assert.equal(long.over, true);
  assert.equal(long.text, '11 SMS segments (GSM-7, 1683 of 1683): 1 segment too many to send');
});

test('other units show once past 80% of the most, and say how much is too much', () => {
  const rule = { unit: 'characters', max: 4000 };
  assert.deepEqual(lengthHint('a'.repeat(3200), rule), { text: '', over: false });
  assert.deepEqual(lengthHint('a'.repeat(3812), rule), { text: '3,812 of 4,000 characters', over: false });
  assert.deepEqual(lengthHint('a'.repeat(4100), rule),
    { text: '4,100 of 4,000 characters: 100 characters too many to send', over: true });
  assert.deepEqual(lengthHint('éé', { unit: 'bytes', max: 3 }),
    { text: '4 of 3 bytes: 1 byte too many to send', over: true });
});

test('no rule or an unknown unit limits nothing', () => {
  assert.deepEqual(lengthHint('a'.repeat(99999), null), { text: '', over: false });
  assert.deepEqual(lengthHint('abc', { unit: 'furlongs', max: 1 }), { text: '', over: false });
});
