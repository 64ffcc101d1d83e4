#include "daemon/core/message.hpp"

#include "daemon/core/text.hpp"

namespace askdesk::core {

namespace {

std::optional<std::string> check_field(std::string_view name, const std::string& value,
                                       std::size_t max_bytes, bool required) {
  if (required && value.empty()) return std::string(name) + ": required";
  if (value.size() > max_bytes) {
    return std::string(name) + ": longer than " + std::to_string(max_bytes) + " bytes";
  }
  if (!is_valid_utf8(value)) return std::string(name) + ": not valid UTF-8";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_inbound(const inbound_message& m) {
  const struct {
    std::string_view name;
    const std::string& value;
    std::size_t max;
    bool required;
  } fields[] = {
      {"connector", m.connector, max_name_bytes, true},
      {"channel", m.channel, max_name_bytes, true},
      {"external_id", m.external_id, max_external_id_bytes, true},
      {"thread", m.thread, max_external_id_bytes, true},
      {"sender_address", m.sender_address, max_address_bytes, true},
      {"sender_name", m.sender_name, max_name_bytes, false},
      {"text", m.text, max_text_bytes, false},
      {"team", m.team, max_name_bytes, false},
      {"topic", m.topic, max_name_bytes, false},
  };
  for (const auto& f : fields) {
    if (auto problem = check_field(f.name, f.value, f.max, f.required)) return problem;
  }
  if (m.text.empty() && m.attachments.empty()) return "text: required when there is no attachment";
  for (const auto& a : m.attachments) {
    if (!is_valid_utf8(a.name) || !is_valid_utf8(a.content_type) || !is_valid_utf8(a.url)) {
      return "attachments: not valid UTF-8";
    }
  }
  if (m.references.size() > max_references) {
    return "references: more than " + std::to_string(max_references);
  }
  for (const auto& r : m.references) {
    if (auto problem = check_field("references", r.key, max_external_id_bytes, true))
      return problem;
    if (auto problem = check_field("references", r.header, max_name_bytes, true)) return problem;
  }
  for (const auto& [key, value] : m.facts) {
    if (!is_valid_utf8(key) || !is_valid_utf8(value)) return "facts: not valid UTF-8";
  }
  return std::nullopt;
}

}  // namespace askdesk::core
