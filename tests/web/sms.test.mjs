// The dashboard's SMS segment count (web/dashboard/gsm.js), without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSegments, smsSegments } from '../../web/dashboard/gsm.js';

test('GSM-7 fits 160 characters in one segment and 153 per part after that', () => {
  assert.deepEqual(smsSegments('a'.repeat(160)).segments, 1);
  assert.deepEqual(smsSegments('a'.repeat(161)).segments, 2);
  assert.deepEqual(smsSegments('a'.repeat(306)).segments, 2);
  assert.deepEqual(smsSegments('a'.repeat(307)).segments, 3);
  assert.equal(smsSegments('Où est le garçon?').encoding, 'UCS-2');  // ç is not GSM-7, Ç is
  assert.equal(smsSegments('Où est la bibliothèque? Ça va.').encoding, 'GSM-7');
  assert.equal(smsSegments('').segments, 0);
});

test('extension characters count twice', () => {
  assert.equal(smsSegments('€'.repeat(80)).units, 160);
  assert.equal(smsSegments('€'.repeat(80)).segments, 1);
  assert.equal(smsSegments('€'.repeat(81)).segments, 2);
});

test('anything else makes it UCS-2: 70 units, then 67 per part', () => {
  assert.equal(smsSegments('é'.repeat(69) + '’').segments, 1);
  assert.equal(smsSegments('x'.repeat(70) + '’').segments, 2);
  assert.equal(smsSegments('😀'.repeat(35)).units, 70);  // two UTF-16 units each
  assert.equal(smsSegments('😀'.repeat(35)).segments, 1);
  assert.equal(describeSegments('Hi'), '1 SMS segment (GSM-7, 2 of 160)');
  assert.equal(describeSegments('It’s 8 pm'), '1 SMS segment (UCS-2 because of “’”, 9 of 70)');
});
