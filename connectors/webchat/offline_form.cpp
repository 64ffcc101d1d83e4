// The form the widget offers while the team is closed (docs/protocol.md, "offline"): a
// question and how to answer it. It becomes a conversation on the chosen channel when the
// daemon serves that channel (the acknowledgement and the replies go out there); otherwise it
// stays in this chat, with the address on the patron's record for staff.
//
// A form answered on its own channel makes the library text or email an address nobody has
// checked (SMS pumping), so offline_forms_per_hour caps those for the whole widget; past it a
// form stays in this chat. Kept apart from patron_socket.cpp because it is the one place the
// web chat hands a patron to another channel.
#include <spdlog/spdlog.h>

#include "connectors/webchat/patron_socket.hpp"
#include "daemon/config/team_hours.hpp"
#include "daemon/core/text.hpp"

namespace askdesk::connectors {

namespace {

constexpr std::chrono::hours quota_window{1};

// "+1 (555) 010-0199" -> "+15550100199" (E.164, as the SMS channel needs it); "" unless a
// "+" and 7 to 15 digits.
std::string normalize_phone(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      out += c;
    } else if (c == '+' && out.empty()) {
      out += c;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      return "";
    }
  }
  return out.starts_with('+') && out.size() >= 8 && out.size() <= 16 ? out : "";
}

}  // namespace

void patron_socket::offline(const rapidjson::Value& frame) {
  const auto client_id = client_id_of(frame);
  if (!client_id) return;
  auto& context = owner_.context();
  const auto* team = context.config().find_team(team_);
  if (team && config::opening_at(*team, context.clock().now()).open) {
    send(error_frame("invalid", "the library is open: write in the chat instead", *client_id));
    return;
  }
  const std::string reply_by(string_member(frame, "reply_by"));
  const std::string_view given = string_member(frame, "address");
  std::string address;
  if (reply_by == "email" && core::plausible_email(given)) {
    address = given;
  } else if (reply_by == "sms") {
    address = normalize_phone(given);
  }
  if (address.empty()) {
    send(error_frame("invalid",
                     reply_by == "sms"
                         ? "please give a mobile number with its country code, e.g. +1 555 010 0199"
                         : "please give an email address, e.g. ada@example.org",
                     *client_id));
    return;
  }
  const std::string_view name = string_member(frame, "name");
  if (core::count_code_points(name) > max_name_chars) {
    send(error_frame("invalid", "a name of at most 80 characters, please", *client_id));
    return;
  }
  auto text = accept_text(frame, *client_id);
  if (!text) return;
  if (!name.empty()) name_ = name;
  if (reply_by == "email") email_ = address;

  core::inbound_message m;
  m.external_id = "form:" + address_ + ":" + *client_id;
  m.sender_name = name_;
  m.text = std::move(*text);
  m.team = team_;
  m.facts["offline_form"] = "1";
  m.facts[reply_by == "email" ? "email" : "phone"] = address;
  m.sender_address = address;
  const std::int64_t per_hour = owner_.settings().offline_forms_per_hour;
  if (per_hour == 0 || !context.serves(reply_by)) {
    deliver_offline(std::move(m), "", *client_id);
    return;
  }
  std::weak_ptr<patron_socket> weak = weak_from_this();
  context.take_quota(
      "offline_forms", per_hour, quota_window,
      [weak, m = std::move(m), reply_by, per_hour,
       id = *client_id](core::result<bool> within) mutable {
        auto self = weak.lock();
        if (!self || !*self->alive_) return;
        if (within && !*within) {
          spdlog::warn(
              "webchat {}: an offline form for {} stays in the chat: offline_forms_per_hour ({}) "
              "reached",
              self->owner_.id(), reply_by, per_hour);
        }
        // Not knowing (storage unavailable) keeps it in this chat, as past the cap.
        self->deliver_offline(std::move(m), within && *within ? reply_by : "", id);
      });
}

void patron_socket::deliver_offline(core::inbound_message m, const std::string& elsewhere,
                                    const std::string& client_id) {
  if (!elsewhere.empty()) {
    // The address is only what the visitor typed: the question is a conversation of its own
    // (never joined to the thread of whoever owns that address), it may not rename them, and
    // its text is never read as their SMS STOP or START. The daemon names the connector.
    m.channel = elsewhere;
    m.thread = m.external_id;
  } else {
    m.connector = owner_.id();
    m.channel = "webchat";
    m.thread = address_;
    m.sender_address = address_;
  }
  json::writer w;
  w.start_object()
      .field("type", "offline_ack")
      .field("client_id", client_id)
      .field("channel", m.channel)
      .end_object();
  deliver(std::move(m), client_id, make_frame(w), elsewhere);
}

}  // namespace askdesk::connectors
