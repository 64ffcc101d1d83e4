#include "daemon/core/text.hpp"

#include <gtest/gtest.h>

namespace askdesk::core {
namespace {

TEST(Text, AcceptsWellFormedUtf8) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x93\x9A"));
}

TEST(Text, RejectsIllFormedUtf8) {
  for (const char* bad : {"\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                          "\xFF", "ok\x80", "\xF0\x9F\x93"}) {
    EXPECT_FALSE(is_valid_utf8(bad)) << bad;
  }
}

TEST(Text, RepairReplacesEachBadByte) {
  EXPECT_EQ(repair_utf8("a\xFF"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(repair_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_TRUE(is_valid_utf8(repair_utf8("\xC0\xAF\xED\xA0\x80")));
}

TEST(Text, TruncateNeverSplitsACharacter) {
  const std::string s = "ab\xE6\x97\xA5";  // "ab" + one 3-byte character
  EXPECT_EQ(truncate_utf8(s, 4), "ab");
  EXPECT_EQ(truncate_utf8(s, 5), s);
  EXPECT_EQ(truncate_utf8(s, 2), "ab");
}

TEST(Text, PreviewIsOneShortLine) {
  EXPECT_EQ(preview("  Hello\n\n  there\t you  ", 100), "Hello there you");
  EXPECT_EQ(preview("abcdefgh", 4), "abcd\xE2\x80\xA6");
  EXPECT_EQ(preview("ab\xE6\x97\xA5\xE6\x9C\xAC", 4), "ab\xE2\x80\xA6");
}

TEST(Text, CountsCodePoints) {
  EXPECT_EQ(count_code_points("caf\xC3\xA9"), 4u);
  EXPECT_EQ(count_code_points("\xF0\x9F\x93\x9A"), 1u);
}

TEST(Text, APlausibleEmailIsOneAddressAndNothingElse) {
  EXPECT_TRUE(plausible_email("ada@example.org"));
  EXPECT_TRUE(plausible_email("ada+desk@mail.example.org"));
  for (const std::string_view bad :
       {"", "ada", "@example.org", "ada@", "a@b@c", "ada @example.org", "a@b, c@d", "a@b;c@d",
        "<ada@example.org>", "\"ada\"@example.org", "ada@example.org\r\nBcc: x@y"}) {
    EXPECT_FALSE(plausible_email(bad)) << bad;
  }
  EXPECT_FALSE(plausible_email(std::string(250, 'a') + "@b.org"));
}

}  // namespace
}  // namespace askdesk::core
