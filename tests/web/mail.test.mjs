// The dashboard's email display helpers (web/dashboard/mail.js), without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileSize, foldText, joinedBy } from '../../web/dashboard/mail.js';

test('the quoted history folds from the line the connector gave', () => {
  const text = 'Thanks!\nSee you.\n\n-- \nAda\n> old';
  assert.deepEqual(foldText(text, { fold_line: '2' }), { shown: 'Thanks!\nSee you.', folded: '-- \nAda\n> old' });
  assert.deepEqual(foldText(text, {}), { shown: text, folded: '' });
  assert.deepEqual(foldText(text, { fold_line: '0' }), { shown: text, folded: '' });
  assert.deepEqual(foldText(text, { fold_line: '99' }), { shown: text, folded: '' });
  assert.deepEqual(foldText(text, { fold_line: 'x' }), { shown: text, folded: '' });
});

test('sizes read like a file manager shows them', () => {
  assert.equal(fileSize(512), '512 bytes');
  assert.equal(fileSize(1536), '1.5 KB');
  assert.equal(fileSize(20 * 1024 * 1024), '20 MB');
  assert.equal(fileSize(-1), '');
  assert.equal(fileSize(undefined), '');
});

test('why a message joined says which header matched', () => {
  assert.equal(joinedBy('In-Reply-To <a@b>'), 'Joined this conversation by its In-Reply-To <a@b>');
  assert.equal(joinedBy(null), '');
});
