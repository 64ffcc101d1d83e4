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

#include <arpa/inet.h>
#include <netdb.h>

#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace askdesk::store {

namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

// What owns a hiredis context: told once hiredis freed it.
class context_owner {
 public:
  virtual void context_gone() = 0;

 protected:
  ~context_owner() = default;
};

struct socket_watch {
  socket_watch(asio::io_context& io, int fd, redisAsyncContext* ctx, context_owner* owner)
      : descriptor(io, fd), context(ctx), owner(owner) {}
  asio::posix::stream_descriptor descriptor;
  redisAsyncContext* context;  // nullptr once hiredis freed it
  context_owner* owner;
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

// Hands a fresh context to Asio: from here hiredis owns the watch, and ev_cleanup takes it back.
void attach(asio::io_context& io, redisAsyncContext* ctx, context_owner* owner) {
  auto watch = std::make_shared<socket_watch>(io, ctx->c.fd, ctx, owner);
  ctx->ev.data = std::make_unique<std::shared_ptr<socket_watch>>(std::move(watch)).release();
  ctx->ev.addRead = ev_add_read;
  ctx->ev.delRead = ev_del_read;
  ctx->ev.addWrite = ev_add_write;
  ctx->ev.delWrite = ev_del_write;
  ctx->ev.cleanup = ev_cleanup;
}

// Name lookups for the connections, each on a detached thread of its own. Asio's resolver
// runs getaddrinfo on a thread the io_context joins when it is destroyed, so a lookup that
// hangs (the network to the DNS server gone, as when a container's network is cut) kept the
// daemon from exiting after SIGTERM. A detached thread ends with the process instead; its
// answer is dropped if the lookup was cancelled or its owner is gone. An IP address needs no
// lookup.
class lookup {
 public:
  // `address` is numeric, or "" with `error` saying why.
  using done_fn = std::function<void(std::string address, std::string error)>;

  explicit lookup(asio::io_context& io) : shared_(std::make_shared<shared>()), io_(io) {}
  ~lookup() {
    std::lock_guard lock(shared_->mutex);
    shared_->alive = false;
    ++shared_->generation;
  }
  lookup(const lookup&) = delete;
  lookup& operator=(const lookup&) = delete;

  // Calls `done` on the io_context's thread, unless cancel() or a later start() came first.
  void start(const std::string& host, done_fn done) {
    std::uint64_t generation;
    {
      std::lock_guard lock(shared_->mutex);
      generation = ++shared_->generation;
    }
    if (config::is_ip_address(host)) {
      deliver(shared_, io_, generation, std::move(done), host, "");
      return;
    }
    std::thread([shared = shared_, &io = io_, generation, host, done = std::move(done)]() mutable {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* found = nullptr;
      const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
      std::string address, error;
      if (rc != 0 || !found) {
        error = rc != 0 ? gai_strerror(rc) : "no address";
      } else {
        char text[INET6_ADDRSTRLEN] = "";
        const void* where = found->ai_family == AF_INET6
                                ? static_cast<const void*>(
                                      &reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr)
                                : static_cast<const void*>(
                                      &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr);
        inet_ntop(found->ai_family, where, text, sizeof text);
        address = text;
      }
      if (found) freeaddrinfo(found);
      deliver(shared, io, generation, std::move(done), std::move(address), std::move(error));
    }).detach();
  }

  void cancel() {
    std::lock_guard lock(shared_->mutex);
    ++shared_->generation;
  }

 private:
  struct shared {
    std::mutex mutex;
    bool alive = true;  // the lookup object (and so its io_context) still exists
    std::uint64_t generation = 0;
  };

  // Posts `done` unless the lookup ended or moved on; the posted handler checks again, on the
  // io thread, since the owner may be destroyed between the post and the call.
  static void deliver(const std::shared_ptr<shared>& s, asio::io_context& io,
                      std::uint64_t generation, done_fn done, std::string address,
                      std::string error) {
    std::lock_guard lock(s->mutex);
    if (!s->alive || s->generation != generation) return;
    asio::post(io, [s, generation, done = std::move(done), address = std::move(address),
                    error = std::move(error)]() mutable {
      {
        std::lock_guard lock(s->mutex);
        if (!s->alive || s->generation != generation) return;
      }
      done(std::move(address), std::move(error));
    });
  }

  std::shared_ptr<shared> shared_;
  asio::io_context& io_;
};

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

class hiredis_connection final : public redis_connection, public context_owner {
 public:
  hiredis_connection(asio::io_context& io, redis_connection_options options)
      : io_(io),
        options_(std::move(options)),
        lookup_(io),
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
    lookup_.cancel();
    resolving_ = false;
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

  void master_switched(const std::string& host, std::uint16_t port) override {
    if (!options_.sentinel.enabled() || state_ == state::stopped) return;
    if (context_) {
      if (asking_ || (host == master_host_ && port == master_port_)) return;
      spdlog::info("redis {} ({}): sentinel says the master is now {}", where(), options_.name,
                   config::host_port(host, port));
      immediate_ = true;
      drop("the master moved to " + config::host_port(host, port));
    } else if (!resolving_) {
      retry_timer_.cancel();
      attempt_ = 0;
      connect();
    }
  }

  // From ev_cleanup, inside redisAsyncFree: the context and its socket are gone.
  void context_gone() override {
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
    retry();
  }

  // A reply that says the server is a replica now: the connection is dropped (and Sentinel
  // asked again), the caller sees `unavailable` and tries later.
  void demoted(const std::string& why) {
    last_error_ = why;
    immediate_ = true;
    drop(why);
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
    // Only through Sentinel is there another server to go to: a fixed URL that names a
    // replica gets READONLY back like any refusal.
    if (self->options_.sentinel.enabled() && value.is_error() &&
        value.str().starts_with("READONLY")) {
      const std::string why = "redis " + self->where() + " became a replica: " + value.str();
      value = reply::make_unavailable(why);
      self->demoted(why);
    }
    p->handler(std::move(value));
  }

  // The server this connection talks to now, for logs and errors.
  std::string where() const {
    const auto& s = options_.sentinel;
    if (!s.enabled()) return options_.endpoint.describe();
    if (asking_) {
      const auto& a = s.addresses[sentinel_ % s.addresses.size()];
      return "sentinel " + config::host_port(a.host, a.port);
    }
    return "master '" + s.master_name + "' at " + config::host_port(master_host_, master_port_) +
           "/" + std::to_string(options_.endpoint.db);
  }

  // With Sentinel, every connect asks a sentinel first (the protocol's "rediscover on every
  // reconnect"); the answer leads to connect_master().
  void connect() {
    if (state_ == state::stopped) return;
    drop_reason_.clear();
    if (const auto& s = options_.sentinel; s.enabled()) {
      asking_ = true;
      const auto& a = s.addresses[sentinel_ % s.addresses.size()];
      open_tcp(a.host, a.port);
      return;
    }
    if (options_.endpoint.unix_socket) {
      open(redisAsyncConnectUnix(options_.endpoint.path.c_str()));
      return;
    }
    open_tcp(options_.endpoint.host, options_.endpoint.port);
  }

  void connect_master() {
    if (state_ == state::stopped) return;
    drop_reason_.clear();
    asking_ = false;
    open_tcp(master_host_, master_port_);
  }

  void open_tcp(const std::string& host, std::uint16_t port) {
    resolving_ = true;
    lookup_.start(host, [this, host, port](std::string address, std::string error) {
      resolving_ = false;
      if (state_ == state::stopped) return;
      if (address.empty()) {
        last_error_ = "cannot resolve " + host + ": " + error;
        retry();
        return;
      }
      open(redisAsyncConnect(address.c_str(), port));
    });
  }

  void open(redisAsyncContext* ctx) {
    if (!ctx) {
      last_error_ = "out of memory";
      retry();
      return;
    }
    if (ctx->err) {
      last_error_ = ctx->errstr;
      redisAsyncFree(ctx);
      retry();
      return;
    }
    context_ = ctx;
    attach(io_, ctx, this);
    state_ = state::handshake;
    handshake();
    watchdog_.expires_after(options_.connect_timeout);
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || state_ != state::handshake) return;
      last_error_ = "no answer within " + std::to_string(options_.connect_timeout.count()) + " ms";
      drop(last_error_);
    });
  }

  // Asks a sentinel where the master is; the answer closes this connection and opens one to
  // the master at once.
  void ask_sentinel() {
    const auto& s = options_.sentinel;
    auto failed = std::make_shared<std::string>();
    if (!s.password.empty()) {
      send_arguments({"AUTH", s.password}, [failed](reply r) {
        if (r.failed()) *failed = r.str();
      });
    }
    send_arguments({"SENTINEL", "get-master-addr-by-name", s.master_name}, [this, failed](reply r) {
      if (state_ != state::handshake) return;
      std::uint16_t port = 0;
      if (!failed->empty() || !r.is_array() || r.size() != 2 ||
          !config::parse_port(r[1].str(), port)) {
        const auto& name = options_.sentinel.master_name;
        last_error_ = !failed->empty() ? *failed
                      : r.is_nil()     ? "it knows no master named '" + name + "'"
                                       : r.str();
        spdlog::warn("redis {} ({}): cannot learn the master: {}", where(), options_.name,
                     last_error_);
        drop(last_error_);
        return;
      }
      master_host_ = r[0].str();
      master_port_ = port;
      sentinels_tried_ = 0;
      spdlog::debug("redis {} ({}): master '{}' is at {}", where(), options_.name,
                    options_.sentinel.master_name, config::host_port(master_host_, master_port_));
      to_master_ = true;
      last_error_ = "connecting to the master";
      drop(last_error_);
    });
  }

  // AUTH, SELECT and FUNCTION LOAD, then PING; the connection is ready when all succeeded. The
  // library's name carries a hash of its source: one already loaded is the same code. Through
  // Sentinel, ROLE must also say "master" (a failover may have demoted it since).
  void handshake() {
    if (asking_) {
      ask_sentinel();
      return;
    }
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
    if (options_.sentinel.enabled()) {
      send_arguments({"ROLE"}, [this, failed](reply r) {
        if (!failed->empty()) return;
        if (r.failed()) {
          *failed = r.str();
        } else if (!r.is_array() || r.size() == 0 || r[0].str() != "master") {
          *failed = "it is a " + (r.is_array() && r.size() > 0 ? r[0].str() : r.describe()) +
                    ", not the master (a failover is under way)";
        }
      });
    }
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

  // After a failed or closed connection: to the master at once after a sentinel answered,
  // to the next sentinel at once while some in this round were not asked, and otherwise
  // after a backoff (or at once when Sentinel announced a new master).
  void retry() {
    if (state_ == state::stopped) return;
    watchdog_.cancel();
    deadlines_.clear();
    if (std::exchange(to_master_, false)) {
      reconnect_after({}, true);
      return;
    }
    const std::size_t sentinels = options_.sentinel.addresses.size();
    if (asking_ && ++sentinels_tried_ < sentinels) {
      ++sentinel_;
      reconnect_after({});
      return;
    }
    if (asking_) ++sentinel_;
    sentinels_tried_ = 0;
    if (std::exchange(immediate_, false)) {
      attempt_ = 0;
      reconnect_after({});
      return;
    }
    schedule_reconnect();
  }

  // On the retry timer, so stop() cancels it.
  void reconnect_after(std::chrono::milliseconds delay, bool master = false) {
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([this, master](const boost::system::error_code& ec) {
      if (ec) return;
      if (master) {
        connect_master();
      } else {
        connect();
      }
    });
  }

  void schedule_reconnect() {
    const auto base = std::min<std::int64_t>(
        options_.reconnect_max.count(), options_.reconnect_min.count() << std::min(attempt_, 16));
    ++attempt_;
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    const auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(base * jitter(random_)));
    spdlog::debug("redis {} ({}): {}; retrying in {} ms", where(), options_.name, last_error_,
                  delay.count());
    reconnect_after(delay);
  }

  asio::io_context& io_;
  const redis_connection_options options_;
  lookup lookup_;
  asio::steady_timer retry_timer_;
  asio::steady_timer watchdog_;
  std::mt19937 random_;
  redisAsyncContext* context_ = nullptr;
  state state_ = state::stopped;
  bool handshake_done_ = false;  // the current context became ready at least once
  bool resolving_ = false;
  // Sentinel: connected to a sentinel to ask (not to the master); which one; how many of this
  // round failed; the master it named; whether to connect there next.
  bool asking_ = false;
  std::size_t sentinel_ = 0;
  std::size_t sentinels_tried_ = 0;
  std::string master_host_;
  std::uint16_t master_port_ = 0;
  bool to_master_ = false;
  bool immediate_ = false;  // the next retry goes now, without backoff
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

// One subscription to a sentinel's +switch-master channel; another sentinel when it goes.
class hiredis_sentinel_watch final : public sentinel_watch, public context_owner {
 public:
  hiredis_sentinel_watch(asio::io_context& io, config::redis_sentinel sentinel,
                         switched_handler switched)
      : io_(io),
        sentinel_(std::move(sentinel)),
        switched_(std::move(switched)),
        lookup_(io),
        retry_timer_(io) {}
  ~hiredis_sentinel_watch() override { stop(); }

  void start() override {
    if (!stopped_ || !sentinel_.enabled()) return;
    stopped_ = false;
    connect();
  }

  void stop() override {
    stopped_ = true;
    lookup_.cancel();
    retry_timer_.cancel();
    if (context_ && !(context_->c.flags & (REDIS_FREEING | REDIS_DISCONNECTING))) {
      redisAsyncFree(context_);
    }
  }

  bool watching() const override { return watching_; }

  void context_gone() override {
    context_ = nullptr;
    if (watching_) spdlog::warn("sentinel {}: subscription lost", where());
    watching_ = false;
    if (stopped_) return;
    ++index_;
    // Every sentinel once quickly, then at most every two seconds.
    const auto delay = std::chrono::milliseconds(index_ % sentinel_.addresses.size() ? 50 : 2000);
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) connect();
    });
  }

 private:
  std::string where() const {
    const auto& a = sentinel_.addresses[index_ % sentinel_.addresses.size()];
    return config::host_port(a.host, a.port);
  }

  void connect() {
    const auto& a = sentinel_.addresses[index_ % sentinel_.addresses.size()];
    lookup_.start(a.host, [this, port = a.port](std::string address, std::string) {
      if (stopped_) return;
      redisAsyncContext* ctx = nullptr;
      if (!address.empty()) ctx = redisAsyncConnect(address.c_str(), port);
      if (!ctx || ctx->err) {
        if (ctx) redisAsyncFree(ctx);
        context_gone();
        return;
      }
      context_ = ctx;
      attach(io_, ctx, this);
      subscribe();
    });
  }

  // AUTH when configured, then SUBSCRIBE: hiredis calls on_message for the confirmation and
  // for every announcement, with this watch as privdata.
  void subscribe() {
    std::vector<std::string> auth = {"AUTH", sentinel_.password};
    if (!sentinel_.password.empty()) {
      std::vector<const char*> argv = {auth[0].c_str(), auth[1].c_str()};
      std::vector<std::size_t> lengths = {auth[0].size(), auth[1].size()};
      redisAsyncCommandArgv(context_, on_auth, this, 2, argv.data(), lengths.data());
    }
    redisAsyncCommand(context_, on_message, this, "SUBSCRIBE +switch-master");
  }

  static void on_auth(redisAsyncContext* c, void* r, void* privdata) {
    auto* self = static_cast<hiredis_sentinel_watch*>(privdata);
    const auto* reply = static_cast<redisReply*>(r);
    if (reply && reply->type == REDIS_REPLY_ERROR) {
      spdlog::error("sentinel {}: AUTH refused: {}", self->where(),
                    std::string(reply->str, reply->len));
      redisAsyncDisconnect(c);
    }
  }

  static void on_message(redisAsyncContext*, void* r, void* privdata) {
    auto* self = static_cast<hiredis_sentinel_watch*>(privdata);
    if (!r || self->stopped_) return;
    const reply value = convert(*static_cast<redisReply*>(r));
    if (!value.is_array() || value.size() != 3) return;
    if (value[0].str() == "subscribe") {
      self->watching_ = true;
      spdlog::info("sentinel {}: following master '{}'", self->where(),
                   self->sentinel_.master_name);
      return;
    }
    if (value[0].str() != "message") return;
    // "<master name> <old ip> <old port> <new ip> <new port>"
    std::vector<std::string> words;
    std::string text = value[2].str();
    for (std::size_t at = 0; at <= text.size();) {
      const std::size_t space = std::min(text.find(' ', at), text.size());
      words.push_back(text.substr(at, space - at));
      at = space + 1;
    }
    std::uint16_t port = 0;
    if (words.size() != 5 || words[0] != self->sentinel_.master_name ||
        !config::parse_port(words[4], port)) {
      return;
    }
    spdlog::warn("sentinel {}: master '{}' switched from {}:{} to {}:{}", self->where(), words[0],
                 words[1], words[2], words[3], port);
    self->switched_(words[3], port);
  }

  asio::io_context& io_;
  const config::redis_sentinel sentinel_;
  const switched_handler switched_;
  lookup lookup_;
  asio::steady_timer retry_timer_;
  redisAsyncContext* context_ = nullptr;
  std::size_t index_ = 0;
  bool stopped_ = true;
  bool watching_ = false;
};

}  // namespace

std::unique_ptr<sentinel_watch> sentinel_watch::create(boost::asio::io_context& io,
                                                       config::redis_sentinel sentinel,
                                                       switched_handler switched) {
  return std::make_unique<hiredis_sentinel_watch>(io, std::move(sentinel), std::move(switched));
}

redis_connection_options connection_options(const config::redis_options& redis, std::string name,
                                            std::string library) {
  redis_connection_options o;
  o.endpoint = redis.endpoint;
  o.sentinel = redis.sentinel;
  o.name = std::move(name);
  o.library = std::move(library);
  return o;
}

std::unique_ptr<redis_connection> redis_connection::create(boost::asio::io_context& io,
                                                           redis_connection_options options) {
  return std::make_unique<hiredis_connection>(io, std::move(options));
}

}  // namespace askdesk::store
