#include "daemon/store/keys.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "daemon/store/privacy.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::store {
namespace {

std::string pattern_of(std::string_view key) {
  const auto* f = family_of(key);
  return f ? std::string(f->pattern) : "(none)";
}

TEST(KeyCatalogue, AKeyBelongsToItsMostSpecificFamily) {
  EXPECT_EQ(pattern_of("conversation:{c:12}"), "conversation:{c:<id>}");
  EXPECT_EQ(pattern_of("conversation:{c:12}:messages"), "conversation:{c:<id>}:messages");
  EXPECT_EQ(pattern_of("message:{c:12}:40"), "message:{c:<conversation>}:<id>");
  EXPECT_EQ(pattern_of("optout:sms:+15550100"), "optout:<channel>:<address*>");
  EXPECT_EQ(pattern_of("thread:mail:<a:b@example.org>"), "thread:<connector>:<thread*>");
  EXPECT_EQ(pattern_of("lease:lane:sms:fence"), "lease:<what*>:fence");
  EXPECT_EQ(pattern_of("lease:lane:sms"), "lease:<what*>");
  EXPECT_EQ(pattern_of("provider:sms:SM1:early"), "provider:<connector>:<provider id>:early");
  EXPECT_EQ(pattern_of("webchat:web:quota:forms"), "<type>:<connector>:quota:<name*>");
  EXPECT_EQ(pattern_of("events"), "events");
  EXPECT_EQ(pattern_of("eventsx"), "(none)");
}

TEST(KeyCatalogue, PatronTextIsMarkedWhereverItLives) {
  for (const std::string& key :
       {keys::message("1", "2"), keys::conversation("1"), std::string(keys::events),
        std::string(keys::inbound), std::string(keys::inbound_dead), keys::outbound("sms"),
        keys::outbound_dead("sms"), std::string(keys::topic_examples),
        std::string(keys::old_outbound_retry)}) {
    ASSERT_NE(family_of(key), nullptr) << key;
    EXPECT_EQ(family_of(key)->data, patron_data::text) << key;
  }
  EXPECT_EQ(family_of(keys::address("sms", "+15550100"))->data, patron_data::identifiers);
  EXPECT_EQ(family_of(keys::patron("7"))->data, patron_data::identifiers);
}

TEST(KeyCatalogue, EveryBuilderNamesAKeyOfItsFamily) {
  EXPECT_EQ(pattern_of(keys::outbound("sms")), "outbound:<connector>");
  EXPECT_EQ(pattern_of(keys::lane_lease("sms")), "lease:<what*>");
  EXPECT_EQ(pattern_of(keys::session("ab12")), "session:<sha256>");
  EXPECT_EQ(pattern_of(keys::user_sessions("ann")), "user:<name>:sessions");
  EXPECT_EQ(pattern_of(keys::queue("reference")), "queue:<team>");
  EXPECT_EQ(pattern_of(keys::offer("12")), "offer:{c:<conversation>}");
  EXPECT_EQ(pattern_of(keys::social("new", "reference")), "social:<state>:<team>");
  EXPECT_EQ(pattern_of(keys::provider("sms", "SM1")), "provider:<connector>:<provider id>");
  EXPECT_EQ(pattern_of(std::string(keys::inbound_dead)), "inbound:dead");
  // Every family but the connectors' own is named by a builder somewhere: none is orphaned.
  for (const auto& f : key_catalogue()) EXPECT_FALSE(f.holds.empty()) << f.pattern;
}

// No function builds a key name: every key comes declared (calls.hpp). The only strings
// they build with a colon are hash fields ("acked:<team>", "<channel>:<address>").
TEST(KeyCatalogue, NoFunctionBuildsAKey) {
  const script_set scripts{config::redis_options{}};
  const std::regex built(R"('([a-z_]+:[a-z_:]*)'\s*\.\.)");
  const std::set<std::string> fields = {"acked:"};
  for (int i = 0; i < static_cast<int>(script::count_); ++i) {
    const std::string body(scripts.body(static_cast<script>(i)));
    for (std::sregex_iterator it(body.begin(), body.end(), built), end; it != end; ++it) {
      EXPECT_TRUE(fields.contains((*it)[1]))
          << script_set::name(static_cast<script>(i)) << " builds a key from " << (*it)[1];
    }
  }
}

}  // namespace
}  // namespace askdesk::store

namespace askdesk::store {
namespace {

// The purge and erasure (store/privacy.hpp) walk the catalogue: every family that holds
// patron text or identifiers says how they go, and nothing else is listed.
TEST(KeyCatalogue, EveryFamilyWithPatronDataSaysHowThePurgeRemovesIt) {
  std::set<std::string> handled;
  for (const auto& h : privacy::handling()) handled.insert(std::string(h.pattern));
  std::set<std::string> holding;
  for (const auto& f : key_catalogue()) {
    if (f.data != patron_data::none) holding.insert(std::string(f.pattern));
  }
  EXPECT_EQ(handled, holding);
}

}  // namespace
}  // namespace askdesk::store
