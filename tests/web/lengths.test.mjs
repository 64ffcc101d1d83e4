// How long a reply is in its channel's unit and what the reply box says about it
// (web/dashboard/lengths.js), without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lengthHint, measure, shortened } from '../../web/dashboard/lengths.js';

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

// tests/unit/core/channel_test.cpp, ShortUrlGraphemesCountAsMastodonDoes: the same cases.
test('graphemes_short_urls counts as daemon/core/channel.cpp does', () => {
  const n = (t) => measure(t, 'graphemes_short_urls');
  assert.equal(n('Hello'), 5);
  // Any URL is 23, however long.
  assert.equal(n('See https://library.example.org/a/very/long/path?with=query'), 4 + 23);
  assert.equal(n('(http://x.example)'), 1 + 23);
  // A remote mention counts as its local part.
  assert.equal(n('@ada@mastodon.example hi'), 4 + 3);
  assert.equal(n('@ada hi'), 7);
  // Not a URL or a mention in the middle of a word; graphemes as for Bluesky.
  assert.equal(n('mail@ada@x.y'), 12);
  assert.equal(n('👩‍👩‍👧 and é'), 7);
});

test('graphemes_short_urls: the edges of URLs and mentions', () => {
  const n = (t) => measure(t, 'graphemes_short_urls');
  assert.equal(shortened('HTTPS://A.EXAMPLE/x y'), `${'x'.repeat(23)} y`);  // any case
  assert.equal(n('see:https://a.example'), 21);  // not after a space or '('
  assert.equal(n('ftp://a.example'), 15);
  assert.equal(n('https:/a.example'), 16);
  assert.equal(n('a\thttps://a.example\nb'), 1 + 1 + 23 + 1 + 1);  // any ASCII space ends it
  assert.equal(n('https://a.example/ünï'), 23);  // the URL runs to a space, whatever it holds
  assert.equal(n('@ada@'), 5);  // no domain
  assert.equal(n('@@x.y'), 5);  // no user
  assert.equal(n('@a.b@x.y'), 8);  // a dot ends the user: not a mention
  assert.equal(n('(@ada@x.example)'), 1 + 4 + 1);
  assert.equal(n('@ada@x.example,@bo@y.example'), 4 + 1 + 13);  // the second is mid-word
  assert.equal(n('@ada@x.example @bo@y.example'), 4 + 1 + 3);
  assert.equal(n('@ada_-1@x-y.example.org!'), 8);
  assert.equal(n('@ada@x\u0301'), 4);  // a combining mark joins the last character kept
  assert.equal(n('https://a.example 👍🏽'), 23 + 1 + 1);
  assert.equal(n(''), 0);
});

test('the reply box says a link counts as 23 once past 80%', () => {
  const rule = { unit: 'graphemes_short_urls', max: 500 };
  const fits = `${'a'.repeat(470)} https://library.example/${'p'.repeat(76)}`;
  assert.deepEqual(lengthHint(fits, rule),
    { text: '494 of 500 characters (a link counts as 23)', over: false });
  assert.deepEqual(lengthHint('a'.repeat(501), rule),
    { text: '501 of 500 characters (a link counts as 23): 1 character too many to send', over: true });
  assert.deepEqual(lengthHint('short', rule), { text: '', over: false });
});
