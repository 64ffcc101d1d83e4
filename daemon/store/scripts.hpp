// The askdesk function library: every Lua function through which askdesk changes its Redis
// data (daemon/store/scripts/*.lua, after the shared prelude.lua). Each runs atomically and
// emits its own events, so a change is never visible without its event or the reverse.
// Sources are compiled into the binary, completed with settings from the config (event
// stream length, dedup time) and each function's generated first line (calls.hpp names its
// keys and arguments), and loaded as one Redis Functions library (FUNCTION LOAD) on every
// connection during its handshake; calls then use FCALL (store/calls.hpp). The library's and
// functions' names carry a hash of its source, so daemons of two versions can share one
// Redis during an upgrade. Immutable after construction (but for the one observer set at
// start, before any call): thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "daemon/config/config.hpp"

namespace askdesk::store {

enum class script {
  ingest,
  apply_inbound,
  claim,
  post_message,
  close,
  tag,
  presence,
  end_sessions,
  login_attempt,
  set_topic,
  set_presence,
  route_apply,
  offer_reply,
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
  social_item,
  typing,
  rate,
  redact_conversation,
  redact_patron,
  swap_stream,
  compact_stream,
  audit,
  link_patrons,
  count_  // keep last
};

// What a function measured on the way: the first staff member on a wait ("assigned") or the
// first reply by a person ("replied"), for the daemon's histograms.
struct first_fact {
  std::string what;                      // "assigned" or "replied"
  std::int64_t start_ms = 0, at_ms = 0;  // the wait's start, the moment
  std::string team, channel;             // the wait's team, the conversation's channel
};

class script_set {
 public:
  explicit script_set(const config::redis_options& options);

  // Who hears of what functions measured (store/calls.cpp tells it). Set once, at start.
  void on_first(std::function<void(const first_fact&)> observer) {
    on_first_ = std::move(observer);
  }
  void noticed(const first_fact& f) const {
    if (on_first_) on_first_(f);
  }

  // The library's source, for FUNCTION LOAD (redis_connection_options::library).
  const std::string& library() const { return library_; }
  // The library's name, "askdesk_<hash>".
  const std::string& library_name() const { return library_name_; }
  // The name FCALL calls `s` by.
  const std::string& function(script s) const { return function_[static_cast<std::size_t>(s)]; }
  // The function's body as written (scripts/<name>.lua), for the tests.
  std::string_view body(script s) const;
  static std::string_view name(script s);

 private:
  static constexpr std::size_t count = static_cast<std::size_t>(script::count_);
  std::string library_, library_name_;
  std::array<std::string, count> function_;
  std::function<void(const first_fact&)> on_first_;
};

}  // namespace askdesk::store
