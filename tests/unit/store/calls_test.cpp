#include "daemon/store/calls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>

#include "daemon/store/keys.hpp"

namespace askdesk::store {
namespace {

// Every K.<name> and A.<name> a function's body reads is one its call declares: C++ and Lua
// agree on every name, so none can be off by a position.
TEST(Calls, EveryNameAFunctionReadsIsDeclared) {
  const script_set scripts{config::redis_options{}};
  const std::regex used(R"(\b([KA])\.([a-z_]+))");
  for (int i = 0; i < static_cast<int>(script::count_); ++i) {
    const auto s = static_cast<script>(i);
    const call c = calls::describe(s);
    const auto key_names = c.key_names(), arg_names = c.arg_names();
    const std::set<std::string_view> keys(key_names.begin(), key_names.end());
    const std::set<std::string_view> args(arg_names.begin(), arg_names.end());
    const std::string body(scripts.body(s));
    std::size_t seen = 0;
    for (std::sregex_iterator it(body.begin(), body.end(), used), end; it != end; ++it, ++seen) {
      const std::string name = (*it)[2];
      if ((*it)[1] == "K") {
        EXPECT_TRUE(keys.contains(name)) << script_set::name(s) << " reads undeclared key " << name;
      } else {
        EXPECT_TRUE(args.contains(name))
            << script_set::name(s) << " reads undeclared argument " << name;
      }
    }
    EXPECT_GT(seen, 0u) << script_set::name(s);
  }
}

TEST(Calls, ListsFollowTheNamedKeysAndTheirLengthsLeadTheArguments) {
  call c(script::presence);
  c.key("sockets", "sockets:ann")
      .keys("teams", {"presence:a", "presence:b"})
      .arg("now", "1")
      .args("team_ids", {"a", "b"});
  EXPECT_EQ(c.all_keys(), (std::vector<std::string>{"sockets:ann", "presence:a", "presence:b"}));
  EXPECT_EQ(c.all_args(), (std::vector<std::string>{"2", "2", "1", "a", "b"}));
  const std::string header = c.header();
  EXPECT_NE(header.find("sockets = KEYS[1]"), std::string::npos) << header;
  EXPECT_NE(header.find("now = ARGV[3]"), std::string::npos) << header;
  EXPECT_NE(header.find("rawset(K, 'teams', slice(KEYS, k, tonumber(ARGV[1])))"), std::string::npos)
      << header;
}

TEST(Calls, AConversationFunctionDeclaresTheKeysItsStateNames) {
  conversation_state s{.id = "12",
                       .exists = true,
                       .status = "queued",
                       .team = "reference",
                       .assignee = "",
                       .patron = "3",
                       .channel = "sms",
                       .address = "+15550100",
                       .connector = "sms",
                       .offer_to = ",ann,bo,"};
  const call c = calls::make(calls::claim{.now = "1", .state = s, .user = "ann", .scope = "*"});
  const auto keys = c.all_keys();
  for (const auto& k : {keys::conversation("12"), keys::patron("3"), keys::queue("reference"),
                        keys::optout("sms", "+15550100"), keys::offers("ann"), keys::offers("bo"),
                        keys::staff("ann"), keys::assigned("ann")}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  }
  EXPECT_EQ(keys::conversation("12"), "conversation:{c:12}");
  EXPECT_EQ(s.seen(), "reference\n\n3\nsms\nsms\n+15550100\n,ann,bo,");
}

}  // namespace
}  // namespace askdesk::store
