// The session thread owns libstrophe's context and connection; nothing else touches them.
// Its loop: connect when wanted and due, run libstrophe for up to 50 ms, then write what the
// I/O thread queued. libstrophe calls the connection and stanza handlers from inside
// xmpp_run_once, on this thread; they post to the io_context and return at once.
#include "connectors/xmpp/session.hpp"

#include <spdlog/spdlog.h>
#include <strophe.h>
#include <sys/select.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "daemon/core/backoff.hpp"
#include "daemon/net/timer.hpp"

namespace askdesk::connectors::xmpp {

namespace {

constexpr std::chrono::milliseconds turn{50};
constexpr std::chrono::seconds first_backoff{1};
constexpr std::chrono::seconds max_backoff{60};

std::once_flag initialized;

// Set by the socket callback when the descriptor is past what select() can watch, and by the
// certificate callback with why the server's certificate was not trusted.
thread_local bool descriptor_refused = false;
thread_local std::string certificate_refused;

// Called by libstrophe when the server's certificate does not verify: refuse it (0), with
// the reason kept for the health report.
int refuse_certificate(const xmpp_tlscert_t*, const char* const why) {
  certificate_refused = why ? why : "it does not verify";
  return 0;
}

int check_socket(xmpp_conn_t* conn, void* sock) {
  if (*static_cast<int*>(sock) >= FD_SETSIZE) {
    descriptor_refused = true;
    return -1;
  }
  return xmpp_sockopt_cb_keepalive(conn, sock);
}

void log_to_spdlog(void*, xmpp_log_level_t level, const char* area, const char* msg) {
  // libstrophe's debug output holds whole stanzas (patrons' words): trace only.
  switch (level) {
    case XMPP_LEVEL_DEBUG:
      spdlog::trace("xmpp {}: {}", area, msg);
      break;
    case XMPP_LEVEL_INFO:
      spdlog::debug("xmpp {}: {}", area, msg);
      break;
    case XMPP_LEVEL_WARN:
      spdlog::warn("xmpp {}: {}", area, msg);
      break;
    case XMPP_LEVEL_ERROR:
      spdlog::error("xmpp {}: {}", area, msg);
      break;
  }
}

const xmpp_log_t logger{log_to_spdlog, nullptr};

}  // namespace

struct session::impl : std::enable_shared_from_this<impl> {
  impl(boost::asio::io_context& i, session_options o, handlers hs)
      : io(i), options(std::move(o)), h(std::move(hs)), own(bare_jid(options.jid)) {}

  boost::asio::io_context& io;
  const session_options options;
  const handlers h;
  const std::string own;

  std::atomic<bool> alive{true};    // false once the session object is gone
  std::atomic<bool> running{true};  // the thread's loop goes on
  std::atomic<bool> wanted{false};  // start() was called and not stop()
  std::atomic<bool> is_connected{false};
  std::thread thread;

  std::mutex mutex;
  struct outgoing {
    std::string stanza;
    std::function<void(bool)> done;
  };
  std::deque<outgoing> queue;  // GUARDED_BY(mutex)

  // The session thread's own.
  xmpp_ctx_t* ctx = nullptr;
  xmpp_conn_t* conn = nullptr;
  bool ended = false;  // the connection failed or closed: release it in the loop
  int failures = 0;
  std::chrono::steady_clock::time_point next_attempt{};
  std::minstd_rand random{std::random_device{}()};

  // Runs `fn` on the I/O thread while the session exists.
  void post(std::function<void()> fn) {
    net::post(io, [self = shared_from_this(), fn = std::move(fn)] {
      if (self->alive) fn();
    });
  }

  void run() {
    ctx = xmpp_ctx_new(nullptr, &logger);
    while (running) {
      if (conn && (ended || !wanted)) {
        if (!ended) {
          xmpp_disconnect(conn);
          xmpp_run_once(ctx, 10);
        }
        xmpp_conn_release(conn);
        conn = nullptr;
        ended = false;
      }
      if (wanted && !conn && std::chrono::steady_clock::now() >= next_attempt) connect();
      xmpp_run_once(ctx, static_cast<unsigned long>(turn.count()));
      write_queued();
    }
    if (conn) {
      if (!ended) {
        xmpp_disconnect(conn);
        xmpp_run_once(ctx, 10);
      }
      xmpp_conn_release(conn);
    }
    write_queued();  // fails what is left: no connection
    xmpp_ctx_free(ctx);
  }

  void write_queued() {
    std::deque<outgoing> batch;
    {
      std::lock_guard lock(mutex);
      batch.swap(queue);
    }
    for (auto& o : batch) {
      const bool ok = conn && is_connected;
      if (ok) xmpp_send_raw(conn, o.stanza.data(), o.stanza.size());
      if (o.done) post([done = std::move(o.done), ok] { done(ok); });
    }
  }

  void connect() {
    conn = xmpp_conn_new(ctx);
    long flags = 0;
    switch (options.tls) {
      case tls_mode::required:
        flags = XMPP_CONN_FLAG_MANDATORY_TLS;
        break;
      case tls_mode::direct:
        flags = XMPP_CONN_FLAG_LEGACY_SSL;
        break;
      case tls_mode::none:
        flags = XMPP_CONN_FLAG_DISABLE_TLS;
        break;
    }
    xmpp_conn_set_flags(conn, flags);
    xmpp_conn_set_jid(conn, options.jid.c_str());
    xmpp_conn_set_pass(conn, options.password.c_str());
    if (!options.ca_file.empty()) xmpp_conn_set_cafile(conn, options.ca_file.c_str());
    xmpp_conn_set_sockopt_callback(conn, check_socket);
    xmpp_conn_set_certfail_handler(conn, refuse_certificate);
    xmpp_handler_add(conn, on_stanza, nullptr, nullptr, nullptr, this);
    descriptor_refused = false;
    certificate_refused.clear();
    const int started = xmpp_connect_client(
        conn, options.host.c_str(), static_cast<unsigned short>(options.port), on_connection, this);
    if (started != XMPP_EOK) failed("cannot start connecting to " + where());
  }

  std::string where() const { return options.host + ":" + std::to_string(options.port); }

  // The connection is over: tell the I/O thread and connect again after a backoff.
  void failed(std::string why) {
    ended = true;
    is_connected = false;
    ++failures;
    next_attempt = std::chrono::steady_clock::now() +
                   core::backoff(first_backoff, max_backoff, failures, random);
    post([this, why = std::move(why)] { h.disconnected(why); });
  }

  static void on_connection(xmpp_conn_t*, xmpp_conn_event_t status, int error,
                            xmpp_stream_error_t* stream_error, void* userdata) {
    auto* self = static_cast<impl*>(userdata);
    if (status == XMPP_CONN_CONNECT) {
      self->is_connected = true;
      self->failures = 0;
      self->post([self] { self->h.connected(); });
      return;
    }
    if (status == XMPP_CONN_RAW_CONNECT) return;
    const bool signed_in = self->is_connected;
    std::string why = (signed_in ? "the connection to " : "cannot sign in to ") + self->where();
    if (!certificate_refused.empty()) {
      why += ": the server's certificate is not trusted (" + certificate_refused +
             "; is ca_file the CA that signed it?)";
    } else if (descriptor_refused) {
      why = "the socket's descriptor is past FD_SETSIZE (" + std::to_string(FD_SETSIZE) +
            "): select() cannot watch it";
    } else if (stream_error && stream_error->type == XMPP_SE_NOT_AUTHORIZED) {
      why = "the server refused the login of " + self->own;
    } else if (stream_error) {
      why += ": stream error" + std::string(stream_error->text ? ": " : "") +
             (stream_error->text ? stream_error->text : "");
    } else if (error != 0) {
      why += ": " + std::string(std::strerror(error));
    } else if (!signed_in) {
      why += " (refused, TLS or login failed)";
    } else {
      why += ": it ended";
    }
    self->failed(std::move(why));
  }

  static int on_stanza(xmpp_conn_t*, xmpp_stanza_t* stanza, void* userdata) {
    auto* self = static_cast<impl*>(userdata);
    event e = read_stanza(stanza, self->own);
    if (e.what != event::kind::ignored) {
      self->post([self, e = std::move(e)]() mutable { self->h.stanza(std::move(e)); });
    }
    return 1;  // keep the handler
  }
};

session::session(boost::asio::io_context& io, session_options options, handlers h)
    : impl_(std::make_shared<impl>(io, std::move(options), std::move(h))) {
  std::call_once(initialized, [] { xmpp_initialize(); });
  impl_->thread = std::thread([i = impl_] { i->run(); });
}

session::~session() {
  impl_->alive = false;
  impl_->running = false;
  impl_->thread.join();
}

void session::start() { impl_->wanted = true; }

void session::stop() { impl_->wanted = false; }

void session::send(std::string stanza, std::function<void(bool written)> done) {
  std::lock_guard lock(impl_->mutex);
  impl_->queue.push_back({std::move(stanza), std::move(done)});
}

bool session::connected() const { return impl_->is_connected; }

}  // namespace askdesk::connectors::xmpp
