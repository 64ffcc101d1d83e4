// What a librarian reads of a Mastodon status: its HTML `content` (Mastodon's own markup,
// or a remote server's after Mastodon's sanitizer) as plain text, and the web links it
// carries. The Mastodon connector calls it for every status it takes in; the text is shown
// with textContent, never as HTML. A pure function over bytes; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace askdesk::connectors::mastodon {

// The longest content read; past it the rest is ignored. Mastodon's own statuses are a few
// kilobytes at most.
inline constexpr std::size_t max_html_bytes = 1024 * 1024;

struct html_text {
  std::string text;                // plain text, valid UTF-8
  std::vector<std::string> links;  // the http(s) URLs of the links, in order, without duplicates
};

// The plain text of `html`, read with libxml2's HTML parser:
// - <p> (and other blocks) are separated by a blank line, <br> is a line break, list items
//   and <div>s are lines of their own; spaces collapse as a browser shows them (kept inside
//   <pre>); the text is trimmed, with no trailing spaces and never two blank lines in a row.
// - A mention or hashtag (class "mention" or "hashtag") is its text: "@ada", "#books".
//   Any other link with an http(s) href is that whole href, once, whatever it shows
//   (Mastodon shows "example.org/very/lo…"), and the href is added to `links`; a link with
//   another scheme (javascript:, data:, relative) is its text only.
// - script, style, template, iframe, object, noscript and head vanish with their content;
//   comments vanish; every other tag goes and its text stays; entities are decoded and the
//   result is not escaped ("&lt;b&gt;" is the text "<b>").
// - Ill-formed UTF-8 becomes U+FFFD; control characters other than \n and \t are removed.
// REQUIRES nothing: any bytes. Throws nothing but std::bad_alloc. Time and memory are linear in the
// input; markup nested deeper than libxml2's limit (256 elements) is read up to that point.
html_text text_of_html(std::string_view html);

}  // namespace askdesk::connectors::mastodon
