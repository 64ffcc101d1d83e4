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
      [done = std::move(done),
       what = "storing message " + m.external_id + " from " + m.connector](reply r) {
        if (!r.is_array() || r.size() != 2 || !r[0].is_integer()) {
          done(redis_error(r, what));
          return;
        }
        done(r[0].integer() == 1 ? ingest_outcome::stored : ingest_outcome::duplicate);
      });
}

}  // namespace askdesk::store
