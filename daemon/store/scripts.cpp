#include "daemon/store/scripts.hpp"

#include <openssl/evp.h>

#include "daemon/core/embedded.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/records.hpp"

namespace askdesk {
extern const embedded_file store_scripts[];
}

namespace askdesk::store {

namespace {

constexpr std::string_view names[] = {"ingest",
                                      "apply_inbound",
                                      "claim",
                                      "post_message",
                                      "close",
                                      "tag",
                                      "presence",
                                      "end_sessions",
                                      "login_attempt",
                                      "set_topic",
                                      "set_presence",
                                      "route_apply",
                                      "offer_reply",
                                      "transfer",
                                      "acknowledge",
                                      "delivery_status",
                                      "lease",
                                      "email_transcript",
                                      "save_record",
                                      "take_quota",
                                      "settle_outbound",
                                      "dead_letters",
                                      "own_entry",
                                      "migrate_outbound",
                                      "social_item",
                                      "typing",
                                      "rate",
                                      "redact_conversation",
                                      "redact_patron",
                                      "swap_stream",
                                      "compact_stream",
                                      "audit",
                                      "link_patrons"};
static_assert(std::size(names) == static_cast<std::size_t>(script::count_));

// The functions whose keys all share one hash slot; every other one spans slots, which a
// Redis Cluster allows only with this flag (docs/redis.md says why they stay atomic).
bool single_slot(script s) {
  return s == script::take_quota || s == script::own_entry || s == script::lease;
}

std::string sha1_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
}

}  // namespace

script_set::script_set(const config::redis_options& options) {
  std::string code(find_embedded(store_scripts, "prelude.lua"));
  replace_all(code, "@EVENTS_MAX_LENGTH@", std::to_string(options.events_max_length));
  replace_all(code, "@DEDUP_SECONDS@", std::to_string(options.dedup_days * 86400));
  replace_all(code, "@RECORD_FIELDS@", record_fields_lua());
  // Each function registered under a placeholder, named once the whole source is known.
  for (std::size_t i = 0; i < count; ++i) {
    const auto s = static_cast<script>(i);
    code += "\nredis.register_function{function_name = '@NAME@_" + std::string(names[i]) +
            "', flags = {" + (single_slot(s) ? "" : "'allow-cross-slot-keys'") +
            "}, callback = function(KEYS, ARGV)\n" + calls::describe(s).header() +
            std::string(body(s)) + "\nend}\n";
  }
  library_name_ = "askdesk_" + sha1_hex(code).substr(0, 12);
  replace_all(code, "@NAME@", library_name_);
  library_ = "#!lua name=" + library_name_ + "\n" + code;
  for (std::size_t i = 0; i < count; ++i) {
    function_[i] = library_name_ + "_" + std::string(names[i]);
  }
}

std::string_view script_set::body(script s) const {
  return find_embedded(store_scripts, std::string(names[static_cast<std::size_t>(s)]) + ".lua");
}

std::string_view script_set::name(script s) { return names[static_cast<std::size_t>(s)]; }

}  // namespace askdesk::store
