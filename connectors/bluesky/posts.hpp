// The AT Protocol's shapes as the Bluesky connector reads and writes them (atproto.com,
// the app.bsky lexicons): a post from a notification or a search result turned into what
// askdesk keeps of it (facets applied: links in full, mentions as @handle), a reply's rich
// text (a mention facet for the patron, link facets, UTF-8 byte offsets), record keys (TIDs)
// and a session token's expiry. Pure functions; no I/O.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/message.hpp"
#include "daemon/core/time.hpp"

namespace askdesk::connectors::bluesky {

// Bluesky's longest post, in graphemes.
inline constexpr std::size_t max_post_graphemes = 300;

struct strong_ref {
  std::string uri;
  std::string cid;
};

struct post {
  std::string uri;  // at://did/app.bsky.feed.post/rkey
  std::string cid;
  std::string author_did;
  std::string handle;
  std::string display_name;
  std::string text;  // facets applied
  std::vector<std::string> links;
  std::optional<strong_ref> root;  // record.reply: none for a post that starts a thread
  std::optional<strong_ref> parent;
  std::vector<core::attachment> attachments;  // images (by their alt text), external links
  std::string language;                       // the first of record.langs
  core::timestamp created_at{};
  std::string indexed_at;  // as the AppView wrote it: ISO-8601, the high-water mark's unit
  std::string reason;      // a notification's: mention, reply, quote, ...
};

// An app.bsky.notification.listNotifications item, or an app.bsky.feed.defs#postView (a search
// result), as a post; nullopt with why when it is not a readable post.
std::optional<post> read_notification(const rapidjson::Value& v, std::string* why = nullptr);
std::optional<post> read_post_view(const rapidjson::Value& v, std::string* why = nullptr);

// `text` with its facets applied: a link facet's range becomes the link's full URI (Bluesky
// apps show it shortened), mentions and tags stay as written. Facets out of range, overlapping
// or not on character boundaries are ignored. Adds each link to `links`.
std::string apply_facets(std::string_view text, const rapidjson::Value* facets,
                         std::vector<std::string>& links);

// A reply's text and facets (a JSON array): `@handle ` in front unless the text mentions the
// patron already, a mention facet for it (the patron's did), and a link facet for each
// http(s) URL; offsets in UTF-8 bytes, end exclusive.
struct rich_text {
  std::string text;
  std::string facets;  // JSON array
};
rich_text reply_text(std::string_view text, std::string_view handle, std::string_view did);

// A TID (atproto.com/specs/tid): 13 characters of base32-sortable for 53 bits of microseconds
// since the epoch and a 10-bit clock id.
std::string tid(std::uint64_t micros, unsigned clock_id);
bool plausible_tid(std::string_view tid);

// When a JWT expires: its payload's `exp` (seconds since the epoch), or nullopt.
std::optional<core::timestamp> jwt_expiry(std::string_view jwt);

// "at://did:plc:abc/app.bsky.feed.post/3k..." -> "3k..." ("" when it is not such a URI).
std::string rkey_of(std::string_view uri);

}  // namespace askdesk::connectors::bluesky
