// `askdesk serve`: builds the daemon from its configuration and runs it until SIGTERM or
// SIGINT. One io_context on one thread runs everything (like Redis and an nginx worker):
// no locks, and each piece's async work is ordered. Several daemons can share one Redis to
// use more cores or machines; the consumer group and the atomic scripts keep that safe.
//
// Stopping: the HTTP server stops accepting and answers what is in flight, WebSockets get
// 1001, connectors stop, the hub finishes its batch, then Redis connections close. If that
// takes more than 4.5 s the loop is stopped anyway; the exit status is 0 either way, since
// nothing unacknowledged is ever lost.

#include <unistd.h>

#include <chrono>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "connectors/registry.hpp"
#include "daemon/cli.hpp"
#include "daemon/core/report.hpp"
#include "daemon/hub/connector_host.hpp"
#include "daemon/hub/hub.hpp"
#include "daemon/hub/lanes.hpp"
#include "daemon/hub/privacy_keeper.hpp"
#include "daemon/hub/router.hpp"
#include "daemon/hub/status.hpp"
#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "daemon/net/api.hpp"
#include "daemon/net/auth.hpp"
#include "daemon/net/curl_client.hpp"
#include "daemon/net/desk.hpp"
#include "daemon/net/http_server.hpp"
#include "daemon/net/privacy.hpp"
#include "daemon/net/reports.hpp"
#include "daemon/net/staff_socket.hpp"
#include "daemon/net/static_files.hpp"
#include "daemon/net/worker.hpp"
#include "daemon/store/event_feed.hpp"
#include "daemon/store/migrate.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"
#include "daemon/store/user_store.hpp"

namespace askdesk {

namespace {

namespace asio = boost::asio;

std::string consumer_name(const config::daemon_config& c) {
  char host[256] = "askdesk";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(c.http.listen_port);
}

store::redis_connection_options redis_options(const config::daemon_config& c,
                                              const store::script_set& scripts, std::string name) {
  return store::connection_options(c.redis, std::move(name), scripts.library());
}

// Security headers on every answer. The CSP forbids inline scripts and styles, and any
// origin but our own: the dashboard and the widget are plain files served from here.
net::header_list default_headers() {
  return {
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
  };
}

// Everything the daemon runs, in construction order; destroyed in reverse.
class daemon {
 public:
  daemon(const config::daemon_config& c, const connectors::registry& registry,
         std::vector<std::unique_ptr<connectors::connector_settings>> settings,
         std::chrono::milliseconds clock_offset)
      : config_(c),
        privacy_policy_(cli::privacy_retention(c, registry)),
        clock_(clock_offset),
        scripts_(c.redis),
        commands_(store::redis_connection::create(io_, redis_options(c, scripts_, "commands"))),
        // WAIT holds its connection: stores that wait for replicas get one of their own.
        // Without replicas they share the commands connection, whose order keeps the hub's
        // applying in step with what comes in (a separate one let a backlog grow).
        ingest_(c.redis.min_replicas_acked > 0
                    ? store::redis_connection::create(io_, redis_options(c, scripts_, "ingest"))
                    : nullptr),
        reader_(store::redis_connection::create(io_, redis_options(c, scripts_, "inbound"))),
        outbound_reader_(
            store::redis_connection::create(io_, redis_options(c, scripts_, "outbound"))),
        events_reader_(store::redis_connection::create(io_, redis_options(c, scripts_, "events"))),
        cpu_(io_),
        users_(*commands_, scripts_),
        auth_(users_, cpu_, c),
        events_(*events_reader_, *commands_),
        topics_(c, *commands_, events_),
        hub_({io_, c, *commands_, ingest_ ? *ingest_ : *commands_, *reader_, scripts_, metrics_,
              clock_, topics_},
             hub::hub_options{
                 .consumer = consumer_name(c),
                 .replicas = {.replicas = static_cast<int>(c.redis.min_replicas_acked),
                              .timeout = std::chrono::milliseconds(c.redis.replicas_timeout_ms)}}),
        router_loop_({io_, c, *commands_, scripts_, events_, clock_, metrics_},
                     hub::router_options{.name = consumer_name(c)}),
        lanes_({io_, *commands_, *outbound_reader_, scripts_, metrics_, clock_},
               hub::lanes_options{.consumer = consumer_name(c)}),
        privacy_(io_, c, privacy_policy_, *commands_, scripts_, clock_, consumer_name(c)),
        host_parts_{io_,
                    c,
                    clock_,
                    metrics_,
                    http_client_,
                    router_,
                    hub_,
                    *commands_,
                    scripts_,
                    events_,
                    consumer_name(c),
                    privacy_policy_,
                    connectors_,
                    [this](const net::http_request& r, std::function<void(core::status)> done) {
                      auth_.authenticate(r, [done = std::move(done)](auto who) {
                        done(who ? core::status{} : core::status{who.err()});
                      });
                    }},
        server_(net::http_server::create(io_,
                                         {.host = c.http.listen_host,
                                          .port = c.http.listen_port,
                                          .body_limit = c.http.body_limit,
                                          .default_headers = default_headers(),
                                          .trusted_proxies = c.http.trusted_proxies},
                                         router_)),
        signals_(io_, SIGINT, SIGTERM),
        deadline_(io_) {
    for (auto& s : settings) {
      const auto& spec = *std::find_if(c.connectors.begin(), c.connectors.end(),
                                       [&](const auto& sp) { return sp.id == s->id; });
      const connectors::lane_settings lane = s->lane;
      hosts_.push_back(std::make_unique<hub::connector_host>(host_parts_, spec.id, spec.type));
      auto connector = registry.find(spec.type)->create(std::move(s), *hosts_.back());
      hub_.add_connector(*connector);
      lanes_.add(*connector, lane);
      channels_.push_back({connector->id(), spec.type, &connector->traits()});
      connectors_.push_back(std::move(connector));
    }
    measure_first_responses();
    auth_.add_routes(router_);
    net::add_api_routes(router_, {*commands_, scripts_, auth_, config_, clock_, channels_});
    net::add_report_routes(router_, {*commands_, scripts_, auth_, config_, clock_, channels_});
    net::add_desk_routes(router_, {*commands_, scripts_, auth_, config_, clock_, channels_});
    net::add_privacy_routes(
        router_, {*commands_, scripts_, auth_, config_, clock_, channels_, &privacy_policy_});
    net::add_staff_socket(router_, {io_, *commands_, scripts_, events_, auth_, clock_});
    // A password change, a disabled user, a logout or a revoked token anywhere: this
    // daemon stops trusting what it remembers of that user's sessions and tokens.
    events_.subscribe([this](const store::shared_event& e) {
      if (e->type != "staff.changed") return;
      if (auto doc = json::document::parse(e->data)) {
        users_.forget_user(json::string_member(doc->root(), "user"));
      }
    });
    status_ =
        std::make_unique<hub::status>(hub::status_parts{io_, c, *commands_, metrics_, *server_,
                                                        connectors_, [this] { return started_; }},
                                      router_);
    if (auto loaded = files_.load(c.http.web_root); !loaded) {
      spdlog::warn("web: {}; the dashboard and the widget are not served", loaded.err().message);
    }
    if (auto chart = files_.add("vendor/chart.js", c.http.chart_js); !chart) {
      spdlog::warn(
          "web: {} (Debian: apt install libjs-chart.js); the Reports page shows its "
          "numbers without charts",
          chart.err().message);
    }
    add_web_routes();
    follow_sentinel();
  }

  // Histograms of waits and first responses (in the team's opening hours, as the reports
  // count them), by team and channel, from what the functions measured.
  void measure_first_responses() {
    const std::vector<double> buckets = {10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 86400};
    metrics_.declare_histogram("askdesk_wait_seconds",
                               "Seconds from a patron's first message to the first staff member "
                               "taking it, in the team's opening hours, by team and channel.",
                               buckets);
    metrics_.declare_histogram(
        "askdesk_first_response_seconds",
        "Seconds from a patron's first message to the first reply by a person (automatic "
        "messages are not replies), in the team's opening hours, by team and channel.",
        buckets);
    scripts_.on_first([this](const store::first_fact& f) {
      const auto* team = config_.find_team(f.team);
      const auto seconds =
          core::open_seconds(team && team->hours ? &*team->hours : nullptr,
                             core::from_millis(f.start_ms), core::from_millis(f.at_ms));
      metrics_.observe(
          f.what == "replied" ? "askdesk_first_response_seconds" : "askdesk_wait_seconds",
          {{"team", f.team}, {"channel", f.channel}}, static_cast<double>(seconds));
    });
  }

  int run() {
    if (auto listening = server_->listen(); !listening) {
      spdlog::critical("http: cannot listen on {}", listening.err().message);
      return 1;
    }
    spdlog::info("askdesk {} listening on http://{}:{} (public {}), redis {}, config {}",
                 ASKDESK_VERSION, config_.http.listen_host, server_->port(),
                 config_.http.public_url, config_.redis.describe(),
                 config_.source.empty() ? "built-in" : config_.source);
    for (auto* redis : connections()) redis->start();
    if (sentinel_) sentinel_->start();
    events_.start();
    topics_.start();
    status_->start();
    // The data in this daemon's layout first (an upgrade moves it once), then the work: as
    // soon as Redis answers.
    commands_->on_ready([this] {
      if (!started_ && !migrating_) migrate_then_start();
    });
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (!ec) shutdown(signal);
    });
    io_.run();
    // Stopped at the deadline, some commands may still wait on Redis: fail them now, while
    // everything their handlers touch is alive (a connection destroyed later would run them
    // on connectors and the hub already gone).
    for (auto* redis : connections()) redis->stop();
    if (sentinel_) sentinel_->stop();
    spdlog::info("askdesk stopped");
    return 0;
  }

 private:
  std::vector<store::redis_connection*> connections() {
    std::vector<store::redis_connection*> all = {commands_.get(), reader_.get(),
                                                 outbound_reader_.get(), events_reader_.get()};
    if (ingest_) all.push_back(ingest_.get());
    return all;
  }

  // With Sentinel, a +switch-master sends every connection to the new master at once.
  void follow_sentinel() {
    if (!config_.redis.sentinel.enabled()) return;
    sentinel_ = store::sentinel_watch::create(io_, config_.redis.sentinel,
                                              [this](const std::string& host, std::uint16_t port) {
                                                for (auto* redis : connections())
                                                  redis->master_switched(host, port);
                                              });
  }

  void add_web_routes() {
    router_.add(
        "GET", "/",
        [this](const net::http_request& r, const net::route_params&, net::respond_fn respond) {
          respond(files_.serve(r, "dashboard/index.html"));
        });
    router_.add(
        "GET", "/reports",
        [this](const net::http_request& r, const net::route_params&, net::respond_fn respond) {
          respond(files_.serve(r, "dashboard/reports.html"));
        });
    router_.add(
        "GET", "/audit",
        [this](const net::http_request& r, const net::route_params&, net::respond_fn respond) {
          respond(files_.serve(r, "dashboard/audit.html"));
        });
    router_.add(
        "GET", "/supervisor",
        [this](const net::http_request& r, const net::route_params&, net::respond_fn respond) {
          respond(files_.serve(r, "dashboard/supervisor.html"));
        });
    router_.add("GET", "/vendor/chart.js",
                [this](const net::http_request& r, const net::route_params&,
                       net::respond_fn respond) { respond(files_.serve(r, "vendor/chart.js")); });
    router_.add("GET", "/widget.js",
                [this](const net::http_request& r, const net::route_params&,
                       net::respond_fn respond) { respond(files_.serve(r, "widget/widget.js")); });
    router_.add("GET", "/demo/",
                [this](const net::http_request& r, const net::route_params&,
                       net::respond_fn respond) { respond(files_.serve(r, "demo/index.html")); });
    for (const char* folder : {"dashboard", "widget", "demo"}) {
      router_.add("GET", std::string("/") + folder + "/*",
                  [this, folder](const net::http_request& r, const net::route_params& p,
                                 net::respond_fn respond) {
                    respond(files_.serve(r, std::string(folder) + "/" + p.get("*")));
                  });
    }
  }

  void migrate_then_start() {
    migrating_ = true;
    store::migrate(*commands_, scripts_, consumer_name(config_),
                   [this](core::result<store::migration_outcome> m) {
                     migrating_ = false;
                     if (stopping_) return;
                     if (!m || m->busy) {
                       if (!m) spdlog::warn("redis: {}; trying again", m.err().message);
                       if (m && m->busy)
                         spdlog::info("redis: another daemon moves the data; waiting");
                       migrate_timer_.expires_after(std::chrono::seconds(1));
                       migrate_timer_.async_wait([this](const boost::system::error_code& ec) {
                         if (!ec && !started_ && !migrating_) migrate_then_start();
                       });
                       return;
                     }
                     if (m->migrated) {
                       spdlog::info("redis: data moved to schema {} ({} keys)",
                                    store::schema_version, m->moved);
                     }
                     hub_.start();
                     router_loop_.start();
                     lanes_.start();
                     privacy_.start();
                     for (auto& c : connectors_) c->start();
                     started_ = true;
                   });
  }

  void shutdown(int signal) {
    spdlog::info("received {}, stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    stopping_ = true;
    migrate_timer_.cancel();
    deadline_.expires_after(std::chrono::milliseconds(4500));
    deadline_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      spdlog::warn("stopping took too long; leaving the rest unacknowledged for the next start");
      io_.stop();
    });
    for (auto& c : connectors_) c->stop();
    status_->stop();
    router_loop_.stop();
    privacy_.stop();
    topics_.stop();
    events_.stop();
    events_reader_->stop();
    auto remaining = std::make_shared<int>(3);
    const auto one_done = [this, remaining] {
      if (--*remaining > 0) return;
      for (auto* redis : connections()) redis->stop();  // the events reader stopped already
      if (sentinel_) sentinel_->stop();
      http_client_.abandon_all();  // long polls of stopped connectors: nothing waits on them
      deadline_.cancel();
      signals_.cancel();
    };
    server_->shutdown(one_done);
    hub_.stop(one_done);
    lanes_.stop(one_done);
  }

  const config::daemon_config& config_;
  const store::privacy::retention privacy_policy_;  // what the purge and erasures remove
  asio::io_context io_{1};
  core::offset_clock clock_;
  net::curl_client http_client_{io_};
  core::metrics metrics_;
  store::script_set scripts_;
  std::unique_ptr<store::redis_connection> commands_;
  std::unique_ptr<store::redis_connection> ingest_;
  std::unique_ptr<store::redis_connection> reader_;
  std::unique_ptr<store::redis_connection> outbound_reader_;
  std::unique_ptr<store::redis_connection> events_reader_;
  std::unique_ptr<store::sentinel_watch> sentinel_;  // with Sentinel only
  net::worker cpu_;
  store::user_store users_;
  net::auth_service auth_;
  store::event_feed events_;
  hub::topic_model topics_;
  net::http_router router_;
  net::static_files files_;
  hub::hub hub_;
  hub::router router_loop_;
  hub::outbound_lanes lanes_;
  hub::privacy_keeper privacy_;
  hub::host_parts host_parts_;
  std::vector<std::unique_ptr<hub::connector_host>> hosts_;  // one per connector, outlives it
  std::vector<std::unique_ptr<connectors::connector>> connectors_;
  std::vector<core::configured_channel> channels_;
  std::unique_ptr<net::http_server> server_;
  std::unique_ptr<hub::status> status_;
  asio::signal_set signals_;
  asio::steady_timer deadline_;
  asio::steady_timer migrate_timer_{io_};
  bool stopping_ = false;
  bool migrating_ = false;
  bool started_ = false;  // the hub, router, lanes and connectors run
};

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("askdesk");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace

int run_serve(const cli::arguments& args) {
  if (!args.positional.empty()) {
    std::cerr << "usage: askdesk serve [--config FILE] [--log-level LEVEL] [--listen HOST:PORT]"
                 " [--clock-start TIME]\n";
    return 2;
  }
  std::chrono::milliseconds clock_offset{0};
  if (const std::string start = args.option("--clock-start"); !start.empty()) {
    const auto at = core::parse_iso8601(start);
    if (!at) {
      std::cerr << "askdesk: --clock-start must be an RFC 3339 time, like "
                   "2026-11-23T23:00:00-05:00\n";
      return 2;
    }
    clock_offset = *at - core::wall_clock().now();
  }
  config::defaults defaults = cli::environment_defaults();
  defaults.listen = args.option("--listen");
  std::string host;
  std::uint16_t port = 0;
  if (!defaults.listen.empty() && !config::parse_listen(defaults.listen, host, port)) {
    std::cerr << "askdesk: --listen must be host:port, like 127.0.0.1:8080\n";
    return 2;
  }
  auto loaded = cli::load_config(args.option("--config"), defaults);
  if (!loaded) return 2;
  const std::string level = args.option("--log-level", loaded->config.log_level);
  if (!config::is_valid_log_level(level)) {
    std::cerr << "askdesk: --log-level must be trace, debug, info, warn, error, critical or off\n";
    return 2;
  }
  setup_logging(level);

  if (clock_offset.count() != 0) {
    spdlog::warn("the clock starts at {} (--clock-start), not at the real time",
                 args.option("--clock-start"));
  }
  daemon d(loaded->config, *loaded->registry, std::move(loaded->connectors), clock_offset);
  return d.run();
}

}  // namespace askdesk
