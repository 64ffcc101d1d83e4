// The channels this askdesk is configured with, as GET /api/v1/channels describes them (one
// entry per connector, keyed by the connector's id): what each is called, how long a reply may
// be and in what unit, whether a patron's address there means something to staff, and which
// keywords opt a patron out. The dashboard asks these questions here instead of naming
// channels itself. app.js loads the list once; until then, or for a connector the list does
// not know, a channel is called by its raw name and nothing is limited (the server checks).

let entries = [];
let loaded = false;

export function setChannels(list) {
  entries = Array.isArray(list) ? list : [];
  loaded = true;
}

export const channelsLoaded = () => loaded;

// The entry for a conversation, message or patron address ({connector, channel}): the one of
// its connector, else the first of its kind of channel; null when neither is listed.
export function channelOf(item) {
  if (!item) return null;
  return (item.connector && entries.find((e) => e.id === item.connector))
    || (item.channel && entries.find((e) => e.channel === item.channel))
    || null;
}

export function channelName(item) {
  const entry = channelOf(item);
  return (entry && entry.name) || (item && item.channel) || '';
}

// {unit, max} for the replies the channel carries, or null when unknown.
export function lengthRule(item) {
  const length = channelOf(item)?.length;
  return length && typeof length.unit === 'string' && Number.isFinite(length.max) ? length : null;
}

// Whether the patron's address means something to staff (a phone number, not a session id).
export function addressIsPersonal(item) {
  return channelOf(item)?.personal_address !== false;
}

// The word a patron sends to opt out on this channel ('' when there is none).
export function optOutKeyword(item) {
  const words = channelOf(item)?.opt_out;
  return Array.isArray(words) && words.length ? String(words[0]) : '';
}

// Whether everyone can read the replies sent on this channel (social posts).
export function publicReplies(item) {
  return channelOf(item)?.public_replies === true;
}

// Whether any channel this daemon runs posts its replies in public: then the dashboard has a
// social desk to show.
export const someChannelIsPublic = () => entries.some((e) => e.public_replies === true);
