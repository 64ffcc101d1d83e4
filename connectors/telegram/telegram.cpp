#include "connectors/telegram/telegram.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <random>
#include <set>

#include "connectors/poller.hpp"
#include "connectors/telegram/pacer.hpp"
#include "connectors/telegram/updates.hpp"
#include "daemon/core/auto_reply.hpp"
#include "daemon/core/backoff.hpp"
#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/crypto.hpp"
#include "daemon/net/curl_client.hpp"
#include "daemon/net/timer.hpp"

namespace askdesk::connectors {

namespace {

using telegram::update;

constexpr std::size_t max_reply_characters = 16000;
constexpr std::size_t max_file_bytes = 20 * 1024 * 1024;  // getFile serves files up to 20 MB
constexpr int updates_per_poll = 100;
// How long a deep link's team or topic applies to the patron's next messages.
constexpr std::chrono::hours route_lifetime{24};
// How long a split reply remembers which parts went out, for a retry on another attempt.
constexpr std::chrono::hours progress_lifetime{24};

struct telegram_settings final : connector_settings {
  std::string token;
  bool webhook = false;  // "mode": "webhook" instead of "poll"
  std::string api_base = "https://api.telegram.org";
  std::string webhook_secret;
  bool groups = false;
  std::chrono::seconds poll_timeout{25};
  std::chrono::seconds poll_every{1};
  std::chrono::milliseconds reopen_window = std::chrono::hours(24);
};

core::channel_traits telegram_traits() {
  core::channel_traits t;
  t.channel = "telegram";
  t.display_name = "Telegram";
  t.opt_out_keywords = {"/stop"};
  t.opt_in_keywords = {"/start"};
  t.help_keywords = {"/help"};
  t.unit = core::length_unit::characters;
  t.max_length = max_reply_characters;  // split into messages of 4,096 when sent
  t.address_is_personal = false;        // a chat id means nothing to staff; the name does
  return t;
}

// What askdesk keeps of a chat between updates, as record "chat:<id>": the team or topic a
// deep link asked for (for a day), and whether the patron sent /stop (until /start).
struct chat_state {
  std::string team;
  std::string topic;
  bool stopped = false;
  bool changed = false;

  static chat_state from(const state_record& r) {
    chat_state s;
    if (const auto it = r.find("team"); it != r.end()) s.team = it->second;
    if (const auto it = r.find("topic"); it != r.end()) s.topic = it->second;
    s.stopped = r.contains("stopped");
    return s;
  }
  state_record record() const {
    state_record r;
    if (!team.empty()) r["team"] = team;
    if (!topic.empty()) r["topic"] = topic;
    if (stopped) r["stopped"] = "1";
    return r;
  }
};

constexpr std::string_view chat_prefix = "chat:";
std::string chat_record(std::int64_t chat) {
  return std::string(chat_prefix) + std::to_string(chat);
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// How staff's browser should take a file Telegram serves: images inline, anything else as a
// download (a file a patron sent must never run as a page of askdesk's origin).
std::string_view image_type_of(std::string_view path) {
  const auto dot = path.rfind('.');
  const auto ext = core::ascii_lower(dot == std::string_view::npos ? "" : path.substr(dot + 1));
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "png") return "image/png";
  if (ext == "gif") return "image/gif";
  if (ext == "webp") return "image/webp";
  return {};
}

// A file name safe inside a quoted Content-Disposition parameter.
std::string download_name(std::string_view name) {
  std::string out;
  for (const char c : name.substr(0, 128)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f || c == '"' || c == '\\' || c == '/') ? '_' : c;
  }
  return out.empty() ? "file" : out;
}

// A file_path from getFile that may be put in a URL path as it is.
bool plausible_file_path(std::string_view path) {
  if (path.empty() || path.size() > 512 || path.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(path.begin(), path.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '.';
  });
}

class telegram_connector final : public connector {
 public:
  telegram_connector(const telegram_settings& settings, connector_context& context)
      : settings_(settings),
        context_(context),
        traits_(telegram_traits()),
        pacer_(std::chrono::seconds(1), std::chrono::milliseconds(34)),
        webhook_timer_(context.io()),
        random_(std::random_device{}()),
        poller_(
            context,
            {.connector = settings.id,
             .lease = telegram::bot_id_of(settings.token),
             .every = settings.poll_every,
             .lease_ttl = settings.lease_or(2 * settings.poll_timeout + std::chrono::seconds(30))},
            [this](std::shared_ptr<poller::round> round) { poll(std::move(round)); }) {
    if (settings_.webhook) {
      context.add_webhook(
          "POST", webhook_path(), [this](const net::http_request& r) { return vouch(r); },
          [this](const net::http_request& r, const net::route_params&, net::respond_fn respond) {
            receive(r, std::move(respond));
          });
    }
    context.add_staff_route(
        "GET", "files/{file}",
        [this](const net::http_request& r, const net::route_params& p, net::respond_fn respond) {
          serve_file(r, p.get("file"), std::move(respond));
        });
    context.metrics().declare_counter(
        "askdesk_telegram_updates_total",
        "Telegram updates read, by connector and outcome (stored, skipped: not a patron's "
        "message in a chat askdesk serves).");
  }

  const std::string& id() const override { return settings_.id; }
  std::string_view type() const override { return "telegram"; }
  const core::channel_traits& traits() const override { return traits_; }
  std::chrono::milliseconds reopen_window() const override { return settings_.reopen_window; }

  void start() override {
    if (settings_.webhook) {
      set_webhook(1);
    } else {
      poller_.start();
    }
  }

  void stop() override {
    poller_.stop();
    webhook_timer_.cancel();
  }

  void send(const outbound_message& m, std::function<void(send_result)> done) override {
    const auto chat = parse_int(m.to);
    if (!chat) {
      done(send_result::permanent("'" + m.to + "' is not a Telegram chat id"));
      return;
    }
    auto job = std::make_shared<send_job>(context_.io());
    job->chat = *chat;
    job->message = m.message;
    job->parts = telegram::split_text(m.text, telegram::max_message_units);
    job->deadline = context_.clock().now() + settings_.lane.send_timeout - std::chrono::seconds(1);
    job->done = std::move(done);
    if (job->parts.empty()) {
      finish(job, send_result::permanent("the reply is empty"));
      return;
    }
    if (job->parts.size() == 1) {
      send_part(job);
      return;
    }
    // A split reply: an earlier attempt may have sent its first parts already.
    context_.load(progress_record(job->message), [this, job](core::result<state_record> r) {
      if (!r) {
        finish(job, send_result::retry("reading which parts were sent: " + r.err().message));
        return;
      }
      if (const auto it = r->find("next"); it != r->end()) {
        job->next = std::min<std::size_t>(parse_int(it->second).value_or(0), job->parts.size());
      }
      if (const auto it = r->find("first"); it != r->end()) job->first_id = it->second;
      send_part(job);
    });
  }

  connector_health health() const override {
    if (settings_.webhook) return health_;
    return poller_.health(health_);
  }

 private:
  // ---- the Bot API --------------------------------------------------------------------

  // POSTs `params` (a JSON object) to method `name`.
  void call(std::string_view name, std::string params, std::chrono::milliseconds timeout,
            std::function<void(core::result<net::incoming_response>)> done) {
    net::outgoing_request r;
    r.method = "POST";
    r.url = settings_.api_base + "/bot" + settings_.token + "/" + std::string(name);
    r.headers = {{"Content-Type", "application/json"}};
    r.body = std::move(params);
    r.timeout = timeout;
    context_.http().send(
        std::move(r), [this, done = std::move(done)](core::result<net::incoming_response> answer) {
          done(redacted(std::move(answer)));
        });
  }

  // `answer` with the token cut out of an error's message: the client's errors name the URL,
  // and these end up in logs, /healthz and staff's view.
  core::result<net::incoming_response> redacted(core::result<net::incoming_response> answer) const {
    if (answer) return answer;
    std::string message = answer.err().message;
    for (auto at = message.find(settings_.token); at != std::string::npos;
         at = message.find(settings_.token, at)) {
      message.replace(at, settings_.token.size(), "<token>");
    }
    return core::error{answer.err().code, std::move(message)};
  }

  // The `result` of a successful answer ({"ok": true, "result": ...}), or why there is none.
  // Never names the URL: it holds the token.
  static core::result<json::document> result_of(std::string_view method,
                                                const core::result<net::incoming_response>& r) {
    if (!r) return core::error{r.err().code, std::string(method) + ": " + r.err().message};
    if (r->status != 200) {
      const auto e = telegram::read_error(r->status, r->body);
      return core::error{"refused",
                         std::string(method) + ": " + std::to_string(e.code) + " " + e.description};
    }
    auto doc = json::document::parse(r->body);
    if (!doc || !doc->root().IsObject() || !json::bool_member(doc->root(), "ok") ||
        !doc->root().HasMember("result")) {
      return core::error{"malformed",
                         std::string(method) + ": the Bot API's answer is not {\"ok\":true,...}"};
    }
    return std::move(*doc);
  }

  void note_error(std::string message) {
    spdlog::warn("telegram {}: {}", settings_.id, message);
    health_.last_error = std::move(message);
    health_.last_error_at = context_.clock().now();
  }

  void count(std::string_view outcome, std::int64_t n = 1) {
    if (n > 0) {
      context_.metrics().add("askdesk_telegram_updates_total",
                             {{"connector", settings_.id}, {"outcome", std::string(outcome)}}, n);
    }
  }

  // ---- receiving ------------------------------------------------------------------------

  using deliver_fn =
      std::function<void(std::vector<core::inbound_message>, std::function<void(bool)>)>;

  // What one ingest() works on, until its `then`.
  struct ingest_batch {
    std::vector<update> updates;
    std::map<std::int64_t, chat_state> chats;
    std::size_t waiting = 0;
    bool failed = false;
    deliver_fn deliver;
    std::function<void(bool)> then;
  };

  // Turns updates into messages and stores them, in order; `then(true)` once every one is
  // durable (or skipped) and the chats' state saved, `then(false)` when something could not
  // be stored now (the updates are read again; duplicates are dropped).
  void ingest(std::vector<update> updates, deliver_fn deliver, std::function<void(bool)> then) {
    auto b = std::make_shared<ingest_batch>();
    for (const auto& u : updates) {
      if (u.what == update::kind::message) b->chats.emplace(u.chat_id, chat_state{});
    }
    b->updates = std::move(updates);
    b->deliver = std::move(deliver);
    b->then = std::move(then);
    if (b->chats.empty()) {
      decide(b);
      return;
    }
    b->waiting = b->chats.size();
    for (const auto& entry : b->chats) {
      const auto chat = entry.first;
      context_.load(chat_record(chat), [this, b, chat](core::result<state_record> r) {
        if (!r) {
          b->failed = true;
        } else {
          b->chats[chat] = chat_state::from(*r);
        }
        if (--b->waiting > 0) return;
        if (b->failed) {
          b->then(false);
          return;
        }
        decide(b);
      });
    }
  }

  // The messages the batch's updates make, given their chats' state, which they change.
  void decide(const std::shared_ptr<ingest_batch>& b) {
    std::vector<core::inbound_message> messages;
    std::int64_t skipped = 0;
    for (const auto& u : b->updates) {
      if (u.what != update::kind::message) {
        ++skipped;
        spdlog::debug("telegram {}: skipped update {}: {}", settings_.id, u.update_id, u.why);
        continue;
      }
      auto& chat = b->chats[u.chat_id];
      if (u.command == "start") {
        // A deep link's payload routes what the patron writes next; /start itself is shown
        // only when it opts a patron back in.
        if (const auto* t = context_.config().find_team(u.command_argument)) {
          chat.team = t->id;
          chat.topic.clear();
          chat.changed = true;
        } else if (const auto* t = context_.config().find_topic(u.command_argument)) {
          chat.topic = t->id;
          chat.team.clear();
          chat.changed = true;
        }
        if (!chat.stopped) {
          ++skipped;
          continue;
        }
        chat.stopped = false;
        chat.changed = true;
        messages.push_back(message_from(u, "/start", chat));
        continue;
      }
      if (u.command == "stop" || u.command == "help") {
        if (u.command == "stop" && !chat.stopped) {
          chat.stopped = true;
          chat.changed = true;
        }
        messages.push_back(message_from(u, "/" + u.command, chat));
        continue;
      }
      messages.push_back(message_from(u, u.text, chat));
    }
    count("skipped", skipped);
    const auto stored = static_cast<std::int64_t>(messages.size());
    b->deliver(std::move(messages), [this, b, stored](bool ok) {
      if (!ok) {
        b->then(false);
        return;
      }
      count("stored", stored);
      save_chats(b);
    });
  }

  void save_chats(const std::shared_ptr<ingest_batch>& b) {
    b->waiting = 0;
    for (const auto& entry : b->chats) {
      if (entry.second.changed) ++b->waiting;
    }
    if (b->waiting == 0) {
      b->then(true);
      return;
    }
    for (const auto& [chat, state] : b->chats) {
      if (!state.changed) continue;
      // An opt-out lasts until /start; a deep link's route for a day.
      const std::chrono::seconds ttl = state.stopped ? std::chrono::seconds(0) : route_lifetime;
      context_.save(chat_record(chat), state.record(), ttl, [this, b](core::status saved) {
        if (!saved) {
          b->failed = true;
          note_error("saving a chat's state: " + saved.err().message);
        }
        if (--b->waiting == 0) b->then(!b->failed);
      });
    }
  }

  core::inbound_message message_from(const update& u, std::string text,
                                     const chat_state& chat) const {
    core::inbound_message m;
    m.external_id = std::to_string(u.chat_id) + ":" + std::to_string(u.message_id);
    m.thread = std::to_string(u.chat_id);
    m.sender_address = m.thread;
    m.sender_name = u.sender_name;
    m.text = std::move(text);
    m.sent_at = u.sent_at;
    m.received_at = context_.clock().now();
    m.team = chat.team;
    m.topic = chat.topic;
    if (!u.username.empty()) m.facts["username"] = "@" + u.username;
    if (!u.language.empty()) m.facts[std::string(core::fact_language)] = u.language;
    if (u.chat_type != "private") m.facts["chat_type"] = u.chat_type;
    for (const auto& f : u.files) {
      core::attachment a;
      a.name = f.name;
      a.content_type = f.content_type;
      a.size = f.size;
      a.url =
          context_.staff_path("files/" + f.file_id) + "?" + net::encode_form({{"name", f.name}});
      m.attachments.push_back(std::move(a));
    }
    return m;
  }

  // ---- polling ----------------------------------------------------------------------------

  void poll(std::shared_ptr<poller::round> round) {
    if (webhook_cleared_) {
      get_updates(std::move(round));
      return;
    }
    // Polling is refused while a webhook is set: a bot that was in webhook mode before.
    call("deleteWebhook", R"({"drop_pending_updates":false})", std::chrono::seconds(15),
         [this, round](core::result<net::incoming_response> r) {
           if (round->stopped()) {
             round->done();
             return;
           }
           if (auto ok = result_of("deleteWebhook", r); !ok) {
             round->failed(ok.err().message);
             return;
           }
           webhook_cleared_ = true;
           get_updates(round);
         });
  }

  void get_updates(std::shared_ptr<poller::round> round) {
    json::writer w;
    w.start_object();
    if (const auto it = round->cursor().find("offset"); it != round->cursor().end()) {
      if (const auto offset = parse_int(it->second)) w.field("offset", *offset);
    }
    w.field("limit", updates_per_poll)
        .field("timeout", static_cast<std::int64_t>(settings_.poll_timeout.count()))
        .key("allowed_updates")
        .start_array()
        .string("message")
        .end_array()
        .end_object();
    const auto started = context_.clock().now();
    call("getUpdates", w.str(), settings_.poll_timeout + std::chrono::seconds(15),
         [this, round, started](core::result<net::incoming_response> r) {
           if (round->stopped()) {
             round->done();
             return;
           }
           if (r && r->status != 200) {
             const auto e = telegram::read_error(r->status, r->body);
             if (e.code == 409) webhook_cleared_ = false;  // a webhook was set meanwhile
             round->failed("getUpdates: " + std::to_string(e.code) + " " + e.description,
                           e.retry_after);
             return;
           }
           auto answer = result_of("getUpdates", r);
           if (!answer) {
             round->failed(answer.err().message);
             return;
           }
           const auto& result = answer->root()["result"];
           if (!result.IsArray()) {
             round->failed("getUpdates: the result is not a list of updates");
             return;
           }
           std::vector<update> updates;
           for (const auto& item : result.GetArray()) {
             auto u = telegram::read_update(item, settings_.groups);
             if (!u) {  // nothing moves: the round is read again, and the error is on /healthz
               round->failed("getUpdates: an update has no update_id");
               return;
             }
             updates.push_back(std::move(*u));
           }
           std::int64_t last = 0;
           for (const auto& u : updates) last = std::max(last, u.update_id);
           const bool any = !updates.empty();
           // A long poll that really waited may be asked again at once; a server that answers
           // an empty poll at once is asked again after poll_seconds.
           const bool waited = context_.clock().now() - started >= std::chrono::seconds(1);
           ingest(
               std::move(updates),
               [round](std::vector<core::inbound_message> batch, std::function<void(bool)> then) {
                 round->deliver(std::move(batch), std::move(then));
               },
               [round, last, any, waited](bool stored) {
                 if (!stored) {
                   round->failed("an update could not be stored; it is read again");
                   return;
                 }
                 if (!any) {
                   round->done(waited);
                   return;
                 }
                 round->save_cursor({{"offset", std::to_string(last + 1)}},
                                    [round] { round->done(true); });
               });
         });
  }

  // ---- the webhook ------------------------------------------------------------------------

  std::string webhook_path() const { return "/webhooks/telegram/" + settings_.id; }

  core::status vouch(const net::http_request& r) const {
    if (!net::constant_time_equal(r.header("x-telegram-bot-api-secret-token"),
                                  settings_.webhook_secret)) {
      spdlog::warn("telegram {}: refused a webhook from {}: wrong or missing secret token",
                   settings_.id, r.remote_address);
      return core::error{"forbidden", "X-Telegram-Bot-Api-Secret-Token does not match"};
    }
    return {};
  }

  void receive(const net::http_request& r, net::respond_fn respond) {
    if (!context_.accepting()) {
      respond(net::http_response::error(503, "unavailable", "try again later"));
      return;
    }
    auto doc = json::document::parse(r.body);
    auto u = doc ? telegram::read_update(doc->root(), settings_.groups) : std::nullopt;
    if (!u) {
      respond(net::http_response::error(400, "invalid", "the body is not a Telegram Update"));
      return;
    }
    std::vector<update> updates;
    updates.push_back(std::move(*u));
    ingest(
        std::move(updates),
        [this](std::vector<core::inbound_message> batch, std::function<void(bool)> then) {
          deliver_each(std::make_shared<std::vector<core::inbound_message>>(std::move(batch)), 0,
                       std::move(then));
        },
        [this, respond = std::move(respond)](bool stored) {
          if (!stored) {
            respond(net::http_response::error(503, "unavailable", "try again later"));
            return;
          }
          health_.last_success = context_.clock().now();
          respond(net::http_response::json(200, "{}"));
        });
  }

  // Delivers `batch` from `i` on, one after another.
  void deliver_each(std::shared_ptr<std::vector<core::inbound_message>> batch, std::size_t i,
                    std::function<void(bool)> then) {
    if (i == batch->size()) {
      then(true);
      return;
    }
    auto m = (*batch)[i];
    context_.deliver(std::move(m), [this, batch, i,
                                    then = std::move(then)](core::result<delivery> stored) mutable {
      if (!stored && stored.err().code != "invalid") {
        note_error("storing a message: " + stored.err().message);
        then(false);
        return;
      }
      if (!stored) note_error("a message was refused: " + stored.err().message);
      deliver_each(batch, i + 1, std::move(then));
    });
  }

  // Tells Telegram where to post updates, with the secret, trying again until it agrees.
  void set_webhook(int attempt) {
    const std::string url = context_.config().http.public_url + webhook_path();
    if (!url.starts_with("https://")) {
      spdlog::warn(
          "telegram {}: Telegram posts updates only to https:// URLs, and {} is not one "
          "(set http.public_url)",
          settings_.id, url);
    }
    json::writer w;
    w.start_object()
        .field("url", url)
        .field("secret_token", settings_.webhook_secret)
        .key("allowed_updates")
        .start_array()
        .string("message")
        .end_array()
        .end_object();
    call("setWebhook", w.str(), std::chrono::seconds(15),
         [this, attempt, url](core::result<net::incoming_response> r) {
           if (auto ok = result_of("setWebhook", r); !ok) {
             note_error(ok.err().message);
             webhook_timer_.after(
                 core::backoff(std::chrono::seconds(1), std::chrono::minutes(5), attempt, random_),
                 [this, attempt] { set_webhook(attempt + 1); });
             return;
           }
           spdlog::info("telegram {}: Telegram posts updates to {}", settings_.id, url);
           health_.last_success = context_.clock().now();
         });
  }

  // ---- sending ----------------------------------------------------------------------------

  struct send_job {
    explicit send_job(boost::asio::io_context& io) : wait(io) {}
    std::int64_t chat = 0;
    std::string message;
    std::vector<std::string> parts;
    std::size_t next = 0;
    std::string first_id;  // the first part's message_id
    core::timestamp deadline{};
    net::timer wait;
    std::function<void(send_result)> done;
  };

  static std::string progress_record(const std::string& message) { return "sending:" + message; }

  void send_part(std::shared_ptr<send_job> job) {
    if (job->next == job->parts.size()) {
      if (job->parts.size() > 1) {
        context_.erase(progress_record(job->message), [](core::status) {});
      }
      health_.last_success = context_.clock().now();
      finish(job, send_result::sent(std::to_string(job->chat) + ":" + job->first_id));
      return;
    }
    const auto now = context_.clock().now();
    const auto wait = pacer_.reserve(job->chat, now);
    if (now + wait >= job->deadline) {
      finish(job, send_result::retry("the rest of the reply waits for Telegram's pace"));
      return;
    }
    if (wait > std::chrono::milliseconds(0)) {
      job->wait.after(wait, [this, job] { post_part(job); });
      return;
    }
    post_part(job);
  }

  void post_part(std::shared_ptr<send_job> job) {
    json::writer w;
    w.start_object().field("chat_id", job->chat).field("text", job->parts[job->next]).end_object();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(job->deadline -
                                                                            context_.clock().now());
    call("sendMessage", w.str(), std::max<std::chrono::milliseconds>(left, std::chrono::seconds(1)),
         [this, job](core::result<net::incoming_response> r) { part_sent(job, r); });
  }

  void part_sent(std::shared_ptr<send_job> job, const core::result<net::incoming_response>& r) {
    const std::string which = job->parts.size() == 1
                                  ? std::string("the reply")
                                  : "part " + std::to_string(job->next + 1) + " of " +
                                        std::to_string(job->parts.size()) + " of the reply";
    if (!r) {
      note_error("sendMessage: " + r.err().message);
      // The Bot API has no idempotency key: what may have reached it is not sent again (the
      // patron could get it twice); staff see why.
      if (r.err().code == "uncertain") {
        finish(job, send_result::permanent("Telegram may have taken " + which +
                                           " before the connection failed, so it is not sent "
                                           "again: " +
                                           r.err().message));
      } else {
        finish(job, send_result::retry(r.err().message));
      }
      return;
    }
    if (r->status != 200) {
      const auto e = telegram::read_error(r->status, r->body);
      note_error("sendMessage: " + std::to_string(e.code) + " " + e.description);
      const std::string code = std::to_string(e.code);
      if (e.code == 429 || e.code >= 500 || r->status >= 500 || e.code == 401 || e.code == 404) {
        // Too fast, Telegram's trouble, or a token it does not know (fixed in the config,
        // the reply still goes out): later.
        auto retry = send_result::retry(e.description, code);
        retry.retry_after = e.retry_after;
        finish(job, std::move(retry));
      } else {  // 403: the patron blocked the bot; 400: no such chat, or the text is refused
        finish(job, send_result::permanent(e.description, code));
      }
      return;
    }
    auto answer = result_of("sendMessage", r);
    if (!answer) {
      note_error(answer.err().message);
      finish(job, send_result::permanent("Telegram took " + which +
                                         " but its answer is unreadable, so it is not sent "
                                         "again"));
      return;
    }
    const auto id = json::integer_member(answer->root()["result"], "message_id");
    if (job->next == 0) job->first_id = std::to_string(id);
    ++job->next;
    if (job->parts.size() == 1 || job->next == job->parts.size()) {
      send_part(job);
      return;
    }
    // Remembered before the next part, so another attempt goes on from here.
    context_.save(progress_record(job->message),
                  {{"next", std::to_string(job->next)}, {"first", job->first_id}},
                  std::chrono::duration_cast<std::chrono::seconds>(progress_lifetime),
                  [this, job](core::status saved) {
                    if (!saved) note_error("remembering a split reply: " + saved.err().message);
                    send_part(job);
                  });
  }

  void finish(const std::shared_ptr<send_job>& job, send_result result) {
    if (auto done = std::move(job->done)) done(std::move(result));
  }

  // ---- files for staff -----------------------------------------------------------------

  void serve_file(const net::http_request& r, const std::string& file, net::respond_fn respond) {
    if (!telegram::plausible_file_id(file)) {
      respond(net::http_response::error(404, "not_found", "no such Telegram file"));
      return;
    }
    const std::string name = download_name(r.query_param("name").value_or("file"));
    json::writer w;
    w.start_object().field("file_id", file).end_object();
    call("getFile", w.str(), std::chrono::seconds(15),
         [this, name, respond = std::move(respond)](core::result<net::incoming_response> answer) {
           auto doc = result_of("getFile", answer);
           if (!doc) {
             note_error(doc.err().message);
             const bool gone = answer && answer->status == 400;
             respond(gone ? net::http_response::error(404, "not_found",
                                                      "Telegram no longer has this file")
                          : net::http_response::error(502, "unavailable",
                                                      "Telegram did not give the file; try again"));
             return;
           }
           const std::string path(json::string_member(doc->root()["result"], "file_path"));
           if (!plausible_file_path(path)) {
             note_error("getFile: a file_path askdesk does not fetch");
             respond(net::http_response::error(502, "unavailable", "Telegram gave no usable file"));
             return;
           }
           download(path, name, std::move(respond));
         });
  }

  void download(const std::string& path, const std::string& name, net::respond_fn respond) {
    net::outgoing_request r;
    r.url = settings_.api_base + "/file/bot" + settings_.token + "/" + path;
    r.timeout = std::chrono::seconds(60);
    r.max_response_bytes = max_file_bytes;
    context_.http().send(std::move(r), [this, path, name, respond = std::move(respond)](
                                           core::result<net::incoming_response> response) {
      const auto answer = redacted(std::move(response));
      if (!answer || answer->status != 200) {
        note_error("downloading a file: " +
                   (answer ? "HTTP " + std::to_string(answer->status) : answer.err().message));
        respond(net::http_response::error(502, "unavailable",
                                          "Telegram did not give the file; try again"));
        return;
      }
      net::http_response file;
      const auto image = image_type_of(path);
      file.content_type = image.empty() ? "application/octet-stream" : std::string(image);
      file.body = answer->body;
      file.header("Cache-Control", "private, max-age=3600");
      file.header("Content-Disposition", std::string(image.empty() ? "attachment" : "inline") +
                                             "; filename=\"" + name + "\"");
      respond(std::move(file));
    });
  }

  const telegram_settings settings_;
  connector_context& context_;
  const core::channel_traits traits_;
  connector_health health_;
  telegram::pacer pacer_;
  net::timer webhook_timer_;
  std::minstd_rand random_;
  bool webhook_cleared_ = false;
  poller poller_;
};

class telegram_factory final : public connector_factory {
 public:
  std::string_view type() const override { return "telegram"; }
  // A chat's state (an opt-out, a deep link's route), named by the chat: the patron's address.
  std::vector<address_record> address_records() const override {
    return {{telegram_traits().channel, std::string(chat_prefix)}};
  }

  std::unique_ptr<connector_settings> parse(json::object_reader& block) const override {
    auto s = std::make_unique<telegram_settings>();
    auto& out = block.out();
    if (auto token = block.required_string("token")) {
      s->token = *token;
      if (!telegram::plausible_token(*token)) {
        out.add(block.child_path("token"),
                "must be a Bot API token from @BotFather, like 123456789:AAH... (the bot's id, "
                "':', then letters, digits, '_' and '-')");
      }
    }
    const std::string mode = block.string("mode", "poll");
    if (mode != "poll" && mode != "webhook") {
      out.add(block.child_path("mode"), "must be poll or webhook, not '" + mode + "'");
    }
    s->webhook = mode == "webhook";
    s->api_base = block.string("api_base", s->api_base);
    while (s->api_base.ends_with('/')) s->api_base.pop_back();
    if (!core::is_http_url(s->api_base)) {
      out.add(block.child_path("api_base"), "must be an http:// or https:// URL");
    }
    s->webhook_secret = block.string("webhook_secret", "");
    if (s->webhook && !telegram::plausible_secret(s->webhook_secret)) {
      out.add(block.child_path("webhook_secret"),
              "webhook mode needs a secret of 1 to 256 letters, digits, '_' and '-' (Telegram "
              "sends it back in X-Telegram-Bot-Api-Secret-Token)");
    }
    s->groups = block.boolean("groups", false);
    s->poll_timeout = std::chrono::seconds(block.integer("poll_timeout_seconds", 25, 0, 50));
    s->poll_every = std::chrono::seconds(block.integer("poll_seconds", 1, 1, 3600));
    s->reopen_window = std::chrono::minutes(block.integer("reopen_minutes", 24 * 60, 0, 43200));
    return s;
  }

  lane_settings lane_defaults() const override {
    // A split reply waits a second between its parts; the connector keeps the per-chat pace.
    return {.concurrency = 8,
            .per_second = 30,
            .send_timeout = std::chrono::seconds(60),
            .max_attempts = 8};
  }

  std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                    connector_context& context) const override {
    return std::make_unique<telegram_connector>(static_cast<const telegram_settings&>(*settings),
                                                context);
  }
};

}  // namespace

std::unique_ptr<connector_factory> make_telegram_factory() {
  return std::make_unique<telegram_factory>();
}

}  // namespace askdesk::connectors
