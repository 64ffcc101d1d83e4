// What the dashboard says of a post beyond its text (web/dashboard/posts.js): who reads a
// reply on a channel whose replies are public, the watch that found a post, which URLs become
// links. Without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setChannels } from '../../web/dashboard/channels.js';
import { replyAudience, watchedLabel, webUrl } from '../../web/dashboard/posts.js';

setChannels([
  { id: 'social1', channel: 'posts', name: 'Posts', public_replies: true, length: { unit: 'graphemes_short_urls', max: 500 } },
  { id: 'chat1', channel: 'chat', name: 'Chat', public_replies: false, length: { unit: 'characters', max: 4000 } },
]);
const onSocial = { connector: 'social1', channel: 'posts', patron: { id: '4', address: '@ada@social.example' } };
const said = (visibility, sender = '@ada@social.example') => ({ direction: 'in', sender, facts: { visibility } });

test('a reply is public unless the patron wrote directly or to followers only', () => {
  assert.deepEqual(replyAudience(onSocial, said('public')), { visibility: 'public', text: 'Public reply: anyone can see it' });
  assert.deepEqual(replyAudience(onSocial, said('unlisted')), { visibility: 'public', text: 'Public reply: anyone can see it' });
  assert.deepEqual(replyAudience(onSocial, null), { visibility: 'public', text: 'Public reply: anyone can see it' });
  assert.deepEqual(replyAudience(onSocial, said('direct')),
    { visibility: 'direct', text: 'Direct message: only @ada@social.example sees it' });
  assert.deepEqual(replyAudience(onSocial, said('private')),
    { visibility: 'private', text: "Followers only: the library's followers and @ada@social.example see it" });
});

test('the patron is named by the conversation\'s address, else by who wrote', () => {
  const detail = { ...onSocial, patron: { id: '4', name: 'Ada' } };  // GET /conversations/{id}'s patron
  assert.equal(replyAudience(detail, said('direct', '@ada@elsewhere.example')).text,
    'Direct message: only @ada@elsewhere.example sees it');
  assert.equal(replyAudience(detail, { facts: { visibility: 'direct' } }).text, 'Direct message: only the patron sees it');
  assert.equal(replyAudience({ ...onSocial, patron: { address: 'bo' } }, said('direct')).text,
    'Direct message: only @bo sees it');
});

test('a channel whose replies are private says nothing', () => {
  assert.equal(replyAudience({ connector: 'chat1', channel: 'chat', patron: {} }, said('public')), null);
  assert.equal(replyAudience({ channel: 'unknown' }, said('public')), null);
  assert.equal(replyAudience(null, null), null);
});

test('a watch names its hashtag or its keyword', () => {
  assert.equal(watchedLabel({ watched: 'hashtag:books' }), 'watched: #books');
  assert.equal(watchedLabel({ watched: 'keyword:Riverside Library' }), 'watched: “Riverside Library”');
  assert.equal(watchedLabel({ watched: 'keyword:a:b' }), 'watched: “a:b”');
  assert.equal(watchedLabel({ watched: 'list' }), 'watched: list');
  assert.equal(watchedLabel({}), '');
  assert.equal(watchedLabel(undefined), '');
});

test('only http(s) URLs become links', () => {
  assert.equal(webUrl('https://social.example/@ada'), 'https://social.example/@ada');
  assert.equal(webUrl('HTTP://x.example'), 'HTTP://x.example');
  assert.equal(webUrl('javascript:alert(1)'), '');
  assert.equal(webUrl('data:text/html,hi'), '');
  assert.equal(webUrl('//x.example'), '');
  assert.equal(webUrl('https:// x'), '');
  assert.equal(webUrl(undefined), '');
});
