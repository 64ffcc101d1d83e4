// Telegram's sending limits as the connector keeps them (the Bot API FAQ: avoid more than one
// message per second in a chat and more than 30 per second in all): each send reserves the
// next free moment for its chat and for the bot, and waits until then. Only the daemon that
// holds the connector's outbound lane sends, so the pace lives in its memory. Plain value
// type.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>

#include "daemon/core/time.hpp"

namespace askdesk::connectors::telegram {

class pacer {
 public:
  pacer(std::chrono::milliseconds per_chat, std::chrono::milliseconds per_bot)
      : per_chat_(per_chat), per_bot_(per_bot) {}

  // Reserves the next moment a message may go to `chat` and says how long from `now` that is:
  // at least `per_chat` after the chat's last, and `per_bot` away from every other reserved
  // moment (a chat waiting for its turn does not hold up the others).
  std::chrono::milliseconds reserve(std::int64_t chat, core::timestamp now) {
    if (next_for_chat_.size() > 1024) {
      std::erase_if(next_for_chat_, [now](const auto& entry) { return entry.second <= now; });
    }
    slots_.erase(slots_.begin(), slots_.lower_bound(now - per_bot_));
    core::timestamp at = now;
    if (const auto it = next_for_chat_.find(chat); it != next_for_chat_.end()) {
      at = std::max(at, it->second);
    }
    for (auto near = slots_.upper_bound(at - per_bot_);
         near != slots_.end() && *near < at + per_bot_; ++near) {
      at = *near + per_bot_;
    }
    slots_.insert(at);
    next_for_chat_[chat] = at + per_chat_;
    return std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  }

 private:
  std::chrono::milliseconds per_chat_;
  std::chrono::milliseconds per_bot_;
  std::map<std::int64_t, core::timestamp> next_for_chat_;
  std::set<core::timestamp> slots_;  // reserved moments, from per_bot_ ago on
};

}  // namespace askdesk::connectors::telegram
