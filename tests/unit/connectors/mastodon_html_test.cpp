// A status's HTML content as the librarian reads it: Mastodon's own markup, and whatever a
// broken or hostile server sends, always plain valid UTF-8 and never a crash.
#include "connectors/mastodon/html_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "daemon/core/text.hpp"

namespace askdesk::connectors::mastodon {
namespace {

using namespace std::string_literals;
using links = std::vector<std::string>;

std::string repeat(std::string_view part, std::size_t times) {
  std::string out;
  out.reserve(part.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += part;
  return out;
}

// What every result must be, whatever the input.
void expect_plain(const html_text& result) {
  EXPECT_TRUE(core::is_valid_utf8(result.text));
  const auto control = std::find_if(result.text.begin(), result.text.end(), [](char c) {
    return (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7F;
  });
  EXPECT_EQ(control, result.text.end())
      << "a control character at " << (control - result.text.begin());
  EXPECT_EQ(result.text.find("\xC2\x85"), std::string::npos);
  EXPECT_EQ(core::trim(result.text), result.text);
  EXPECT_EQ(result.text.find(" \n"), std::string::npos);
  EXPECT_EQ(result.text.find("\n\n\n"), std::string::npos);
  for (const auto& link : result.links) {
    EXPECT_TRUE(core::is_valid_utf8(link));
    EXPECT_TRUE(core::is_http_url(link)) << link;
  }
}

TEST(MastodonHtml, DocumentationExampleStatus) {
  // The `content` of the example on docs.joinmastodon.org/entities/Status, as published:
  // the site's copy lost the link's "</a>" ("</span}"), so it is also a broken document.
  const auto result = text_of_html(
      "<p>&quot;I lost my inheritance with one wrong digit on my sort code&quot;</p><p><a "
      "href=\"https://www.theguardian.com/money/2019/dec/07/"
      "i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code\" rel=\"nofollow "
      "noopener noreferrer\" target=\"_blank\"><span class=\"invisible\">https://www.</span><span "
      "class=\"ellipsis\">theguardian.com/money/2019/dec</span><span "
      "class=\"invisible\">/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code</"
      "span}</p>");
  const std::string url =
      "https://www.theguardian.com/money/2019/dec/07/"
      "i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code";
  EXPECT_EQ(result.text,
            "\"I lost my inheritance with one wrong digit on my sort code\"\n\n" + url);
  EXPECT_EQ(result.links, links{url});
  expect_plain(result);
}

TEST(MastodonHtml, MentionsAndHashtagsAreTheirText) {
  const auto result = text_of_html(
      "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://mastodon.social/@ada\" "
      "class=\"u-url mention\">@<span>ada</span></a></span> <span class=\"h-card\"><a "
      "href=\"https://library.example/@desk\" class=\"u-url mention\">@<span>desk@library."
      "example</span></a></span> do you lend <a href=\"https://mastodon.social/tags/books\" "
      "class=\"mention hashtag\" rel=\"tag\">#<span>books</span></a> abroad? <a "
      "href=\"https://pleroma.example/tag/ebooks\" class=\"hashtag\" "
      "rel=\"tag\">#ebooks</a></p>");
  EXPECT_EQ(result.text, "@ada @desk@library.example do you lend #books abroad? #ebooks");
  EXPECT_TRUE(result.links.empty());
  expect_plain(result);
}

TEST(MastodonHtml, ShortenedLinkBecomesItsWholeAddressOnce) {
  const std::string url = "https://example.org/very/long/path/to/a/catalogue/record?id=42&lang=en";
  const std::string link =
      "<a href=\"https://example.org/very/long/path/to/a/catalogue/record?id=42&amp;lang=en\" "
      "rel=\"nofollow noopener\" target=\"_blank\"><span class=\"invisible\">https://</span><span "
      "class=\"ellipsis\">example.org/very/long/path/to/</span><span "
      "class=\"invisible\">a/catalogue/record?id=42&amp;lang=en</span></a>";
  const auto once = text_of_html("<p>Is this in? " + link + "</p>");
  EXPECT_EQ(once.text, "Is this in? " + url);
  EXPECT_EQ(once.links, links{url});

  // Mastodon hides nothing of a short one, and says the same link twice only once in `links`.
  const auto twice = text_of_html(
      "<p>" + link +
      " and <a href=\"https://b.example/\"><span class=\"invisible\">https://"
      "</span><span class=\"\">b.example/</span><span class=\"invisible\"></span></a></p><p>" +
      link + "</p>");
  EXPECT_EQ(twice.text, url + " and https://b.example/\n\n" + url);
  EXPECT_EQ(twice.links, (links{url, "https://b.example/"}));

  // Whatever text a web link shows, the reader sees where it goes.
  const auto disguised =
      text_of_html("<a href=\"HTTPS://evil.example/\nlogin\">https://library.example/login</a>");
  EXPECT_EQ(disguised.text, "https://evil.example/login");
  EXPECT_EQ(disguised.links, links{"https://evil.example/login"});
  expect_plain(once);
  expect_plain(twice);
  expect_plain(disguised);
}

TEST(MastodonHtml, LinksElsewhereThanTheWebAreTheirTextOnly) {
  const auto result = text_of_html(
      "<p><a href=\"javascript:alert(1)\">one</a> <a href=\"JavaScript:alert(2)\">two</a> <a "
      "href=\"jav&#x61;script:alert(3)\">three</a> <a href=\" javascript:alert(4)\">four</a> <a "
      "href=\"data:text/html,&lt;script&gt;alert(5)&lt;/script&gt;\">five</a> <a "
      "href=\"/relative\">six</a> <a href=\"//host.example/\">seven</a> <a "
      "href=\"https://\">eight</a> <a>nine</a> <a href=\"xmpp:desk@library.example\">ten</a></p>");
  EXPECT_EQ(result.text, "one two three four five six seven eight nine ten");
  EXPECT_TRUE(result.links.empty());
  expect_plain(result);
}

TEST(MastodonHtml, ScriptsStylesAndTheirKinVanishWithTheirContent) {
  const auto result = text_of_html(
      "<head><title>Title</title><style>p { color: red }</style></head>"
      "<p>Before<script>alert('<p>x</p>')</script> after</p><style>.a{}</style>"
      "<template><p>template</p></template><iframe src=\"https://x.example/\">frame</iframe>"
      "<object data=\"x\">object</object><noscript>noscript</noscript>"
      "<!-- a comment <p>hidden</p> --><p>End</p><script>never closed <p>");
  EXPECT_EQ(result.text, "Before after\n\nEnd");
  EXPECT_TRUE(result.links.empty());
  expect_plain(result);
}

TEST(MastodonHtml, ParagraphsLineBreaksAndListItems) {
  const auto result = text_of_html(
      "  <p>  First   paragraph,\n  wrapped  </p>\n<p>Line one<br>line two <br/>  line "
      "three</p><p></p><p>&nbsp;</p><br><br><br><p>Books:</p><ul><li>Dune</li><li>Emma "
      "<ul><li>nested</li></ul></li></ul><ol><li>first</li></ol>Tail<pre>  keep\n\tthese  "
      "spaces</pre>");
  EXPECT_EQ(result.text,
            "First paragraph, wrapped\n\nLine one\nline two\nline three\n\nBooks:\n\nDune\nEmma\n"
            "nested\nfirst\nTail\n\n  keep\n\tthese  spaces");
  expect_plain(result);
}

TEST(MastodonHtml, BrokenMarkupIsReadAsFarAsItGoes) {
  EXPECT_EQ(text_of_html("<p>unclosed <b>bold <i>both").text, "unclosed bold both");
  EXPECT_EQ(text_of_html("<p>one</p></p></p><p>two</div></span>three").text, "one\n\ntwothree");
  EXPECT_EQ(text_of_html("<p>a<p>b").text, "a\n\nb");
  const auto unquoted = text_of_html(
      "<a href=https://library.example/hours class=u-url>hours</a> <a "
      "href=https://m.example/@ada class=mention>@ada</a>");
  EXPECT_EQ(unquoted.text, "https://library.example/hours @ada");
  EXPECT_EQ(unquoted.links, links{"https://library.example/hours"});
  EXPECT_EQ(text_of_html("a < b and c > d").text, "a < b and c > d");
  EXPECT_EQ(text_of_html("<a href='https://x.example/").text, "https://x.example/");
  EXPECT_EQ(text_of_html("<p>cut <a href=\"https://x.example/\" class=\"mention\">#x</a").text,
            "cut #x");
  EXPECT_EQ(text_of_html("<p>text</p><!-- never closed <p>more</p>").text, "text");
  EXPECT_EQ(text_of_html("").text, "");
  EXPECT_EQ(text_of_html("<p></p><br>  ").text, "");
}

TEST(MastodonHtml, EntitiesAreDecodedAndNeverEscapedAgain) {
  const auto result = text_of_html(
      "<p>&amp; &lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &#39;s &apos;a&apos; "
      "&eacute;&#233;&#xE9; &hellip; &mdash; &#x1F4DA; &#128218; &amp;lt; &bogus; AT&T "
      "&#0;&#x85;&#xD800;&#x110000;.</p>");
  EXPECT_EQ(result.text,
            "& <script>alert(1)</script> \"q\" 's 'a' \u00E9\u00E9\u00E9 \u2026 \u2014 "
            "\U0001F4DA \U0001F4DA &lt; &bogus; AT&T .");
  expect_plain(result);
}

TEST(MastodonHtml, EmojiAndEveryScriptPassThrough) {
  const auto result = text_of_html(
      "<p>\U0001F4DA\U0001F9D1\u200D\U0001F3EB \u0645\u0631\u062D\u0628\u0627 "
      "\u56F3\u66F8\u9928 e\u0301 \U0001F44B\U0001F3FD :blobcat:</p>");
  EXPECT_EQ(result.text,
            "\U0001F4DA\U0001F9D1\u200D\U0001F3EB \u0645\u0631\u062D\u0628\u0627 "
            "\u56F3\u66F8\u9928 e\u0301 \U0001F44B\U0001F3FD :blobcat:");
  // The content is UTF-8 whatever it says of itself.
  EXPECT_EQ(text_of_html("<meta charset=\"iso-8859-1\"><p>caf\u00E9 \u2615</p>").text,
            "caf\u00E9 \u2615");
  expect_plain(result);
}

TEST(MastodonHtml, InvalidUtf8AndControlCharactersAreRepaired) {
  const auto result = text_of_html(
      "<p>a\0b\x01"
      "c\x7F"
      "d\xFF\xFE"
      "e\xC3\xA9\r\nf\xC2\x85g\ttab\xE2\x82</p>"s);
  EXPECT_EQ(result.text, "abcd\uFFFD\uFFFDe\u00E9 fg tab\uFFFD\uFFFD");
  expect_plain(result);
  // After a bad byte, the rest is still read as UTF-8 (libxml2 alone would switch to Latin-1).
  EXPECT_EQ(text_of_html("\xFF <p>caf\u00E9</p>").text, "\uFFFD\n\ncaf\u00E9");
}

TEST(MastodonHtml, TenThousandNestedDivsDoNotBlowTheStack) {
  // libxml2 stops at 256 nested elements; what came before is kept.
  const auto deep = text_of_html("<p>before</p>" + repeat("<div>", 10'000) + "deep" +
                                 repeat("</div>", 10'000) + "<p>after</p>");
  EXPECT_EQ(deep.text, "before");
  expect_plain(deep);
  // Nesting a real status could have is read whole.
  const auto nested = text_of_html("<p>before</p>" + repeat("<div>", 200) + "deep" +
                                   repeat("</div>", 200) + "<p>after</p>");
  EXPECT_EQ(nested.text, "before\n\ndeep\n\nafter");
  // A megabyte of open tags and stray end tags, which would make libxml2's end-tag search
  // quadratic were the nesting not limited.
  const auto hostile = text_of_html(repeat("<b><a href=https://x.example/>", max_html_bytes / 30) +
                                    repeat("</x>", max_html_bytes / 4));
  expect_plain(hostile);
  EXPECT_LE(hostile.links.size(), 1U);
}

TEST(MastodonHtml, ContentPastTheLimitIsIgnored) {
  const std::string big = "<p>" + repeat("\u00E9", max_html_bytes) + "</p>";
  const auto result = text_of_html(big);
  EXPECT_TRUE(result.text.size() <= max_html_bytes && result.text.size() >= max_html_bytes - 4);
  expect_plain(result);
}

TEST(MastodonHtml, RandomBytesNeverCrashAndAlwaysGiveValidUtf8) {
  std::mt19937 random(20240611);
  const std::array<std::string_view, 24> markup = {"<p>",
                                                   "</p>",
                                                   "<br>",
                                                   "<a href=\"https://x.example/",
                                                   "\">",
                                                   "</a>",
                                                   "<span>",
                                                   "</span>",
                                                   "<a href='javascript:",
                                                   "<script>",
                                                   "</script>",
                                                   "<!--",
                                                   "-->",
                                                   "&amp;",
                                                   "&#x1F4DA;",
                                                   "&#",
                                                   "<pre>",
                                                   "</pre>",
                                                   "<li>",
                                                   "<div>",
                                                   "\xC3\xA9",
                                                   "\xF0\x9F\x93",
                                                   "<![CDATA[x]]>",
                                                   "<a class=mention href=https://m.example/@a>"};
  for (int round = 0; round < 500; ++round) {
    std::string input;
    const auto pieces = random() % 200;
    for (std::uint32_t i = 0; i < pieces; ++i) {
      if (random() % 2 == 0) {
        input += static_cast<char>(random() % 256);
      } else {
        input += markup[random() % markup.size()];
      }
    }
    SCOPED_TRACE(::testing::Message() << "round " << round);
    expect_plain(text_of_html(input));
  }
}

}  // namespace
}  // namespace askdesk::connectors::mastodon
