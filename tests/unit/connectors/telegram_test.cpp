// The Telegram connector's pure parts: Updates as the Bot API documents them, replies cut to
// Telegram's length, its error answers, the send pace and the config block.
#include <gtest/gtest.h>

#include "connectors/registry.hpp"
#include "connectors/telegram/pacer.hpp"
#include "connectors/telegram/updates.hpp"
#include "daemon/config/config.hpp"
#include "daemon/core/text.hpp"
#include "daemon/json/document.hpp"
#include "tests/support/config_problems.hpp"

namespace askdesk::connectors::telegram {
namespace {

std::optional<update> read(std::string_view json, bool groups = false) {
  auto doc = json::document::parse(json);
  EXPECT_TRUE(doc) << json;
  return read_update(doc->root(), groups);
}

// A private text message shaped like the Bot API documentation's examples.
constexpr std::string_view text_update = R"({"update_id": 10000,
  "message": {"message_id": 1365, "date": 1441645532,
    "from": {"id": 7012345678901, "is_bot": false, "first_name": "Zoë", "last_name": "Test",
             "username": "zoe_t", "language_code": "fr"},
    "chat": {"id": 7012345678901, "type": "private", "first_name": "Zoë", "last_name": "Test",
             "username": "zoe_t"},
    "text": "Can I renew my books online?"}})";

TEST(TelegramUpdates, APrivateTextKeepsItsSixtyFourBitChatAndTheSendersName) {
  const auto u = read(text_update);
  ASSERT_TRUE(u);
  ASSERT_EQ(u->what, update::kind::message);
  EXPECT_EQ(u->update_id, 10000);
  EXPECT_EQ(u->chat_id, 7012345678901);  // past 32 bits
  EXPECT_EQ(u->message_id, 1365);
  EXPECT_EQ(u->sender_name, "Zoë Test");
  EXPECT_EQ(u->username, "zoe_t");
  EXPECT_EQ(u->language, "fr");
  EXPECT_EQ(u->text, "Can I renew my books online?");
  EXPECT_EQ(u->sent_at, core::timestamp(std::chrono::seconds(1441645532)));
  EXPECT_TRUE(u->command.empty());
}

TEST(TelegramUpdates, ANameFallsBackToTheUsername) {
  const auto u = read(R"({"update_id": 1, "message": {"message_id": 2, "date": 1,
    "from": {"id": 5, "is_bot": false, "first_name": "", "username": "ada"},
    "chat": {"id": 5, "type": "private"}, "text": "hi"}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->sender_name, "@ada");
}

TEST(TelegramUpdates, BotsGroupsAndOtherUpdateTypesAreSkippedButKeepTheirId) {
  const auto bot = read(R"({"update_id": 11, "message": {"message_id": 2, "date": 1,
    "from": {"id": 99, "is_bot": true, "first_name": "Spam"},
    "chat": {"id": 99, "type": "private"}, "text": "buy"}})");
  ASSERT_TRUE(bot);
  EXPECT_EQ(bot->what, update::kind::skipped);
  EXPECT_EQ(bot->update_id, 11);
  EXPECT_EQ(bot->why, "a message from a bot");

  constexpr std::string_view group = R"({"update_id": 12, "message": {"message_id": 3,
    "date": 1, "from": {"id": 5, "is_bot": false, "first_name": "Ada"},
    "chat": {"id": -1001234567890, "type": "supergroup", "title": "Readers"}, "text": "hi"}})";
  EXPECT_EQ(read(group)->what, update::kind::skipped);
  const auto allowed = read(group, /*groups=*/true);
  EXPECT_EQ(allowed->what, update::kind::message);
  EXPECT_EQ(allowed->chat_id, -1001234567890);

  const auto edited = read(R"({"update_id": 13, "edited_message": {"message_id": 1}})");
  EXPECT_EQ(edited->what, update::kind::skipped);
  EXPECT_EQ(edited->why, "edited_message");
  EXPECT_EQ(edited->update_id, 13);

  const auto service = read(R"({"update_id": 14, "message": {"message_id": 4, "date": 1,
    "from": {"id": 5, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 5, "type": "private"},
    "pinned_message": {"message_id": 1}}})");
  EXPECT_EQ(service->what, update::kind::skipped);
}

TEST(TelegramUpdates, AnAnswerWithoutAnUpdateIdIsMalformed) {
  EXPECT_FALSE(read(R"({"message": {"message_id": 1}})"));
  EXPECT_FALSE(read(R"({"update_id": "12"})"));
  EXPECT_FALSE(read(R"([1, 2])"));
  const auto no_chat = read(R"({"update_id": 3, "message": {"message_id": 1, "text": "x"}})");
  ASSERT_TRUE(no_chat);
  EXPECT_EQ(no_chat->what, update::kind::skipped);
}

TEST(TelegramUpdates, APhotoIsItsLargestSizeAndADocumentKeepsItsName) {
  const auto photo = read(R"({"update_id": 20, "message": {"message_id": 5, "date": 1,
    "from": {"id": 5, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 5, "type": "private"},
    "photo": [
      {"file_id": "AgACAgQAAxsmall", "file_unique_id": "s", "width": 90, "height": 60, "file_size": 1200},
      {"file_id": "AgACAgQAAxlarge", "file_unique_id": "l", "width": 1280, "height": 853, "file_size": 98304},
      {"file_id": "AgACAgQAAxmedium", "file_unique_id": "m", "width": 320, "height": 213, "file_size": 9000}],
    "caption": "Is this book yours?"}})");
  ASSERT_TRUE(photo);
  ASSERT_EQ(photo->files.size(), 1u);
  EXPECT_EQ(photo->files[0].file_id, "AgACAgQAAxlarge");
  EXPECT_EQ(photo->files[0].size, 98304);
  EXPECT_EQ(photo->files[0].content_type, "image/jpeg");
  EXPECT_EQ(photo->text, "Is this book yours?");

  const auto doc = read(R"({"update_id": 21, "message": {"message_id": 6, "date": 1,
    "from": {"id": 5, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 5, "type": "private"},
    "document": {"file_id": "BQACAgQAAx0", "file_unique_id": "d", "file_name": "fines.pdf",
                 "mime_type": "application/pdf", "file_size": 31000}}})");
  ASSERT_EQ(doc->files.size(), 1u);
  EXPECT_EQ(doc->files[0].name, "fines.pdf");
  EXPECT_EQ(doc->files[0].content_type, "application/pdf");
  EXPECT_EQ(doc->text, "");
  EXPECT_EQ(doc->what, update::kind::message);

  // An animation comes with a copy as a document: one file.
  const auto gif = read(R"({"update_id": 22, "message": {"message_id": 7, "date": 1,
    "from": {"id": 5, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 5, "type": "private"},
    "animation": {"file_id": "CgACAgQAAx1", "file_unique_id": "a", "width": 1, "height": 1, "duration": 1},
    "document": {"file_id": "CgACAgQAAx1", "file_unique_id": "a"}}})");
  ASSERT_EQ(gif->files.size(), 1u);
  EXPECT_EQ(gif->files[0].name, "animation");
}

TEST(TelegramUpdates, ContentWithoutTextOrFileIsNamedForStaff) {
  const auto u = read(R"({"update_id": 23, "message": {"message_id": 8, "date": 1,
    "from": {"id": 5, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 5, "type": "private"},
    "location": {"latitude": 48.85, "longitude": 2.35}}})");
  EXPECT_EQ(u->what, update::kind::message);
  EXPECT_NE(u->text.find("a location"), std::string::npos) << u->text;
}

TEST(TelegramUpdates, BotCommandsAreReadWithTheirArgument) {
  const auto start = read(R"({"update_id": 30, "message": {"message_id": 9, "date": 1,
    "from": {"id": 5, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 5, "type": "private"},
    "text": "/Start@library_bot  interlibrary_loan",
    "entities": [{"offset": 0, "length": 18, "type": "bot_command"}]}})");
  EXPECT_EQ(start->command, "start");
  EXPECT_EQ(start->command_argument, "interlibrary_loan");
  const auto not_a_command = read(R"({"update_id": 31, "message": {"message_id": 10, "date": 1,
    "from": {"id": 5, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 5, "type": "private"},
    "text": "/ a slash and words"}})");
  EXPECT_TRUE(not_a_command->command.empty());
}

std::string joined(const std::vector<std::string>& parts) {
  std::string all;
  for (const auto& p : parts) all += p + " ";
  return all;
}

TEST(TelegramSplit, AShortReplyIsOneTrimmedMessage) {
  EXPECT_EQ(split_text("  Hello Ada!\n", 4096), std::vector<std::string>{"Hello Ada!"});
  EXPECT_TRUE(split_text(" \n\t ", 4096).empty());
}

TEST(TelegramSplit, LongRepliesBreakAtParagraphsThenSentencesInOrder) {
  const std::string para1(3000, 'a'), para2(3000, 'b'), para3(3000, 'c');
  const auto parts = split_text(para1 + "\n\n" + para2 + "\n\n" + para3, 4096);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], para1);
  EXPECT_EQ(parts[1], para2);
  EXPECT_EQ(parts[2], para3);

  std::string sentences;
  for (int i = 0; i < 400; ++i) sentences += "Sentence number " + std::to_string(i) + " ends. ";
  const auto cut = split_text(sentences, 4096);
  ASSERT_GT(cut.size(), 1u);
  for (const auto& p : cut) {
    EXPECT_LE(utf16_units(p), 4096u);
    EXPECT_TRUE(p.ends_with("ends.")) << p.substr(p.size() - 20);
  }
  EXPECT_EQ(joined(cut), sentences);
}

TEST(TelegramSplit, WithoutBreaksItCutsBetweenCodePointsCountingUtf16) {
  std::string emoji;
  for (int i = 0; i < 5000; ++i) emoji += "\xF0\x9F\x93\x9A";  // 📚, two UTF-16 units each
  const auto parts = split_text(emoji, 4096);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(utf16_units(parts[0]), 4096u);
  for (const auto& p : parts) EXPECT_TRUE(core::is_valid_utf8(p));
  EXPECT_EQ(parts[0] + parts[1] + parts[2], emoji);
}

TEST(TelegramSplit, SixteenThousandCharactersFitInAFewMessages) {
  std::string words;
  while (words.size() < 16000) words += "renewal ";
  const auto parts = split_text(words.substr(0, 16000), 4096);
  EXPECT_GE(parts.size(), 4u);
  EXPECT_LE(parts.size(), 5u);
}

TEST(TelegramErrors, ReadsRetryAfterAndSurvivesAnHtmlPage) {
  const auto busy = read_error(429, R"({"ok":false,"error_code":429,
    "description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}})");
  EXPECT_EQ(busy.code, 429);
  EXPECT_EQ(busy.retry_after, std::chrono::seconds(7));
  EXPECT_EQ(busy.description, "Too Many Requests: retry after 7");
  const auto gateway = read_error(502, "<html><body><h1>502 Bad Gateway</h1></body></html>");
  EXPECT_EQ(gateway.code, 502);
  EXPECT_EQ(gateway.description, "the Bot API answered HTTP 502");
}

TEST(TelegramTokens, TheBotIdIsThePartBeforeTheSecret) {
  EXPECT_TRUE(plausible_token("123456789:AAHfakeTokenForAskdeskTests_0123456789"));
  EXPECT_FALSE(plausible_token("123456789"));
  EXPECT_FALSE(plausible_token("abc:def"));
  EXPECT_FALSE(plausible_token("123:has/slash"));
  EXPECT_EQ(bot_id_of("123456789:AAH-secret"), "123456789");
  EXPECT_TRUE(plausible_secret("s3cret_-X"));
  EXPECT_FALSE(plausible_secret("with space"));
  EXPECT_FALSE(plausible_file_id("../etc/passwd"));
}

TEST(TelegramPacer, OneMessageASecondPerChatAndThirtyASecondInAll) {
  pacer p(std::chrono::seconds(1), std::chrono::milliseconds(34));
  const core::timestamp t0{std::chrono::seconds(1000)};
  EXPECT_EQ(p.reserve(1, t0), std::chrono::milliseconds(0));
  EXPECT_EQ(p.reserve(1, t0), std::chrono::milliseconds(1000));  // same chat: a second later
  EXPECT_EQ(p.reserve(2, t0), std::chrono::milliseconds(34));    // another chat: the bot's pace
  EXPECT_EQ(p.reserve(3, t0), std::chrono::milliseconds(68));
  EXPECT_EQ(p.reserve(2, t0 + std::chrono::seconds(5)), std::chrono::milliseconds(0));
}

TEST(TelegramConfig, TheDocumentedBlockIsValid) {
  EXPECT_EQ(testing::connector_problems(R"({"id": "telegram", "type": "telegram",
    "token": "123456789:AAHfakeTokenForAskdeskTests_0123456789", "mode": "poll",
    "api_base": "https://api.telegram.org", "webhook_secret": "s3cret",
    "reopen_minutes": 1440})"),
            "");
}

TEST(TelegramConfig, BadValuesAreNamedWithTheirPath) {
  const auto text =
      testing::connector_problems(R"({"id": "tg", "type": "telegram", "token": "not-a-token",
    "mode": "push", "api_base": "ftp://x"})");
  EXPECT_NE(text.find("connectors[0].token: must be a Bot API token"), std::string::npos) << text;
  EXPECT_NE(text.find("connectors[0].mode: must be poll or webhook"), std::string::npos) << text;
  EXPECT_NE(text.find("connectors[0].api_base: must be an http"), std::string::npos) << text;
  const auto webhook = testing::connector_problems(R"({"id": "tg", "type": "telegram",
    "token": "1:abc", "mode": "webhook"})");
  EXPECT_NE(webhook.find("connectors[0].webhook_secret: webhook mode needs a secret"),
            std::string::npos)
      << webhook;
}

}  // namespace
}  // namespace askdesk::connectors::telegram
