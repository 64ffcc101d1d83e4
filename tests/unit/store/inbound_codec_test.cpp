#include "daemon/store/inbound_codec.hpp"

#include <gtest/gtest.h>

namespace askdesk::store {
namespace {

TEST(InboundCodec, EveryFieldSurvivesTheRoundTrip) {
  core::inbound_message m;
  m.connector = "sms";
  m.channel = "sms";
  m.external_id = "SM1234";
  m.thread = "+15550100";
  m.sender_address = "+15550100";
  m.sender_name = "Zoë \"Z\" O'Hara";
  m.text = "Line one\nline two, with ünïcode and \t tab";
  m.attachments.push_back({"cat.jpg", "image/jpeg", "https://api.example.org/m/1", 20480});
  m.attachments.push_back({"", "text/vcard", "", -1});
  m.sent_at = core::timestamp(std::chrono::milliseconds(1763845500120));
  m.received_at = core::timestamp(std::chrono::milliseconds(1763845500999));
  m.team = "reference";
  m.topic = "renewals";
  m.facts = {{"precedence", "bulk"}, {"auto_submitted", "no"}};

  stream_entry entry{"1763845500999-0", {}};
  for (auto& [k, v] : encode_inbound(m)) entry.fields.emplace_back(k, v);
  auto back = decode_inbound(entry);
  ASSERT_TRUE(back) << back.err().message;
  const auto& d = back.value();
  EXPECT_EQ(d.connector, m.connector);
  EXPECT_EQ(d.channel, m.channel);
  EXPECT_EQ(d.external_id, m.external_id);
  EXPECT_EQ(d.thread, m.thread);
  EXPECT_EQ(d.sender_address, m.sender_address);
  EXPECT_EQ(d.sender_name, m.sender_name);
  EXPECT_EQ(d.text, m.text);
  ASSERT_EQ(d.attachments.size(), 2u);
  EXPECT_EQ(d.attachments[0].url, "https://api.example.org/m/1");
  EXPECT_EQ(d.attachments[0].size, 20480);
  EXPECT_EQ(d.attachments[1].size, -1);
  EXPECT_EQ(d.sent_at, m.sent_at);
  EXPECT_EQ(d.received_at, m.received_at);
  EXPECT_EQ(d.team, m.team);
  EXPECT_EQ(d.topic, m.topic);
  EXPECT_EQ(d.facts, m.facts);
}

TEST(InboundCodec, ABrokenEntryIsAnErrorNamingIt) {
  stream_entry entry{"1-0", {{"connector", "sms"}, {"attachments", "[not json"}}};
  auto back = decode_inbound(entry);
  ASSERT_FALSE(back);
  EXPECT_NE(back.err().message.find("1-0"), std::string::npos) << back.err().message;
}

TEST(StreamIds, CompareNumerically) {
  EXPECT_LT(compare_stream_ids("9-0", "10-0"), 0);
  EXPECT_LT(compare_stream_ids("10-2", "10-10"), 0);
  EXPECT_EQ(compare_stream_ids("10-1", "10-1"), 0);
  EXPECT_GT(compare_stream_ids("11", "10-5"), 0);
  EXPECT_TRUE(is_stream_id("1763845500120-0"));
  EXPECT_TRUE(is_stream_id("1763845500120"));
  for (const char* bad : {"", "-", "1-", "a-1", "1-2-3", "1 -0"})
    EXPECT_FALSE(is_stream_id(bad)) << bad;
}

}  // namespace
}  // namespace askdesk::store
