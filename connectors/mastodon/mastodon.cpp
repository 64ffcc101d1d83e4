#include "connectors/mastodon/mastodon.hpp"

#include <spdlog/spdlog.h>

#include "connectors/mastodon/statuses.hpp"
#include "connectors/poller.hpp"
#include "connectors/rate_window.hpp"
#include "connectors/social_options.hpp"
#include "daemon/core/auto_reply.hpp"
#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/crypto.hpp"
#include "daemon/net/curl_client.hpp"

namespace askdesk::connectors {

namespace {

using mastodon::status;

constexpr int page_size = 40;
constexpr std::size_t max_context_text = 500;  // bytes of a parent or root status shown
// What a reply may take of the instance's limit for the "@user " askdesk adds when staff did
// not mention the patron (Mastodon counts @user@domain as @user; usernames have 30 at most).
constexpr std::size_t mention_reserve = 32;

struct mastodon_settings final : connector_settings {
  std::string instance;  // base URL, no trailing '/'
  std::string access_token;
  social_options social;
  std::vector<std::string> watch_hashtags;
};

core::channel_traits mastodon_traits() {
  core::channel_traits t;
  t.channel = "mastodon";
  t.display_name = "Mastodon";
  t.unit = core::length_unit::graphemes_short_urls;
  t.max_length = 500 - mention_reserve;  // until the instance says (GET /api/v2/instance)
  t.public_replies = true;
  return t;
}

// One status found in a round, and why it was read.
struct found {
  status s;
  std::string watched;  // "" for a mention; "hashtag:books", "keyword:Riverside Library"
  std::vector<std::string> ancestors;  // nearest first
  std::string parent_text, root_text, root_url;
};

// What one round gathers before storing it.
struct round_state {
  std::shared_ptr<poller::round> round;
  state_record cursor;
  std::vector<found> statuses;  // in the order read: each page newest first
  std::vector<std::string> sources;
  std::size_t next_source = 0;
  std::size_t next_context = 0;
  bool more = false;
};

class mastodon_connector final : public connector {
 public:
  mastodon_connector(const mastodon_settings& settings, connector_context& context)
      : settings_(settings),
        context_(context),
        traits_(mastodon_traits()),
        host_(mastodon::host_of(settings.instance)),
        poller_(
            context,
            {.connector = settings.id,
             .lease =
                 net::sha256_hex(settings.instance + "\n" + settings.access_token).substr(0, 24),
             .every = settings.social.poll_every,
             .lease_ttl = settings.lease},
            [this](std::shared_ptr<poller::round> round) { poll(std::move(round)); }) {
    context.metrics().declare_counter(
        "askdesk_mastodon_statuses_total",
        "Mastodon statuses read, by connector and source (mention, watch) and outcome (stored, "
        "own: the library's, skipped: unreadable).");
  }

  const std::string& id() const override { return settings_.id; }
  std::string_view type() const override { return "mastodon"; }
  const core::channel_traits& traits() const override { return traits_; }
  std::chrono::milliseconds reopen_window() const override {
    return settings_.social.reopen_window;
  }

  void start() override { poller_.start(); }
  void stop() override { poller_.stop(); }

  void send(const outbound_message& m, std::function<void(send_result)> done) override {
    const auto fact = [&m](const char* name) {
      const auto it = m.facts.find(name);
      return it == m.facts.end() ? std::string() : it->second;
    };
    // What the patron wrote decides who may read the answer; unknown means direct, so a
    // private conversation is never answered in public.
    std::string visibility = fact("visibility");
    if (visibility != "public" && visibility != "unlisted" && visibility != "private") {
      visibility = "direct";
    }
    json::writer w;
    w.start_object()
        .field("status", mastodon::with_mention(m.text, m.to))
        .field("visibility", visibility);
    if (const auto parent = fact("in_reply_to_id"); !parent.empty()) {
      w.field("in_reply_to_id", parent);
    }
    w.end_object();
    if (const auto wait = post_window_.take(context_.clock().now()); wait.count() > 0) {
      auto later = send_result::retry("waiting for Mastodon's posting limit to reset");
      later.retry_after = wait;
      done(std::move(later));
      return;
    }
    net::outgoing_request r = request("/api/v1/statuses");
    r.method = "POST";
    r.headers.emplace_back("Content-Type", "application/json");
    // Mastodon keeps a key an hour: a retry of this message gets the status already posted.
    r.headers.emplace_back("Idempotency-Key", "askdesk-" + settings_.id + "-" + m.message);
    r.body = w.str();
    r.timeout = std::max<std::chrono::milliseconds>(
        settings_.lane.send_timeout - std::chrono::seconds(1), settings_.lane.send_timeout / 2);
    context_.http().send(
        std::move(r), [this, done = std::move(done)](core::result<net::incoming_response> answer) {
          const auto now = context_.clock().now();
          if (!answer) {
            note_error("posting a reply: " + answer.err().message);
            // Even one that may have arrived: the Idempotency-Key makes the retry the same status.
            done(send_result::retry(answer.err().message));
            return;
          }
          post_window_.update(*answer, now);
          if (answer->status == 200) {
            auto doc = json::document::parse(answer->body);
            const std::string posted(doc ? json::string_member(doc->root(), "id") : "");
            health_.last_success = now;
            done(send_result::sent(posted));
            return;
          }
          const std::string error = error_of(*answer);
          note_error("posting a reply: " + error);
          const std::string code = std::to_string(answer->status);
          if (answer->status == 429 || answer->status >= 500 || answer->status == 401) {
            auto retry = send_result::retry(error, code);
            retry.retry_after =
                rate_limit_wait(*answer, now, std::chrono::hours(3)).value_or(retry.retry_after);
            done(std::move(retry));
          } else {  // 422: refused as written; 404: the status answered is gone; 403: not allowed
            done(send_result::permanent(error, code));
          }
        });
  }

  connector_health health() const override { return poller_.health(health_); }

 private:
  net::outgoing_request request(std::string_view path_and_query) const {
    net::outgoing_request r;
    r.url = settings_.instance + std::string(path_and_query);
    r.headers = {{"Authorization", "Bearer " + settings_.access_token}};
    r.timeout = std::chrono::seconds(20);
    return r;
  }

  // Mastodon's error body {"error": "..."}, or what the status says.
  static std::string error_of(const net::incoming_response& r) {
    if (auto doc = json::document::parse(r.body); doc && doc->root().IsObject()) {
      if (const auto e = json::string_member(doc->root(), "error"); !e.empty()) {
        return std::string(core::truncate_utf8(core::repair_utf8(e), 500));
      }
    }
    return "Mastodon answered HTTP " + std::to_string(r.status);
  }

  void note_error(std::string message) {
    spdlog::warn("mastodon {}: {}", settings_.id, message);
    health_.last_error = std::move(message);
    health_.last_error_at = context_.clock().now();
  }

  void count(std::string_view source, std::string_view outcome, std::int64_t n = 1) {
    if (n <= 0) return;
    context_.metrics().add("askdesk_mastodon_statuses_total",
                           {{"connector", settings_.id},
                            {"source", std::string(source)},
                            {"outcome", std::string(outcome)}},
                           static_cast<double>(n));
  }

  // GETs `path_and_query` once the rate limit of its kind allows; `then` gets the parsed JSON
  // answer, or the round ends (failed, or waiting for the limit) unless `refused` takes a
  // refusal that is not about the limit (a 4xx but 429).
  void get(const std::shared_ptr<round_state>& st, std::string path_and_query, bool paged,
           std::function<void(json::document)> then,
           std::function<void(const std::string&)> refused = {}) {
    auto& round = *st->round;
    auto& window = paged ? paged_window_ : read_window_;
    if (const auto wait = window.take(context_.clock().now()); wait.count() > 0) {
      round.failed("waiting until Mastodon's rate limit resets", wait);
      return;
    }
    context_.http().send(
        request(path_and_query),
        [this, st, paged, what = path_and_query.substr(0, path_and_query.find('?')),
         then = std::move(then),
         refused = std::move(refused)](core::result<net::incoming_response> answer) {
          auto& round = *st->round;
          if (round.stopped()) {
            round.done();
            return;
          }
          if (!answer) {
            round.failed("GET " + what + ": " + answer.err().message);
            return;
          }
          (paged ? paged_window_ : read_window_).update(*answer, context_.clock().now());
          if (answer->status != 200) {
            const std::string error = "GET " + what + ": " + error_of(*answer);
            if (refused && answer->status >= 400 && answer->status < 500 && answer->status != 429) {
              refused(error);
              return;
            }
            round.rate_limited(error, *answer);
            return;
          }
          auto doc = json::document::parse(answer->body);
          if (!doc) {
            round.failed("GET " + what + ": Mastodon's answer is not JSON");
            return;
          }
          then(std::move(*doc));
        });
  }

  // ---- a round: who the library is, then mentions, then each watch, then threads ----------

  void poll(std::shared_ptr<poller::round> round) {
    auto st = std::make_shared<round_state>();
    st->cursor = round->cursor();
    st->round = std::move(round);
    st->sources.push_back("notifications");
    for (const auto& tag : settings_.watch_hashtags) st->sources.push_back("hashtag:" + tag);
    for (const auto& kw : settings_.social.watch_keywords) st->sources.push_back("keyword:" + kw);
    if (own_id_.empty()) {
      who_am_i(st);
    } else {
      next_source(st);
    }
  }

  void who_am_i(const std::shared_ptr<round_state>& st) {
    get(st, "/api/v1/accounts/verify_credentials", false, [this, st](json::document me) {
      own_id_ = json::string_member(me.root(), "id");
      if (own_id_.empty()) {
        st->round->failed("verify_credentials: the answer names no account");
        return;
      }
      get(st, "/api/v2/instance", false, [this, st](json::document instance) {
        const auto& root = instance.root();
        const rapidjson::Value* statuses = nullptr;
        if (root.IsObject() && root.HasMember("configuration") &&
            root["configuration"].IsObject() && root["configuration"].HasMember("statuses")) {
          statuses = &root["configuration"]["statuses"];
        }
        if (const auto max = statuses ? json::integer_member(*statuses, "max_characters") : 0;
            max > static_cast<std::int64_t>(mention_reserve) && max <= 1000000) {
          traits_.max_length = static_cast<std::size_t>(max) - mention_reserve;
        }
        spdlog::info("mastodon {}: signed in to {} as account {}; statuses up to {} characters",
                     settings_.id, host_, own_id_, traits_.max_length);
        next_source(st);
      });
    });
  }

  void next_source(const std::shared_ptr<round_state>& st) {
    if (st->next_source == st->sources.size()) {
      next_context(st);
      return;
    }
    const std::string source = st->sources[st->next_source++];
    const auto known = st->cursor.find(source);
    const std::string since =
        known == st->cursor.end() ? std::string() : "&min_id=" + net::percent_encode(known->second);
    const std::string limit = "limit=" + std::to_string(page_size);
    std::string path;
    if (source == "notifications") {
      path = "/api/v1/notifications?types[]=mention&include_filtered=true&" + limit + since;
    } else if (source.starts_with("hashtag:")) {
      path = "/api/v1/timelines/tag/" + net::percent_encode(source.substr(8)) + "?" + limit + since;
    } else {
      path = "/api/v2/search?type=statuses&q=" + net::percent_encode(source.substr(8)) + "&" +
             limit + since;
    }
    // A watch the server refuses (a token without read:search, an instance without search)
    // is reported and skipped; it never holds up the mentions.
    auto skip_watch = [this, st](const std::string& error) {
      note_error(error);
      next_source(st);
    };
    const bool is_watch = source != "notifications";
    get(
        st, path, !since.empty(),
        [this, st, source](json::document page) {
          const auto& root = page.root();
          const rapidjson::Value* list = &root;
          if (source.starts_with("keyword:")) {
            list = root.IsObject() && root.HasMember("statuses") ? &root["statuses"] : nullptr;
          }
          if (!list || !list->IsArray()) {
            st->round->failed(source + ": Mastodon's answer is not a list");
            return;
          }
          const bool mentions = source == "notifications";
          std::string newest;
          std::int64_t own = 0, skipped = 0;
          for (const auto& item : list->GetArray()) {
            if (!item.IsObject()) {
              st->round->failed(source + ": an item of the list is not an object");
              return;
            }
            if (newest.empty()) newest = json::string_member(item, "id");
            const rapidjson::Value* s = &item;
            if (mentions) {
              if (json::string_member(item, "type") != "mention") continue;
              const auto it = item.FindMember("status");
              if (it == item.MemberEnd()) continue;
              s = &it->value;
            }
            std::string why;
            auto read = mastodon::read_status(*s, &why);
            if (!read) {  // the rest of the page is good: skip this one, visibly
              ++skipped;
              note_error(source + ": " + why);
              continue;
            }
            if (read->account_id == own_id_) {
              ++own;
              continue;
            }
            st->statuses.push_back({std::move(*read), mentions ? "" : source, {}, {}, {}, {}});
          }
          count(mentions ? "mention" : "watch", "own", own);
          count(mentions ? "mention" : "watch", "skipped", skipped);
          if (!newest.empty()) st->cursor[source] = newest;
          if (list->Size() >= static_cast<rapidjson::SizeType>(page_size)) st->more = true;
          next_source(st);
        },
        is_watch ? std::function<void(const std::string&)>(skip_watch) : nullptr);
  }

  // Replies: the thread they belong to, from their context (ancestors, root first).
  void next_context(const std::shared_ptr<round_state>& st) {
    while (st->next_context < st->statuses.size() &&
           st->statuses[st->next_context].s.in_reply_to_id.empty()) {
      ++st->next_context;
    }
    if (st->next_context == st->statuses.size()) {
      store(st);
      return;
    }
    const std::size_t i = st->next_context++;
    get(st, "/api/v1/statuses/" + net::percent_encode(st->statuses[i].s.id) + "/context", false,
        [this, st, i](json::document context) {
          const auto& root = context.root();
          auto& f = st->statuses[i];
          if (root.IsObject() && root.HasMember("ancestors") && root["ancestors"].IsArray()) {
            const auto& ancestors = root["ancestors"].GetArray();
            for (auto it = ancestors.End(); it != ancestors.Begin();) {
              --it;
              if (auto a = mastodon::read_status(*it)) {
                if (f.ancestors.empty()) f.parent_text = a->text;
                f.root_text = a->text;
                f.root_url = a->url;
                f.ancestors.push_back(a->id);
              }
            }
          }
          next_context(st);
        });
  }

  void store(const std::shared_ptr<round_state>& st) {
    std::vector<core::inbound_message> batch;
    std::int64_t mentions = 0, watched = 0;
    // Pages come newest first: store the oldest first.
    for (auto it = st->statuses.rbegin(); it != st->statuses.rend(); ++it) {
      (it->watched.empty() ? mentions : watched) += 1;
      batch.push_back(message_of(*it));
    }
    st->round->deliver(std::move(batch), [this, st, mentions, watched](bool stored) {
      auto& round = *st->round;
      if (!stored) {
        round.failed("a status could not be stored; it is read again");
        return;
      }
      count("mention", "stored", mentions);
      count("watch", "stored", watched);
      if (mentions + watched > 0) health_.last_success = context_.clock().now();
      round.save_cursor(st->cursor, [st] { st->round->done(st->more); });
    });
  }

  core::inbound_message message_of(const found& f) const {
    const status& s = f.s;
    const bool direct = s.visibility == "direct";
    // A direct message's thread is its own: "direct:<id>", never a public status's.
    const std::string prefix = direct ? "direct:" : "";
    core::inbound_message m;
    m.external_id = s.id;
    m.thread = prefix + s.id;
    for (const auto& a : f.ancestors) {
      if (m.references.size() == core::max_references) break;
      m.references.push_back({m.references.empty() ? "in_reply_to" : "ancestor", prefix + a});
    }
    if (m.references.empty() && !s.in_reply_to_id.empty()) {
      m.references.push_back({"in_reply_to", prefix + s.in_reply_to_id});
    }
    m.sender_address = mastodon::full_acct(s.acct, host_);
    m.sender_name = s.display_name.empty() ? m.sender_address : s.display_name;
    m.text = s.text;
    if (m.text.empty() && s.media.empty()) m.text = "[A post without text]";
    m.attachments = s.media;
    m.received_at = context_.clock().now();
    m.sent_at = s.created_at == core::timestamp{} ? m.received_at : s.created_at;
    m.facts["visibility"] = s.visibility;
    if (!s.url.empty()) m.facts["status_url"] = s.url;
    if (!s.account_url.empty()) m.facts["profile_url"] = s.account_url;
    if (!s.spoiler_text.empty()) m.facts["content_warning"] = s.spoiler_text;
    if (s.sensitive) m.facts["sensitive"] = "1";
    if (!s.language.empty()) m.facts[std::string(core::fact_language)] = s.language;
    std::string links;
    for (const auto& l : s.links) links += (links.empty() ? "" : " ") + l;
    if (!links.empty()) m.facts["links"] = std::string(core::truncate_utf8(links, 4000));
    if (!f.parent_text.empty()) {
      m.facts["parent_text"] = core::truncate_utf8(f.parent_text, max_context_text);
    }
    if (f.ancestors.size() > 1) {
      m.facts["root_text"] = core::truncate_utf8(f.root_text, max_context_text);
      if (!f.root_url.empty()) m.facts["root_url"] = f.root_url;
    }
    if (!f.watched.empty()) m.facts["watched"] = f.watched;
    if (!direct) m.facts[std::string(core::fact_public)] = "1";
    if (!f.watched.empty() || (settings_.social.triage && !direct)) {
      m.facts[std::string(core::fact_triage)] = "1";
    }
    m.reply_facts = {{"in_reply_to_id", s.id}, {"visibility", s.visibility}};
    return m;
  }

  const mastodon_settings settings_;
  connector_context& context_;
  core::channel_traits traits_;
  const std::string host_;
  connector_health health_;
  std::string own_id_;  // the library's account, once verify_credentials said
  rate_window read_window_, paged_window_, post_window_;
  poller poller_;
};

bool plausible_hashtag(std::string_view tag) {
  return !tag.empty() && tag.size() <= 100 && std::all_of(tag.begin(), tag.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  });
}

class mastodon_factory final : public connector_factory {
 public:
  std::string_view type() const override { return "mastodon"; }

  std::unique_ptr<connector_settings> parse(json::object_reader& block) const override {
    auto s = std::make_unique<mastodon_settings>();
    auto& out = block.out();
    if (auto instance = block.required_string("instance")) {
      s->instance = *instance;
      while (s->instance.ends_with('/')) s->instance.pop_back();
      if (!core::is_http_url(s->instance) || mastodon::host_of(s->instance).empty()) {
        out.add(block.child_path("instance"),
                "must be the server's base URL, like https://mastodon.social");
      }
    }
    if (auto token = block.required_string("access_token")) {
      s->access_token = *token;
      if (token->empty() || token->find_first_of(" \r\n") != std::string::npos) {
        out.add(block.child_path("access_token"), "must be an access token without spaces");
      }
    }
    const std::string mode = block.string("mode", "poll");
    if (mode != "poll") {
      out.add(block.child_path("mode"),
              "must be poll (the streaming API is not supported yet), not '" + mode + "'");
    }
    s->social = read_social_options(block);
    s->watch_hashtags = block.string_list("watch_hashtags");
    for (auto& tag : s->watch_hashtags) {
      if (tag.starts_with('#')) tag.erase(0, 1);
      if (!plausible_hashtag(tag)) {
        out.add(block.child_path("watch_hashtags"),
                "'" + tag + "' is not a hashtag (letters, digits and _, without spaces)");
      }
    }
    return s;
  }

  lane_settings lane_defaults() const override {
    return {.concurrency = 4,
            .per_second = 1,
            .send_timeout = std::chrono::seconds(30),
            .max_attempts = 10};
  }

  std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                    connector_context& context) const override {
    return std::make_unique<mastodon_connector>(static_cast<const mastodon_settings&>(*settings),
                                                context);
  }
};

}  // namespace

std::unique_ptr<connector_factory> make_mastodon_factory() {
  return std::make_unique<mastodon_factory>();
}

}  // namespace askdesk::connectors
