// Where a test's marker (a unique string in a patron's name and text) is left after a purge
// or an erasure: in Redis (any key's name or serialized value) or in Redis's files (the AOF's
// base and increments, the RDB), once Redis finished rewriting them.
#pragma once

#include <string>
#include <vector>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/redis_server.hpp"

namespace askdesk::testing {

// Every place `marker` is in Redis: a key's name, or its DUMP (the serialized value, as an
// RDB file holds it). Ask Redis for `CONFIG SET rdbcompression no` first, or a compressed
// value can hide it.
std::vector<std::string> found_in_redis(redis_server& redis, const std::string& marker);
// Every file under `dir` (Redis's folder) that holds `marker`, with the bytes around it.
std::vector<std::string> found_in_files(const std::string& dir, const std::string& marker);
// Waits until Redis has no rewrite or save under way or scheduled; false after 10 s.
bool files_settled(redis_server& redis);

// The patron of `conversation` (closed), erased by `who` through the API (POST
// /api/v1/patrons/{id}/erase, tried until a send still pending is done): `marker` was in Redis
// before, and is in neither Redis nor its files after (test failures otherwise).
void expect_erased_without_trace(askdesk_daemon& daemon, const staff_session& who,
                                 const std::string& conversation, redis_server& redis,
                                 const std::string& marker);

}  // namespace askdesk::testing
