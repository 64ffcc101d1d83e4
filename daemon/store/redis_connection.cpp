// The hiredis <-> Asio glue. hiredis tells us, through its `ev` hooks, when it wants to know
// that its socket is readable or writable; we wait for that with a stream_descriptor that
// borrows the file descriptor (hiredis closes it itself), then call redisAsyncHandleRead or
// redisAsyncHandleWrite. The descriptor and the waits live in a socket_watch shared with the
// pending wait handlers, so a wait that completes after hiredis freed its context finds
// `context == nullptr` and returns.
//
// hiredis frees its context on any fatal error and calls our `cleanup` hook from inside that
// free; that hook is the one place that learns "the connection is gone", whatever the cause
// (refused connect, reset, timeout, stop), and schedules the reconnect.

#include "daemon/store/redis_connection.hpp"

#include <deque>
#include <random>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace askdesk::store {

namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

class hiredis_connection;

struct socket_watch {
  socket_watch(asio::io_context& io, int fd, redisAsyncContext* ctx, hiredis_connection* owner)
      : descriptor(io, fd), context(ctx), owner(owner) {}
  asio::posix::stream_descriptor descriptor;
  redisAsyncContext* context;  // nullptr once hiredis freed it
  hiredis_connection* owner;
  bool want_read = false;
  bool want_write = false;
  bool reading = false;
  bool writing = false;
};

void wait_readable(const std::shared_ptr<socket_watch>& w);
void wait_writable(const std::shared_ptr<socket_watch>& w);

std::shared_ptr<socket_watch>& watch_of(void* privdata) {
  return *static_cast<std::shared_ptr<socket_watch>*>(privdata);
}

void wait_readable(const std::shared_ptr<socket_watch>& w) {
  if (w->reading || !w->context) return;
  w->reading = true;
  w->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                           [w](const boost::system::error_code& ec) {
                             w->reading = false;
                             if (ec || !w->context || !w->want_read) return;
                             redisAsyncHandleRead(w->context);
                             if (w->context && w->want_read) wait_readable(w);
                           });
}

void wait_writable(const std::shared_ptr<socket_watch>& w) {
  if (w->writing || !w->context) return;
  w->writing = true;
  w->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                           [w](const boost::system::error_code& ec) {
                             w->writing = false;
                             if (ec || !w->context || !w->want_write) return;
                             redisAsyncHandleWrite(w->context);
                             if (w->context && w->want_write) wait_writable(w);
                           });
}

void ev_add_read(void* p) {
  auto& w = watch_of(p);
  w->want_read = true;
  wait_readable(w);
}
void ev_del_read(void* p) { watch_of(p)->want_read = false; }
void ev_add_write(void* p) {
  auto& w = watch_of(p);
  w->want_write = true;
  wait_writable(w);
}
void ev_del_write(void* p) { watch_of(p)->want_write = false; }
void ev_cleanup(void* p);

reply convert(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_STRING:
      return reply::make_string(std::string(r.str, r.len));
    case REDIS_REPLY_STATUS:
      return reply::make_status(std::string(r.str, r.len));
    case REDIS_REPLY_ERROR:
      return reply::make_error(std::string(r.str, r.len));
    case REDIS_REPLY_INTEGER:
      return reply::make_integer(r.integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<reply> elements;
      elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) elements.push_back(convert(*r.element[i]));
      return reply::make_array(std::move(elements));
    }
    default:
      return reply::make_nil();
  }
}

class hiredis_connection final : public redis_connection {
 public:
  hiredis_connection(asio::io_context& io, redis_connection_options options)
      : io_(io),
        options_(std::move(options)),
        resolver_(io),
        retry_timer_(io),
        watchdog_(io),
        random_(std::random_device{}()) {}

  ~hiredis_connection() override { stop(); }

  void start() override {
    if (state_ != state::stopped) return;
    state_ = state::waiting;
    last_error_ = "connecting";
    connect();
  }

  void stop() override {
    state_ = state::stopped;
    last_error_ = "stopped";
    resolver_.cancel();
    retry_timer_.cancel();
    watchdog_.cancel();
    drop("stopped");
  }

  bool ready() const override { return state_ == state::ready; }
  std::string last_error() const override { return ready() ? std::string() : last_error_; }

  void command(std::span<const std::string_view> args, reply_handler handler,
               std::chrono::milliseconds blocking) override {
    if (state_ != state::ready) {
      asio::post(io_,
                 [handler = std::move(handler), why = "redis " + where() + ": " + last_error_] {
                   handler(reply::make_unavailable(why));
                 });
      return;
    }
    send(args, std::move(handler), blocking);
  }

  void on_ready(std::function<void()> listener) override {
    ready_listeners_.push_back(std::move(listener));
  }
  void on_lost(std::function<void(const std::string&)> listener) override {
    lost_listeners_.push_back(std::move(listener));
  }

  // From ev_cleanup, inside redisAsyncFree: the context and its socket are gone.
  void context_gone() {
    context_ = nullptr;
    const bool was_ready = handshake_done_;
    handshake_done_ = false;
    if (state_ == state::stopped) return;
    state_ = state::waiting;
    if (last_error_.empty() || last_error_ == "connecting") last_error_ = "connection closed";
    if (was_ready) {
      spdlog::warn("redis {} ({}): connection lost: {}", where(), options_.name, last_error_);
      for (auto& listener : lost_listeners_) listener(last_error_);
    }
    schedule_reconnect();
  }

  // From on_reply: one reply (or a failure for a command) has arrived, in send order.
  void reply_arrived() {
    if (!deadlines_.empty()) deadlines_.pop_front();
  }

  std::string failure_text(const redisAsyncContext* c) const {
    if (!drop_reason_.empty()) return "redis " + where() + ": " + drop_reason_;
    if (c && c->err) return "redis " + where() + ": " + c->errstr;
    return "redis " + where() + ": connection closed";
  }

 private:
  enum class state { stopped, waiting, handshake, ready };

  struct pending {
    reply_handler handler;
    hiredis_connection* owner;
  };

  static void on_reply(redisAsyncContext* c, void* r, void* privdata) {
    std::unique_ptr<pending> p(static_cast<pending*>(privdata));
    hiredis_connection* self = p->owner;
    self->reply_arrived();
    reply value =
        r ? convert(*static_cast<redisReply*>(r)) : reply::make_unavailable(self->failure_text(c));
    p->handler(std::move(value));
  }

  std::string where() const { return options_.endpoint.describe(); }

  void connect() {
    if (state_ == state::stopped) return;
    drop_reason_.clear();
    if (options_.endpoint.unix_socket) {
      open(redisAsyncConnectUnix(options_.endpoint.path.c_str()));
      return;
    }
    resolver_.async_resolve(
        options_.endpoint.host, std::to_string(options_.endpoint.port),
        [this](const boost::system::error_code& ec, asio::ip::tcp::resolver::results_type results) {
          if (ec == asio::error::operation_aborted || state_ == state::stopped) return;
          if (ec || results.empty()) {
            last_error_ = "cannot resolve " + options_.endpoint.host + ": " + ec.message();
            schedule_reconnect();
            return;
          }
          const auto endpoint = results.begin()->endpoint();
          open(redisAsyncConnect(endpoint.address().to_string().c_str(), endpoint.port()));
        });
  }

  void open(redisAsyncContext* ctx) {
    if (!ctx) {
      last_error_ = "out of memory";
      schedule_reconnect();
      return;
    }
    if (ctx->err) {
      last_error_ = ctx->errstr;
      redisAsyncFree(ctx);
      schedule_reconnect();
      return;
    }
    context_ = ctx;
    auto watch = std::make_shared<socket_watch>(io_, ctx->c.fd, ctx, this);
    // Owned by hiredis from here; ev_cleanup takes it back.
    ctx->ev.data = std::make_unique<std::shared_ptr<socket_watch>>(std::move(watch)).release();
    ctx->ev.addRead = ev_add_read;
    ctx->ev.delRead = ev_del_read;
    ctx->ev.addWrite = ev_add_write;
    ctx->ev.delWrite = ev_del_write;
    ctx->ev.cleanup = ev_cleanup;
    state_ = state::handshake;
    handshake();
    watchdog_.expires_after(options_.connect_timeout);
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || state_ != state::handshake) return;
      last_error_ = "no answer within " + std::to_string(options_.connect_timeout.count()) + " ms";
      drop(last_error_);
    });
  }

  // AUTH, SELECT and FUNCTION LOAD, then PING; the connection is ready when all succeeded. The
  // library's name carries a hash of its source: one already loaded is the same code.
  void handshake() {
    auto failed = std::make_shared<std::string>();
    const auto check = [this, failed](reply r) {
      if (r.failed() && failed->empty()) *failed = r.str();
    };
    const auto& e = options_.endpoint;
    if (!e.password.empty()) {
      if (e.username.empty()) {
        send_arguments({"AUTH", e.password}, check);
      } else {
        send_arguments({"AUTH", e.username, e.password}, check);
      }
    }
    if (e.db != 0) send_arguments({"SELECT", std::to_string(e.db)}, check);
    if (!options_.library.empty()) {
      send_arguments({"FUNCTION", "LOAD", options_.library}, [check](reply r) {
        if (r.is_error() && r.str().find("already exists") != std::string::npos) return;
        check(std::move(r));
      });
    }
    send_arguments({"PING"}, [this, failed](reply r) {
      if (state_ != state::handshake) return;
      if (r.failed() || !failed->empty()) {
        last_error_ = failed->empty() ? r.str() : *failed;
        spdlog::error("redis {} ({}): handshake failed: {}", where(), options_.name, last_error_);
        drop(last_error_);
        return;
      }
      state_ = state::ready;
      handshake_done_ = true;
      attempt_ = 0;
      last_error_.clear();
      spdlog::info("redis {} ({}): connected", where(), options_.name);
      watch_replies();
      for (auto& listener : ready_listeners_) listener();
    });
  }

  void send_arguments(std::initializer_list<std::string> args, reply_handler handler) {
    std::vector<std::string_view> views(args.begin(), args.end());
    send(views, std::move(handler), {});
  }

  void send(std::span<const std::string_view> args, reply_handler handler,
            std::chrono::milliseconds blocking) {
    argv_.clear();
    lengths_.clear();
    for (const auto& a : args) {
      argv_.push_back(a.data());
      lengths_.push_back(a.size());
    }
    auto p = std::make_unique<pending>(pending{std::move(handler), this});
    if (redisAsyncCommandArgv(context_, on_reply, p.get(), static_cast<int>(argv_.size()),
                              argv_.data(), lengths_.data()) != REDIS_OK) {
      asio::post(io_, [handler = std::move(p->handler), why = failure_text(context_)] {
        handler(reply::make_unavailable(why));
      });
      return;
    }
    p.release();  // owned by hiredis until on_reply
    deadlines_.push_back(steady::now() + options_.reply_timeout + blocking);
  }

  // While ready: a reply overdue past its deadline drops the connection.
  void watch_replies() {
    watchdog_.expires_after(std::chrono::milliseconds(250));
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || state_ != state::ready) return;
      if (!deadlines_.empty() && deadlines_.front() < steady::now()) {
        last_error_ = "no reply within " + std::to_string(options_.reply_timeout.count()) + " ms";
        drop(last_error_);
        return;
      }
      watch_replies();
    });
  }

  // Frees the context: hiredis fails every pending command and calls ev_cleanup, at once or,
  // when called from inside one of its callbacks, as soon as that callback returns.
  void drop(const std::string& reason) {
    if (!context_ || (context_->c.flags & (REDIS_FREEING | REDIS_DISCONNECTING))) return;
    drop_reason_ = reason;
    if (state_ != state::stopped) state_ = state::waiting;  // refuse new commands from now
    redisAsyncFree(context_);  // re-enters context_gone() through ev_cleanup
  }

  void schedule_reconnect() {
    if (state_ == state::stopped) return;
    watchdog_.cancel();
    deadlines_.clear();
    const auto base = std::min<std::int64_t>(
        options_.reconnect_max.count(), options_.reconnect_min.count() << std::min(attempt_, 16));
    ++attempt_;
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    const auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(base * jitter(random_)));
    spdlog::debug("redis {} ({}): {}; retrying in {} ms", where(), options_.name, last_error_,
                  delay.count());
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) connect();
    });
  }

  asio::io_context& io_;
  const redis_connection_options options_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer retry_timer_;
  asio::steady_timer watchdog_;
  std::mt19937 random_;
  redisAsyncContext* context_ = nullptr;
  state state_ = state::stopped;
  bool handshake_done_ = false;  // the current context became ready at least once
  int attempt_ = 0;
  std::string last_error_ = "not started";
  std::string drop_reason_;
  std::deque<steady::time_point> deadlines_;  // of pending commands, in send order
  std::vector<const char*> argv_;             // scratch for send()
  std::vector<std::size_t> lengths_;
  std::vector<std::function<void()>> ready_listeners_;
  std::vector<std::function<void(const std::string&)>> lost_listeners_;
};

void ev_cleanup(void* p) {
  const std::unique_ptr<std::shared_ptr<socket_watch>> holder(
      static_cast<std::shared_ptr<socket_watch>*>(p));
  const std::shared_ptr<socket_watch> w = *holder;
  w->context = nullptr;
  w->want_read = w->want_write = false;
  boost::system::error_code ignored;
  w->descriptor.cancel(ignored);
  w->descriptor.release();  // hiredis closes the descriptor itself
  w->owner->context_gone();
}

}  // namespace

std::unique_ptr<redis_connection> redis_connection::create(boost::asio::io_context& io,
                                                           redis_connection_options options) {
  return std::make_unique<hiredis_connection>(io, std::move(options));
}

}  // namespace askdesk::store
