// The AT Protocol test network before any connector uses it: a real PDS, PLC and bsky AppView
// from @atproto/dev-env (tests/atproto/network.mjs) driven through atproto_network. A patron
// mentions the library's account in a post with non-ASCII text, the library answers in the
// thread; the AppView then shows the mention in the library's notifications and the answer
// under the post, and the facet's byte offsets point at "@handle" in the UTF-8 text. An app
// password logs in at the PDS as a client (the connector) would.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <iostream>
#include <string>
#include <vector>

#include "daemon/json/document.hpp"
#include "tests/support/atproto_network.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

using std::chrono::seconds;

// The shared network's log when a test that used it failed (it outlives the test).
class AtprotoNetwork : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && network_ != nullptr) {
      const std::string log = network_->log();
      std::cerr << "--- the AT Protocol network's log, its last 12000 characters:\n"
                << (log.size() > 12000 ? log.substr(log.size() - 12000) : log)
                << "--- end of the AT Protocol network's log\n";
    }
  }
  atproto_network& network() {
    network_ = &shared_atproto_network();
    return *network_;
  }

 private:
  atproto_network* network_ = nullptr;
};

const rapidjson::Value* member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  const auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

// v.keys[0].keys[1]...; nullptr when one is missing.
const rapidjson::Value* at(const rapidjson::Value& v, std::initializer_list<const char*> keys) {
  const rapidjson::Value* here = &v;
  for (const char* key : keys) {
    if (here == nullptr) return nullptr;
    here = member(*here, key);
  }
  return here;
}

// The notification for `uri` with `reason` in a listNotifications answer.
bool has_notification(const std::string& answer, const std::string& reason,
                      const std::string& uri) {
  auto parsed = json::document::parse(answer);
  if (!parsed.ok()) return false;
  const rapidjson::Value* list = member(parsed->root(), "notifications");
  if (list == nullptr || !list->IsArray()) return false;
  for (const auto& n : list->GetArray()) {
    if (json::string_member(n, "reason") == reason && json::string_member(n, "uri") == uri) {
      return true;
    }
  }
  return false;
}

// The URIs of the direct replies in a getPostThread answer.
std::vector<std::string> reply_uris(const std::string& answer) {
  std::vector<std::string> uris;
  auto parsed = json::document::parse(answer);
  if (!parsed.ok()) return uris;
  const rapidjson::Value* thread = member(parsed->root(), "thread");
  const rapidjson::Value* replies = thread ? member(*thread, "replies") : nullptr;
  if (replies == nullptr || !replies->IsArray()) return uris;
  for (const auto& r : replies->GetArray()) {
    if (const rapidjson::Value* post = member(r, "post")) {
      uris.emplace_back(json::string_member(*post, "uri"));
    }
  }
  return uris;
}

TEST_F(AtprotoNetwork, MentionNotifiesTheMentionedAccountAndTheReplyShowsInTheThread) {
  atproto_network& net = network();
  EXPECT_EQ(net.pds().rfind("http://127.0.0.1:", 0), 0u) << net.pds();
  const atproto_account patron = net.account(unique_atproto_handle("patron"), "Zoë Patron");
  const atproto_account desk = net.account(unique_atproto_handle("desk"), "Library desk");
  EXPECT_EQ(patron.did.rfind("did:plc:", 0), 0u) << patron.did;
  EXPECT_FALSE(desk.app_password.empty());

  const std::string text = "Où rendre « Les Misérables » ? @" + desk.handle + " merci 📚";
  const atproto_record question = net.post(patron.handle, text, {desk.handle});
  EXPECT_EQ(question.uri.rfind("at://" + patron.did + "/app.bsky.feed.post/", 0), 0u)
      << question.uri;
  EXPECT_FALSE(question.cid.empty());
  const atproto_record answer =
      net.post(desk.handle, "À l'accueil, au rez-de-chaussée.", {}, question.uri);

  std::string notifications;
  EXPECT_TRUE(wait_until(
      [&] {
        notifications = net.notifications(desk.handle);
        return has_notification(notifications, "mention", question.uri);
      },
      seconds(20)))
      << notifications;

  std::string thread;
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          thread = net.thread(question.uri);
        } catch (const std::runtime_error& e) {
          thread = e.what();  // not indexed yet
          return false;
        }
        return reply_uris(thread) == std::vector<std::string>{answer.uri};
      },
      seconds(20)))
      << thread;

  // The mention facet as the AppView serves the record: UTF-8 byte offsets of "@handle", end
  // exclusive, pointing at the desk's DID.
  auto parsed = json::document::parse(thread);
  ASSERT_TRUE(parsed.ok());
  const rapidjson::Value* record = at(parsed->root(), {"thread", "post", "record"});
  ASSERT_NE(record, nullptr) << thread;
  EXPECT_EQ(json::string_member(*record, "text"), text);
  const rapidjson::Value* facets = member(*record, "facets");
  ASSERT_TRUE(facets != nullptr && facets->IsArray() && facets->Size() == 1) << thread;
  const rapidjson::Value* index = member((*facets)[0], "index");
  const rapidjson::Value* features = member((*facets)[0], "features");
  ASSERT_TRUE(index != nullptr && features != nullptr && features->IsArray() &&
              features->Size() == 1)
      << thread;
  const std::size_t mention_at = text.find("@" + desk.handle);
  EXPECT_EQ(json::integer_member(*index, "byteStart"), static_cast<std::int64_t>(mention_at));
  EXPECT_EQ(json::integer_member(*index, "byteEnd"),
            static_cast<std::int64_t>(mention_at + 1 + desk.handle.size()));
  EXPECT_EQ(json::string_member((*features)[0], "$type"), "app.bsky.richtext.facet#mention");
  EXPECT_EQ(json::string_member((*features)[0], "did"), desk.did);
}

TEST_F(AtprotoNetwork, AppPasswordLogsInAtThePds) {
  atproto_network& net = network();
  const atproto_account desk = net.account(unique_atproto_handle("desk"));
  const http_result session = http_request(
      "POST", net.pds() + "/xrpc/com.atproto.server.createSession",
      R"({"identifier":")" + desk.handle + R"(","password":")" + desk.app_password + R"("})",
      {"Content-Type: application/json"});
  ASSERT_EQ(session.status, 200) << session.body;
  auto parsed = json::document::parse(session.body);
  ASSERT_TRUE(parsed.ok()) << session.body;
  EXPECT_EQ(json::string_member(parsed->root(), "did"), desk.did);
  EXPECT_FALSE(json::string_member(parsed->root(), "accessJwt").empty());
  EXPECT_FALSE(json::string_member(parsed->root(), "refreshJwt").empty());
}

}  // namespace
}  // namespace askdesk::testing
