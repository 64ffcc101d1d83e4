#include "daemon/store/streams.hpp"

#include <charconv>
#include <cstdint>

namespace askdesk::store {

const std::string& stream_entry::field(std::string_view name) const {
  static const std::string empty;
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return empty;
}

namespace {

void read_range(reply& list, std::vector<stream_entry>& out) {
  if (!list.is_array()) return;
  for (auto& item : list.elements()) {
    if (!item.is_array() || item.size() < 2 || !item[0].is_string()) continue;
    stream_entry entry;
    entry.id = item.elements()[0].take_str();
    auto& flat = item.elements()[1];
    if (flat.is_array()) {
      for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
        entry.fields.emplace_back(flat.elements()[i].take_str(), flat.elements()[i + 1].take_str());
      }
    }
    out.push_back(std::move(entry));
  }
}

bool split_id(std::string_view id, std::uint64_t& ms, std::uint64_t& seq) {
  const std::size_t dash = id.find('-');
  const std::string_view a = id.substr(0, dash);
  const auto [end, ec] = std::from_chars(a.data(), a.data() + a.size(), ms);
  if (ec != std::errc{} || end != a.data() + a.size() || a.empty()) return false;
  seq = 0;
  if (dash == std::string_view::npos) return true;
  const std::string_view b = id.substr(dash + 1);
  const auto [end2, ec2] = std::from_chars(b.data(), b.data() + b.size(), seq);
  return ec2 == std::errc{} && end2 == b.data() + b.size() && !b.empty();
}

}  // namespace

std::vector<stream_entry> parse_entries(reply& r) {
  std::vector<stream_entry> out;
  if (!r.is_array() || r.size() == 0) return out;
  // XREAD shape: an array of [stream name, entries]; XRANGE shape: an array of [id, fields].
  auto& first = r.elements()[0];
  const bool xread = first.is_array() && first.size() == 2 && first[1].is_array() &&
                     (first[1].size() == 0 || first[1][0].is_array());
  if (xread) {
    for (auto& stream : r.elements()) {
      if (stream.is_array() && stream.size() == 2) read_range(stream.elements()[1], out);
    }
  } else {
    read_range(r, out);
  }
  return out;
}

int compare_stream_ids(std::string_view a, std::string_view b) {
  std::uint64_t ams = 0, aseq = 0, bms = 0, bseq = 0;
  split_id(a, ams, aseq);
  split_id(b, bms, bseq);
  if (ams != bms) return ams < bms ? -1 : 1;
  if (aseq != bseq) return aseq < bseq ? -1 : 1;
  return 0;
}

bool is_stream_id(std::string_view id) {
  std::uint64_t ms, seq;
  return !id.empty() && id.size() < 48 && split_id(id, ms, seq);
}

}  // namespace askdesk::store
