// The Bluesky connector's pure parts: posts as listNotifications and searchPosts give them,
// facets (UTF-8 byte offsets, end exclusive) both ways, grapheme counts with emoji, combining
// marks and right-to-left text, record keys and session tokens.
#include <gtest/gtest.h>

#include "connectors/bluesky/posts.hpp"
#include "connectors/registry.hpp"
#include "daemon/config/config.hpp"
#include "daemon/core/channel.hpp"
#include "daemon/json/document.hpp"
#include "tests/support/config_problems.hpp"

namespace askdesk::connectors::bluesky {
namespace {

json::document parse(std::string_view text) {
  auto doc = json::document::parse(text);
  EXPECT_TRUE(doc) << text;
  return std::move(*doc);
}

// A mention notification as the AppView lists it (app.bsky.notification.listNotifications).
constexpr std::string_view mention = R"({
  "uri": "at://did:plc:ada/app.bsky.feed.post/3kxyz2abcde22",
  "cid": "bafyreia",
  "author": {"did": "did:plc:ada", "handle": "ada.test", "displayName": "Ada"},
  "reason": "mention",
  "record": {"$type": "app.bsky.feed.post",
    "text": "📚 @library.test see example.org/long… please",
    "facets": [
      {"index": {"byteStart": 5, "byteEnd": 18},
       "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:lib"}]},
      {"index": {"byteStart": 23, "byteEnd": 42},
       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/long/path"}]},
      {"index": {"byteStart": 40, "byteEnd": 99},
       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://evil.example"}]}],
    "reply": {"root": {"uri": "at://did:plc:lib/app.bsky.feed.post/3kroot2222222", "cid": "bafyroot"},
              "parent": {"uri": "at://did:plc:lib/app.bsky.feed.post/3kparent22222", "cid": "bafyparent"}},
    "embed": {"$type": "app.bsky.embed.images",
      "images": [{"alt": "A page of the book", "image": {"$type": "blob", "mimeType": "image/jpeg", "size": 12345}}]},
    "langs": ["en"], "createdAt": "2026-12-07T10:00:00.000Z"},
  "isRead": false, "indexedAt": "2026-12-07T10:00:01.000Z"})";

TEST(BlueskyPosts, ANotificationBecomesAPostWithItsFacetsApplied) {
  const auto doc = parse(mention);
  std::string why;
  const auto p = read_notification(doc.root(), &why);
  ASSERT_TRUE(p) << why;
  EXPECT_EQ(p->handle, "ada.test");
  EXPECT_EQ(p->reason, "mention");
  // The link's shortened text becomes its full URI; the out-of-range facet is ignored.
  EXPECT_EQ(p->text, "📚 @library.test see https://example.org/long/path please");
  ASSERT_EQ(p->links.size(), 1u);
  ASSERT_TRUE(p->root);
  EXPECT_EQ(p->root->uri, "at://did:plc:lib/app.bsky.feed.post/3kroot2222222");
  EXPECT_EQ(p->parent->cid, "bafyparent");
  ASSERT_EQ(p->attachments.size(), 1u);
  EXPECT_EQ(p->attachments[0].name, "A page of the book");
  EXPECT_EQ(p->attachments[0].content_type, "image/jpeg");
  EXPECT_EQ(p->language, "en");
  EXPECT_EQ(p->indexed_at, "2026-12-07T10:00:01.000Z");
  EXPECT_EQ(rkey_of(p->uri), "3kxyz2abcde22");
}

TEST(BlueskyPosts, FacetsOffBoundariesOrOverlappingAreIgnored) {
  std::vector<std::string> links;
  // "é" is two bytes: a facet starting inside it is not on a character boundary.
  const auto doc = parse(R"([
    {"index": {"byteStart": 1, "byteEnd": 3}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://a.example"}]},
    {"index": {"byteStart": 3, "byteEnd": 7}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://b.example"}]},
    {"index": {"byteStart": 5, "byteEnd": 9}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://c.example"}]},
    {"index": {"byteStart": 9, "byteEnd": 10}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "javascript:x"}]}])");
  EXPECT_EQ(apply_facets("é xyzw rest", &doc.root(), links), "é https://b.example rest");
  EXPECT_EQ(links, std::vector<std::string>{"https://b.example"});
}

TEST(BlueskyPosts, WhatIsNotAPostIsSkippedWithWhy) {
  std::string why;
  const auto like = parse(R"({"uri": "at://did:plc:a/app.bsky.feed.like/1", "cid": "b",
    "author": {"did": "did:plc:a", "handle": "a.test"}, "reason": "like",
    "record": {"$type": "app.bsky.feed.like"}, "indexedAt": "2026-12-07T10:00:00Z"})");
  EXPECT_FALSE(read_notification(like.root(), &why));
  EXPECT_NE(why.find("is not a post"), std::string::npos);
  EXPECT_FALSE(read_post_view(parse("[]").root(), &why));
}

TEST(BlueskyReplies, TheMentionFacetCountsUtf8BytesEndExclusive) {
  const auto r =
      reply_text("Désolé 📚: see https://library.example/hours.", "ada.test", "did:plc:ada");
  EXPECT_EQ(r.text, "@ada.test Désolé 📚: see https://library.example/hours.");
  const auto facets = parse(r.facets);
  ASSERT_EQ(facets.root().Size(), 2u);
  EXPECT_EQ(facets.root()[0]["index"]["byteStart"].GetInt(), 0);
  EXPECT_EQ(facets.root()[0]["index"]["byteEnd"].GetInt(), 9);
  EXPECT_STREQ(facets.root()[0]["features"][0]["did"].GetString(), "did:plc:ada");
  // "@ada.test Désolé 📚: see " is 9+1+8+1+4+1+1+4 = 29 bytes; the trailing '.' is not the link's.
  EXPECT_EQ(facets.root()[1]["index"]["byteStart"].GetInt(), 29);
  EXPECT_STREQ(facets.root()[1]["features"][0]["uri"].GetString(), "https://library.example/hours");
  // Already mentioned (any case): not again, and the facet points at it.
  const auto kept = reply_text("Thanks @Ada.test!", "ada.test", "did:plc:ada");
  EXPECT_EQ(kept.text, "Thanks @Ada.test!");
  EXPECT_EQ(parse(kept.facets).root()[0]["index"]["byteStart"].GetInt(), 7);
}

TEST(BlueskyLength, GraphemesAsBlueskyCountsThem) {
  const auto n = [](std::string_view t) { return core::measure(t, core::length_unit::graphemes); };
  EXPECT_EQ(n("👩‍👩‍👧"), 1u);  // a ZWJ family
  EXPECT_EQ(n("👍🏽"), 1u);            // a skin tone
  EXPECT_EQ(n("e\u0301\u0302"), 1u);       // combining marks
  EXPECT_EQ(n("مرحبا بالمكتبة"), 14u);     // right-to-left letters and a space
  EXPECT_EQ(n("🇫🇷🇨🇦"), 2u);                // two flags
}

TEST(BlueskyKeys, TidsAreThirteenSortableCharacters) {
  const auto a = tid(1733570000000000ULL, 0), b = tid(1733570000000001ULL, 0);
  EXPECT_EQ(a.size(), 13u);
  EXPECT_TRUE(plausible_tid(a));
  EXPECT_LT(a, b);  // sortable as strings
  EXPECT_NE(tid(1733570000000000ULL, 1), a);
  EXPECT_FALSE(plausible_tid("not-a-tid"));
  EXPECT_FALSE(plausible_tid("zzzzzzzzzzzzz"));  // the top bit must be 0
}

TEST(BlueskySession, TheAccessTokensExpiryIsReadFromItsPayload) {
  // {"alg":"HS256"} . {"scope":"com.atproto.appPass","sub":"did:plc:lib","exp":1800000000}
  const std::string jwt =
      "eyJhbGciOiJIUzI1NiJ9."
      "eyJzY29wZSI6ImNvbS5hdHByb3RvLmFwcFBhc3MiLCJzdWIiOiJkaWQ6cGxjOmxpYiIsImV4cCI6MTgwMDAwMDAwMH0."
      "c2lnbmF0dXJl";
  EXPECT_EQ(jwt_expiry(jwt), core::timestamp(std::chrono::seconds(1800000000)));
  EXPECT_FALSE(jwt_expiry("not.a-jwt"));
  EXPECT_FALSE(jwt_expiry("nodots"));
}

TEST(BlueskyConfig, TheDocumentedBlockIsValidAndMistakesAreNamed) {
  EXPECT_EQ(testing::connector_problems(
                R"({"id":"bluesky","type":"bluesky","service":"https://bsky.social",
    "identifier":"library.bsky.social","app_password":"abcd-efgh-ijkl-mnop","poll_seconds":30,
    "triage":true,"watch_keywords":["Riverside Library"]})"),
            "");
  const auto text =
      testing::connector_problems(R"({"id":"b","type":"bluesky","service":"bsky.social",
    "identifier":"two words"})");
  EXPECT_NE(text.find("connectors[0].service: must be the PDS's base URL"), std::string::npos)
      << text;
  EXPECT_NE(text.find("connectors[0].identifier:"), std::string::npos) << text;
  EXPECT_NE(text.find("connectors[0].app_password"), std::string::npos) << text;
}

}  // namespace
}  // namespace askdesk::connectors::bluesky
