#include "daemon/net/timer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace askdesk::net {

// A wait that already completed cannot be cancelled, only ignored: each after() and cancel()
// starts a new generation, and a handler from an older one (or from a destroyed timer) does
// nothing.
struct timer::impl {
  explicit impl(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::uint64_t generation = 0;
  bool pending = false;
};

timer::timer(boost::asio::io_context& io) : impl_(std::make_shared<impl>(io)) {}

timer::~timer() { cancel(); }

void timer::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  impl_->timer.expires_after(delay);
  impl_->pending = true;
  const std::uint64_t generation = ++impl_->generation;
  impl_->timer.async_wait([weak = std::weak_ptr<impl>(impl_), generation,
                           fn = std::move(fn)](const boost::system::error_code& ec) {
    const auto state = weak.lock();
    if (ec || !state || state->generation != generation) return;
    state->pending = false;
    fn();
  });
}

void timer::cancel() {
  ++impl_->generation;
  impl_->timer.cancel();
  impl_->pending = false;
}

bool timer::pending() const { return impl_->pending; }

void post(boost::asio::io_context& io, std::function<void()> fn) {
  boost::asio::post(io, std::move(fn));
}

}  // namespace askdesk::net
