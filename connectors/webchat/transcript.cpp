// "Email me this transcript" (docs/protocol.md, "transcript"): the conversation so far goes
// to the address the patron gives, through the daemon's email connector (its retries, its
// bounces). The daemon keeps the limits: per conversation, per address and day, and
// transcripts_per_hour in all; its refusals (too_many, not_found, unavailable) reach the
// patron as they are. Kept apart from patron_socket.cpp: it is a service offered beside the
// chat, not part of the chat's own protocol.
#include "connectors/webchat/patron_socket.hpp"
#include "daemon/core/text.hpp"

namespace askdesk::connectors {

bool patron_socket::transcripts_by_email() const {
  return owner_.settings().transcripts_per_hour > 0 && owner_.context().serves("email");
}

void patron_socket::email_transcript(const rapidjson::Value& frame) {
  const auto client_id = client_id_of(frame);
  if (!client_id) return;
  const std::string_view address = string_member(frame, "address");
  if (!core::plausible_email(address)) {
    send(error_frame("invalid", "please give an email address, e.g. ada@example.org", *client_id));
    return;
  }
  if (!transcripts_by_email()) {
    send(error_frame("unavailable", "this library does not send email from askdesk", *client_id));
    return;
  }
  auto& context = owner_.context();
  const auto* team = context.config().find_team(team_);
  const std::string library = team ? team->name : team_;
  connector_context::transcript_request request{
      .thread = address_,
      .channel = "email",
      .address = std::string(address),
      .subject = "Your conversation with " + library,
      .intro = "Here is your conversation with " + library + ", as you asked.",
      .per_hour = owner_.settings().transcripts_per_hour,
  };
  std::weak_ptr<patron_socket> weak = weak_from_this();
  context.send_transcript(std::move(request),
                          [weak, id = *client_id, to = std::string(address)](core::status sent) {
                            auto self = weak.lock();
                            if (!self || !*self->alive_) return;
                            if (!sent) {
                              self->send(error_frame(sent.err().code, sent.err().message, id));
                              return;
                            }
                            json::writer w;
                            w.start_object()
                                .field("type", "transcript_ack")
                                .field("client_id", id)
                                .field("address", to)
                                .end_object();
                            self->send(make_frame(w));
                          });
}

}  // namespace askdesk::connectors
