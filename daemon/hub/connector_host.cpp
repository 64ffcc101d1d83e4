// Each call turns into one Redis command or script on the daemon's command connection. The
// host fills in what a connector must not choose itself: its id and channel on inbound
// messages, the key prefixes of its state, and the holder name of its leases. Event
// subscriptions are filtered here, so a connector sees only its own conversations (and
// presence, which every channel may show).
#include "daemon/hub/connector_host.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "daemon/json/document.hpp"
#include "daemon/net/timer.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/event_feed.hpp"
#include "daemon/store/inbound_store.hpp"
#include "daemon/store/keys.hpp"
#include "daemon/store/reads.hpp"

namespace askdesk::hub {

namespace {

core::status status_of(const store::reply& r, std::string_view what) {
  if (r.failed()) return store::redis_error(r, std::string(what));
  return {};
}

// The connector an event belongs to: data.connector, or data.conversation.connector.
std::string_view connector_of(const rapidjson::Value& data) {
  if (!data.IsObject()) return {};
  if (const auto c = json::string_member(data, "connector"); !c.empty()) return c;
  const auto conversation = data.FindMember("conversation");
  if (conversation != data.MemberEnd() && conversation->value.IsObject()) {
    return json::string_member(conversation->value, "connector");
  }
  return {};
}

}  // namespace

connector_host::connector_host(host_parts& parts, std::string id, std::string type)
    : parts_(parts),
      id_(std::move(id)),
      type_(std::move(type)),
      holder_(parts_.daemon_name + "/" + id_) {
  parts_.metrics.declare_counter("askdesk_webhook_refused_total",
                                 "Webhook requests refused, by connector and reason.");
}

connector_host::~connector_host() {
  for (const auto s : subscriptions_) parts_.events.unsubscribe(s);
}

std::string connector_host::record_key(std::string_view name) const {
  return store::keys::connector_record(type_, id_, name);
}

std::string connector_host::lease_key(std::string_view name) const {
  return store::keys::connector_lease(type_, name);
}

void connector_host::add_webhook(std::string_view method, std::string_view path,
                                 webhook_check check, net::http_handler handler) {
  parts_.routes.add(
      method, path,
      [this, check = std::move(check), handler = std::move(handler)](
          const net::http_request& r, const net::route_params& p, net::respond_fn respond) {
        if (auto vouched = check(r); !vouched) {
          parts_.metrics.add("askdesk_webhook_refused_total",
                             {{"connector", id_}, {"reason", vouched.err().code}});
          respond(net::http_response::from(vouched.err()));
          return;
        }
        handler(r, p, std::move(respond));
      });
}

void connector_host::add_websocket(std::string_view path, net::websocket_route route,
                                   net::websocket_limits limits) {
  parts_.routes.add_websocket(path, std::move(route), limits);
}

void connector_host::add_staff_route(std::string_view method, std::string_view path,
                                     net::http_handler handler) {
  parts_.routes.add(
      method, staff_path(path),
      [this, handler = std::move(handler)](const net::http_request& r, const net::route_params& p,
                                           net::respond_fn respond) {
        parts_.authenticate_staff(
            r, [&r, p, handler, respond = std::move(respond)](core::status staff) mutable {
              if (!staff) {
                respond(net::http_response::from(staff.err()));
                return;
              }
              handler(r, p, std::move(respond));
            });
      });
}

std::string connector_host::staff_path(std::string_view path) const {
  return "/api/v1/connectors/" + id_ + "/" + std::string(path);
}

void connector_host::deliver(core::inbound_message m,
                             std::function<void(core::result<connectors::delivery>)> done) {
  m.connector = id_;
  if (const auto* self = connector_for_id(id_)) {
    m.channel = std::string(self->channel());
    core::mark_keyword(m, self->traits());
  }
  parts_.sink.deliver(std::move(m), std::move(done));
}

bool connector_host::accepting() const { return parts_.sink.accepting(); }

const connectors::connector* connector_host::connector_for_id(std::string_view id) const {
  const auto& all = parts_.connectors;
  const auto it =
      std::find_if(all.begin(), all.end(), [&](const auto& c) { return c->id() == id; });
  return it == all.end() ? nullptr : it->get();
}

const connectors::connector* connector_host::connector_for(std::string_view channel) const {
  const auto& all = parts_.connectors;
  const auto it =
      std::find_if(all.begin(), all.end(), [&](const auto& c) { return c->channel() == channel; });
  return it == all.end() ? nullptr : it->get();
}

bool connector_host::serves(std::string_view channel) const {
  return connector_for(channel) != nullptr;
}

void connector_host::deliver_for(std::string_view channel, core::inbound_message m,
                                 std::function<void(core::result<connectors::delivery>)> done) {
  const auto* peer = connector_for(channel);
  if (!peer) {
    net::post(parts_.io, [done = std::move(done), channel = std::string(channel)] {
      done(core::error{"not_found", "no connector serves " + channel + " here"});
    });
    return;
  }
  m.connector = peer->id();
  m.channel = std::string(peer->channel());
  core::mark_keyword(m, peer->traits());
  parts_.sink.deliver(std::move(m), std::move(done));
}

void connector_host::report_delivery(connectors::delivery_report report,
                                     std::function<void(core::status)> done) {
  report_delivery_once(std::move(report), std::move(done), 0);
}

// Which message the channel's id names is read first; delivery_status.lua checks it did not
// change meanwhile (the lane may record it just then), else it is read again.
void connector_host::report_delivery_once(connectors::delivery_report report,
                                          std::function<void(core::status)> done, int tries) {
  const std::string key = store::keys::provider(id_, report.provider_id);  // before `report` moves
  parts_.redis.command({"GET", key}, [this, report = std::move(report), done = std::move(done),
                                      tries](store::reply seen) mutable {
    if (seen.failed()) {
      done(status_of(seen, "recording a delivery status"));
      return;
    }
    store::calls::delivery_status in{.now = std::to_string(core::to_millis(parts_.clock.now())),
                                     .connector = id_,
                                     .provider_id = report.provider_id,
                                     .status = report.status,
                                     .code = report.error_code,
                                     .why = report.error,
                                     .seen = seen.is_string() ? seen.str() : ""};
    store::run(
        parts_.redis, parts_.scripts, store::calls::make(in),
        [this, report = std::move(report), done = std::move(done), tries](store::reply r) mutable {
          if (r.is_array() && tries < 8) {  // {'stale'}
            report_delivery_once(std::move(report), std::move(done), tries + 1);
            return;
          }
          spdlog::debug("{}: delivery status {} of {}: {}", id_, report.status, report.provider_id,
                        r.describe());
          done(status_of(r, "recording a delivery status"));
        });
  });
}

void connector_host::report_typing(std::string_view thread, std::string_view name,
                                   std::function<void(core::status)> done) {
  parts_.redis.command(
      {"GET", store::keys::thread(id_, thread)},
      [this, name = std::string(name), done = std::move(done)](store::reply id) mutable {
        if (!id.is_string()) {
          done(id.failed() ? status_of(id, "typing") : core::status{});
          return;
        }
        store::run(
            parts_.redis, parts_.scripts,
            store::calls::make(store::calls::typing{.id = id.str(), .who = "patron", .name = name}),
            [done = std::move(done)](store::reply r) { done(status_of(r, "typing")); });
      });
}

void connector_host::load(std::string_view name,
                          std::function<void(core::result<connectors::state_record>)> done) {
  const std::string key = record_key(name);
  parts_.redis.command({"HGETALL", key}, [done = std::move(done), key](store::reply r) {
    if (r.failed() || !r.is_array()) {
      done(store::redis_error(r, "reading " + key));
      return;
    }
    connectors::state_record record;
    for (std::size_t i = 0; i + 1 < r.size(); i += 2) record[r[i].str()] = r[i + 1].str();
    done(std::move(record));
  });
}

void connector_host::save_record(std::string_view lease, std::string_view fence,
                                 std::string_view name, const connectors::state_record& fields,
                                 std::chrono::seconds ttl, std::function<void(core::status)> done) {
  store::calls::save_record in{.key = record_key(name),
                               .ttl = std::to_string(ttl.count()),
                               .lease = std::string(lease),
                               .holder = holder_,
                               .fence = std::string(fence),
                               .fields = {}};
  for (const auto& [field, value] : fields) {
    in.fields.push_back(field);
    in.fields.push_back(value);
  }
  store::run_json(parts_.redis, parts_.scripts, store::calls::make(in),
                  [done = std::move(done)](core::result<std::string> r) {
                    if (!r) {
                      done(r.err());
                      return;
                    }
                    done({});
                  });
}

void connector_host::save(std::string_view name, connectors::state_record fields,
                          std::chrono::seconds ttl, std::function<void(core::status)> done) {
  save_record("", "", name, fields, ttl, std::move(done));
}

void connector_host::save_fenced(const connectors::lease_grant& lease, std::string_view name,
                                 connectors::state_record fields,
                                 std::function<void(core::status)> done) {
  save_record(lease_key(lease.name), std::to_string(lease.fence), name, fields,
              std::chrono::seconds(0), std::move(done));
}

void connector_host::erase(std::string_view name, std::function<void(core::status)> done) {
  const std::string key = record_key(name);
  parts_.redis.command({"DEL", key}, [done = std::move(done), key](store::reply r) {
    done(status_of(r, "deleting " + key));
  });
}

void connector_host::take_quota(std::string_view name, std::int64_t limit,
                                std::chrono::milliseconds window,
                                std::function<void(core::result<bool>)> done) {
  const std::string key = record_key("quota:" + std::string(name));
  store::run(
      parts_.redis, parts_.scripts,
      store::calls::make(store::calls::take_quota{
          .key = key, .limit = std::to_string(limit), .window_ms = std::to_string(window.count())}),
      [done = std::move(done), key](store::reply r) {
        if (!r.is_integer()) {
          done(store::redis_error(r, "counting " + key));
          return;
        }
        done(r.integer() == 1);
      });
}

void connector_host::lease(
    std::string_view name, std::chrono::milliseconds ttl,
    std::function<void(core::result<std::optional<connectors::lease_grant>>)> done) {
  const std::string key = lease_key(name);
  store::run(parts_.redis, parts_.scripts,
             store::calls::make(store::calls::lease{
                 .key = key, .holder = holder_, .ms = std::to_string(ttl.count())}),
             [done = std::move(done), grant = std::string(name), key](store::reply r) {
               if (!r.is_integer()) {
                 done(store::redis_error(r, "taking the lease " + key));
                 return;
               }
               if (r.integer() <= 0) {
                 done(std::optional<connectors::lease_grant>());
                 return;
               }
               done(std::optional<connectors::lease_grant>(
                   connectors::lease_grant{grant, static_cast<std::uint64_t>(r.integer())}));
             });
}

std::uint64_t connector_host::follow(
    std::function<void(const connectors::conversation_event&)> handler) {
  const auto s =
      parts_.events.subscribe([this, handler = std::move(handler)](const store::shared_event& e) {
        if (!e->connector.empty()) {  // a record's: no JSON to read
          if (e->connector != id_) return;
        } else if (e->type != "presence.updated") {
          auto doc = json::document::parse(e->data);
          if (!doc || connector_of(doc->root()) != id_) return;
        }
        handler(connectors::conversation_event{e->type, e->team, e->data});
      });
  subscriptions_.push_back(s);
  return s;
}

void connector_host::unfollow(std::uint64_t subscription) {
  parts_.events.unsubscribe(subscription);
  std::erase(subscriptions_, subscription);
}

void connector_host::read_transcript(std::string_view thread, std::string_view after,
                                     std::function<void(core::result<std::string>)> done) {
  std::int64_t from = 0;
  std::from_chars(after.data(), after.data() + after.size(), from);
  store::reads::patron_transcript(parts_.redis, id_, std::string(thread), from, std::move(done));
}

void connector_host::team_available(std::string_view team,
                                    std::function<void(core::result<bool>)> done) {
  const std::string key = store::keys::presence(team);
  const std::string now = "(" + std::to_string(core::to_millis(parts_.clock.now()));
  parts_.redis.command({"ZCOUNT", key, now, "+inf"}, [done = std::move(done), key](store::reply r) {
    if (!r.is_integer()) {
      done(store::redis_error(r, "counting " + key));
      return;
    }
    done(r.integer() > 0);
  });
}

void connector_host::send_transcript(transcript_request request,
                                     std::function<void(core::status)> done) {
  const auto* peer = connector_for(request.channel);
  if (!peer) {
    net::post(parts_.io, [done = std::move(done), channel = request.channel] {
      done(core::error{"unavailable", "no connector sends " + channel + " here"});
    });
    return;
  }
  // The patron's conversation on this thread, then the function on it as read.
  const std::string thread = store::keys::thread(id_, request.thread);  // before `request` moves
  parts_.redis.command(
      {"GET", thread}, [this, request = std::move(request), mail = std::string(peer->id()),
                        done = std::move(done)](store::reply id) mutable {
        if (id.failed()) {
          done(status_of(id, "sending a transcript"));
          return;
        }
        if (!id.is_string()) {
          done(core::error{"not_found", "there is no conversation to send yet"});
          return;
        }
        const std::string conversation = id.str();
        store::run_json_on_conversation(
            parts_.redis, parts_.scripts, conversation,
            {{"LRANGE", store::keys::conversation_messages(conversation), "0", "-1"},
             {"INCR", store::keys::seq("message")}},
            [now = std::to_string(core::to_millis(parts_.clock.now())), request, mail](
                const store::conversation_state& s, const std::vector<store::reply>& extra) {
              store::calls::email_transcript in{.now = now,
                                                .state = s,
                                                .mail = mail,
                                                .address = request.address,
                                                .subject = request.subject,
                                                .intro = request.intro,
                                                .most = std::to_string(request.per_hour),
                                                .message = std::to_string(extra.at(1).integer()),
                                                .messages = {}};
              for (const auto& m : extra.at(0).elements()) in.messages.push_back(m.str());
              return store::calls::make(in);
            },
            [done = std::move(done)](core::result<std::string> r) {
              if (!r) {
                done(r.err());
                return;
              }
              done({});
            });
      });
}

void connector_host::forget(std::string_view thread, std::function<void(core::status)> done) {
  parts_.redis.command({"GET", store::keys::thread(id_, thread)}, [this, done = std::move(done)](
                                                                      store::reply id) mutable {
    if (id.failed()) return done(status_of(id, "forgetting a patron"));
    if (!id.is_string()) return done({});  // nothing said yet
    const std::string conversation = id.str();
    // Closed first (by the patron, with no question), then erased.
    store::run_json_on_conversation(
        parts_.redis, parts_.scripts, conversation, {},
        [now = std::to_string(core::to_millis(parts_.clock.now()))](
            const store::conversation_state& s, const std::vector<store::reply>&) {
          return store::calls::make(
              store::calls::close{.now = now, .state = s, .user = "patron", .scope = "*"});
        },
        [this, conversation, done = std::move(done)](core::result<std::string> closed) mutable {
          if (!closed) return done(closed.err());
          parts_.redis.command({"HGET", store::keys::conversation(conversation), "patron"},
                               [this, done = std::move(done)](store::reply patron) mutable {
                                 if (!patron.is_string())
                                   return done(status_of(patron, "forgetting a patron"));
                                 erase_patron(patron.str(), std::move(done), 0);
                               });
        });
  });
}

// A reply still on its way to the patron makes the erasure wait (conflict): it is tried again
// for a few seconds.
void connector_host::erase_patron(std::string patron, std::function<void(core::status)> done,
                                  int tries) {
  store::privacy::erase(
      parts_.redis, parts_.scripts, core::to_millis(parts_.clock.now()), patron, parts_.privacy,
      [this, patron, done = std::move(done),
       tries](core::result<store::privacy::report> r) mutable {
        if (r || r.err().code != "conflict" || tries >= 20) {
          if (r)
            spdlog::info("privacy: patron {} asked to be forgotten: {}", patron, r.value().text());
          return done(r ? core::status{} : core::status{r.err()});
        }
        auto wait = std::make_shared<net::timer>(parts_.io);
        wait->after(std::chrono::milliseconds(250),
                    [this, wait, patron, done = std::move(done), tries]() mutable {
                      erase_patron(patron, std::move(done), tries + 1);
                    });
      });
}

}  // namespace askdesk::hub
