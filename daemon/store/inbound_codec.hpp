// How an inbound message is laid out in an entry of the `inbound` stream, both ways.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/message.hpp"
#include "daemon/core/result.hpp"
#include "daemon/store/streams.hpp"

namespace askdesk::store {

// Field/value pairs for XADD, in a fixed order.
std::vector<std::pair<std::string, std::string>> encode_inbound(const core::inbound_message& m);

// The message an entry holds; an error naming the entry when a field is missing or broken.
core::result<core::inbound_message> decode_inbound(const stream_entry& entry);

// JSON of attachments ([{"name":…,"content_type":…,"url":…,"size":…}]) and facts ({k: v}).
std::string attachments_json(const std::vector<core::attachment>& attachments);
std::string facts_json(const std::map<std::string, std::string>& facts);
// Facts back from facts_json()'s form; nullopt unless a JSON object (members that are not
// strings are left out).
std::optional<std::map<std::string, std::string>> facts_from_json(std::string_view text);
// [["In-Reply-To","<id>"], ...]; "" when there are none (most channels).
std::string references_json(const std::vector<core::thread_ref>& references);

}  // namespace askdesk::store
