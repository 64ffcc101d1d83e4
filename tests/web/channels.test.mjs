// The channel lookups of the dashboard (web/dashboard/channels.js), without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressIsPersonal, channelName, channelOf, channelsLoaded, lengthRule, optOutKeyword, publicReplies,
  setChannels, someChannelIsPublic,
} from '../../web/dashboard/channels.js';

test('before the list arrives a channel goes by its raw name and is not limited', () => {
  assert.equal(channelsLoaded(), false);
  assert.equal(channelName({ channel: 'fax', connector: 'fax1' }), 'fax');
  assert.equal(lengthRule({ channel: 'fax' }), null);
  assert.equal(addressIsPersonal({ channel: 'fax' }), true);
});

test('lookups go by connector id, then by kind of channel, then the raw name', () => {
  setChannels([
    { id: 'desk', channel: 'chat', name: 'Desk chat', length: { unit: 'characters', max: 4000 }, personal_address: false, opt_out: [] },
    { id: 'text1', channel: 'text', name: 'Texts', length: { unit: 'gsm_segments', max: 10 }, personal_address: true, opt_out: ['STOP', 'END'] },
    { id: 'text2', channel: 'text', name: 'Texts (branch)', length: { unit: 'gsm_segments', max: 4 }, personal_address: true, opt_out: [] },
  ]);
  assert.equal(channelsLoaded(), true);
  assert.equal(channelName({ channel: 'text', connector: 'text2' }), 'Texts (branch)');
  assert.equal(channelName({ channel: 'text' }), 'Texts');
  assert.equal(channelName({ channel: 'text', connector: 'gone' }), 'Texts');
  assert.equal(channelName({ channel: 'fax' }), 'fax');
  assert.equal(channelName(null), '');
  assert.equal(channelOf({ channel: 'fax' }), null);
  assert.deepEqual(lengthRule({ channel: 'text', connector: 'text2' }), { unit: 'gsm_segments', max: 4 });
  assert.equal(addressIsPersonal({ channel: 'chat', connector: 'desk' }), false);
  assert.equal(optOutKeyword({ channel: 'text' }), 'STOP');
  assert.equal(optOutKeyword({ channel: 'chat' }), '');
});

test('whether replies are public is the channel\'s trait', () => {
  setChannels([{ id: 'chat1', channel: 'chat', public_replies: false }]);
  assert.equal(someChannelIsPublic(), false);
  assert.equal(publicReplies({ connector: 'chat1' }), false);
  setChannels([
    { id: 'chat1', channel: 'chat', public_replies: false },
    { id: 'posts1', channel: 'posts', public_replies: true },
  ]);
  assert.equal(someChannelIsPublic(), true);
  assert.equal(publicReplies({ connector: 'posts1', channel: 'posts' }), true);
  assert.equal(publicReplies({ channel: 'posts' }), true);
  assert.equal(publicReplies({ connector: 'chat1' }), false);
  assert.equal(publicReplies({ channel: 'fax' }), false);
});
