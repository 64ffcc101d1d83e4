#include "daemon/net/privacy.hpp"

#include <spdlog/spdlog.h>

#include "daemon/core/time.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/json_body.hpp"
#include "daemon/store/calls.hpp"
#include "daemon/store/keys.hpp"
#include "daemon/store/reads.hpp"

namespace askdesk::net {

namespace {

std::int64_t days_ms(int days) { return std::int64_t{days} * 24 * 3600 * 1000; }

constexpr std::string_view audit_actions[] = {"open_conversation", "open_patron", "export_patron",
                                              "erase_patron",      "link_patron", "unlink_patron"};
constexpr std::size_t max_consent_chars = 500;

// The patron routes: supervisors and admins, a numeric id.
using patron_action =
    std::function<void(const http_request&, const std::string& id, const principal&, respond_fn)>;
http_handler patron_route(api_parts parts, patron_action action) {
  return authenticated(parts.auth, [action](const http_request& r, const route_params& params,
                                            const principal& who, respond_fn respond) {
    if (!who.sees_every_team()) {
      respond(http_response::error(403, "forbidden",
                                   "erasure and export are for supervisors and admins"));
      return;
    }
    const std::string& id = params.get("id");
    if (!is_id(id)) {
      respond(http_response::error(404, "not_found", "patron '" + id + "' does not exist"));
      return;
    }
    action(r, id, who, std::move(respond));
  });
}

// GET /api/v1/audit?user=&action=&target=&before=&limit=: newest first.
void read_audit(const api_parts& p, const http_request& r, respond_fn respond) {
  const auto param = [&](std::string_view name) { return r.query_param(name).value_or(""); };
  const std::string user = param("user"), action = param("action"), target = param("target");
  const std::string before = param("before");
  if (!action.empty() && std::find(std::begin(audit_actions), std::end(audit_actions), action) ==
                             std::end(audit_actions)) {
    respond(http_response::error(400, "invalid_request",
                                 "action: must be open_conversation, open_patron, "
                                 "export_patron, erase_patron, link_patron or unlink_patron"));
    return;
  }
  const std::string limit_text = param("limit").empty() ? "100" : param("limit");
  const std::int64_t limit = is_id(limit_text) ? std::stoll(limit_text) : 0;
  if (limit < 1 || limit > 500) {
    respond(http_response::error(400, "invalid_request", "limit: must be 1 to 500"));
    return;
  }
  if (!before.empty() && before.find_first_not_of("0123456789-") != std::string::npos) {
    respond(http_response::error(400, "invalid_request", "before: must be an entry id"));
    return;
  }
  // A page reads at most 5,000 entries, so a rare filter may give a short page.
  p.redis.command({"XREVRANGE", std::string(store::keys::audit),
                   before.empty() ? "+" : "(" + before, "-", "COUNT", "5000"},
                  [user, action, target, limit, respond](store::reply reply) {
                    if (reply.failed()) {
                      respond(http_response::error(503, "unavailable", "Redis is unreachable"));
                      return;
                    }
                    json::writer w;
                    w.start_object().key("items").start_array();
                    std::int64_t shown = 0;
                    std::string last;
                    for (const auto& e : reply.elements()) {
                      if (shown == limit) break;
                      last = e[0].str();
                      std::string fields[4];  // user, action, target, address
                      for (std::size_t i = 0; i + 1 < e[1].size(); i += 2) {
                        const std::string& name = e[1][i].str();
                        const std::string& value = e[1][i + 1].str();
                        if (name == "user") fields[0] = value;
                        if (name == "action") fields[1] = value;
                        if (name == "target") fields[2] = value;
                        if (name == "address") fields[3] = value;
                      }
                      if ((!user.empty() && fields[0] != user) ||
                          (!action.empty() && fields[1] != action) ||
                          (!target.empty() && fields[2] != target)) {
                        continue;
                      }
                      const std::int64_t ms = std::stoll(last.substr(0, last.find('-')));
                      w.start_object()
                          .field("id", last)
                          .field("at", core::format_iso8601(core::from_millis(ms)))
                          .field("user", fields[0])
                          .field("action", fields[1])
                          .field("target", fields[2])
                          .field("address", fields[3])
                          .end_object();
                      ++shown;
                    }
                    w.end_array().key("next_before");
                    if (shown == limit || reply.size() == 5000) {
                      w.string(last);
                    } else {
                      w.null();
                    }
                    w.end_object();
                    respond(http_response::json(200, w.str()));
                  });
}

// Links (or, without a record, unlinks) patron `a` and `b` on both sides, then answers `a`'s
// record.
void link(const api_parts& p, const principal& who, const http_request& r, std::string a,
          std::string b, std::string record, respond_fn respond) {
  if (a == b) {
    respond(http_response::error(400, "invalid_request",
                                 "patron: a record cannot be linked to itself"));
    return;
  }
  const bool linking = !record.empty();
  record_access(p, who, linking ? "link_patron" : "unlink_patron", a, r);
  store::run(
      p.redis, p.scripts,
      store::calls::make(store::calls::link_patrons{
          .a = a, .b = b, .op = linking ? "link" : "unlink", .record = record}),
      [&redis = p.redis, a, respond](store::reply reply) {
        if (reply.failed()) {
          respond(http_response::error(503, "unavailable", "Redis is unreachable"));
          return;
        }
        if (reply.is_array() && reply.size() == 2) {  // {code, why}
          respond(http_response::from(core::error{reply[0].str(), reply[1].str()}));
          return;
        }
        store::reads::patron(redis, a, [respond](core::result<std::string> done) {
          respond(done ? http_response::json(200, done.value()) : http_response::from(done.err()));
        });
      });
}

}  // namespace

store::privacy::retention retention_of(const config::daemon_config& config) {
  const auto& p = config.privacy;
  store::privacy::retention r;
  r.transcript_ms = days_ms(p.transcript_days);
  r.identifier_ms = days_ms(p.identifier_days);
  for (const auto& [channel, policy] : p.channels) {
    if (policy.transcript_days) {
      r.transcript_ms_by_channel[channel] = days_ms(*policy.transcript_days);
    }
    if (policy.identifier_days) {
      r.identifier_ms_by_channel[channel] = days_ms(*policy.identifier_days);
    }
  }
  for (const auto& c : config.connectors) r.connectors.push_back(c.id);
  r.aof_rewrite = p.aof_rewrite;
  return r;
}

void record_access(const api_parts& parts, const principal& who, std::string_view action,
                   const std::string& target, const http_request& request) {
  store::run(parts.redis, parts.scripts,
             store::calls::make(
                 store::calls::audit{.now = std::to_string(core::to_millis(parts.clock.now())),
                                     .user = who.user.name,
                                     .action = std::string(action),
                                     .target = target,
                                     .address = request.remote_address,
                                     .keep_ms = days_ms(parts.config.privacy.audit_days)}),
             [action = std::string(action), target](store::reply r) {
               if (r.failed()) {
                 spdlog::error("audit: {} of {} was not written: {}", action, target, r.str());
               }
             });
}

void add_privacy_routes(http_router& router, api_parts parts) {
  router.add("POST", "/api/v1/patrons/{id}/erase",
             patron_route(parts, [parts](const http_request& r, const std::string& id,
                                         const principal& who, respond_fn respond) {
               record_access(parts, who, "erase_patron", id, r);
               store::privacy::erase(parts.redis, parts.scripts, core::to_millis(parts.clock.now()),
                                     id,
                                     parts.privacy ? *parts.privacy : retention_of(parts.config),
                                     [respond](core::result<store::privacy::report> done) {
                                       respond(done ? http_response::json(200, done.value().json())
                                                    : http_response::from(done.err()));
                                     });
             }));
  router.add(
      "GET", "/api/v1/patrons/{id}/export",
      patron_route(parts, [parts](const http_request& r, const std::string& id,
                                  const principal& who, respond_fn respond) {
        record_access(parts, who, "export_patron", id, r);
        store::privacy::export_patron(parts.redis, id, [respond](core::result<std::string> done) {
          respond(done ? http_response::json(200, done.value()) : http_response::from(done.err()));
        });
      }));
  // Linking needs the patron's consent, said in words; anyone who serves patrons may link.
  router.add(
      "POST", "/api/v1/patrons/{id}/links",
      authenticated(parts.auth, [parts](const http_request& r, const route_params& params,
                                        const principal& who, respond_fn respond) {
        const std::string& id = params.get("id");
        if (!is_id(id)) {
          respond(http_response::error(404, "not_found", "patron '" + id + "' does not exist"));
          return;
        }
        auto body = json_body::parse(r.body);
        if (!body) return respond(http_response::from(body.err()));
        auto other = body.value().text("patron", 18);
        if (!other || !is_id(other.value())) {
          respond(http_response::error(400, "invalid_request",
                                       "patron: the number of the record to link"));
          return;
        }
        auto consent = body.value().text("consent", max_consent_chars);
        if (!consent) {
          respond(http_response::error(
              400, "invalid_request",
              "consent: say how the patron agreed to link their records (1 to 500 "
              "characters)"));
          return;
        }
        json::writer w;
        w.start_object()
            .field("by", who.user.name)
            .field("at", core::format_iso8601(parts.clock.now()))
            .field("text", consent.value())
            .end_object();
        link(parts, who, r, id, other.value(), w.str(), std::move(respond));
      }));
  router.add("DELETE", "/api/v1/patrons/{id}/links/{other}",
             authenticated(parts.auth, [parts](const http_request& r, const route_params& params,
                                               const principal& who, respond_fn respond) {
               const std::string& id = params.get("id");
               const std::string& other = params.get("other");
               if (!is_id(id) || !is_id(other)) {
                 respond(http_response::error(404, "not_found", "no such patron"));
                 return;
               }
               link(parts, who, r, id, other, "", std::move(respond));
             }));
  router.add("GET", "/api/v1/audit",
             authenticated(parts.auth, [parts](const http_request& r, const route_params&,
                                               const principal& who, respond_fn respond) {
               if (who.user.role != "admin") {
                 respond(http_response::error(403, "forbidden", "the audit is for admins"));
                 return;
               }
               read_audit(parts, r, std::move(respond));
             }));
}

}  // namespace askdesk::net
