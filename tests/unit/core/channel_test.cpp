#include "daemon/core/channel.hpp"

#include <gtest/gtest.h>

namespace askdesk::core {
namespace {

TEST(ChannelLength, EachUnitCountsItsOwnWay) {
  const std::string family =
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7";
  EXPECT_EQ(measure("caf\xC3\xA9", length_unit::characters), 4u);
  EXPECT_EQ(measure("caf\xC3\xA9", length_unit::bytes), 5u);
  EXPECT_EQ(measure(family, length_unit::characters), 5u);  // three people, two joiners
  EXPECT_EQ(measure(family, length_unit::graphemes), 1u);
  EXPECT_EQ(measure("e\xCC\x81", length_unit::graphemes), 1u);  // e + combining acute
  EXPECT_EQ(measure("", length_unit::graphemes), 0u);
}

TEST(ChannelLength, SmsSegmentsFollowGsm7AndUcs2) {
  EXPECT_EQ(count_sms_segments("").segments, 0u);
  EXPECT_EQ(count_sms_segments(std::string(160, 'a')).segments, 1u);
  EXPECT_EQ(count_sms_segments(std::string(161, 'a')).segments, 2u);
  EXPECT_EQ(count_sms_segments(std::string(306, 'a')).segments, 2u);
  EXPECT_EQ(count_sms_segments(std::string(307, 'a')).segments, 3u);
  // The extension table counts twice; one character outside GSM-7 makes it all UCS-2.
  EXPECT_EQ(count_sms_segments(std::string(80, '[')).units, 160u);
  const auto ucs2 = count_sms_segments(std::string(70, 'a') + "\xE2\x9C\x93");  // a check mark
  EXPECT_FALSE(ucs2.gsm7);
  EXPECT_EQ(ucs2.units, 71u);
  EXPECT_EQ(ucs2.segments, 2u);
  EXPECT_EQ(measure(std::string(161, 'a'), length_unit::gsm_segments), 2u);
}

channel_traits sms() {
  channel_traits t;
  t.channel = "sms";
  t.display_name = "SMS";
  t.opt_out_keywords = {"STOP", "QUIT"};
  t.opt_in_keywords = {"START"};
  t.help_keywords = {"HELP"};
  t.unit = length_unit::gsm_segments;
  t.max_length = 2;
  return t;
}

TEST(ChannelKeywords, AWholeMessageInAnyCaseWithTrailingPunctuation) {
  EXPECT_EQ(keyword_of(sms(), " stop! "), channel_keyword::opt_out);
  EXPECT_EQ(keyword_of(sms(), "Quit."), channel_keyword::opt_out);
  EXPECT_EQ(keyword_of(sms(), "START"), channel_keyword::opt_in);
  EXPECT_EQ(keyword_of(sms(), "help"), channel_keyword::help);
  EXPECT_EQ(keyword_of(sms(), "Please stop by the desk"), channel_keyword::none);
  EXPECT_EQ(keyword_of(channel_traits{}, "STOP"), channel_keyword::none);  // no keywords
}

TEST(ChannelLength, TooLongSaysHowLongAndTheLimitInTheChannelsUnit) {
  EXPECT_FALSE(too_long(sms(), std::string(306, 'a')));
  const auto why = too_long(sms(), std::string(307, 'a'));
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "the text is 3 SMS segments long; SMS carries at most 2");
  EXPECT_EQ(length_unit_named("graphemes"), length_unit::graphemes);
  EXPECT_FALSE(length_unit_named("words"));
  EXPECT_EQ(name_of(length_unit::gsm_segments), "gsm_segments");
}

}  // namespace
}  // namespace askdesk::core

namespace askdesk::core {
namespace {

TEST(ChannelLength, ShortUrlGraphemesCountAsMastodonDoes) {
  const auto n = [](std::string_view t) { return measure(t, length_unit::graphemes_short_urls); };
  EXPECT_EQ(n("Hello"), 5u);
  // Any URL is 23, however long.
  EXPECT_EQ(n("See https://library.example.org/a/very/long/path?with=query"), 4u + 23u);
  EXPECT_EQ(n("(http://x.example)"), 1u + 23u);
  // A remote mention counts as its local part.
  EXPECT_EQ(n("@ada@mastodon.example hi"), 4u + 3u);
  EXPECT_EQ(n("@ada hi"), 7u);
  // Not a URL or a mention in the middle of a word; graphemes as for Bluesky.
  EXPECT_EQ(n("mail@ada@x.y"), 12u);
  EXPECT_EQ(n("👩‍👩‍👧 and é"), 7u);
  EXPECT_EQ(name_of(length_unit::graphemes_short_urls), "graphemes_short_urls");
  EXPECT_EQ(length_unit_named("graphemes_short_urls"), length_unit::graphemes_short_urls);
}

}  // namespace
}  // namespace askdesk::core
