#include "daemon/store/inbound_store.hpp"

#include "daemon/store/calls.hpp"
#include "daemon/store/inbound_codec.hpp"

namespace askdesk::store {

core::error redis_error(const reply& r, std::string_view doing) {
  if (r.is_unavailable()) return {"unavailable", std::string(doing) + ": " + r.str()};
  if (r.is_error()) return {"redis", std::string(doing) + ": redis answered " + r.str()};
  return {"redis", std::string(doing) + ": unexpected reply " + r.describe()};
}

void inbound_store::append(const core::inbound_message& m, done_handler done) {
  calls::ingest in{.connector = m.connector, .external_id = m.external_id, .fields = {}};
  for (auto& [key, value] : encode_inbound(m)) {
    in.fields.push_back(std::move(key));
    in.fields.push_back(std::move(value));
  }
  run(redis_, scripts_, calls::make(in),
      // A store that waits for no replica is not needed once the call is sent.
      [this, replicas = wait_.replicas, done = std::move(done),
       what = "storing message " + m.external_id + " from " + m.connector](reply r) {
        if (!r.is_array() || r.size() != 2 || !r[0].is_integer()) {
          done(redis_error(r, what));
          return;
        }
        const auto outcome =
            r[0].integer() == 1 ? ingest_outcome::stored : ingest_outcome::duplicate;
        if (replicas == 0) {
          done(outcome);
          return;
        }
        wait_for_replicas([done, outcome, what](core::status s) {
          if (s) {
            done(outcome);
          } else {
            done(core::error{s.err().code, what + ": " + s.err().message});
          }
        });
      });
}

void inbound_store::wait_for_replicas(waiter w) {
  waiting_.push_back(std::move(w));
  if (!wait_in_flight_) send_wait();
}

void inbound_store::send_wait() {
  wait_in_flight_ = true;
  auto group = std::make_shared<std::vector<waiter>>(std::move(waiting_));
  waiting_.clear();
  const std::string replicas = std::to_string(wait_.replicas);
  const std::string ms = std::to_string(wait_.timeout.count());
  const std::string_view args[] = {"WAIT", replicas, ms};
  redis_.command(
      args,
      [this, group](reply r) {
        wait_in_flight_ = false;
        core::status s;
        if (!r.is_integer()) {
          s = redis_error(r, "waiting for replicas");
        } else if (r.integer() < wait_.replicas) {
          wait_.fell_short(group->size());
          s = core::error{"unavailable", "stored, but only " + std::to_string(r.integer()) +
                                             " of the " + std::to_string(wait_.replicas) +
                                             " replicas required confirmed it within " +
                                             std::to_string(wait_.timeout.count()) + " ms"};
        }
        for (auto& w : *group) w(s);
        if (!waiting_.empty()) send_wait();
      },
      wait_.timeout);
}

}  // namespace askdesk::store
