// What a librarian reads of an email: HTML turned into plain text, and where a reply's own
// words end and the quoted history or the signature begin (the dashboard folds the rest
// away). Pure functions over UTF-8 text; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace askdesk::connectors::email {

// Readable text from an HTML body: blocks and <br> become line breaks, lists get "- ",
// links keep their address ("text <https://…>"), <blockquote> lines are quoted with "> ",
// entities are decoded, <script>, <style> and <head> vanish. Never fails: broken markup is
// read as far as it goes.
std::string html_to_text(std::string_view html);

// The number of the first line (0-based, lines split at '\n') that is no longer the
// writer's new text: a signature ("-- "), an attribution ("On … wrote:") before quoted
// lines, a quoted tail ("> …"), or a forwarded or Outlook original ("-----Original
// Message-----", "From: … Sent: …"). The line count when nothing is folded, and never 0 (a
// text that is all quote is shown whole).
std::size_t fold_line(std::string_view text);

}  // namespace askdesk::connectors::email
