#include "daemon/store/records.hpp"

#include <gtest/gtest.h>

#include <vector>

#include <rapidjson/pointer.h>

#include "daemon/json/document.hpp"

namespace askdesk::store {
namespace {

std::string at(const std::string& json, const char* pointer) {
  auto doc = json::document::parse(json);
  if (!doc) return "(invalid JSON) " + json;
  const auto* v = rapidjson::Pointer(pointer).Get(doc->root());
  if (v == nullptr) return "(missing)";
  if (v->IsString()) return v->GetString();
  if (v->IsNull()) return "null";
  if (v->IsBool()) return v->GetBool() ? "true" : "false";
  if (v->IsInt64()) return std::to_string(v->GetInt64());
  if (v->IsDouble()) return std::to_string(v->GetDouble());
  if (v->IsArray()) return "[" + std::to_string(v->Size()) + "]";
  return "{...}";
}

const std::vector<field_pair> conversation = {{"c.id", "12"},
                                              {"c.channel", "sms"},
                                              {"c.connector", "sms"},
                                              {"c.status", "queued"},
                                              {"c.team", "reference"},
                                              {"c.topic", ""},
                                              {"c.assignee", ""},
                                              {"c.patron", "3"},
                                              {"c.address", "+15550100"},
                                              {"c.created_at", "1763845500120"},
                                              {"c.messages", "2"},
                                              {"c.preview", "Where is"},
                                              {"c.last_direction", "in"},
                                              {"c.last_at", "1763845500120"},
                                              {"c.priority", ""},
                                              {"c.after_hours", "1"},
                                              {"c.topic_source", "rule"},
                                              {"c.topic_confidence", "0.85"},
                                              {"c.topic_why", "matched hold"},
                                              {"c.patron_name", "Zoë"},
                                              {"c.tags", R"(["hold"])"}};

TEST(Records, AConversationHasTheShapeOfTheApi) {
  const std::string j = record_json(conversation);
  EXPECT_EQ(at(j, "/conversation/id"), "12");
  EXPECT_EQ(at(j, "/conversation/topic"), "null");
  EXPECT_EQ(at(j, "/conversation/assignee"), "null");
  EXPECT_EQ(at(j, "/conversation/patron/name"), "Zoë");
  EXPECT_EQ(at(j, "/conversation/patron/address"), "+15550100");
  EXPECT_EQ(at(j, "/conversation/created_at"), "2025-11-22T21:05:00.120Z");
  EXPECT_EQ(at(j, "/conversation/closed_at"), "null");
  EXPECT_EQ(at(j, "/conversation/messages"), "2");
  EXPECT_EQ(at(j, "/conversation/tags/0"), "hold");
  EXPECT_EQ(at(j, "/conversation/last_message/text"), "Where is");
  EXPECT_EQ(at(j, "/conversation/priority"), "0");
  EXPECT_EQ(at(j, "/conversation/after_hours"), "true");
  EXPECT_EQ(at(j, "/conversation/topic_reason/source"), "rule");
  EXPECT_EQ(at(j, "/conversation/topic_reason/confidence"), "0.850000");
  EXPECT_EQ(at(j, "/message"), "(missing)");
}

TEST(Records, AMessageKeepsItsRawJsonFieldsAndMembersFollow) {
  auto pairs = conversation;
  pairs.insert(pairs.end(), {{"m.id", "40"},
                             {"m.text", "a \"quoted\"\nline"},
                             {"m.attachments", R"([{"name":"a.jpg"}])"},
                             {"m.facts", R"({"visibility":"direct"})"},
                             {"m.sender", ""},
                             {"j.to", R"(["ann"])"},
                             {"s.state", "new"}});
  const std::string j = record_json(pairs);
  EXPECT_EQ(at(j, "/message/text"), "a \"quoted\"\nline");
  EXPECT_EQ(at(j, "/message/attachments/0/name"), "a.jpg");
  EXPECT_EQ(at(j, "/message/facts/visibility"), "direct");
  EXPECT_EQ(at(j, "/message/sender"), "null");
  EXPECT_EQ(at(j, "/message/error"), "null");
  EXPECT_EQ(at(j, "/to/0"), "ann");
  EXPECT_EQ(at(j, "/state"), "new");
}

reply strings(std::initializer_list<std::string> items) {
  std::vector<reply> out;
  for (const auto& s : items) out.push_back(reply::make_string(s));
  return reply::make_array(std::move(out));
}

TEST(Records, AConversationReadWholeIsTheRootWithItsMessagesAndPatron) {
  std::vector<reply> top;
  for (const auto& [k, v] : conversation) {
    top.push_back(reply::make_string(std::string(k)));
    top.push_back(reply::make_string(std::string(v)));
  }
  for (const char* s : {"root", "c", "j.patron", R"({"id":"3","addresses":[]})", "ms.messages"}) {
    top.push_back(reply::make_string(s));
  }
  std::vector<reply> messages;
  messages.push_back(strings({"m.id", "40", "m.text", "hello"}));
  top.push_back(reply::make_array(std::move(messages)));
  const std::string j = record_json(reply::make_array(std::move(top)));
  EXPECT_EQ(at(j, "/id"), "12");
  EXPECT_EQ(at(j, "/messages"), "[1]") << j;
  EXPECT_EQ(at(j, "/messages/0/text"), "hello");
  EXPECT_EQ(at(j, "/patron/addresses"), "[0]") << j;
  // Each member once: the record's own stand in for the conversation's.
  EXPECT_EQ(j.find("\"messages\"", j.find("\"messages\"") + 1), std::string::npos) << j;
  EXPECT_EQ(j.find("\"patron\"", j.find("\"patron\"") + 1), std::string::npos) << j;
}

TEST(Records, ListsOfConversationsAndOfRecords) {
  std::vector<reply> items;
  items.push_back(strings({"c.id", "1", "c.status", "queued"}));
  items.push_back(strings({"c.id", "2", "c.status", "closed"}));
  std::vector<reply> top;
  top.push_back(reply::make_string("cs.items"));
  top.push_back(reply::make_array(std::move(items)));
  std::vector<reply> offers;
  offers.push_back(strings({"c.id", "5", "j.expires", R"("2026-01-01T00:00:00.000Z")"}));
  top.push_back(reply::make_string("rs.offers"));
  top.push_back(reply::make_array(std::move(offers)));
  top.push_back(reply::make_string("j.next_cursor"));
  top.push_back(reply::make_string("null"));
  const std::string j = record_json(reply::make_array(std::move(top)));
  EXPECT_EQ(at(j, "/items/1/status"), "closed") << j;
  EXPECT_EQ(at(j, "/offers/0/conversation/id"), "5") << j;
  EXPECT_EQ(at(j, "/offers/0/expires"), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(at(j, "/next_cursor"), "null");
}

}  // namespace
}  // namespace askdesk::store
