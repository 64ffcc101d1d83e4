// The Lua scripts through which askdesk changes its Redis data (daemon/store/scripts/*.lua).
// Each runs atomically and emits its own events, so a change is never visible without its
// event or the reverse. Sources are compiled into the binary, completed with settings from
// the config (event stream length, dedup time) and loaded on every Redis connection during
// its handshake; calls then use EVALSHA. Immutable after construction: thread-safe.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>

#include "daemon/config/config.hpp"
#include "daemon/core/result.hpp"
#include "daemon/store/redis_connection.hpp"

namespace askdesk::store {

enum class script {
  ingest,
  apply_inbound,
  authenticate,
  claim,
  post_message,
  close,
  tag,
  typing,
  presence,
  read_conversation,
  read_patron,
  list_conversations,
  patron_transcript,
  end_sessions,
  login_attempt,
  set_topic,
  set_presence,
  route_snapshot,
  route_apply,
  offer_reply,
  read_staff,
  transfer,
  acknowledge,
  delivery_status,
  lease,
  email_transcript,
  save_record,
  take_quota,
  settle_outbound,
  dead_letters,
  own_entry,
  migrate_outbound,
  social_items,
  social_item,
  count_  // keep last
};

class script_set {
 public:
  explicit script_set(const config::redis_options& options);

  // What every connection loads (redis_connection_options::scripts).
  std::vector<std::string> sources() const;
  const std::string& sha1(script s) const { return sha1_[static_cast<std::size_t>(s)]; }
  static std::string_view name(script s);

 private:
  static constexpr std::size_t count = static_cast<std::size_t>(script::count_);
  std::array<std::string, count> source_;
  std::array<std::string, count> sha1_;
};

// EVALSHA of `s` with `args` as ARGV (no KEYS: key names are fixed, see prelude.lua).
void run(redis_connection& redis, const script_set& scripts, script s,
         std::span<const std::string_view> args, redis_connection::reply_handler handler);

// For the scripts that answer {'ok', JSON} or {code, message} (see prelude.lua): the JSON,
// or an error with the script's code ("not_found", "forbidden", "conflict", ...),
// "unavailable" when Redis did not answer, "redis" for anything unexpected.
void run_json(redis_connection& redis, const script_set& scripts, script s,
              std::span<const std::string_view> args,
              std::function<void(core::result<std::string>)> handler);

}  // namespace askdesk::store
