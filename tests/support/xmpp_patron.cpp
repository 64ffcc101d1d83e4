// The C++ side of tests/support/xmpp_patron.py. The client's stdout and stderr go to its log
// (child_process), so commands and events travel on a Unix socket pair instead: the client
// gets one end as an inherited descriptor (--commands-fd/--events-fd), we keep the other.
// Both ends are made close-on-exec and the client's end is opened up only for the moment of
// the fork, so no other child (the daemon under test) inherits it and keeps it open.
// Writing uses send(MSG_NOSIGNAL): a client that died is an error, not a SIGPIPE.
//
// A reader thread turns each line the client prints into an xmpp_event, keeps them all, and
// wakes the waiters; without it, a client printing 200 events nobody waits for yet would
// fill the socket and stop reading the server. Commands carry a sequence number and the
// client answers each with "done" or "command_failed" carrying it; the client runs them one
// after the other, so the events between a command and its answer belong to it (the archive).
#include "tests/support/xmpp_patron.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "tests/support/prosody_server.hpp"

namespace askdesk::testing {

namespace {

std::vector<std::string> string_array(const rapidjson::Value& object, const char* key) {
  std::vector<std::string> out;
  if (!object.IsObject()) return out;
  const auto member = object.FindMember(key);
  if (member == object.MemberEnd() || !member->value.IsArray()) return out;
  for (const auto& item : member->value.GetArray()) {
    if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

xmpp_event parse_event(const std::string& line) {
  xmpp_event e;
  e.line = line;
  auto parsed = json::document::parse(line);
  if (!parsed.ok()) {
    e.type = "unreadable";
    e.reason = parsed.err().message;
    return e;
  }
  const rapidjson::Value& v = parsed->root();
  auto text = [&v](const char* key) { return std::string(json::string_member(v, key)); };
  e.type = text("event");
  e.from = text("from");
  e.to = text("to");
  e.id = text("id");
  e.body = text("body");
  e.receipt_requested = json::bool_member(v, "receipt_requested");
  e.chat_state = e.type == "chat_state" ? text("state") : text("chat_state");
  e.delay = text("delay");
  if (e.type == "presence") {
    e.presence_type = text("type");
  } else {
    e.message_type = text("type");
  }
  e.show = text("show");
  e.status = text("status");
  e.error_type = text("error_type");
  e.condition = text("condition");
  e.text = text("text");
  e.archive_id = text("archive_id");
  e.stamp = text("stamp");
  e.reason = text("reason");
  e.features = string_array(v, "features");
  if (e.features.empty()) e.features = string_array(v, "stream_features");
  e.command = text("command");
  e.seq = json::integer_member(v, "seq");
  if (e.type == "session_started" || e.command == "connect") e.from = text("jid");
  return e;
}

std::string tls_name(xmpp_login::tls_mode tls) {
  switch (tls) {
    case xmpp_login::tls_mode::direct:
      return "direct";
    case xmpp_login::tls_mode::none:
      return "none";
    case xmpp_login::tls_mode::starttls:
      break;
  }
  return "starttls";
}

}  // namespace

xmpp_login login_for(const prosody_server& server, const std::string& user,
                     const std::string& password, xmpp_login::tls_mode tls) {
  xmpp_login login;
  login.jid = prosody_server::jid(user);
  login.password = password;
  login.host = server.host();
  login.port = tls == xmpp_login::tls_mode::direct ? server.direct_tls_port() : server.port();
  login.tls = tls;
  login.ca_file = server.ca_file();
  return login;
}

xmpp_patron::xmpp_patron(std::string name) : name_(std::move(name)) {
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    throw std::runtime_error("xmpp_patron " + name_ + ": socketpair: " + std::strerror(errno));
  }
  socket_ = ends[0];
  const int theirs = ends[1];
  fcntl(theirs, F_SETFD, 0);
  try {
    process_ = std::make_unique<child_process>(
        std::vector<std::string>{
            "/usr/bin/python3", std::string(ASKDESK_SOURCE_DIR) + "/tests/support/xmpp_patron.py",
            "--commands-fd", std::to_string(theirs), "--events-fd", std::to_string(theirs)},
        dir_.file(name_ + ".log"));
  } catch (...) {
    close(theirs);
    close(socket_);
    throw;
  }
  close(theirs);
  reader_ = std::thread([this] { read_events(); });
}

xmpp_patron::~xmpp_patron() {
  // The end of the commands: the client closes its stream and exits.
  shutdown(socket_, SHUT_WR);
  if (!process_->wait(std::chrono::seconds(5))) process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(5));
  shutdown(socket_, SHUT_RDWR);
  reader_.join();
  close(socket_);
  if (::testing::Test::HasFailure()) {
    const std::string text = log();
    constexpr std::size_t tail = 30000;
    std::cerr << "--- the XMPP client " << name_ << "'s log"
              << (text.size() > tail ? ", its last 30000 characters" : "") << ":\n"
              << (text.size() > tail ? text.substr(text.size() - tail) : text) << "--- end of "
              << name_ << "'s log\n";
  }
}

void xmpp_patron::read_events() {
  std::string buffer;
  char chunk[65536];
  for (;;) {
    const ssize_t n = recv(socket_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    std::vector<xmpp_event> parsed;
    for (std::size_t end; (end = buffer.find('\n', start)) != std::string::npos; start = end + 1) {
      parsed.push_back(parse_event(buffer.substr(start, end - start)));
    }
    buffer.erase(0, start);
    if (parsed.empty()) continue;
    {
      std::lock_guard lock(mutex_);
      for (auto& e : parsed) events_.push_back(std::move(e));
    }
    arrived_.notify_all();
  }
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
  }
  arrived_.notify_all();
}

xmpp_event xmpp_patron::run(const std::string& command,
                            const std::function<void(json::writer&)>& fields,
                            std::chrono::milliseconds wait) {
  const std::int64_t seq = next_seq_++;
  json::writer w;
  w.start_object().field("seq", seq).field("command", command);
  if (fields) fields(w);
  w.end_object();
  const std::string line = w.str() + "\n";
  for (std::size_t sent = 0; sent < line.size();) {
    const ssize_t n = send(socket_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw std::runtime_error("xmpp_patron " + name_ + ": cannot send " + command +
                               " to the client (it ended?): " + std::strerror(errno));
    }
    sent += static_cast<std::size_t>(n);
  }
  std::unique_lock lock(mutex_);
  std::optional<xmpp_event> answer;
  const bool answered = arrived_.wait_for(lock, wait, [&] {
    for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
      if (it->seq == seq && (it->type == "done" || it->type == "command_failed")) {
        answer = *it;
        return true;
      }
    }
    return ended_;
  });
  if (!answered || !answer) {
    throw std::runtime_error("xmpp_patron " + name_ + ": no answer to " + command +
                             (answered ? " (the client ended)" : " within the time allowed"));
  }
  if (answer->type == "command_failed") {
    throw std::runtime_error("xmpp_patron " + name_ + ": " + command +
                             " failed: " + answer->reason);
  }
  return *answer;
}

core::status xmpp_patron::connect(const xmpp_login& login, std::chrono::milliseconds wait) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wait).count();
  try {
    const xmpp_event done = run(
        "connect",
        [&](json::writer& w) {
          w.field("jid", login.jid)
              .field("password", login.password)
              .field("host", login.host)
              .field("port", login.port)
              .field("tls", tls_name(login.tls))
              .field("auto_receipts", login.auto_receipts)
              .field("timeout", static_cast<std::int64_t>(seconds));
          if (!login.verify_certificate) {
            w.field("insecure", true);
          } else if (!login.ca_file.empty()) {
            w.field("ca_file", login.ca_file);
          }
        },
        wait + std::chrono::seconds(5));
    jid_ = done.from;
    stream_features_ = done.features;
    return {};
  } catch (const std::runtime_error& e) {
    jid_.clear();
    stream_features_.clear();
    return core::error{"unavailable", login.jid + " on " + login.host + ":" +
                                          std::to_string(login.port) + ": " + e.what()};
  }
}

void xmpp_patron::disconnect() { run("disconnect", nullptr); }

std::string xmpp_patron::send_message(const std::string& to, const std::string& body,
                                      const xmpp_message_options& options) {
  return run("message",
             [&](json::writer& w) {
               w.field("to", to).field("body", body).field("type", options.type);
               if (!options.id.empty()) w.field("id", options.id);
               if (options.request_receipt) w.field("request_receipt", true);
               if (!options.chat_state.empty()) w.field("chat_state", options.chat_state);
             })
      .id;
}

std::string xmpp_patron::send_chat_state(const std::string& to, const std::string& state) {
  return run("chat_state", [&](json::writer& w) { w.field("to", to).field("state", state); }).id;
}

std::string xmpp_patron::send_receipt(const std::string& to, const std::string& acknowledged_id) {
  return run("receipt", [&](json::writer& w) { w.field("to", to).field("id", acknowledged_id); })
      .id;
}

std::string xmpp_patron::send_error(const std::string& to, const std::string& id,
                                    const std::string& condition, const std::string& error_type,
                                    const std::string& text) {
  return run("error",
             [&](json::writer& w) {
               w.field("to", to).field("condition", condition).field("error_type", error_type);
               if (!id.empty()) w.field("id", id);
               if (!text.empty()) w.field("text", text);
             })
      .id;
}

void xmpp_patron::send_burst(const std::string& to, int count, const std::string& body_prefix,
                             const std::string& id_prefix, bool request_receipt) {
  run("burst", [&](json::writer& w) {
    w.field("to", to)
        .field("count", count)
        .field("body", body_prefix)
        .field("id", id_prefix)
        .field("request_receipt", request_receipt);
  });
}

void xmpp_patron::subscribe(const std::string& to) {
  run("subscribe", [&](json::writer& w) { w.field("to", to); });
}

void xmpp_patron::accept_subscription(const std::string& from, bool subscribe_back) {
  run("accept_subscription",
      [&](json::writer& w) { w.field("to", from).field("subscribe_back", subscribe_back); });
}

void xmpp_patron::send_presence(const std::string& show, const std::string& status) {
  run("presence", [&](json::writer& w) {
    if (!show.empty()) w.field("show", show);
    if (!status.empty()) w.field("status", status);
  });
}

std::vector<std::string> xmpp_patron::disco_features(const std::string& jid) {
  return run("disco_info",
             [&](json::writer& w) {
               if (!jid.empty()) w.field("jid", jid);
             })
      .features;
}

void xmpp_patron::ping(const std::string& jid) {
  run("ping", [&](json::writer& w) {
    if (!jid.empty()) w.field("jid", jid);
  });
}

std::vector<xmpp_event> xmpp_patron::archive(const std::string& with) {
  const std::int64_t seq = next_seq_;
  run("archive", [&](json::writer& w) {
    if (!with.empty()) w.field("with", with);
  });
  // The client answers commands in order: the archived messages are those printed after the
  // previous command's answer and before this one's.
  std::lock_guard lock(mutex_);
  std::size_t begin = 0, end = events_.size();
  for (std::size_t i = 0; i < events_.size(); ++i) {
    if (events_[i].type != "done" && events_[i].type != "command_failed") continue;
    if (events_[i].seq == seq - 1) begin = i + 1;
    if (events_[i].seq == seq) end = i;
  }
  std::vector<xmpp_event> out;
  for (std::size_t i = begin; i < end; ++i) {
    if (events_[i].type == "archived_message") out.push_back(events_[i]);
  }
  return out;
}

std::vector<xmpp_event> xmpp_patron::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::optional<xmpp_event> xmpp_patron::wait_for(const std::function<bool(const xmpp_event&)>& match,
                                                std::chrono::milliseconds wait) const {
  std::unique_lock lock(mutex_);
  std::optional<xmpp_event> found;
  arrived_.wait_for(lock, wait, [&] {
    for (const auto& e : events_) {
      if (match(e)) {
        found = e;
        return true;
      }
    }
    return ended_;
  });
  return found;
}

std::size_t xmpp_patron::count(const std::function<bool(const xmpp_event&)>& match) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& e : events_) n += match(e) ? 1 : 0;
  return n;
}

bool xmpp_patron::wait_for_count(const std::function<bool(const xmpp_event&)>& match, std::size_t n,
                                 std::chrono::milliseconds wait) const {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, wait, [&] {
    std::size_t seen = 0;
    for (const auto& e : events_) seen += match(e) ? 1 : 0;
    return seen >= n;
  });
}

std::optional<xmpp_event> xmpp_patron::wait_for_message(const std::string& body,
                                                        std::chrono::milliseconds wait) const {
  return wait_for([&](const xmpp_event& e) { return e.type == "message" && e.body == body; }, wait);
}

std::optional<xmpp_event> xmpp_patron::wait_for_receipt(const std::string& id,
                                                        std::chrono::milliseconds wait) const {
  return wait_for([&](const xmpp_event& e) { return e.type == "receipt" && e.id == id; }, wait);
}

std::optional<xmpp_event> xmpp_patron::wait_for_chat_state(const std::string& state,
                                                           std::chrono::milliseconds wait) const {
  return wait_for(
      [&](const xmpp_event& e) { return e.type == "chat_state" && e.chat_state == state; }, wait);
}

}  // namespace askdesk::testing
