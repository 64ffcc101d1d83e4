// Reading Redis Stream replies (XREAD, XREADGROUP, XRANGE, XAUTOCLAIM) into plain entries.
// Pure functions over replies; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/store/reply.hpp"

namespace askdesk::store {

struct stream_entry {
  std::string id;  // "1700000000000-0"
  std::vector<std::pair<std::string, std::string>> fields;

  // The value of `name`, or "" when the entry has no such field.
  const std::string& field(std::string_view name) const;
};

// Entries of an XRANGE reply, or of one stream in an XREAD/XREADGROUP reply
// ([[stream, [[id, [k, v, ...]], ...]], ...]); a nil reply (timeout) gives none. Deleted
// entries, which XREADGROUP reports with nil fields, are returned with no fields.
std::vector<stream_entry> parse_entries(reply& r);

// Orders stream ids ("ms-seq"): negative, zero or positive like strcmp.
int compare_stream_ids(std::string_view a, std::string_view b);

// True for "<ms>-<seq>" or "<ms>".
bool is_stream_id(std::string_view id);

}  // namespace askdesk::store
