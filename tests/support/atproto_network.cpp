// The C++ side of tests/atproto/network.mjs. The launcher's stderr goes to its log
// (child_process); its stdin and stdout are two Unix socket pairs, one per direction, so that
// our writes use send(MSG_NOSIGNAL) (a launcher that died is an error, not a SIGPIPE) and the
// end of its stdin never shuts its stdout. We keep one end of each, close-on-exec; the other
// ends are opened up only for the moment of the fork, and /bin/sh moves them onto the node
// process's fd 0 and 1 before it execs node, so node is our direct child (killed with the
// test binary, see child_process) and no other child inherits them.
//
// Every command carries an "id" that its answer echoes: a stray line on stdout (a library
// printing there) is skipped instead of being taken for an answer. Calls are serialized by a
// mutex, so answers come back in order. The launcher drops its PostgreSQL however it ends
// (see network.mjs); its TMPDIR is our temp_dir, so whatever dev-env leaves in os.tmpdir()
// goes when we do.
#include "tests/support/atproto_network.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"

namespace askdesk::testing {

namespace {

constexpr std::size_t log_tail = 12000;

std::string tail(const std::string& text) {
  return text.size() > log_tail ? "...\n" + text.substr(text.size() - log_tail) : text;
}

std::string serialize(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

void string_array(json::writer& w, const char* key, const std::vector<std::string>& items) {
  if (items.empty()) return;
  w.key(key).start_array();
  for (const auto& item : items) w.string(item);
  w.end_array();
}

// Both ends close-on-exec; throws naming `what`.
std::pair<int, int> socket_pair(const char* what) {
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    throw std::runtime_error(std::string("atproto_network: socketpair for ") + what + ": " +
                             std::strerror(errno));
  }
  return {ends[0], ends[1]};
}

}  // namespace

atproto_network::atproto_network(atproto_network_options options) {
  const std::string launcher = ASKDESK_SOURCE_DIR "/tests/atproto/network.mjs";
  const auto [commands_ours, commands_theirs] = socket_pair("stdin");
  const auto [answers_ours, answers_theirs] = socket_pair("stdout");
  commands_ = commands_ours;
  answers_ = answers_ours;
  const std::string in = std::to_string(commands_theirs);
  const std::string out = std::to_string(answers_theirs);
  // sh moves our socket ends onto node's stdin and stdout, then becomes node.
  const std::string script =
      "exec node \"$@\" <&" + in + " >&" + out + " " + in + "<&- " + out + ">&-";
  std::vector<std::string> argv{"/bin/sh", "-c", script, "network.mjs", launcher};
  if (options.rate_limits) argv.push_back("--rate-limits");
  fcntl(commands_theirs, F_SETFD, 0);
  fcntl(answers_theirs, F_SETFD, 0);
  try {
    process_ = std::make_unique<child_process>(
        std::move(argv), dir_.file("network.log"),
        std::vector<std::pair<std::string, std::string>>{{"TMPDIR", dir_.path()}});
  } catch (...) {
    for (const int fd : {commands_theirs, answers_theirs, commands_, answers_}) close(fd);
    throw;
  }
  close(commands_theirs);
  close(answers_theirs);

  // The first line says where the services are, or why there are none.
  const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  try {
    for (;;) {
      const std::string line = read_line(deadline, "the network's start");
      auto parsed = json::document::parse(line);
      if (!parsed.ok() || !parsed->root().IsObject() || !parsed->root().HasMember("ok")) continue;
      const rapidjson::Value& ready = parsed->root();
      if (!json::bool_member(ready, "ok")) {
        fail("the network did not start: " + std::string(json::string_member(ready, "error")));
      }
      pds_ = json::string_member(ready, "pds");
      appview_ = json::string_member(ready, "appview");
      plc_ = json::string_member(ready, "plc");
      break;
    }
  } catch (...) {
    close(commands_);
    close(answers_);
    process_->signal(SIGTERM);
    process_->wait(std::chrono::seconds(15));
    throw;
  }
}

atproto_network::~atproto_network() {
  // The end of its stdin: the launcher stops the network and its PostgreSQL, then exits.
  shutdown(commands_, SHUT_WR);
  if (!process_->wait(std::chrono::seconds(20))) {
    process_->signal(SIGTERM);
    if (!process_->wait(std::chrono::seconds(10))) process_->signal(SIGKILL);
  }
  process_->wait(std::chrono::seconds(5));
  close(commands_);
  close(answers_);
  if (::testing::Test::HasFailure()) {
    std::cerr << "--- the AT Protocol network's log (" << dir_.file("network.log") << "):\n"
              << tail(log()) << "--- end of the AT Protocol network's log\n";
  }
}

void atproto_network::fail(const std::string& what) const {
  throw std::runtime_error("atproto_network: " + what + "\n--- the launcher's log (" +
                           dir_.file("network.log") + "):\n" + tail(log()) +
                           "--- end of the launcher's log");
}

std::string atproto_network::read_line(std::chrono::steady_clock::time_point deadline,
                                       const std::string& what) {
  for (;;) {
    const auto end = buffered_.find('\n');
    if (end != std::string::npos) {
      std::string line = buffered_.substr(0, end);
      buffered_.erase(0, end + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) fail("no answer for " + what + " in the time allowed");
    pollfd p{answers_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 200)));
    if (ready < 0 && errno != EINTR) fail(what + ": poll: " + std::strerror(errno));
    if (ready <= 0) {
      if (!process_->running()) fail("the launcher ended during " + what);
      continue;
    }
    char chunk[65536];
    const ssize_t n = recv(answers_, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      process_->wait(std::chrono::seconds(5));
      fail("the launcher closed its stdout during " + what);
    }
    buffered_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string atproto_network::request(const std::string& command, std::chrono::milliseconds wait) {
  std::lock_guard lock(mutex_);
  auto parsed = json::document::parse(command);
  if (!parsed.ok() || !parsed->root().IsObject()) {
    throw std::invalid_argument("atproto_network::request: not a JSON object: " + command);
  }
  const std::string name(json::string_member(parsed->root(), "cmd"));
  const long id = next_id_++;
  // {"id":N, ...the command's members}
  const std::string line = "{\"id\":" + std::to_string(id) +
                           (parsed->root().MemberCount() > 0 ? "," : "") +
                           command.substr(command.find('{') + 1) + "\n";
  for (std::size_t sent = 0; sent < line.size();) {
    const ssize_t n = send(commands_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(name + ": cannot write to the launcher: " + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    std::string answer = read_line(deadline, name);
    auto reply = json::document::parse(answer);
    if (!reply.ok() || !reply->root().IsObject() ||
        json::integer_member(reply->root(), "id", -1) != id) {
      continue;  // not ours: something printed on stdout
    }
    if (!json::bool_member(reply->root(), "ok")) {
      throw std::runtime_error("atproto_network: " +
                               std::string(json::string_member(reply->root(), "error")));
    }
    return answer;
  }
}

namespace {

// The member `key` of the answer line `answer` as JSON text.
std::string member_text(const std::string& answer, const char* key) {
  auto parsed = json::document::parse(answer);
  if (!parsed.ok()) throw std::runtime_error("atproto_network: unreadable answer: " + answer);
  const auto member = parsed->root().FindMember(key);
  if (member == parsed->root().MemberEnd()) {
    throw std::runtime_error(std::string("atproto_network: no \"") + key + "\" in " + answer);
  }
  return serialize(member->value);
}

atproto_record record_of(const std::string& answer) {
  auto parsed = json::document::parse(answer);
  if (!parsed.ok()) throw std::runtime_error("atproto_network: unreadable answer: " + answer);
  return {std::string(json::string_member(parsed->root(), "uri")),
          std::string(json::string_member(parsed->root(), "cid"))};
}

}  // namespace

atproto_account atproto_network::account(const std::string& handle,
                                         const std::string& display_name) {
  json::writer w;
  w.start_object().field("cmd", "account").field("handle", handle);
  if (!display_name.empty()) w.field("displayName", display_name);
  w.end_object();
  const std::string answer = request(w.str());
  auto parsed = json::document::parse(answer);
  const rapidjson::Value& a = parsed->root();
  return {std::string(json::string_member(a, "did")), std::string(json::string_member(a, "handle")),
          std::string(json::string_member(a, "password")),
          std::string(json::string_member(a, "appPassword"))};
}

atproto_record atproto_network::post(const std::string& as, const std::string& text,
                                     const std::vector<std::string>& mentions,
                                     const std::string& reply_to,
                                     const std::vector<std::string>& links) {
  atproto_post p;
  p.as = as;
  p.text = text;
  p.mentions = mentions;
  p.reply_to = reply_to;
  p.links = links;
  return post(p);
}

atproto_record atproto_network::post(const atproto_post& post) {
  json::writer w;
  w.start_object().field("cmd", "post").field("as", post.as).field("text", post.text);
  string_array(w, "mentions", post.mentions);
  string_array(w, "links", post.links);
  string_array(w, "langs", post.langs);
  if (!post.reply_to.empty()) w.field("replyTo", post.reply_to);
  if (!post.rkey.empty()) w.field("rkey", post.rkey);
  if (!post.image_alts.empty()) {
    w.key("images").start_array();
    for (const auto& alt : post.image_alts) w.start_object().field("alt", alt).end_object();
    w.end_array();
  }
  w.end_object();
  return record_of(request(w.str()));
}

void atproto_network::delete_record(const std::string& as, const std::string& uri) {
  json::writer w;
  w.start_object().field("cmd", "delete").field("as", as).field("uri", uri).end_object();
  request(w.str());
}

std::string atproto_network::thread(const std::string& uri) {
  json::writer w;
  w.start_object().field("cmd", "thread").field("uri", uri).end_object();
  return member_text(request(w.str()), "data");
}

std::string atproto_network::notifications(const std::string& as) {
  json::writer w;
  w.start_object().field("cmd", "notifications").field("as", as).end_object();
  return member_text(request(w.str()), "data");
}

std::string atproto_network::search(const std::string& query) {
  json::writer w;
  w.start_object().field("cmd", "search").field("q", query).end_object();
  return member_text(request(w.str()), "data");
}

void atproto_network::process() { request(R"({"cmd":"process"})", std::chrono::seconds(40)); }

atproto_network& shared_atproto_network() {
  static std::mutex starting;
  static std::unique_ptr<atproto_network> network;  // stopped by exit()
  static std::optional<std::string> failure;
  std::lock_guard lock(starting);
  if (network) return *network;
  if (failure) throw std::runtime_error(*failure);
  try {
    network = std::make_unique<atproto_network>();
  } catch (const std::exception& e) {
    failure =
        std::string("the shared AT Protocol network could not start (first try): ") + e.what();
    throw;
  }
  return *network;
}

std::string unique_atproto_handle(const std::string& prefix) {
  static std::atomic<int> next{1};
  std::string label;
  for (const char c : prefix) {
    if (label.size() == 12) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (ok) label += c;
    if (c >= 'A' && c <= 'Z') label += static_cast<char>(c - 'A' + 'a');
  }
  if (label.empty()) label = "user";
  return label + "-" + std::to_string(next++) + ".test";
}

}  // namespace askdesk::testing
