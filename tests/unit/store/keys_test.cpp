#include "daemon/store/keys.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "daemon/store/scripts.hpp"

namespace askdesk::store {
namespace {

std::string pattern_of(std::string_view key) {
  const auto* f = family_of(key);
  return f ? std::string(f->pattern) : "(none)";
}

TEST(KeyCatalogue, AKeyBelongsToItsMostSpecificFamily) {
  EXPECT_EQ(pattern_of("conversation:12"), "conversation:{id}");
  EXPECT_EQ(pattern_of("conversation:12:messages"), "conversation:{id}:messages");
  EXPECT_EQ(pattern_of("optout:sms:+15550100"), "optout:{channel}:{address*}");
  EXPECT_EQ(pattern_of("thread:mail:<a:b@example.org>"), "thread:{connector}:{thread*}");
  EXPECT_EQ(pattern_of("lease:lane:sms:fence"), "lease:{what*}:fence");
  EXPECT_EQ(pattern_of("lease:lane:sms"), "lease:{what*}");
  EXPECT_EQ(pattern_of("provider:sms:SM1:early"), "provider:{connector}:{provider id}:early");
  EXPECT_EQ(pattern_of("webchat:web:quota:forms"), "{type}:{connector}:quota:{name*}");
  EXPECT_EQ(pattern_of("events"), "events");
  EXPECT_EQ(pattern_of("eventsx"), "(none)");
}

TEST(KeyCatalogue, PatronTextIsMarkedWhereverItLives) {
  for (std::string_view key :
       {"message:1", "conversation:1", "events", "inbound", "inbound:dead", "outbound:sms",
        "outbound:sms:dead", "topic:examples", "outbound:retry"}) {
    ASSERT_NE(family_of(key), nullptr) << key;
    EXPECT_EQ(family_of(key)->data, patron_data::text) << key;
  }
  EXPECT_EQ(family_of("address:sms:+15550100")->data, patron_data::identifiers);
  EXPECT_EQ(family_of("patron:7")->data, patron_data::identifiers);
}

TEST(KeyCatalogue, BuildersNameKeysOfTheirFamilies) {
  EXPECT_EQ(pattern_of(keys::outbound("sms")), "outbound:{connector}");
  EXPECT_EQ(pattern_of(keys::lane_lease("sms")), "lease:{what*}");
  EXPECT_EQ(pattern_of(keys::session("ab12")), "session:{sha256}");
  EXPECT_EQ(pattern_of(keys::user_sessions("ann")), "user:{name}:sessions");
  EXPECT_EQ(pattern_of(keys::queue("reference")), "queue:{team}");
  EXPECT_EQ(pattern_of(std::string(keys::inbound_dead)), "inbound:dead");
}

// Every key a script names belongs to a family of the core, not only to the connectors'
// catch-all: a literal key matches one, a literal prefix it appends ids to begins one.
TEST(KeyCatalogue, EveryKeyTheScriptsBuildIsCatalogued) {
  const script_set scripts{config::redis_options{}};
  // Hash fields and values the scripts build the same way, which are not keys.
  const std::set<std::string> not_keys = {"acked:", "busy:"};
  const std::regex prefix(R"('([a-z_]+:[a-z_:]*)'\s*\.\.)");
  const std::regex literal(R"(redis\.call\('[A-Z]+',\s*'([a-z_:]+)'\s*[,)])");
  std::set<std::string> prefixes, literals;
  for (const auto& source : scripts.sources()) {
    for (std::sregex_iterator it(source.begin(), source.end(), prefix), end; it != end; ++it) {
      if (!not_keys.contains((*it)[1])) prefixes.insert((*it)[1]);
    }
    for (std::sregex_iterator it(source.begin(), source.end(), literal), end; it != end; ++it) {
      literals.insert((*it)[1]);
    }
  }
  ASSERT_GT(prefixes.size(), 15u);
  ASSERT_GT(literals.size(), 3u);
  const auto core_family = [](const key_family& f) { return f.owner != "connectors"; };
  for (const auto& p : prefixes) {
    bool found = false;
    for (const auto& f : key_catalogue()) {
      found |= core_family(f) && f.pattern.starts_with(p) && f.pattern.size() > p.size() &&
               f.pattern[p.size()] == '{';
    }
    EXPECT_TRUE(found) << "keys beginning " << p << " are not catalogued";
  }
  for (const auto& key : literals) {
    const auto* f = family_of(key);
    EXPECT_TRUE(f != nullptr && core_family(*f)) << key << " is not catalogued";
  }
}

}  // namespace
}  // namespace askdesk::store
