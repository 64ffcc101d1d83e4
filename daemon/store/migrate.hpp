// Upgrades the data of an older askdesk in Redis to the key layout this one uses
// (keys.hpp), once, before the daemon starts its work. Schema 2 put each conversation's own
// keys under its hash tag ({c:<id>}: the conversation, its messages, tags, declined set and
// offer), filed each message under its conversation, made a channel id's record name the
// conversation as well as the message, and copied each patron's name into their
// conversations. Schema 3 wrote each conversation's facts for the reports (facts:{c:<id>},
// from what its hash recorded). The schema version is kept in `askdesk:schema`.
//
// Renames are idempotent: a daemon killed halfway runs it again on its next start. One daemon
// migrates (lease:migration); others wait for the version. Stop the older daemons first: one
// writing the old layout meanwhile would write where nobody reads (docs/redis.md).
#pragma once

#include <functional>

#include "daemon/core/result.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::store {

inline constexpr int schema_version = 3;

struct migration_outcome {
  bool migrated = false;   // this daemon moved the data now
  bool busy = false;       // another daemon is migrating: ask again later
  std::int64_t moved = 0;  // keys renamed or rewritten
};

// Migrates what needs it (as `holder` of the migration lease); an error when Redis is away.
void migrate(redis_connection& redis, const script_set& scripts, std::string holder,
             std::function<void(core::result<migration_outcome>)> done);

}  // namespace askdesk::store
