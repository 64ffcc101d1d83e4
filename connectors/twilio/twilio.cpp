#include "connectors/twilio/twilio.hpp"

#include <spdlog/spdlog.h>

#include <cctype>

#include "connectors/poller.hpp"
#include "connectors/twilio/signature.hpp"
#include "daemon/core/auto_reply.hpp"
#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"
#include "daemon/net/curl_client.hpp"

namespace askdesk::connectors {

namespace {

constexpr std::string_view empty_twiml = R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)";
constexpr int max_media = 10;  // Twilio sends at most 10 media per MMS

struct twilio_settings final : connector_settings {
  std::string account_sid;
  std::string auth_token;
  std::string number;  // the library's number, E.164
  bool poll = false;   // "mode": "poll" instead of "webhook"
  std::string api_base = "https://api.twilio.com";
  std::chrono::seconds poll_every{20};
  int page_size = 50;
  std::chrono::milliseconds reopen_window = std::chrono::hours(24);
};

bool is_e164(std::string_view n) {
  if (n.size() < 8 || n.size() > 16 || n[0] != '+' || n[1] == '0') return false;
  for (std::size_t i = 1; i < n.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(n[i]))) return false;
  }
  return true;
}

bool is_account_sid(std::string_view sid) {
  if (sid.size() != 34 || !sid.starts_with("AC")) return false;
  for (std::size_t i = 2; i < sid.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(sid[i]))) return false;
  }
  return true;
}

std::string field_or(const net::form_fields& form, std::string_view name) {
  const auto* v = net::form_value(form, name);
  return v ? *v : std::string();
}

net::http_response twiml() {
  return net::http_response::text(200, std::string(empty_twiml), "text/xml");
}

// Twilio's error body: {"code": 21211, "message": "...", "more_info": "...", "status": 400}.
send_result failure_from(const net::incoming_response& r, core::timestamp now) {
  std::string code, message;
  if (auto doc = json::document::parse(r.body); doc && doc->root().IsObject()) {
    const auto& root = doc->root();
    if (const auto c = json::integer_member(root, "code", -1); c >= 0) code = std::to_string(c);
    message = json::string_member(root, "message");
  }
  if (message.empty()) message = "Twilio answered HTTP " + std::to_string(r.status);
  if (r.status == 429 || r.status >= 500) {
    auto retry = send_result::retry(message, code);
    retry.retry_after =
        rate_limit_wait(r, now, std::chrono::minutes(5)).value_or(retry.retry_after);
    return retry;
  }
  return send_result::permanent(message, code);
}

// SMS as carriers and Twilio's Advanced Opt-Out treat it: these whole-message keywords opt
// the number out of (or back into) texts from the library; HELP is answered by Twilio.
core::channel_traits sms_traits(bool status_callbacks) {
  core::channel_traits t;
  t.channel = "sms";
  t.display_name = "SMS";
  t.opt_out_keywords.assign(std::begin(core::sms_opt_out_words), std::end(core::sms_opt_out_words));
  t.opt_in_keywords.assign(std::begin(core::sms_opt_in_words), std::end(core::sms_opt_in_words));
  t.help_keywords.assign(std::begin(core::sms_help_words), std::end(core::sms_help_words));
  t.unit = core::length_unit::gsm_segments;
  t.max_length = 10;  // Twilio takes 1,600 characters; past 10 segments carriers may drop it
  t.delivery_reports = status_callbacks;
  return t;
}

class twilio_connector final : public connector {
 public:
  twilio_connector(const twilio_settings& settings, connector_context& context)
      : settings_(settings),
        context_(context),
        traits_(sms_traits(!settings.poll)),
        poller_(context,
                {.connector = settings.id,
                 .lease = settings.account_sid + ":" + settings.number,
                 .every = settings.poll_every,
                 .lease_ttl = settings.lease},
                [this](std::shared_ptr<poller::round> round) { poll(std::move(round)); }) {
    const std::string path = "/webhooks/twilio/" + settings_.id;
    const auto check = [this](const net::http_request& r) { return vouch(r); };
    context.add_webhook("POST", path, check,
                        [this](const net::http_request& r, const net::route_params&,
                               net::respond_fn respond) { receive(r, std::move(respond)); });
    context.add_webhook("POST", path + "/status", check,
                        [this](const net::http_request& r, const net::route_params&,
                               net::respond_fn respond) { status(r, std::move(respond)); });
    context.metrics().declare_counter("askdesk_twilio_refused_total",
                                      "Twilio webhooks refused, by reason (signature, form).");
  }

  const std::string& id() const override { return settings_.id; }
  std::string_view type() const override { return "twilio"; }
  const core::channel_traits& traits() const override { return traits_; }
  std::chrono::milliseconds reopen_window() const override { return settings_.reopen_window; }

  void start() override {
    if (settings_.poll) poller_.start();
  }

  void stop() override { poller_.stop(); }

  void send(const outbound_message& m, std::function<void(send_result)> done) override {
    net::outgoing_request r;
    r.method = "POST";
    r.url = settings_.api_base + "/2010-04-01/Accounts/" + settings_.account_sid + "/Messages.json";
    r.username = settings_.account_sid;
    r.password = settings_.auth_token;
    r.timeout = std::max<std::chrono::milliseconds>(
        settings_.lane.send_timeout - std::chrono::seconds(1), settings_.lane.send_timeout / 2);
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    net::form_fields form = {{"To", m.to}, {"From", settings_.number}, {"Body", m.text}};
    if (!settings_.poll) form.emplace_back("StatusCallback", webhook_url() + "/status");
    r.body = net::encode_form(form);
    context_.http().send(
        std::move(r), [this, done = std::move(done)](core::result<net::incoming_response> answer) {
          if (!answer) {
            note_error(answer.err().message);
            // Twilio has no idempotency key for messages: one that may have reached it is not
            // sent again (the patron could get it twice); staff see why.
            if (answer.err().code == "uncertain") {
              done(
                  send_result::permanent("Twilio may have taken the message before the "
                                         "connection failed, so it is not sent again: " +
                                         answer.err().message));
            } else {
              done(send_result::retry(answer.err().message));
            }
            return;
          }
          if (answer->status != 200 && answer->status != 201) {
            auto failed = failure_from(*answer, context_.clock().now());
            note_error(failed.error_code + " " + failed.error);
            done(std::move(failed));
            return;
          }
          std::string sid;
          if (auto doc = json::document::parse(answer->body)) {
            sid = json::string_member(doc->root(), "sid");
          }
          health_.last_success = context_.clock().now();
          done(send_result::sent(sid));
        });
  }

  connector_health health() const override {
    if (!settings_.poll) return health_;
    return poller_.health(health_);
  }

 private:
  std::string webhook_url() const {
    return context_.config().http.public_url + "/webhooks/twilio/" + settings_.id;
  }

  void note_error(std::string message) {
    health_.last_error = std::move(message);
    health_.last_error_at = context_.clock().now();
  }

  // Whether Twilio signed `r`: its form, signed with X-Twilio-Signature over
  // http.public_url plus the path.
  core::status vouch(const net::http_request& r) {
    auto form = net::parse_form(r.body);
    if (!form) {
      context_.metrics().add("askdesk_twilio_refused_total", {{"reason", "form"}});
      return core::error{"invalid", "the body is not a valid form"};
    }
    const std::string url = context_.config().http.public_url + r.target;
    if (!twilio::valid_signature(settings_.auth_token, url, *form,
                                 r.header("x-twilio-signature"))) {
      context_.metrics().add("askdesk_twilio_refused_total", {{"reason", "signature"}});
      spdlog::warn("twilio {}: refused a request to {} from {}: bad or missing signature",
                   settings_.id, url, r.remote_address);
      return core::error{"forbidden",
                         "X-Twilio-Signature does not match (is http.public_url the address "
                         "Twilio calls?)"};
    }
    return {};
  }

  void receive(const net::http_request& r, net::respond_fn respond) {
    const auto form = net::parse_form(r.body);  // vouched for: a valid form
    core::inbound_message m;
    if (auto problem = read_message(*form, m)) {
      respond(net::http_response::error(400, "invalid", *problem));
      return;
    }
    context_.deliver(
        std::move(m), [this, respond = std::move(respond)](core::result<delivery> stored) {
          if (!stored) {
            note_error(stored.err().message);
            // Only a message the hub refuses is the sender's fault; Redis away or answering
            // with an error (loading, out of memory) is ours, and Twilio tries again.
            const int status = stored.err().code == "invalid" ? 400 : 503;
            respond(net::http_response::error(status, stored.err().code, stored.err().message));
            return;
          }
          health_.last_success = context_.clock().now();
          respond(twiml());
        });
  }

  // Fills `m` from an inbound SMS or MMS webhook; says what is wrong otherwise.
  std::optional<std::string> read_message(const net::form_fields& form,
                                          core::inbound_message& m) const {
    m.external_id = field_or(form, "MessageSid");
    if (m.external_id.empty()) m.external_id = field_or(form, "SmsMessageSid");
    m.sender_address = field_or(form, "From");
    m.thread = m.sender_address;
    m.text = core::repair_utf8(field_or(form, "Body"));
    m.received_at = context_.clock().now();
    m.sent_at = m.received_at;
    if (m.external_id.empty()) return "MessageSid is missing";
    if (m.sender_address.empty()) return "From is missing";
    const int media = std::atoi(field_or(form, "NumMedia").c_str());
    for (int i = 0; i < std::min(media, max_media); ++i) {
      core::attachment a;
      a.url = field_or(form, "MediaUrl" + std::to_string(i));
      a.content_type = field_or(form, "MediaContentType" + std::to_string(i));
      if (a.url.empty()) continue;
      a.name = "media " + std::to_string(i + 1);
      m.attachments.push_back(std::move(a));
    }
    if (const auto* city = net::form_value(form, "FromCity"); city && !city->empty()) {
      m.facts["from_city"] = core::repair_utf8(*city);
    }
    return std::nullopt;
  }

  // A delivery status: queued, sent, delivered, undelivered, failed (with ErrorCode).
  void status(const net::http_request& r, net::respond_fn respond) {
    const auto form = net::parse_form(r.body);  // vouched for: a valid form
    delivery_report report;
    report.provider_id = field_or(*form, "MessageSid");
    report.status = field_or(*form, "MessageStatus");
    if (report.status.empty()) report.status = field_or(*form, "SmsStatus");
    if (report.provider_id.empty() || report.status.empty()) {
      respond(net::http_response::error(400, "invalid", "MessageSid and MessageStatus required"));
      return;
    }
    report.error_code = field_or(*form, "ErrorCode");
    if (!report.error_code.empty()) report.error = "Twilio error " + report.error_code;
    context_.report_delivery(
        std::move(report), [respond = std::move(respond)](core::status recorded) {
          if (!recorded) {
            respond(net::http_response::error(503, "unavailable", "try again later"));
            return;
          }
          respond(twiml());
        });
  }

  // ---- polling: List Messages to the library's number, newest first, page by page --------
  // The cursor: `date` (DateSent>= this day) and `sid` (the newest message the last round
  // stored: the listing stops there).

  struct poll_batch {
    std::shared_ptr<poller::round> round;
    std::string since;
    std::string known_sid;
    std::vector<core::inbound_message> found;  // newest first
    std::string newest_sid;
    std::string newest_day;
  };

  void poll(std::shared_ptr<poller::round> round) {
    auto batch = std::make_shared<poll_batch>();
    const auto& cursor = round->cursor();
    const auto date = cursor.find("date"), sid = cursor.find("sid");
    batch->since = date != cursor.end() ? date->second : today();
    batch->known_sid = sid != cursor.end() ? sid->second : "";
    batch->round = std::move(round);
    fetch(batch, list_url(batch->since));
  }

  std::string today() const {
    const auto day = std::chrono::floor<std::chrono::days>(context_.clock().now());
    const std::chrono::year_month_day ymd{day};
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return text;
  }

  std::string list_url(const std::string& since) const {
    return settings_.api_base + "/2010-04-01/Accounts/" + settings_.account_sid +
           "/Messages.json?" +
           net::encode_form({{"To", settings_.number},
                             {"DateSent>", since},
                             {"PageSize", std::to_string(settings_.page_size)}});
  }

  void fetch(std::shared_ptr<poll_batch> batch, std::string url) {
    net::outgoing_request r;
    r.url = std::move(url);
    r.username = settings_.account_sid;
    r.password = settings_.auth_token;
    context_.http().send(std::move(r), [this, batch](core::result<net::incoming_response> page) {
      auto& round = *batch->round;
      if (round.stopped()) {
        round.done();
        return;
      }
      if (!page) {
        round.failed("listing messages: " + page.err().message);
        return;
      }
      if (page->status != 200) {
        round.rate_limited("listing messages: Twilio answered HTTP " + std::to_string(page->status),
                           *page);
        return;
      }
      auto doc = json::document::parse(page->body);
      if (!doc || !doc->root().IsObject()) {
        round.failed("listing messages: Twilio's answer is not JSON");
        return;
      }
      const auto& root = doc->root();
      bool reached_known = false;
      if (const auto list = root.FindMember("messages");
          list != root.MemberEnd() && list->value.IsArray()) {
        for (const auto& item : list->value.GetArray()) {
          const std::string sid(json::string_member(item, "sid"));
          if (!batch->known_sid.empty() && sid == batch->known_sid) {
            reached_known = true;
            break;
          }
          if (batch->newest_sid.empty()) {
            batch->newest_sid = sid;
            batch->newest_day = day_of(json::string_member(item, "date_sent"));
          }
          if (json::string_member(item, "direction") != "inbound") continue;
          batch->found.push_back(message_from(item));
        }
      }
      const std::string next(json::string_member(root, "next_page_uri"));
      if (!reached_known && !next.empty()) {
        fetch(batch, core::origin_of(settings_.api_base) + next);
        return;
      }
      store_batch(batch);
    });
  }

  // Stores what one round found, oldest first; the cursor moves only once all are durable.
  void store_batch(std::shared_ptr<poll_batch> batch) {
    std::vector<core::inbound_message> oldest_first(std::make_move_iterator(batch->found.rbegin()),
                                                    std::make_move_iterator(batch->found.rend()));
    batch->found.clear();
    batch->round->deliver(std::move(oldest_first), [batch](bool stored) {
      auto& round = *batch->round;
      if (!stored) {  // not advanced: the next round asks again, and dedup keeps one copy
        round.failed("a listed message could not be stored");
        return;
      }
      if (batch->newest_sid.empty()) {
        round.done();
        return;
      }
      const std::string day = batch->newest_day.empty() ? batch->since : batch->newest_day;
      round.save_cursor({{"date", day}, {"sid", batch->newest_sid}},
                        [batch] { batch->round->done(); });
    });
  }

  core::inbound_message message_from(const rapidjson::Value& item) const {
    core::inbound_message m;
    m.external_id = json::string_member(item, "sid");
    m.sender_address = json::string_member(item, "from");
    m.thread = m.sender_address;
    m.text = core::repair_utf8(json::string_member(item, "body"));
    m.received_at = context_.clock().now();
    m.sent_at = m.received_at;
    if (std::atoi(std::string(json::string_member(item, "num_media")).c_str()) > 0) {
      core::attachment a;
      a.name = "media";
      a.url = core::origin_of(settings_.api_base) + std::string(json::string_member(item, "uri"));
      if (a.url.ends_with(".json")) a.url.replace(a.url.size() - 5, 5, "/Media.json");
      m.attachments.push_back(std::move(a));
    }
    return m;
  }

  // "Mon, 23 Nov 2026 10:00:00 +0000" (RFC 2822, as Twilio writes dates) -> "2026-11-23".
  static std::string day_of(std::string_view date) {
    static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto comma = date.find(", ");
    if (comma == std::string_view::npos || date.size() < comma + 13) return "";
    const auto rest = date.substr(comma + 2);  // "23 Nov 2026 ..."
    const int day = std::atoi(std::string(rest.substr(0, 2)).c_str());
    const auto month_at = rest.find(' ') + 1;
    const auto month = rest.substr(month_at, 3);
    const int year = std::atoi(std::string(rest.substr(month_at + 4, 4)).c_str());
    for (unsigned i = 0; i < 12; ++i) {
      if (months[i] == month) {
        char text[16];
        std::snprintf(text, sizeof text, "%04d-%02u-%02d", year, i + 1, day);
        return text;
      }
    }
    return "";
  }

  const twilio_settings settings_;
  connector_context& context_;
  const core::channel_traits traits_;
  connector_health health_;
  poller poller_;
};

class twilio_factory final : public connector_factory {
 public:
  std::string_view type() const override { return "twilio"; }

  std::unique_ptr<connector_settings> parse(json::object_reader& block) const override {
    auto s = std::make_unique<twilio_settings>();
    auto& out = block.out();
    if (auto sid = block.required_string("account_sid")) {
      s->account_sid = *sid;
      if (!is_account_sid(*sid)) {
        out.add(block.child_path("account_sid"), "must be AC followed by 32 hex digits");
      }
    }
    if (auto token = block.required_string("auth_token")) s->auth_token = *token;
    if (auto number = block.required_string("number")) {
      s->number = *number;
      if (!is_e164(*number)) {
        out.add(block.child_path("number"), "must be E.164, like +15550100199");
      }
    }
    const std::string mode = block.string("mode", "webhook");
    if (mode != "webhook" && mode != "poll") {
      out.add(block.child_path("mode"), "must be webhook or poll, not '" + mode + "'");
    }
    s->poll = mode == "poll";
    s->api_base = block.string("api_base", s->api_base);
    while (s->api_base.ends_with('/')) s->api_base.pop_back();
    if (!core::is_http_url(s->api_base)) {
      out.add(block.child_path("api_base"), "must be an http:// or https:// URL");
    }
    s->poll_every = std::chrono::seconds(block.integer("poll_seconds", 20, 1, 3600));
    s->page_size = static_cast<int>(block.integer("poll_page_size", 50, 1, 1000));
    s->reopen_window = std::chrono::minutes(block.integer("reopen_minutes", 24 * 60, 0, 43200));
    return s;
  }

  lane_settings lane_defaults() const override {
    return {.concurrency = 4,
            .per_second = 0,
            .send_timeout = std::chrono::seconds(30),
            .max_attempts = 8};
  }

  std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                    connector_context& context) const override {
    return std::make_unique<twilio_connector>(static_cast<const twilio_settings&>(*settings),
                                              context);
  }
};

}  // namespace

std::unique_ptr<connector_factory> make_twilio_factory() {
  return std::make_unique<twilio_factory>();
}

}  // namespace askdesk::connectors
