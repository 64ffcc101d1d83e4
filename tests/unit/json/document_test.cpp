#include "daemon/json/document.hpp"

#include <gtest/gtest.h>

namespace askdesk::json {
namespace {

TEST(JsonDocument, MembersReadAsStringsAndIntegersOrTheirFallback) {
  const auto doc =
      document::parse(R"({"name":"Ada","size":20480,"ratio":0.5,"n":null,"yes":true})");
  ASSERT_TRUE(doc);
  const auto& root = doc->root();
  EXPECT_EQ(string_member(root, "name"), "Ada");
  EXPECT_EQ(string_member(root, "size"), "");  // not a string
  EXPECT_EQ(string_member(root, "missing"), "");
  EXPECT_EQ(integer_member(root, "size"), 20480);
  EXPECT_EQ(integer_member(root, "ratio", -1), -1);  // not an integer
  EXPECT_EQ(integer_member(root, "name", -1), -1);
  EXPECT_EQ(integer_member(root, "n", 7), 7);
  EXPECT_TRUE(bool_member(root, "yes"));
  EXPECT_FALSE(bool_member(root, "name"));
  EXPECT_FALSE(bool_member(root, "missing"));
  const auto array = document::parse("[1]");
  EXPECT_EQ(string_member(array->root(), "name"), "");  // not an object
  EXPECT_EQ(integer_member(array->root(), "size", 3), 3);
}

}  // namespace
}  // namespace askdesk::json
