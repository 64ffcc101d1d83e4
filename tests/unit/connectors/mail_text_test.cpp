#include "connectors/email/mail_text.hpp"

#include <gtest/gtest.h>

namespace askdesk::connectors::email {
namespace {

TEST(HtmlToText, KeepsParagraphsListsLinksAndQuotesAndDropsScripts) {
  const std::string text = html_to_text(
      "<html><head><title>t</title><style>p{}</style></head><body>"
      "<script>alert('x<p>')</script><p>Hello &amp; good&nbsp;morning,</p>"
      "<p>Line one<br>line   two</p><ul><li>First</li><li>Second &#8212; &#x263A;</li></ul>"
      "<p>See <a href=\"https://example.org/a?b=1&amp;c=2\">this</a>.</p>"
      "<blockquote><p>Quoted</p><blockquote>Deeper</blockquote></blockquote>"
      "<!-- a comment <p>hidden</p> --><p>End</p></body></html>");
  EXPECT_EQ(text,
            "Hello & good morning,\n\nLine one\nline two\n\n- First\n- Second \u2014 \u263A\n\n"
            "See this <https://example.org/a?b=1&c=2>.\n\n> Quoted\n>\n> > Deeper\n\nEnd");
}

TEST(HtmlToText, SurvivesBrokenMarkup) {
  EXPECT_EQ(html_to_text("<p>unclosed <b>bold"), "unclosed bold");
  EXPECT_EQ(html_to_text("a < b and c > d"), "a < b and c > d");
  EXPECT_EQ(html_to_text("<a href='x"), "");
  EXPECT_EQ(html_to_text("<script>never closed"), "");
  EXPECT_EQ(html_to_text("&bogus; &#xZZ; &#99999999; &"), "&bogus; &#xZZ; \uFFFD &");
  EXPECT_EQ(html_to_text("<img alt=\"Library logo\" src=x>"), "[Library logo]");
}

TEST(HtmlToText, HostileMarkupStaysSmallAndLinear) {
  // Thousands of nested quotes: read, but marked at most eight deep, so the text cannot
  // grow past a small multiple of the markup.
  std::string nested;
  for (int i = 0; i < 5000; ++i) nested += "<blockquote>";
  nested += "deep<br>text";
  const std::string text = html_to_text(nested);
  EXPECT_EQ(text, "> > > > > > > > deep\n> > > > > > > > text");
  // Ampersands that never end a reference: each is looked at once, not to the end of the
  // text (quadratic; this input would take hours).
  const std::string ampersands(4 * 1024 * 1024, '&');
  EXPECT_EQ(html_to_text(ampersands + "amp;"), ampersands.substr(1) + "&");
  EXPECT_EQ(html_to_text("&hellip;&#x10FFFF;&#1114111;"), "\u2026\U0010FFFF\U0010FFFF");
}

TEST(FoldLine, FoldsSignatureAttributionAndQuotedTail) {
  const std::string reply =
      "Thank you.\nI will come.\n\n-- \nAda\n\nOn Mon, Nov 23, 2026 at 10:00 AM Library "
      "<ask@library.example.org> wrote:\n> Yes.\n";
  EXPECT_EQ(fold_line(reply), 2u);
  EXPECT_EQ(fold_line("Thanks!\n\nOn Monday, Library wrote:\n> Yes.\n> > Open?"), 1u);
  // An attribution wrapped over two lines, as Gmail writes long ones.
  EXPECT_EQ(fold_line("Great.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Library Desk\n"
                      "<ask@library.example.org> wrote:\n\n> Yes."),
            1u);
  EXPECT_EQ(fold_line("Merci.\n\nLe lun. 23 nov. 2026, Library a écrit :\n> Oui."), 1u);
}

TEST(FoldLine, FoldsAnOutlookOriginal) {
  EXPECT_EQ(fold_line("See you then.\n\n-----Original Message-----\nFrom: Library\nSent: Monday"),
            1u);
  EXPECT_EQ(fold_line("OK\n________________________________\nFrom: Library\nSent: Monday\n"
                      "Subject: Re: hours\n\nWe open at 9."),
            1u);
}

TEST(FoldLine, LeavesInterleavedAnswersAndAllQuoteAlone) {
  const std::string interleaved = "> Are you open?\nYes, until 8.\n> And Sunday?\nNo.";
  EXPECT_EQ(fold_line(interleaved), 4u);
  EXPECT_EQ(fold_line("> only a quote\n> nothing new"), 2u);
  EXPECT_EQ(fold_line("Plain text without history."), 1u);
  EXPECT_EQ(fold_line("--\nonly a signature"), 2u);
}

}  // namespace
}  // namespace askdesk::connectors::email
