// A Mastodon status's HTML as plain text.
//
// The input is HTML from the network: Mastodon's own (<p>, <br>, mentions, shortened links),
// a remote server's after Mastodon's sanitizer, or anything at all from a hostile or broken
// server. So it is read by a real HTML parser, libxml2's, which has long handled unclosed
// tags, stray end tags, unquoted attributes and the entity table the way browsers do, and
// is fuzzed upstream; nothing here scans markup by hand.
//
// Three steps:
//   1. The bytes are cut at max_html_bytes, ill-formed UTF-8 becomes U+FFFD and control
//      characters go, before libxml2 sees them: given bad UTF-8 it would switch the rest of
//      the document to Latin-1, and a NUL ends its input.
//   2. htmlReadMemory builds a tree, with the encoding fixed to UTF-8 (a <meta charset> in
//      the content cannot change it) and no network. libxml2 stops building at 256 nested
//      elements, which also keeps its own end-tag searches short; what came before is kept.
//   3. The tree is walked without recursion (children, next, parent), and a text_builder
//      turns text and block edges into lines: whitespace collapses as in a browser except
//      inside <pre>, and a last pass trims lines and folds blank ones.
#include "connectors/mastodon/html_text.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <memory>
#include <unordered_set>

#include "daemon/core/text.hpp"

namespace askdesk::connectors::mastodon {

namespace {

unsigned char byte(char c) { return static_cast<unsigned char>(c); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// `text` (valid UTF-8) without control characters other than \n and \t: C0, DEL and C1
// (U+0080 to U+009F) go, and CR LF or a lone CR becomes \n.
std::string without_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = byte(text[i]);
    if (c == '\r') {
      if (i + 1 == text.size() || text[i + 1] != '\n') out += '\n';
    } else if (c == '\n' || c == '\t') {
      out += text[i];
    } else if (c < 0x20 || c == 0x7F) {
      // dropped
    } else if (c == 0xC2 && i + 1 < text.size() && byte(text[i + 1]) < 0xA0) {
      ++i;  // a C1 control, encoded C2 80 to C2 9F
    } else {
      out += text[i];
    }
  }
  return out;
}

// The first max_html_bytes of `html`, not cutting a well-formed character in two.
std::string_view head_of(std::string_view html) {
  if (html.size() <= max_html_bytes) return html;
  std::size_t end = max_html_bytes;
  for (int back = 0; back < 3 && end > 0 && (byte(html[end]) & 0xC0) == 0x80; ++back) --end;
  return html.substr(0, end);
}

struct doc_deleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using doc_ptr = std::unique_ptr<xmlDoc, doc_deleter>;

struct xml_string_deleter {
  void operator()(xmlChar* text) const { xmlFree(text); }
};

std::string_view view(const xmlChar* text) {
  return text == nullptr ? std::string_view() : reinterpret_cast<const char*>(text);
}

// The value of attribute `name` of `element`, empty when it has none.
std::string attribute(const xmlNode* element, const char* name) {
  const std::unique_ptr<xmlChar, xml_string_deleter> value(
      xmlGetNoNsProp(element, reinterpret_cast<const xmlChar*>(name)));
  return std::string(view(value.get()));
}

// Whether the class attribute `classes` lists `name`.
bool has_class(std::string_view classes, std::string_view name) {
  std::size_t i = 0;
  while (i < classes.size()) {
    while (i < classes.size() && is_space(classes[i])) ++i;
    std::size_t end = i;
    while (end < classes.size() && !is_space(classes[end])) ++end;
    if (classes.substr(i, end - i) == name) return true;
    i = end;
  }
  return false;
}

// `href` as an http(s) URL, the way a browser reads it (tabs and newlines removed, spaces
// and controls trimmed, the scheme in lower case), or empty when it is not one.
std::string http_url(std::string_view href) {
  std::string url = without_controls(href);
  std::erase_if(url, [](char c) { return c == '\t' || c == '\n'; });
  url = std::string(core::trim(url));
  const auto colon = url.find(':');
  if (colon == std::string::npos) return {};
  const std::string scheme = core::ascii_lower(std::string_view(url).substr(0, colon));
  if (scheme != "http" && scheme != "https") return {};
  url.replace(0, colon, scheme);
  return core::is_http_url(url) ? url : std::string();
}

enum class element_kind {
  text_level,  // b, span, em, …: its text stays, nothing more
  dropped,     // script, style, …: gone with its content
  line_break,  // br
  line,        // div, li, …: on lines of its own
  paragraph,   // p, pre, blockquote, headings: a blank line before and after
  cell,        // td, th: a space either side
  link,        // a
};

constexpr std::array<std::string_view, 7> dropped_elements = {
    "script", "style", "template", "iframe", "object", "noscript", "head"};

constexpr std::array<std::string_view, 11> paragraph_elements = {
    "p", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr"};

constexpr std::array<std::string_view, 22> line_elements = {
    "div",     "li",      "ul",         "ol",      "dl",      "dt",    "dd",   "tr",
    "section", "article", "aside",      "header",  "footer",  "nav",   "main", "address",
    "figure",  "caption", "figcaption", "details", "summary", "center"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

element_kind kind_of(std::string_view name) {
  if (name == "a") return element_kind::link;
  if (name == "br") return element_kind::line_break;
  if (name == "td" || name == "th") return element_kind::cell;
  if (one_of(dropped_elements, name)) return element_kind::dropped;
  if (one_of(paragraph_elements, name)) return element_kind::paragraph;
  if (one_of(line_elements, name)) return element_kind::line;
  return element_kind::text_level;
}

// Text and block edges in, lines out. Whitespace outside <pre> collapses to one space that
// is written only between words on the same line; block edges are written only once more
// text follows, so nothing dangles at either end.
class text_builder {
 public:
  void add_text(std::string_view text, bool preformatted) {
    for (const char c : text) {
      if (!preformatted && is_space(c)) {
        pending_space_ = true;
        continue;
      }
      flush();
      out_ += c;
    }
  }

  void add_line_break() {
    flush();
    out_ += '\n';
    pending_space_ = false;
  }

  // What follows starts after `newlines` line breaks (1: a new line, 2: after a blank line).
  void add_block_edge(int newlines) {
    pending_newlines_ = std::max(pending_newlines_, newlines);
    pending_space_ = false;
  }

  void add_space() { pending_space_ = true; }

  // The text with each line without trailing blanks, runs of blank lines folded into one,
  // and no blank lines or spaces at either end.
  std::string finish() && {
    const std::string_view text = out_;
    std::string result;
    result.reserve(text.size());
    bool blank_pending = false;
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      while (!line.empty()) {
        if (line.back() == ' ' || line.back() == '\t') {
          line.remove_suffix(1);
        } else if (line.ends_with("\u00A0")) {
          line.remove_suffix(2);
        } else {
          break;
        }
      }
      if (result.empty()) {
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
          line.remove_prefix(1);
        }
      }
      if (line.empty()) {
        blank_pending = !result.empty();
      } else {
        if (!result.empty()) result += blank_pending ? "\n\n" : "\n";
        result += line;
        blank_pending = false;
      }
      start = end + 1;
    }
    if (!core::is_valid_utf8(result)) return core::repair_utf8(result);
    return result;
  }

 private:
  // Writes the line breaks or the space owed before the next character.
  void flush() {
    if (pending_newlines_ > 0) {
      if (!out_.empty()) out_.append(static_cast<std::size_t>(pending_newlines_), '\n');
      pending_newlines_ = 0;
      pending_space_ = false;
    } else if (pending_space_) {
      if (!out_.empty() && out_.back() != '\n') out_ += ' ';
      pending_space_ = false;
    }
  }

  std::string out_;
  int pending_newlines_ = 0;
  bool pending_space_ = false;
};

// One walk over a parsed document, in document order.
class tree_reader {
 public:
  html_text read(const xmlDoc& doc) && {
    const auto* const document = reinterpret_cast<const xmlNode*>(&doc);
    const xmlNode* node = doc.children;
    while (node != nullptr) {
      if (open(*node) && node->children != nullptr) {
        node = node->children;
        continue;
      }
      // Close the node and each parent it ends, then go on to what follows.
      close(*node);
      while (node->next == nullptr && node->parent != nullptr && node->parent != document) {
        node = node->parent;
        close(*node);
      }
      node = node->next;
    }
    return html_text{std::move(text_).finish(), std::move(links_)};
  }

 private:
  // Writes what comes at the start of `node`; whether its children are read.
  bool open(const xmlNode& node) {
    if (node.type == XML_TEXT_NODE || node.type == XML_CDATA_SECTION_NODE) {
      // Character references can still make controls (&#x85;): gone before spaces collapse.
      text_.add_text(without_controls(view(node.content)), preformatted_depth_ > 0);
      return false;
    }
    if (node.type != XML_ELEMENT_NODE) return false;  // comments, the doctype, …
    switch (kind_of(view(node.name))) {
      case element_kind::text_level:
        return true;
      case element_kind::dropped:
        return false;
      case element_kind::line_break:
        text_.add_line_break();
        return false;
      case element_kind::line:
        text_.add_block_edge(1);
        return true;
      case element_kind::paragraph:
        text_.add_block_edge(2);
        if (view(node.name) == "pre") ++preformatted_depth_;
        return true;
      case element_kind::cell:
        text_.add_space();
        return true;
      case element_kind::link:
        return open_link(node);
    }
    return true;
  }

  // Writes what comes at the end of `node`, which open() saw.
  void close(const xmlNode& node) {
    if (node.type != XML_ELEMENT_NODE) return;
    switch (kind_of(view(node.name))) {
      case element_kind::line:
        text_.add_block_edge(1);
        break;
      case element_kind::paragraph:
        text_.add_block_edge(2);
        if (view(node.name) == "pre") --preformatted_depth_;
        break;
      case element_kind::cell:
        text_.add_space();
        break;
      default:
        break;
    }
  }

  // A mention, a hashtag or a link elsewhere than the web shows its text; a web link shows
  // its whole address (Mastodon hides part of it in invisible spans) and is listed.
  bool open_link(const xmlNode& link) {
    const std::string classes = attribute(&link, "class");
    if (has_class(classes, "mention") || has_class(classes, "hashtag")) return true;
    std::string url = http_url(attribute(&link, "href"));
    if (url.empty()) return true;
    text_.add_text(url, false);
    if (seen_links_.insert(url).second) links_.push_back(std::move(url));
    return false;
  }

  text_builder text_;
  std::vector<std::string> links_;
  std::unordered_set<std::string> seen_links_;
  int preformatted_depth_ = 0;
};

}  // namespace

html_text text_of_html(std::string_view html) {
  static const bool initialised = (xmlInitParser(), true);
  (void)initialised;

  const std::string input = without_controls(core::repair_utf8(head_of(html)));
  if (input.empty()) return {};
  const doc_ptr doc(htmlReadMemory(input.data(), static_cast<int>(input.size()), nullptr, "UTF-8",
                                   HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                                       HTML_PARSE_RECOVER | HTML_PARSE_IGNORE_ENC));
  if (doc == nullptr) return {};
  return tree_reader().read(*doc);
}

}  // namespace askdesk::connectors::mastodon
