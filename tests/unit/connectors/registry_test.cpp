#include "connectors/registry.hpp"

#include <gtest/gtest.h>

#include "daemon/config/config.hpp"
#include "tests/support/config_problems.hpp"

namespace askdesk::connectors {
namespace {

TEST(ConnectorRegistry, KnowsTheBuiltInTypes) {
  registry r;
  ASSERT_TRUE(register_builtin_connectors(r));
  ASSERT_NE(r.find("webchat"), nullptr);
  EXPECT_EQ(r.find("webchat")->type(), "webchat");
  EXPECT_EQ(r.find("carrier-pigeon"), nullptr);
  EXPECT_NE(r.known_types().find("webchat"), std::string::npos);
}

TEST(ConnectorRegistry, RefusesTwoFactoriesForOneType) {
  registry twice;
  ASSERT_TRUE(register_builtin_connectors(twice));
  struct again : connector_factory {
    std::string_view type() const override { return "webchat"; }
    std::unique_ptr<connector_settings> parse(json::object_reader&) const override {
      return nullptr;
    }
    std::unique_ptr<connector> create(std::unique_ptr<connector_settings>,
                                      connector_context&) const override {
      return nullptr;
    }
  };
  auto added = twice.add(std::make_unique<again>());
  ASSERT_FALSE(added);
  EXPECT_NE(added.err().message.find("webchat"), std::string::npos) << added.err().message;
}

TEST(ConnectorRegistry, UnknownTypesAndBadSettingsAreReportedWithTheirPath) {
  const std::string text = testing::config_problems(R"({"connectors": [
    {"id": "web", "type": "webchat", "max_message_chars": 0, "colour": "red"},
    {"id": "bird", "type": "carrier-pigeon"}
  ]})");
  EXPECT_NE(text.find("connectors[0].max_message_chars: must be between"), std::string::npos)
      << text;
  EXPECT_NE(text.find("connectors[0].colour: unknown key"), std::string::npos) << text;
  EXPECT_NE(text.find("connectors[1].type: unknown connector type 'carrier-pigeon' (known: "),
            std::string::npos)
      << text;
}

TEST(ConnectorRegistry, AValidBlockHasNoProblems) {
  EXPECT_EQ(testing::config_problems(R"({"connectors": [{"id": "web", "type": "webchat",
                                            "messages_per_minute": 10}]})"),
            "");
}

}  // namespace
}  // namespace askdesk::connectors

namespace askdesk::connectors {
namespace {

TEST(ConnectorRegistry, TwilioSettingsAreChecked) {
  const std::string ok = testing::config_problems(R"({"connectors": [{"id": "sms", "type": "twilio",
      "account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t",
      "number": "+15550100199", "mode": "poll", "api_base": "http://127.0.0.1:9/"}]})");
  EXPECT_EQ(ok, "");
  const std::string text =
      testing::config_problems(R"({"connectors": [{"id": "sms", "type": "twilio",
      "account_sid": "AC123", "number": "555-0100", "mode": "carrier-pigeon",
      "api_base": "ftp://example.org"}]})");
  for (const char* expected :
       {"connectors[0].account_sid: must be AC followed by 32 hex digits",
        "connectors[0].auth_token: required", "connectors[0].number: must be E.164",
        "connectors[0].mode: must be webhook or poll", "connectors[0].api_base: must be an http"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
}

}  // namespace
}  // namespace askdesk::connectors
