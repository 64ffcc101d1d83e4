// One background thread for CPU-heavy work (password hashing) so that the I/O thread keeps
// answering. `run` executes `work` on the worker and `done` back on the io_context's thread.
// The work must not touch anything the I/O thread owns. Destroying the worker waits for the
// job in progress.
#pragma once

#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace askdesk::net {

class worker {
 public:
  explicit worker(boost::asio::io_context& io);
  ~worker();

  template <class T>
  void run(std::function<T()> work, std::function<void(T)> done) {
    auto result = std::make_shared<T>();
    submit([work = std::move(work), result] { *result = work(); },
           [done = std::move(done), result] { done(std::move(*result)); });
  }

 private:
  void submit(std::function<void()> work, std::function<void()> done);

  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace askdesk::net
