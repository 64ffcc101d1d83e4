#include "tests/support/markers.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/wait.hpp"

namespace askdesk::testing {

std::vector<std::string> found_in_redis(redis_server& redis, const std::string& marker) {
  std::vector<std::string> found;
  std::string cursor = "0";
  do {
    const auto page = redis.command({"SCAN", cursor, "COUNT", "1000"});
    cursor = page[0].str();
    for (const auto& k : page[1].elements()) {
      if (k.str().find(marker) != std::string::npos) found.push_back("the name of " + k.str());
      const auto dump = redis.command({"DUMP", k.str()});
      if (dump.is_string() && dump.str().find(marker) != std::string::npos) {
        found.push_back(k.str());
      }
    }
  } while (cursor != "0");
  return found;
}

std::vector<std::string> found_in_files(const std::string& dir, const std::string& marker) {
  std::vector<std::string> found;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const auto at = bytes.str().find(marker);
    if (at != std::string::npos) {
      std::string around = bytes.str().substr(at > 300 ? at - 300 : 0, 400);
      for (auto& ch : around)
        if (ch < 32 || ch > 126) ch = '.';
      found.push_back(f.path().string() + " " + around);
    }
  }
  return found;
}

bool files_settled(redis_server& redis) {
  return wait_until([&] {
    const std::string info = redis.command({"INFO", "persistence"}).str();
    return info.find("aof_rewrite_in_progress:0") != std::string::npos &&
           info.find("aof_rewrite_scheduled:0") != std::string::npos &&
           info.find("rdb_bgsave_in_progress:0") != std::string::npos;
  });
}

void expect_erased_without_trace(askdesk_daemon& daemon, const staff_session& who,
                                 const std::string& conversation, redis_server& redis,
                                 const std::string& marker) {
  EXPECT_FALSE(found_in_redis(redis, marker).empty()) << marker << " was never stored";
  const std::string patron =
      json_at(daemon.call(who, "GET", "/api/v1/conversations/" + conversation).body, "/patron/id");
  ASSERT_TRUE(wait_until([&] {
    return daemon.call(who, "POST", "/api/v1/patrons/" + patron + "/erase").status == 200;
  }));
  ASSERT_TRUE(files_settled(redis));
  EXPECT_EQ(found_in_redis(redis, marker), std::vector<std::string>{});
  EXPECT_EQ(found_in_files(redis.dir(), marker), std::vector<std::string>{});
}

}  // namespace askdesk::testing
