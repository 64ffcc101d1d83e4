#include "connectors/replay/replay.hpp"

#include "daemon/core/auto_reply.hpp"

#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/crypto.hpp"

namespace askdesk::connectors {

namespace {

struct replay_settings final : connector_settings {
  std::string token;
  core::channel_traits traits;  // what the integration's channel is like (all configurable)
  std::chrono::milliseconds reopen_window{0};
};

class replay_connector final : public connector {
 public:
  replay_connector(const replay_settings& settings, connector_context& context)
      : settings_(settings), context_(context) {
    context.add_webhook(
        "POST", "/webhooks/replay/" + settings_.id,
        [this](const net::http_request& request) -> core::status {
          const std::string_view auth = request.header("authorization");
          if (!auth.starts_with("Bearer ") ||
              !net::constant_time_equal(auth.substr(7), settings_.token)) {
            return core::error{"unauthenticated", "a valid Bearer token is required"};
          }
          return {};
        },
        [this](const net::http_request& request, const net::route_params&,
               net::respond_fn respond) { receive(request, std::move(respond)); });
  }

  const std::string& id() const override { return settings_.id; }
  std::string_view type() const override { return "replay"; }
  const core::channel_traits& traits() const override { return settings_.traits; }
  std::chrono::milliseconds reopen_window() const override { return settings_.reopen_window; }

  // Replies stay in the transcript, where the integration reads them through the API.
  void send(const outbound_message&, std::function<void(send_result)> done) override {
    health_.last_success = context_.clock().now();
    done(send_result::sent());
  }

  connector_health health() const override { return health_; }

 private:
  // The original message's headers that the automatic-reply rules read (an integration that
  // forwards mail passes them on); others are ignored.
  // Header names are matched in any case, as in mail.
  static void read_headers(const rapidjson::Value& headers, core::inbound_message& m) {
    if (!headers.IsObject()) return;
    for (const auto& h : headers.GetObject()) {
      const auto fact = core::fact_for_header({h.name.GetString(), h.name.GetStringLength()});
      if (!fact.empty() && h.value.IsString()) m.facts[std::string(fact)] = h.value.GetString();
    }
  }

  void receive(const net::http_request& request, net::respond_fn respond) {
    auto parsed = json::document::parse(request.body);
    if (!parsed) {
      respond(net::http_response::error(400, "invalid_json", parsed.err().message));
      return;
    }
    json::problems problems;
    const json::environment none = json::no_environment();
    auto body = json::object_reader::open(parsed->root(), "", problems, none);
    core::inbound_message m;
    if (body) {
      m.connector = settings_.id;  // the host sets both too; the check below reads them
      m.channel = settings_.traits.channel;
      m.external_id = body->required_string("id").value_or("");
      m.sender_address = body->required_string("from").value_or("");
      m.thread = body->string("thread", m.sender_address);
      m.sender_name = body->string("name", "");
      m.text = body->string("text", "");
      m.team = body->string("team", "");
      if (body->boolean("triage", false)) m.facts[std::string(core::fact_triage)] = "1";
      m.received_at = context_.clock().now();
      m.sent_at = m.received_at;
      if (const auto* headers = body->raw("headers")) read_headers(*headers, m);
      if (auto sent = body->optional_string("sent_at")) {
        if (auto t = core::parse_iso8601(*sent)) {
          m.sent_at = *t;
        } else {
          problems.add("sent_at", "must be an RFC 3339 time like 2026-11-22T09:30:00Z");
        }
      }
      body->finish();
    }
    if (!problems.empty()) {
      respond(net::http_response::error(400, "invalid", problems.to_string()));
      return;
    }
    if (auto problem = core::check_inbound(m)) {
      respond(net::http_response::error(400, "invalid", *problem));
      return;
    }
    context_.deliver(std::move(m), [this, respond = std::move(respond)](core::result<delivery> r) {
      if (!r) {
        health_.last_error = r.err().message;
        health_.last_error_at = context_.clock().now();
        const int status = r.err().code == "invalid" ? 400 : 503;
        respond(net::http_response::error(status, r.err().code, r.err().message));
        return;
      }
      health_.last_success = context_.clock().now();
      json::writer w;
      w.start_object()
          .field("status", r.value() == delivery::stored ? "stored" : "duplicate")
          .end_object();
      respond(net::http_response::json(200, w.str()));
    });
  }

  const replay_settings settings_;
  connector_context& context_;
  connector_health health_;
};

class replay_factory final : public connector_factory {
 public:
  std::string_view type() const override { return "replay"; }

  std::unique_ptr<connector_settings> parse(json::object_reader& block) const override {
    auto s = std::make_unique<replay_settings>();
    if (auto token = block.required_string("token")) {
      s->token = *token;
      if (s->token.size() < 16) {
        block.out().add(block.child_path("token"), "must be at least 16 characters");
      }
    }
    auto& t = s->traits;
    t.channel = block.string("channel", "replay");
    if (!config::is_valid_id(t.channel)) {
      block.out().add(block.child_path("channel"), "must match [a-z0-9][a-z0-9_-]*");
    }
    t.display_name = block.string("name", t.channel == "replay" ? "Replay" : t.channel);
    t.opt_out_keywords = block.string_list("opt_out");
    t.opt_in_keywords = block.string_list("opt_in");
    t.help_keywords = block.string_list("help");
    const std::string unit = block.string("length_unit", "characters");
    if (auto u = core::length_unit_named(unit)) {
      t.unit = *u;
    } else {
      block.out().add(block.child_path("length_unit"),
                      "must be characters, graphemes, gsm_segments or bytes, not '" + unit + "'");
    }
    t.max_length = static_cast<std::size_t>(block.integer("max_length", 4000, 1, 1000000));
    s->reopen_window = std::chrono::minutes(block.integer("reopen_minutes", 0, 0, 60 * 24 * 30));
    return s;
  }

  std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                    connector_context& context) const override {
    return std::make_unique<replay_connector>(static_cast<const replay_settings&>(*settings),
                                              context);
  }
};

}  // namespace

std::unique_ptr<connector_factory> make_replay_factory() {
  return std::make_unique<replay_factory>();
}

}  // namespace askdesk::connectors
