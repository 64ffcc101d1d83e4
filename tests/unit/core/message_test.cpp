#include "daemon/core/message.hpp"

#include <gtest/gtest.h>

namespace askdesk::core {
namespace {

inbound_message valid() {
  inbound_message m;
  m.connector = "web";
  m.channel = "webchat";
  m.external_id = "w:abc:1";
  m.thread = "w:abc";
  m.sender_address = "w:abc";
  m.text = "Can I renew my books online?";
  return m;
}

TEST(InboundMessage, AWellFormedMessagePasses) { EXPECT_EQ(check_inbound(valid()), std::nullopt); }

TEST(InboundMessage, RequiredFieldsAreNamed) {
  auto m = valid();
  m.external_id.clear();
  ASSERT_TRUE(check_inbound(m));
  EXPECT_NE(check_inbound(m)->find("external_id"), std::string::npos) << *check_inbound(m);
}

TEST(InboundMessage, TextOrAnAttachment) {
  auto m = valid();
  m.text.clear();
  EXPECT_TRUE(check_inbound(m));
  m.attachments.push_back({"photo.jpg", "image/jpeg", "https://example.org/p.jpg", 1200});
  EXPECT_EQ(check_inbound(m), std::nullopt);
}

TEST(InboundMessage, LimitsAndUtf8AreEnforced) {
  auto m = valid();
  m.text = std::string(max_text_bytes + 1, 'a');
  EXPECT_TRUE(check_inbound(m));
  m = valid();
  m.sender_name = "bad \xFF name";
  ASSERT_TRUE(check_inbound(m));
  EXPECT_NE(check_inbound(m)->find("sender_name"), std::string::npos);
  m = valid();
  m.facts["precedence"] = "\xC3";
  EXPECT_TRUE(check_inbound(m));
}

}  // namespace
}  // namespace askdesk::core
