// The corpus of difficult messages (tests/data/mail/): each becomes readable text or a clear
// note of what could not be read, never a crash.
#include "connectors/email/mime.hpp"

#include <gtest/gtest.h>

#include "daemon/core/text.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::connectors::email {
namespace {

std::string corpus(const std::string& name) {
  auto text =
      askdesk::testing::read_file(std::string(ASKDESK_SOURCE_DIR) + "/tests/data/mail/" + name);
  EXPECT_FALSE(text.empty()) << name;
  return text;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Mime, DecodesEncodedWordsInSubjectAndName) {
  const auto m = parse_mail(corpus("encoded_words.eml"));
  EXPECT_EQ(m.subject, "Réserver un livre à la bibliothèque");
  EXPECT_EQ(m.from_name, "José Martínez");
  EXPECT_EQ(m.from_address, "Jose@Example.ORG");
  EXPECT_EQ(m.message_id, "encoded-1@example.org");
  EXPECT_EQ(m.text, "Bonjour, je voudrais réserver un livre.");
  ASSERT_TRUE(m.date);
  EXPECT_EQ(core::to_millis(*m.date), 1795424400000);  // 2026-11-23T09:00:00Z
  EXPECT_TRUE(m.problems.empty());
}

TEST(Mime, ConvertsLatin1QuotedPrintableAndShiftJisBase64) {
  const auto latin = parse_mail(corpus("latin1_qp.eml"));
  EXPECT_EQ(latin.text,
            "Olá! O café da biblioteca abre às nove? Um parágrafo muito longo que continua na "
            "linha seguinte.");
  const auto sjis = parse_mail(corpus("shift_jis.eml"));
  EXPECT_EQ(sjis.text, "図書館の本を返却したいです。開館時間を教えてください。");
  EXPECT_EQ(sjis.subject, "返却について");
  EXPECT_EQ(sjis.from_name, "田中");
}

TEST(Mime, TurnsHtmlOnlyIntoReadableText) {
  const auto m = parse_mail(corpus("html_only.eml"));
  EXPECT_EQ(m.text,
            "Hello & good morning,\n\nCan I renew three books?\nCard: 1234\n\n- First book\n"
            "- Second \u2014 book\n\nSee the catalogue <https://catalog.example.org/item/9>.\n\n"
            "> Earlier: your books are due.");
}

TEST(Mime, PrefersPlainTextInNestedAlternativesAndListsAttachments) {
  const auto m = parse_mail(corpus("nested.eml"));
  EXPECT_EQ(m.text, "The plain version: please see the attached form.");
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].name, "formulário.pdf");
  EXPECT_EQ(m.attachments[0].content_type, "application/pdf");
  EXPECT_EQ(m.attachments[0].size, 3009);
}

TEST(Mime, ReadsAHeaderWithoutColonATruncatedMessageAndInvalidUtf8) {
  const auto no_colon = parse_mail(corpus("no_colon.eml"));
  EXPECT_EQ(no_colon.subject, "A header without a colon follows");
  EXPECT_TRUE(has(no_colon.text, "Is the library open on Sunday?")) << no_colon.text;

  const auto truncated = parse_mail(corpus("truncated.eml"));
  EXPECT_TRUE(has(truncated.text, "This message was cut off in the mid")) << truncated.text;

  const auto bad = parse_mail(corpus("invalid_utf8.eml"));
  EXPECT_TRUE(core::is_valid_utf8(bad.text));
  EXPECT_TRUE(core::is_valid_utf8(bad.subject));
  EXPECT_TRUE(has(bad.text, "Valid start, then")) << bad.text;
  EXPECT_TRUE(has(bad.text, "[some characters could not be read")) << bad.text;
}

TEST(Mime, ShowsAForwardedMessageWithItsHeaders) {
  const auto m = parse_mail(corpus("forwarded.eml"));
  EXPECT_EQ(m.text,
            "Is this message really from you?\n\n---------- Forwarded message ----------\n"
            "From: Holds <holds@other.example>\nSubject: Your hold is ready\n\n"
            "Pick up your book by Friday.");
}

TEST(Mime, ReadsADeliveryStatusNotification) {
  const auto m = parse_mail(corpus("bounce.eml"));
  ASSERT_TRUE(m.report);
  EXPECT_EQ(m.report->action, "failed");
  EXPECT_EQ(m.report->status, "5.1.1");
  EXPECT_EQ(m.report->recipient, "nobody@example.org");
  EXPECT_EQ(m.report->original_message_id, "askdesk.12.34.abcdef012345@library.example.org");
  EXPECT_EQ(m.report->diagnostic,
            "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown");
  EXPECT_EQ(m.facts.at("auto_submitted"), "auto-replied");
}

// A report for several recipients names the first that failed, with its own fields only.
TEST(Mime, ReportsTheFirstFailedRecipientOfADeliveryStatus) {
  const std::string raw =
      "From: MAILER-DAEMON@example.org\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n"
      "--r\r\nContent-Type: text/plain\r\n\r\nSome did not arrive.\r\n"
      "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; example.org\r\n\r\n"
      "Final-Recipient: rfc822; ok@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n"
      "Diagnostic-Code: smtp; 250 fine\r\n\r\n"
      "Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
      "Final-Recipient: rfc822; also-gone@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n"
      "--r--\r\n";
  const auto m = parse_mail(raw);
  ASSERT_TRUE(m.report);
  EXPECT_EQ(m.report->action, "failed");
  EXPECT_EQ(m.report->recipient, "gone@example.org");
  EXPECT_EQ(m.report->status, "5.1.1");
  EXPECT_EQ(m.report->diagnostic, "");  // not the delivered recipient's
}

// A patron forwarding a bounce they got is writing to us, not reporting our mail.
TEST(Mime, AReportInsideAMessageIsOnlyText) {
  const std::string bounce = corpus("bounce.eml");
  const std::string raw =
      "From: Ada <ada@example.org>\r\nSubject: Fwd: bounced\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\n"
      "Content-Type: text/plain\r\n\r\nWhy did this bounce?\r\n--m\r\n" +
      bounce.substr(bounce.find("MIME-Version")) + "\r\n--m--\r\n";
  const auto m = parse_mail(raw);
  EXPECT_FALSE(m.report);
  EXPECT_TRUE(has(m.text, "Why did this bounce?")) << m.text;
  EXPECT_TRUE(has(m.text, "could not be delivered")) << m.text;
}

TEST(Mime, ReadsThreadingHeaders) {
  const auto m = parse_mail(corpus("reply_quoted.eml"));
  EXPECT_EQ(m.in_reply_to,
            std::vector<std::string>{"askdesk.7.21.0123456789ab@library.example.org"});
  EXPECT_EQ(m.references, (std::vector<std::string>{
                              "q-1@example.org", "askdesk.7.21.0123456789ab@library.example.org"}));
  const auto none = parse_mail(corpus("no_message_id.eml"));
  EXPECT_EQ(none.message_id, "");
  EXPECT_EQ(none.text, "A message with an empty Message-ID.");
}

TEST(Mime, ListsATwentyMegabyteAttachmentWithItsSize) {
  std::string raw =
      "From: Ida <ida@example.org>\r\nSubject: Scan\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"z\"\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\n"
      "The scan is attached.\r\n--z\r\nContent-Type: image/tiff; name=scan.tiff\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n";
  const std::string line(76, 'A');  // 57 bytes of zeros per line
  const std::size_t lines = 20 * 1024 * 1024 / 57 + 1;
  raw.reserve(raw.size() + lines * 78 + 16);
  for (std::size_t i = 0; i < lines; ++i) raw += line + "\r\n";
  raw += "--z--\r\n";
  const auto m = parse_mail(raw);
  EXPECT_EQ(m.text, "The scan is attached.");
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].name, "scan.tiff");
  EXPECT_EQ(m.attachments[0].size, static_cast<std::int64_t>(lines * 57));
}

TEST(Mime, CutsTextPastTheLimitWithANote) {
  const std::string raw = "From: a@example.org\r\n\r\n" + std::string(200000, 'x');
  const auto m = parse_mail(raw, {.max_text_bytes = 1000});
  EXPECT_LE(m.text.size(), 1000u);
  EXPECT_TRUE(has(m.text, "is not shown]")) << m.text;
}

TEST(Mime, GarbageGivesANoteNotACrash) {
  for (const std::string& raw :
       {std::string(), std::string("\0\0\0", 3), std::string("\r\n\r\n"),
        std::string("Content-Type: multipart/mixed; boundary=\r\n\r\n--")}) {
    const auto m = parse_mail(raw);
    EXPECT_TRUE(core::is_valid_utf8(m.text));
  }
}

TEST(Mime, ComposesAReplyWithThreadingHeadersAndQuotedPrintable) {
  outgoing_mail m;
  m.from_address = "ask@library.example.org";
  m.from_name = "Bibliothèque";
  m.reply_to = "desk@library.example.org";
  m.to_address = "ada@example.org";
  m.to_name = "Ada";
  m.subject = reply_subject("Réservation", "Your question");
  m.message_id = "askdesk.7.22.abc@library.example.org";
  m.in_reply_to = "reply-1@example.org";
  m.references = {"q-1@example.org", "reply-1@example.org"};
  m.date = core::from_millis(1795424400000);
  m.text = "Bonjour Ada,\nvotre livre est prêt. " + std::string(120, 'x') + "\n.\nFin";
  m.automatic = true;
  const std::string raw = compose_mail(m);
  EXPECT_TRUE(has(raw, "Subject: Re: =?")) << raw;
  EXPECT_TRUE(has(raw, "Message-ID: <askdesk.7.22.abc@library.example.org>\r\n")) << raw;
  EXPECT_TRUE(has(raw, "In-Reply-To: <reply-1@example.org>\r\n")) << raw;
  EXPECT_TRUE(has(raw, "References: <q-1@example.org> <reply-1@example.org>\r\n")) << raw;
  EXPECT_TRUE(has(raw, "Auto-Submitted: auto-replied\r\n")) << raw;
  EXPECT_TRUE(has(raw, "Reply-To: desk@library.example.org\r\n")) << raw;
  EXPECT_TRUE(has(raw, "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n")) << raw;
  EXPECT_TRUE(has(raw, "Content-Transfer-Encoding: quoted-printable\r\n")) << raw;
  EXPECT_TRUE(has(raw, "charset=utf-8")) << raw;
  for (std::size_t start = 0; start < raw.size();) {
    const auto end = raw.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 78u) << raw.substr(start, end - start);
    start = end + 2;
  }
  // What we send reads back as what we wrote.
  const auto back = parse_mail(raw);
  EXPECT_EQ(back.subject, "Re: Réservation");
  EXPECT_EQ(back.from_name, "Bibliothèque");
  EXPECT_EQ(back.text, m.text);
  EXPECT_EQ(back.facts.at("auto_submitted"), "auto-replied");
  EXPECT_EQ(reply_subject("RE: hours", "x"), "RE: hours");
  EXPECT_EQ(reply_subject("", "Your question"), "Re: Your question");
}

}  // namespace
}  // namespace askdesk::connectors::email
