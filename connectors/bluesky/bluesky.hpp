// The Bluesky channel: patrons mention the library's account and staff answer in the thread,
// through the library's PDS over the AT Protocol (connectors/bluesky/README.md).
//
// Session: com.atproto.server.createSession with the handle and an app password once, then
// refreshSession before the access token expires; the session is kept in Redis, so a restart
// or another daemon does not log in again (logins are limited to 30 per 5 minutes).
//
// Inbound, by polling (one daemon per account at a time, by a Redis lease):
// app.bsky.notification.listNotifications (reasons mention, reply, quote) pages backwards, so
// each round reads until the high-water mark (indexedAt) and stores what is newer, oldest
// first; the mark moves, and updateSeen is called, once that is durable (a post seen twice is
// stored once). Watched keywords come from app.bsky.feed.searchPosts the same way. A post
// becomes a message: its text with link facets in full, images and external links as
// attachments, the author's handle and name, its uri and cid. Mentions and replies wait in
// triage when "triage" is on; watched posts always do. Threading: every post is a thread key;
// a reply joins its parent's conversation, else its root's (reply.root).
//
// Outbound: com.atproto.repo.createRecord of an app.bsky.feed.post in reply to the patron's
// latest post (root and parent strong references), with a mention facet for the patron, link
// facets, langs, and a record key (a TID) fixed before the first attempt and kept in Redis: a
// retry after an uncertain attempt asks com.atproto.repo.getRecord whether it landed, so a
// reply is never posted twice. 300 graphemes at most. RateLimit-Remaining/-Reset and 429 are
// honoured.
#pragma once

#include <memory>

#include "connectors/connector.hpp"

namespace askdesk::connectors {

std::unique_ptr<connector_factory> make_bluesky_factory();

}  // namespace askdesk::connectors
