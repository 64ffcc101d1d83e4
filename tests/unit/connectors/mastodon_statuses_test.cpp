// Mastodon's entities as the connector reads them: a Status shaped like the documentation's
// example, addresses, the mention a reply needs, and the rate-limit window.
#include <gtest/gtest.h>

#include "connectors/mastodon/statuses.hpp"
#include "connectors/rate_window.hpp"
#include "connectors/registry.hpp"
#include "daemon/config/config.hpp"
#include "daemon/json/document.hpp"
#include "daemon/net/curl_client.hpp"
#include "tests/support/config_problems.hpp"

namespace askdesk::connectors::mastodon {
namespace {

std::optional<status> read(std::string_view text, std::string* why = nullptr) {
  auto doc = json::document::parse(text);
  EXPECT_TRUE(doc) << text;
  return read_status(doc->root(), why);
}

constexpr std::string_view documented = R"({
  "id": "103270115826048975", "created_at": "2019-12-08T03:48:33.901Z",
  "in_reply_to_id": null, "in_reply_to_account_id": null, "sensitive": false,
  "spoiler_text": "", "visibility": "public", "language": "en",
  "uri": "https://mastodon.social/users/Gargron/statuses/103270115826048975",
  "url": "https://mastodon.social/@Gargron/103270115826048975",
  "content": "<p>&quot;I lost my inheritance with one wrong digit on my sort code&quot;</p><p><a href=\"https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code\" rel=\"nofollow noopener noreferrer\" target=\"_blank\"><span class=\"invisible\">https://www.</span><span class=\"ellipsis\">theguardian.com/money/2019/dec</span><span class=\"invisible\">/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code</span></a></p>",
  "account": {"id": "1", "username": "Gargron", "acct": "Gargron", "display_name": "Eugen",
              "url": "https://mastodon.social/@Gargron"},
  "media_attachments": [{"id": "22345792", "type": "image",
    "url": "https://files.mastodon.social/media_attachments/files/022/345/792/original/57859aede991da25.jpeg",
    "description": "A book cover"}],
  "mentions": [], "tags": [], "emojis": []})";

TEST(MastodonStatus, TheDocumentationsExampleBecomesSafeTextWithItsLinkAndMedia) {
  const auto s = read(documented);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id, "103270115826048975");
  EXPECT_EQ(s->acct, "Gargron");
  EXPECT_EQ(s->display_name, "Eugen");
  EXPECT_EQ(s->visibility, "public");
  EXPECT_TRUE(s->in_reply_to_id.empty());
  EXPECT_NE(s->text.find("\"I lost my inheritance"), std::string::npos) << s->text;
  ASSERT_EQ(s->links.size(), 1u);
  EXPECT_TRUE(s->links[0].starts_with("https://www.theguardian.com/money/2019/dec/07/"));
  ASSERT_EQ(s->media.size(), 1u);
  EXPECT_EQ(s->media[0].name, "A book cover");
  EXPECT_EQ(s->media[0].content_type, "image/*");
  EXPECT_EQ(s->created_at, *core::parse_iso8601("2019-12-08T03:48:33.901Z"));
}

TEST(MastodonStatus, WhatLacksAnIdAnAuthorOrAKnownVisibilityIsRefusedWithWhy) {
  std::string why;
  EXPECT_FALSE(read(R"({"id": "1", "visibility": "public", "content": ""})", &why));
  EXPECT_EQ(why, "status 1 has no account");
  EXPECT_FALSE(read(R"({"id": "../x", "account": {"id": "2", "acct": "a"}})", &why));
  EXPECT_FALSE(read(R"({"id": "3", "visibility": "everyone",
    "account": {"id": "2", "acct": "a"}})",
                    &why));
  EXPECT_EQ(why, "status 3 has an unknown visibility");
  const auto hostile = read(R"({"id": "4", "visibility": "direct", "spoiler_text": "CW: rant",
    "content": "<script>alert(1)</script><p>Hi <a href=\"javascript:alert(2)\">there</a>",
    "account": {"id": "2", "acct": "eve@evil.example"}, "in_reply_to_id": "3"})");
  ASSERT_TRUE(hostile);
  EXPECT_EQ(hostile->text, "Hi there");
  EXPECT_TRUE(hostile->links.empty());
  EXPECT_EQ(hostile->spoiler_text, "CW: rant");
  EXPECT_EQ(hostile->in_reply_to_id, "3");
}

TEST(MastodonAddresses, LocalAccountsGetTheInstancesHost) {
  EXPECT_EQ(host_of("https://Mastodon.Social/"), "mastodon.social");
  EXPECT_EQ(host_of("http://127.0.0.1:8080"), "127.0.0.1:8080");
  EXPECT_EQ(full_acct("ada", "mastodon.social"), "@ada@mastodon.social");
  EXPECT_EQ(full_acct("bo@other.example", "mastodon.social"), "@bo@other.example");
}

TEST(MastodonReplies, ThePatronIsMentionedOnceWhateverTheCase) {
  EXPECT_EQ(with_mention("Yes, we are open.", "@ada@x.example"),
            "@ada@x.example Yes, we are open.");
  EXPECT_EQ(with_mention("@Ada@X.example yes", "@ada@x.example"), "@Ada@X.example yes");
  EXPECT_EQ(with_mention("Thanks @ada, we are open", "@ada@x.example"), "Thanks @ada, we are open");
  EXPECT_EQ(with_mention("@adam hello", "@ada@x.example"), "@ada@x.example @adam hello");
}

TEST(RateWindow, NoRequestOnceNoneAreLeftUntilTheReset) {
  const core::timestamp now{std::chrono::seconds(1800000000)};
  rate_window w;                      // Mastodon's X-RateLimit-*, the reset as ISO-8601
  EXPECT_EQ(w.take(now).count(), 0);  // nothing known yet
  net::incoming_response r;
  r.status = 200;
  r.headers = {{"x-ratelimit-remaining", "1"}, {"x-ratelimit-reset", "2027-01-15T08:00:30.000Z"}};
  w.update(r, now);
  EXPECT_EQ(w.take(now).count(), 0);  // the last one
  EXPECT_EQ(w.take(now), std::chrono::milliseconds(30000));
  EXPECT_EQ(w.take(now + std::chrono::seconds(31)).count(), 0);  // a new window
  // A 429 that says nothing more: none left until the known reset, else for a minute.
  r.status = 429;
  r.headers = {};
  w.update(r, now);
  EXPECT_EQ(w.take(now), std::chrono::milliseconds(30000));
  rate_window fresh;
  fresh.update(r, now);
  EXPECT_EQ(fresh.take(now), std::chrono::milliseconds(60000));
  // The AT Protocol's RateLimit-*, the reset in epoch seconds.
  rate_window at("ratelimit-");
  r.status = 200;
  r.headers = {{"ratelimit-remaining", "0"}, {"ratelimit-reset", "1800000010"}};
  at.update(r, now);
  EXPECT_EQ(at.take(now), std::chrono::milliseconds(10000));
}

TEST(MastodonConfig, TheDocumentedBlockIsValidAndMistakesAreNamed) {
  EXPECT_EQ(testing::connector_problems(R"({"id":"mastodon","type":"mastodon",
    "instance":"https://mastodon.social","access_token":"abc123","mode":"poll",
    "poll_seconds":30,"triage":true,"watch_hashtags":["ourlibrary"],
    "watch_keywords":["Riverside Library"]})"),
            "");
  const auto text =
      testing::connector_problems(R"({"id":"m","type":"mastodon","instance":"mastodon.social",
    "access_token":"a b","mode":"stream","watch_hashtags":["two words"]})");
  EXPECT_NE(text.find("connectors[0].instance: must be the server's base URL"), std::string::npos)
      << text;
  EXPECT_NE(text.find("connectors[0].access_token:"), std::string::npos) << text;
  EXPECT_NE(text.find("connectors[0].mode: must be poll"), std::string::npos) << text;
  EXPECT_NE(text.find("'two words' is not a hashtag"), std::string::npos) << text;
}

}  // namespace
}  // namespace askdesk::connectors::mastodon
