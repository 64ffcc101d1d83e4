#include "daemon/net/json_body.hpp"

#include <gtest/gtest.h>

namespace askdesk::net {
namespace {

TEST(JsonBody, OnlyOneObjectIsABody) {
  for (const char* bad : {"", "[]", "\"text\"", "{", "{\"a\":1} {}", "{\"a\":\"\xFF\"}"}) {
    auto b = json_body::parse(bad);
    ASSERT_FALSE(b) << bad;
    EXPECT_EQ(b.err().code, "invalid_json") << bad;
  }
  EXPECT_TRUE(json_body::parse(R"({"text":"hi"})"));
}

TEST(JsonBody, TextIsRequiredNotBlankAndCountedInCharacters) {
  auto b = json_body::parse(R"({"text":"  ", "long":"ééé", "n":3})");
  ASSERT_TRUE(b);
  const auto& body = b.value();
  auto blank = body.text("text", 10);
  ASSERT_FALSE(blank);
  EXPECT_EQ(blank.err().code, "invalid");
  EXPECT_NE(blank.err().message.find("text"), std::string::npos) << blank.err().message;
  EXPECT_TRUE(body.text("long", 3));  // three characters, six bytes
  EXPECT_FALSE(body.text("long", 2));
  EXPECT_FALSE(body.text("n", 10));
  EXPECT_FALSE(body.text("absent", 10));
}

TEST(JsonBody, OptionalsFlagsAndLists) {
  auto b =
      json_body::parse(R"({"force":true, "no":"true", "add":["a","b"], "bad":[1], "name":"Ann"})");
  ASSERT_TRUE(b);
  const auto& body = b.value();
  EXPECT_TRUE(body.flag("force"));
  EXPECT_FALSE(body.flag("no"));
  EXPECT_FALSE(body.flag("absent"));
  auto add = body.strings("add");
  ASSERT_TRUE(add);
  EXPECT_EQ(add.value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(body.strings("absent").value().empty());
  EXPECT_FALSE(body.strings("bad"));
  auto name = body.optional_text("name", 80);
  ASSERT_TRUE(name);
  EXPECT_EQ(name.value(), "Ann");
  EXPECT_EQ(body.optional_text("absent", 80).value(), std::nullopt);
}

TEST(JsonBody, VariablesAreNotExpanded) {
  auto b = json_body::parse(R"({"text":"costs ${HOME}"})");
  ASSERT_TRUE(b);
  EXPECT_EQ(b.value().text("text", 100).value(), "costs ${HOME}");
}

}  // namespace
}  // namespace askdesk::net
