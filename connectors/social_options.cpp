#include "connectors/social_options.hpp"

#include "daemon/core/text.hpp"

namespace askdesk::connectors {

social_options read_social_options(json::object_reader& block) {
  social_options o;
  o.poll_every = std::chrono::seconds(block.integer("poll_seconds", 30, 1, 3600));
  o.triage = block.boolean("triage", true);
  o.watch_keywords = block.string_list("watch_keywords");
  for (const auto& kw : o.watch_keywords) {
    if (core::trim(kw).empty() || kw.size() > 200) {
      block.out().add(block.child_path("watch_keywords"), "a keyword must be 1 to 200 characters");
    }
  }
  o.reopen_window =
      std::chrono::minutes(block.integer("reopen_minutes", 7 * 24 * 60, 0, 90 * 24 * 60));
  return o;
}

}  // namespace askdesk::connectors
