#include "daemon/net/api.hpp"

#include <algorithm>
#include <memory>

#include "daemon/config/team_hours.hpp"
#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/json_body.hpp"
#include "daemon/net/privacy.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/conversation_store.hpp"
#include "daemon/store/keys.hpp"
#include "daemon/store/reads.hpp"
#include "daemon/store/streams.hpp"

namespace askdesk::net {

namespace {

constexpr std::size_t preview_bytes = 160;

bool is_tag(std::string_view s) {
  if (s.empty() || core::count_code_points(s) > max_tag_chars) return false;
  for (const char c : s) {
    const bool ascii_word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ascii_word && static_cast<unsigned char>(c) < 0x80) return false;
  }
  return true;
}

// Shared by every route: authenticate, then run the action with the caller.
class routes : public std::enable_shared_from_this<routes> {
 public:
  explicit routes(api_parts parts) : p_(parts) {}

  void add(http_router& router) {
    auto self = shared_from_this();
    const auto authed = [self](auto action) {
      return authenticated(
          self->p_.auth,
          [self, action](const http_request& r, const route_params& params, const principal& who,
                         respond_fn respond) { (self.get()->*action)(r, params, who, respond); });
    };
    router.add("GET", "/api/v1/teams", authed(&routes::teams));
    // Public, like the widget: whether a team is open and when it next opens.
    router.add("GET", "/api/v1/teams/{id}/hours",
               [this](const http_request& r, const route_params& p, respond_fn respond) {
                 hours(r, p, respond);
               });
    router.add("GET", "/api/v1/conversations", authed(&routes::list));
    router.add("GET", "/api/v1/conversations/{id}", authed(&routes::read));
    router.add("POST", "/api/v1/conversations/{id}/claim", authed(&routes::claim));
    router.add("POST", "/api/v1/conversations/{id}/messages", authed(&routes::reply));
    router.add("POST", "/api/v1/conversations/{id}/notes", authed(&routes::note));
    router.add("POST", "/api/v1/conversations/{id}/close", authed(&routes::close));
    router.add("POST", "/api/v1/conversations/{id}/csat", authed(&routes::csat));
    router.add("POST", "/api/v1/conversations/{id}/tags", authed(&routes::tags));
    router.add("POST", "/api/v1/conversations/{id}/topic", authed(&routes::set_topic));
    router.add("GET", "/api/v1/topics", authed(&routes::topics));
    router.add("POST", "/api/v1/conversations/{id}/transfer", authed(&routes::transfer));
    router.add("POST", "/api/v1/conversations/{id}/accept", authed(&routes::accept));
    router.add("POST", "/api/v1/conversations/{id}/decline", authed(&routes::decline));
    router.add("GET", "/api/v1/me/routing", authed(&routes::my_routing));
    router.add("POST", "/api/v1/me/presence", authed(&routes::set_presence));
    router.add("GET", "/api/v1/patrons/{id}", authed(&routes::patron));
    router.add("GET", "/api/v1/channels", authed(&routes::channels));
    router.add("GET", "/api/v1/outbound/dead", authed(&routes::dead_letters));
    router.add("POST", "/api/v1/outbound/dead/{id}/retry", authed(&routes::retry_dead));
    router.add("POST", "/api/v1/outbound/dead/{id}/discard", authed(&routes::discard_dead));
    router.add("GET", "/api/v1/social/items", authed(&routes::social_items));
    router.add("POST", "/api/v1/social/items/{id}/reply", authed(&routes::social_reply));
    router.add("POST", "/api/v1/social/items/{id}/dismiss", authed(&routes::social_dismiss));
    router.add("POST", "/api/v1/social/items/{id}/abuse", authed(&routes::social_abuse));
  }

 private:
  using respond_ref = const respond_fn&;

  // Answers JSON with `status`, or the error.
  static std::function<void(core::result<std::string>)> json_answer(int status,
                                                                    respond_ref respond) {
    return [status, respond](core::result<std::string> r) {
      respond(r ? http_response::json(status, std::move(r.value())) : http_response::from(r.err()));
    };
  }

  // Runs a function on conversation `id` (store/calls.hpp: its state is read first, and again
  // when it changed meanwhile) and answers its JSON with `status`, or its error. `extra`:
  // commands read with the state, whose replies `build` gets.
  void answer_on(const std::string& id, std::vector<std::vector<std::string>> extra,
                 store::call_builder build, int status, respond_ref respond) {
    store::run_json_on_conversation(p_.redis, p_.scripts, id, std::move(extra), std::move(build),
                                    json_answer(status, respond));
  }

  // A new message id, read with the state (the function declares the message's key).
  static std::vector<std::vector<std::string>> new_message() {
    return {{"INCR", store::keys::seq("message")}};
  }
  static std::string id_of(const std::vector<store::reply>& extra, std::size_t i = 0) {
    return std::to_string(extra.at(i).integer());
  }

  std::string now() const { return std::to_string(core::to_millis(p_.clock.now())); }

  // The request's JSON object, or nullopt after answering why it is not one.
  static std::optional<json_body> body_of(const http_request& r, respond_ref respond) {
    auto body = json_body::parse(r.body);
    if (!body) {
      respond(http_response::from(body.err()));
      return std::nullopt;
    }
    return std::move(body.value());
  }

  static bool bad_id(const route_params& params, std::string_view what, respond_ref respond) {
    if (is_id(params.get("id"))) return false;
    respond(http_response::error(404, "not_found",
                                 std::string(what) + " '" + params.get("id") + "' does not exist"));
    return true;
  }

  // Whether a team is open and when it next opens, in ?lang= (public, like the widget).
  void hours(const http_request& r, const route_params& p, respond_ref respond) {
    const auto* team = p_.config.find_team(p.get("id"));
    if (!team) {
      respond(http_response::error(404, "not_found", "no team '" + p.get("id") + "'"));
      return;
    }
    json::writer w;
    config::write_opening(w, *team, p_.clock.now(), r.query_param("lang").value_or(""));
    respond(http_response::json(200, w.str()));
  }

  // The caller's teams, or with ?all=true every team (transfers may go anywhere).
  void teams(const http_request& r, const route_params&, const principal& who,
             respond_ref respond) {
    const bool all = r.query_param("all") == "true";
    struct gathering {
      std::vector<const config::team_options*> teams;
      std::vector<std::int64_t> online, waiting;
      std::size_t remaining = 0;
      bool unavailable = false;
    };
    auto g = std::make_shared<gathering>();
    for (const auto& t : p_.config.teams) {
      if (all || who.in_team(t.id)) g->teams.push_back(&t);
    }
    g->online.resize(g->teams.size());
    g->waiting.resize(g->teams.size());
    g->remaining = g->teams.size() * 2;
    const auto finish = [g, respond, now = p_.clock.now()] {
      if (--g->remaining > 0) return;
      if (g->unavailable) {
        respond(http_response::error(503, "unavailable", "Redis is unreachable"));
        return;
      }
      json::writer w;
      w.start_object().key("items").start_array();
      for (std::size_t i = 0; i < g->teams.size(); ++i) {
        w.start_object()
            .field("id", g->teams[i]->id)
            .field("name", g->teams[i]->name)
            .field("online", g->online[i])
            .field("waiting", g->waiting[i])
            .field("open", config::opening_at(*g->teams[i], now).open)
            .field("read_required", g->teams[i]->read_required)
            .end_object();
      }
      w.end_array().end_object();
      respond(http_response::json(200, w.str()));
    };
    if (g->teams.empty()) {
      ++g->remaining;
      finish();
      return;
    }
    const std::string at = now();
    for (std::size_t i = 0; i < g->teams.size(); ++i) {
      const std::string& id = g->teams[i]->id;
      p_.redis.command({"ZCOUNT", store::keys::presence(id), "(" + at, "+inf"},
                       [g, i, finish](store::reply r) {
                         if (r.failed()) g->unavailable = true;
                         g->online[i] = r.is_integer() ? r.integer() : 0;
                         finish();
                       });
      p_.redis.command({"ZCARD", store::keys::queue(id)}, [g, i, finish](store::reply r) {
        if (r.failed()) g->unavailable = true;
        g->waiting[i] = r.is_integer() ? r.integer() : 0;
        finish();
      });
    }
  }

  void list(const http_request& r, const route_params&, const principal& who, respond_ref respond) {
    const auto param = [&](std::string_view name) { return r.query_param(name).value_or(""); };
    const std::string status = param("status");
    if (!status.empty() && status != "queued" && status != "assigned" && status != "closed") {
      respond(http_response::error(400, "invalid_request",
                                   "status must be queued, assigned or closed"));
      return;
    }
    std::string assignee = param("assignee");
    if (assignee == "me") assignee = who.user.name;
    const std::string limit_text = param("limit");
    long limit = 50;
    if (!limit_text.empty()) {
      limit = is_id(limit_text) ? std::stol(limit_text) : 0;
      if (limit < 1 || limit > 200) {
        respond(http_response::error(400, "invalid_request", "limit must be 1 to 200"));
        return;
      }
    }
    const std::string cursor = param("cursor");
    if (!cursor.empty() && !is_id(cursor)) {
      respond(http_response::error(400, "invalid_request", "cursor is not one this API gave"));
      return;
    }
    std::vector<std::string> visible;
    for (const auto& t : p_.config.teams) {
      if (who.in_team(t.id)) visible.push_back(t.id);
    }
    store::reads::conversations(
        p_.redis,
        {.scope = who.scope(),
         .status = status,
         .team = param("team"),
         .channel = param("channel"),
         .assignee = assignee,
         .limit = static_cast<std::size_t>(limit),
         .cursor = cursor.empty() ? 0 : static_cast<std::size_t>(std::stoull(cursor)),
         .teams = std::move(visible)},
        json_answer(200, respond));
  }

  // Reading a conversation or a patron's record is written in the access audit.
  void read(const http_request& r, const route_params& params, const principal& who,
            respond_ref respond) {
    if (bad_id(params, "conversation", respond)) return;
    record_access(p_, who, "open_conversation", params.get("id"), r);
    store::reads::conversation(p_.redis, params.get("id"), who.scope(), json_answer(200, respond));
  }

  void patron(const http_request& r, const route_params& params, const principal& who,
              respond_ref respond) {
    if (bad_id(params, "patron", respond)) return;
    record_access(p_, who, "open_patron", params.get("id"), r);
    store::reads::patron(p_.redis, params.get("id"), json_answer(200, respond));
  }

  void claim(const http_request& r, const route_params& params, const principal& who,
             respond_ref respond) {
    if (bad_id(params, "conversation", respond)) return;
    bool force = false;
    if (!r.body.empty()) {
      auto body = body_of(r, respond);
      if (!body) return;
      force = body->flag("force") && who.sees_every_team();
    }
    answer_on(
        params.get("id"), {},
        [at = now(), who, force](const store::conversation_state& s, const auto&) {
          return store::calls::make(store::calls::claim{
              .now = at, .state = s, .user = who.user.name, .scope = who.scope(), .force = force});
        },
        200, respond);
  }

  const core::configured_channel* channel(std::string_view connector) const {
    const auto it = std::find_if(p_.channels.begin(), p_.channels.end(),
                                 [&](const auto& c) { return c.id == connector; });
    return it == p_.channels.end() ? nullptr : &*it;
  }

  // Every configured connector with its channel's traits, for the dashboard's names and
  // composer limits.
  void channels(const http_request&, const route_params&, const principal&, respond_ref respond) {
    json::writer w;
    w.start_object().key("channels").start_array();
    for (const auto& c : p_.channels) {
      const auto& t = *c.traits;
      const auto list = [&w](std::string_view key, const std::vector<std::string>& words) {
        w.key(key).start_array();
        for (const auto& word : words) w.string(word);
        w.end_array();
      };
      w.start_object()
          .field("id", c.id)
          .field("type", c.type)
          .field("channel", t.channel)
          .field("name", t.display_name)
          .key("length")
          .start_object()
          .field("unit", core::name_of(t.unit))
          .field("max", static_cast<std::int64_t>(t.max_length))
          .end_object();
      list("opt_out", t.opt_out_keywords);
      list("opt_in", t.opt_in_keywords);
      list("help", t.help_keywords);
      w.field("automated_senders", t.automated_senders)
          .field("public_replies", t.public_replies)
          .field("delivery_reports", t.delivery_reports)
          .field("personal_address", t.address_is_personal)
          .end_object();
    }
    w.end_array().end_object();
    respond(http_response::json(200, w.str()));
  }

  // The sends that failed for good, on every lane (supervisors and admins).
  void dead_letters(const http_request&, const route_params&, const principal& who,
                    respond_ref respond) {
    dead_letter_action(who, "list", "", respond);
  }
  void retry_dead(const http_request&, const route_params& params, const principal& who,
                  respond_ref respond) {
    dead_letter_action(who, "retry", params.get("id"), respond);
  }
  void discard_dead(const http_request&, const route_params& params, const principal& who,
                    respond_ref respond) {
    dead_letter_action(who, "discard", params.get("id"), respond);
  }
  void dead_letter_action(const principal& who, std::string_view action, std::string_view id,
                          respond_ref respond) {
    if (!who.sees_every_team()) {
      respond(http_response::error(403, "forbidden", "dead letters are for supervisors"));
      return;
    }
    if (action != "list" && !store::is_stream_id(id)) {
      respond(http_response::error(404, "not_found", "no dead letter '" + std::string(id) + "'"));
      return;
    }
    std::vector<std::string> lanes;
    for (const auto& c : p_.channels) lanes.push_back(c.id);
    if (action == "list") {
      store::reads::dead_letters(p_.redis, std::move(lanes), json_answer(200, respond));
      return;
    }
    // Find the letter (and what its retry must check) first, then act on it as read.
    std::vector<std::vector<std::string>> lists;
    for (const auto& c : lanes)
      lists.push_back({"LRANGE", store::keys::outbound_dead(c), "0", "-1"});
    store::pipeline(
        p_.redis, std::move(lists),
        [self = shared_from_this(), lanes, action = std::string(action), id = std::string(id),
         respond](std::vector<store::reply> r) {
          for (std::size_t lane = 0; lane < r.size(); ++lane) {
            if (r[lane].failed()) {
              respond(http_response::error(503, "unavailable", "Redis is unreachable"));
              return;
            }
            for (const auto& letter : r[lane].elements()) {
              auto doc = json::document::parse(letter.str());
              if (!doc || json::string_member(doc->root(), "id") != id) continue;
              self->act_on_letter(action, lanes[lane], letter.str(), doc->root(), respond);
              return;
            }
          }
          respond(http_response::error(404, "not_found", "there is no dead letter " + id));
        });
  }

  void act_on_letter(const std::string& action, const std::string& connector,
                     const std::string& letter, const rapidjson::Value& root, respond_ref respond) {
    const auto entry = root.FindMember("entry");
    if (entry == root.MemberEnd() || !entry->value.IsObject()) {
      respond(http_response::error(500, "internal", "dead letter without its entry"));
      return;
    }
    store::calls::dead_letter in{
        .action = action,
        .now = now(),
        .connector = connector,
        .letter = letter,
        .conversation = std::string(json::string_member(entry->value, "conversation")),
        .message = std::string(json::string_member(entry->value, "message")),
        .channel = "",
        .address = ""};
    p_.redis.command({"HMGET", store::keys::conversation(in.conversation), "channel", "address"},
                     [self = shared_from_this(), in, respond](store::reply c) mutable {
                       if (c.failed()) {
                         respond(http_response::error(503, "unavailable", "Redis is unreachable"));
                         return;
                       }
                       if (c.size() == 2) {
                         in.channel = c[0].is_string() ? c[0].str() : "";
                         in.address = c[1].is_string() ? c[1].str() : "";
                       }
                       store::run_json(self->p_.redis, self->p_.scripts, store::calls::make(in),
                                       json_answer(200, respond));
                     });
  }

  void post(const http_request& r, const route_params& params, const principal& who,
            std::string_view kind, respond_ref respond) {
    if (bad_id(params, "conversation", respond)) return;
    auto body = body_of(r, respond);
    if (!body) return;
    auto text = body->text("text", kind == "note" ? max_note_chars : max_reply_chars);
    if (!text) {
      respond(http_response::from(text.err()));
      return;
    }
    if (kind == "note") {
      store_message(params.get("id"), who, kind, std::move(text.value()), nullptr, respond);
      return;
    }
    // A reply is as long as its channel carries.
    const std::string key = store::keys::conversation(params.get("id"));
    p_.redis.command(
        {"HGET", key, "connector"},
        [self = shared_from_this(), id = params.get("id"), who, kind = std::string(kind),
         text = std::move(text.value()), respond](store::reply connector) mutable {
          const core::configured_channel* c =
              connector.is_string() ? self->channel(connector.str()) : nullptr;
          if (c) {
            if (auto why = core::too_long(*c->traits, text)) {
              respond(http_response::error(400, "too_long", *why));
              return;
            }
          }
          self->store_message(id, who, kind, std::move(text), c, respond);
        });
  }

  // `c`: the conversation's channel when known, whose keywords an opt-out refusal names.
  void store_message(const std::string& id, const principal& who, std::string_view kind,
                     std::string text, const core::configured_channel* c, respond_ref respond) {
    const auto first = [](const std::vector<std::string>& words) {
      return words.empty() ? std::string() : words.front();
    };
    store::calls::post_message in{.now = now(),
                                  .state = {},
                                  .user = who.user.name,
                                  .author_name = who.user.shown_name(),
                                  .scope = who.scope(),
                                  .kind = std::string(kind),
                                  .text = std::move(text),
                                  .preview = {},
                                  .override_holder = who.sees_every_team(),
                                  .opt_out = c ? first(c->traits->opt_out_keywords) : "",
                                  .opt_in = c ? first(c->traits->opt_in_keywords) : "",
                                  .message = {}};
    in.preview = core::preview(in.text, preview_bytes);
    answer_on(
        id, new_message(),
        [in = std::move(in)](const store::conversation_state& s, const auto& extra) {
          auto call = in;
          call.state = s;
          call.message = id_of(extra);
          return store::calls::make(call);
        },
        201, respond);
  }

  void reply(const http_request& r, const route_params& params, const principal& who,
             respond_ref respond) {
    post(r, params, who, "out", respond);
  }
  void note(const http_request& r, const route_params& params, const principal& who,
            respond_ref respond) {
    post(r, params, who, "note", respond);
  }

  // Closes it, with the READ level staff chose ({"read_level": 1-6}; a body is optional
  // unless the conversation's team asks for the level: close.lua checks).
  void close(const http_request& r, const route_params& params, const principal& who,
             respond_ref respond) {
    if (bad_id(params, "conversation", respond)) return;
    std::optional<std::int64_t> level;
    if (!r.body.empty()) {
      auto body = body_of(r, respond);
      if (!body) return;
      auto given = body->optional_integer("read_level", 1, 6);
      if (!given) {
        respond(http_response::from(given.err()));
        return;
      }
      level = given.value();
    }
    answer_on(
        params.get("id"), new_message(),
        [at = now(), who, level, &config = p_.config](const store::conversation_state& s,
                                                      const std::vector<store::reply>& extra) {
          const auto* team = config.find_team(s.team);
          const auto question = team ? config::csat_question(*team, s.channel) : std::nullopt;
          return store::calls::make(
              store::calls::close{.now = at,
                                  .state = s,
                                  .user = who.user.name,
                                  .scope = who.scope(),
                                  .read_level = level ? std::to_string(*level) : "",
                                  .read_required = team && team->read_required,
                                  .csat_question = question.value_or(""),
                                  .message = id_of(extra)});
        },
        200, respond);
  }

  // A satisfaction score (1-5) and comment for the conversation, from an integration's own
  // survey; once per conversation (409 after).
  void csat(const http_request& r, const route_params& params, const principal& who,
            respond_ref respond) {
    if (bad_id(params, "conversation", respond)) return;
    auto body = body_of(r, respond);
    if (!body) return;
    auto score = body->optional_integer("score", 1, 5);
    auto comment = body->optional_text("comment", max_note_chars);
    if (!score || !score.value()) {
      respond(http_response::from(score ? core::error{"invalid", "score: required (1 to 5)"}
                                        : score.err()));
      return;
    }
    if (!comment) {
      respond(http_response::from(comment.err()));
      return;
    }
    answer_on(
        params.get("id"), {},
        [at = now(), who, score = std::to_string(*score.value()),
         text = comment.value().value_or("")](const store::conversation_state& s, const auto&) {
          return store::calls::make(store::calls::rate{
              .now = at, .state = s, .scope = who.scope(), .score = score, .comment = text});
        },
        200, respond);
  }

  // Hands the conversation to a team's queue or to a person, with an optional internal note,
  // in one script (transfer.lua checks who may move it and to whom).
  void transfer(const http_request& r, const route_params& params, const principal& who,
                respond_ref respond) {
    if (bad_id(params, "conversation", respond)) return;
    auto body = body_of(r, respond);
    if (!body) return;
    auto team = body->optional_text("team", 64);
    auto user = body->optional_text("user", 64);
    auto note = body->optional_text("note", max_note_chars);
    for (const auto* field : {&team, &user, &note}) {
      if (!*field) {
        respond(http_response::from(field->err()));
        return;
      }
    }
    if (!team.value() && !user.value()) {
      respond(http_response::error(400, "invalid_request", "give a team, a user, or both"));
      return;
    }
    if (team.value() && !p_.config.find_team(*team.value())) {
      respond(http_response::error(400, "invalid_request",
                                   "team '" + *team.value() + "' is not in the configuration"));
      return;
    }
    const std::string text = note.value().value_or("");
    store::calls::transfer in{.now = now(),
                              .state = {},
                              .scope = who.scope(),
                              .team = team.value().value_or(""),
                              .user = user.value().value_or(""),
                              .actor = who.user.name,
                              .actor_name = who.user.shown_name(),
                              .supervisor = who.sees_every_team(),
                              .note = text,
                              .preview = core::preview(text, preview_bytes),
                              .message = {}};
    // A note is a message: its id is taken with the state (none without a note).
    auto extra = text.empty() ? std::vector<std::vector<std::string>>{} : new_message();
    answer_on(
        params.get("id"), std::move(extra),
        [in = std::move(in)](const store::conversation_state& s, const auto& extra) {
          auto call = in;
          call.state = s;
          call.message = extra.empty() ? "" : id_of(extra);
          return store::calls::make(call);
        },
        200, respond);
  }

  // Offers (docs/api.md): accepting is an atomic claim only the people offered can make.
  void accept(const http_request& r, const route_params& params, const principal& who,
              respond_ref respond) {
    offer_reply(r, params, who, "accept", respond);
  }
  void decline(const http_request& r, const route_params& params, const principal& who,
               respond_ref respond) {
    offer_reply(r, params, who, "decline", respond);
  }
  void offer_reply(const http_request&, const route_params& params, const principal& who,
                   std::string_view answer_with, respond_ref respond) {
    if (bad_id(params, "conversation", respond)) return;
    answer_on(
        params.get("id"), {},
        [at = now(), who, answer = std::string(answer_with)](const store::conversation_state& s,
                                                             const auto&) {
          return store::calls::make(store::calls::offer_reply{.now = at,
                                                              .state = s,
                                                              .user = who.user.name,
                                                              .scope = who.scope(),
                                                              .answer = answer});
        },
        200, respond);
  }

  // The caller's presence, load and waiting offers.
  void my_routing(const http_request&, const route_params&, const principal& who,
                  respond_ref respond) {
    routing_state(who, respond);
  }

  void routing_state(const principal& who, const respond_fn& respond) {
    store::reads::staff(p_.redis, core::to_millis(p_.clock.now()), who.user.name,
                        p_.config.capacity_of(who.user.teams), json_answer(200, respond));
  }

  void set_presence(const http_request& r, const route_params&, const principal& who,
                    respond_ref respond) {
    auto body = body_of(r, respond);
    if (!body) return;
    auto presence = body->text("presence", 16);
    if (!presence || (presence.value() != "available" && presence.value() != "away" &&
                      presence.value() != "offline")) {
      respond(http_response::error(400, "invalid_request",
                                   "presence must be available, away or offline"));
      return;
    }
    store::run(p_.redis, p_.scripts,
               store::calls::make(
                   store::calls::set_presence{.user = who.user.name, .presence = presence.value()}),
               [self = shared_from_this(), who, respond](store::reply reply) {
                 if (reply.failed()) {
                   respond(http_response::error(503, "unavailable", "Redis is unreachable"));
                   return;
                 }
                 self->routing_state(who, respond);
               });
  }

  // Every topic of the config with its team: what staff may choose from.
  void topics(const http_request&, const route_params&, const principal&, respond_ref respond) {
    json::writer w;
    w.start_object().key("items").start_array();
    for (const auto& t : p_.config.topics) {
      w.start_object().field("id", t.id).field("team", t.team).end_object();
    }
    w.end_array().end_object();
    respond(http_response::json(200, w.str()));
  }

  // Staff set the topic: it moves a waiting conversation to the topic's team, and the
  // patron's words become a training example for every daemon's classifier.
  void set_topic(const http_request& r, const route_params& params, const principal& who,
                 respond_ref respond) {
    if (bad_id(params, "conversation", respond)) return;
    auto body = body_of(r, respond);
    if (!body) return;
    auto topic = body->text("topic", 64);
    if (!topic) {
      respond(http_response::from(topic.err()));
      return;
    }
    const auto* t = p_.config.find_topic(topic.value());
    if (!t) {
      respond(http_response::error(400, "invalid_request",
                                   "topic '" + topic.value() + "' is not in the configuration"));
      return;
    }
    const std::string id = params.get("id");
    answer_on(
        id, {{"LRANGE", store::keys::conversation_messages(id), "0", "19"}},
        [at = now(), who, topic = t->id, team = t->team](const store::conversation_state& s,
                                                         const auto& extra) {
          store::calls::set_topic in{.now = at,
                                     .state = s,
                                     .scope = who.scope(),
                                     .topic = topic,
                                     .team = team,
                                     .user = who.user.name,
                                     .kept = std::to_string(store::topic_examples_kept),
                                     .first_messages = {}};
          for (const auto& m : extra.at(0).elements()) in.first_messages.push_back(m.str());
          return store::calls::make(in);
        },
        200, respond);
  }

  void tags(const http_request& r, const route_params& params, const principal& who,
            respond_ref respond) {
    if (bad_id(params, "conversation", respond)) return;
    auto body = body_of(r, respond);
    if (!body) return;
    auto add = body->strings("add");
    auto remove = body->strings("remove");
    if (!add || !remove) {
      respond(http_response::from(!add ? add.err() : remove.err()));
      return;
    }
    for (const auto* list : {&add.value(), &remove.value()}) {
      for (const auto& tag : *list) {
        if (!is_tag(tag)) {
          respond(http_response::error(400, "invalid_request",
                                       "tag '" + tag + "': use 1 to 40 letters, digits, - and _"));
          return;
        }
      }
    }
    answer_on(
        params.get("id"), {},
        [at = now(), scope = who.scope(), add = add.value(), remove = remove.value()](
            const store::conversation_state& s, const auto&) {
          return store::calls::make(store::calls::tag{
              .now = at, .state = s, .scope = scope, .add = add, .remove = remove});
        },
        200, respond);
  }

  // The social desk (docs/api.md, "Social items"): mentions and watched posts in triage.
  void social_items(const http_request& r, const route_params&, const principal& who,
                    respond_ref respond) {
    const std::string state = r.query_param("state").value_or("new");
    if (state != "new" && state != "dismissed" && state != "abuse") {
      respond(
          http_response::error(400, "invalid_request", "state must be new, dismissed or abuse"));
      return;
    }
    const std::string limit_text = r.query_param("limit").value_or("50");
    const long limit = is_id(limit_text) ? std::stol(limit_text) : 0;
    if (limit < 1 || limit > 200) {
      respond(http_response::error(400, "invalid_request", "limit must be 1 to 200"));
      return;
    }
    std::vector<std::string> visible;
    for (const auto& t : p_.config.teams) {
      if (who.in_team(t.id)) visible.push_back(t.id);
    }
    store::reads::social_items(p_.redis, who.scope(), state, r.query_param("team").value_or(""),
                               static_cast<std::size_t>(limit), std::move(visible),
                               json_answer(200, respond));
  }

  void social_action(std::string_view action, const route_params& params, const principal& who,
                     respond_ref respond) {
    if (bad_id(params, "social item", respond)) return;
    answer_on(
        params.get("id"), {},
        [at = now(), who, action = std::string(action)](const store::conversation_state& s,
                                                        const auto&) {
          return store::calls::make(store::calls::social_item{.now = at,
                                                              .state = s,
                                                              .scope = who.scope(),
                                                              .action = action,
                                                              .user = who.user.name});
        },
        200, respond);
  }
  void social_reply(const http_request&, const route_params& p, const principal& who,
                    respond_ref respond) {
    social_action("reply", p, who, respond);
  }
  void social_dismiss(const http_request&, const route_params& p, const principal& who,
                      respond_ref respond) {
    social_action("dismiss", p, who, respond);
  }
  void social_abuse(const http_request&, const route_params& p, const principal& who,
                    respond_ref respond) {
    social_action("abuse", p, who, respond);
  }

  api_parts p_;
};

}  // namespace

bool is_id(std::string_view s) {
  return !s.empty() && s.size() <= 18 &&
         s.find_first_not_of("0123456789") == std::string_view::npos;
}

void add_api_routes(http_router& router, api_parts parts) {
  std::make_shared<routes>(parts)->add(router);
}

}  // namespace askdesk::net
