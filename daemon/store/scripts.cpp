#include "daemon/store/scripts.hpp"

#include <openssl/evp.h>

#include "daemon/core/embedded.hpp"
#include "daemon/store/inbound_store.hpp"
#include "daemon/store/records.hpp"

namespace askdesk {
extern const embedded_file store_scripts[];
}

namespace askdesk::store {

namespace {

constexpr std::string_view names[] = {"ingest",
                                      "apply_inbound",
                                      "authenticate",
                                      "claim",
                                      "post_message",
                                      "close",
                                      "tag",
                                      "typing",
                                      "presence",
                                      "read_conversation",
                                      "read_patron",
                                      "list_conversations",
                                      "patron_transcript",
                                      "end_sessions",
                                      "login_attempt",
                                      "set_topic",
                                      "set_presence",
                                      "route_snapshot",
                                      "route_apply",
                                      "offer_reply",
                                      "read_staff",
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
                                      "social_items",
                                      "social_item"};
static_assert(std::size(names) == static_cast<std::size_t>(script::count_));

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
  std::string prelude(find_embedded(store_scripts, "prelude.lua"));
  replace_all(prelude, "@EVENTS_MAX_LENGTH@", std::to_string(options.events_max_length));
  replace_all(prelude, "@DEDUP_SECONDS@", std::to_string(options.dedup_days * 86400));
  replace_all(prelude, "@RECORD_FIELDS@", record_fields_lua());
  for (std::size_t i = 0; i < count; ++i) {
    const std::string file = std::string(names[i]) + ".lua";
    const std::string_view body = find_embedded(store_scripts, file);
    source_[i] = prelude + "\n" + std::string(body);
    sha1_[i] = sha1_hex(source_[i]);
  }
}

std::vector<std::string> script_set::sources() const { return {source_.begin(), source_.end()}; }

std::string_view script_set::name(script s) { return names[static_cast<std::size_t>(s)]; }

void run(redis_connection& redis, const script_set& scripts, script s,
         std::span<const std::string_view> args, redis_connection::reply_handler handler) {
  std::vector<std::string_view> argv;
  argv.reserve(args.size() + 3);
  argv.push_back("EVALSHA");
  argv.push_back(scripts.sha1(s));
  argv.push_back("0");
  argv.insert(argv.end(), args.begin(), args.end());
  redis.command(argv, std::move(handler));
}

}  // namespace askdesk::store

namespace askdesk::store {

void run_json(redis_connection& redis, const script_set& scripts, script s,
              std::span<const std::string_view> args,
              std::function<void(core::result<std::string>)> handler) {
  run(redis, scripts, s, args, [handler = std::move(handler), s](reply r) {
    if (r.is_array() && r.size() >= 2 && r[0].is_string() && r[0].str() == "ok" &&
        r[1].is_array()) {
      handler(record_json(r[1]));  // a record: the daemon writes its JSON
      return;
    }
    if (r.is_array() && r.size() >= 2 && r[0].is_string() && r[1].is_string()) {
      if (r[0].str() == "ok") {
        handler(std::move(r.elements()[1].take_str()));
      } else {
        handler(core::error{r[0].str(), r[1].str()});
      }
      return;
    }
    handler(redis_error(r, std::string("running script ") + std::string(script_set::name(s))));
  });
}

}  // namespace askdesk::store
