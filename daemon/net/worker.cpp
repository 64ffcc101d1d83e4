#include "daemon/net/worker.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace askdesk::net {

struct worker::impl {
  explicit impl(boost::asio::io_context& context) : io(context) {}
  boost::asio::io_context& io;
  boost::asio::thread_pool pool{1};
};

worker::worker(boost::asio::io_context& io) : impl_(std::make_unique<impl>(io)) {}

worker::~worker() {
  impl_->pool.stop();
  impl_->pool.join();
}

void worker::submit(std::function<void()> work, std::function<void()> done) {
  auto& io = impl_->io;
  // The io_context's work guard keeps run() going until `done` is back.
  auto guard =
      std::make_shared<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
          io.get_executor());
  boost::asio::post(impl_->pool, [&io, work = std::move(work), done = std::move(done), guard] {
    work();
    boost::asio::post(io, [done, guard] { done(); });
  });
}

}  // namespace askdesk::net
