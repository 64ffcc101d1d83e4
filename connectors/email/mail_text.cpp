#include "connectors/email/mail_text.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <vector>

#include "daemon/core/text.hpp"

namespace askdesk::connectors::email {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// A character reference's code point in UTF-8; U+FFFD for NUL, a surrogate or past U+10FFFF.
void append_utf8(std::string& out, std::uint32_t cp) {
  const auto c = static_cast<utf8proc_int32_t>(cp);
  utf8proc_uint8_t bytes[4];
  const auto n = utf8proc_encode_char(c != 0 && utf8proc_codepoint_valid(c) ? c : 0xFFFD, bytes);
  out.append(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(n));
}

struct named_entity {
  std::string_view name;
  std::uint32_t code_point;
};
// The entities mail clients write; others stay as they are.
constexpr std::array<named_entity, 32> entities = {{
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", ' '},     {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122}, {"hellip", 0x2026},
    {"mdash", 0x2014}, {"ndash", 0x2013}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
    {"rdquo", 0x201D}, {"laquo", 0xAB},   {"raquo", 0xBB},   {"bull", 0x2022},  {"middot", 0xB7},
    {"euro", 0x20AC},  {"pound", 0xA3},   {"eacute", 0xE9},  {"egrave", 0xE8},  {"agrave", 0xE0},
    {"ccedil", 0xE7},  {"ouml", 0xF6},    {"uuml", 0xFC},    {"auml", 0xE4},    {"szlig", 0xDF},
    {"ntilde", 0xF1},  {"shy", 0xAD},
}};

// `text` with its character references decoded.
std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    // The longest reference we know ("&#x10FFFF;", "&hellip;") ends within 12 bytes.
    const auto semi = text.substr(0, i + 13).find(';', i + 1);
    if (semi == std::string_view::npos) {
      out += '&';
      continue;
    }
    const auto name = text.substr(i + 1, semi - i - 1);
    std::uint32_t cp = 0;
    bool known = false;
    if (name.size() > 1 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const auto digits = name.substr(hex ? 2 : 1);
      known = !digits.empty();
      for (const char c : digits) {
        const int v = std::isdigit(static_cast<unsigned char>(c))           ? c - '0'
                      : hex && std::isxdigit(static_cast<unsigned char>(c)) ? lower(c) - 'a' + 10
                                                                            : -1;
        if (v < 0) known = false;
        if (!known) break;
        cp =
            std::min<std::uint32_t>(cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v), 0x110000);
      }
    } else {
      for (const auto& e : entities) {
        if (e.name == name) {
          cp = e.code_point;
          known = true;
        }
      }
    }
    if (!known) {
      out += '&';
      continue;
    }
    if (cp != 0xAD) append_utf8(out, cp);  // a soft hyphen only hints where to break
    i = semi;
  }
  return out;
}

// Plain text written line by line, with the blockquote depth as "> " on each line (up to
// max_quote_marks of them: deeper quotes are read, but not marked deeper).
class text_writer {
 public:
  static constexpr int max_quote_marks = 8;

  void word(std::string_view w) {
    if (line_start_) {
      for (int i = 0; i < marks(); ++i) out_ += "> ";
      line_start_ = false;
    } else if (space_) {
      out_ += ' ';
    }
    space_ = false;
    out_ += w;
    newlines_ = 0;
  }
  void space() { space_ = !line_start_; }
  void line_break() {
    if (line_start_ && quote_ > 0) {
      for (int i = 0; i < marks(); ++i) out_ += i + 1 < marks() ? "> " : ">";
    }
    out_ += '\n';
    line_start_ = true;
    space_ = false;
    ++newlines_;
  }
  // Ends the current line, if any.
  void block() {
    if (!line_start_) line_break();
  }
  // Ends the current paragraph with one blank line (none at the very top).
  void paragraph() {
    block();
    if (!out_.empty() && newlines_ < 2) line_break();
  }
  void quote(int delta) {
    block();
    quote_ = std::max(0, quote_ + delta);
  }
  std::string finish() {
    while (!out_.empty() && (out_.back() == '\n' || out_.back() == ' ')) out_.pop_back();
    return std::move(out_);
  }

 private:
  int marks() const { return std::min(quote_, max_quote_marks); }

  std::string out_;
  int quote_ = 0;
  bool line_start_ = true;
  bool space_ = false;
  int newlines_ = 2;
};

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(), [&](auto n) { return n == name; });
}

// The value of attribute `name` in a tag's text (`a href="x" title=y`), decoded; "" if none.
std::string attribute(std::string_view tag, std::string_view name) {
  std::size_t i = 0;
  while (i < tag.size()) {
    while (i < tag.size() && (is_space(tag[i]) || tag[i] == '/')) ++i;
    const auto start = i;
    while (i < tag.size() && !is_space(tag[i]) && tag[i] != '=' && tag[i] != '/') ++i;
    const auto key = tag.substr(start, i - start);
    while (i < tag.size() && is_space(tag[i])) ++i;
    std::string_view value;
    if (i < tag.size() && tag[i] == '=') {
      ++i;
      while (i < tag.size() && is_space(tag[i])) ++i;
      if (i < tag.size() && (tag[i] == '"' || tag[i] == '\'')) {
        const char q = tag[i++];
        const auto end = std::min(tag.find(q, i), tag.size());
        value = tag.substr(i, end - i);
        i = end + 1;
      } else {
        const auto vstart = i;
        while (i < tag.size() && !is_space(tag[i])) ++i;
        value = tag.substr(vstart, i - vstart);
      }
    }
    if (key.empty() && i == start) ++i;  // a stray character: skip it
    if (iequals(key, name)) return decode_entities(value);
  }
  return "";
}

void write_text(text_writer& w, std::string_view text, bool preformatted) {
  const std::string decoded = decode_entities(text);
  std::string_view rest = decoded;
  while (!rest.empty()) {
    if (is_space(rest.front())) {
      if (preformatted && rest.front() == '\n') {
        w.line_break();
      } else {
        w.space();
      }
      rest.remove_prefix(1);
      continue;
    }
    std::size_t n = 0;
    while (n < rest.size() && !is_space(rest[n])) ++n;
    w.word(rest.substr(0, n));
    rest.remove_prefix(n);
  }
}

bool is_attribution(std::string_view line) {
  line = core::trim(line);
  if (line.size() > 400) return false;
  static constexpr std::string_view endings[] = {
      "wrote:",   "a écrit :", "a écrit:", "schrieb:", "escribió:",
      "scrisse:", "escreveu:", "schreef:", "skrev:",   "kirjoitti:"};
  return std::any_of(std::begin(endings), std::end(endings),
                     [&](auto e) { return line.ends_with(e); });
}

bool is_blank(std::string_view line) { return core::trim(line).empty(); }
bool is_quoted(std::string_view line) {
  const auto t = core::trim(line);
  return !t.empty() && t.front() == '>';
}

// An Outlook-style original below a reply: a marker line, or a "From:" header block.
bool starts_original(const std::vector<std::string_view>& lines, std::size_t i) {
  const auto t = core::trim(lines[i]);
  if (t.find("Original Message") != std::string_view::npos && t.starts_with("-----")) return true;
  const bool underline = t.size() >= 20 && t.find_first_not_of('_') == std::string_view::npos;
  const bool from = istarts_with(t, "From:") || istarts_with(t, "De :") ||
                    istarts_with(t, "Von:") || istarts_with(t, "De:");
  if (!underline && !from) return false;
  // The header block follows: a Sent or Date line within the next few lines.
  for (std::size_t j = i + 1; j < lines.size() && j <= i + 4; ++j) {
    const auto u = core::trim(lines[j]);
    if (istarts_with(u, "Sent:") || istarts_with(u, "Date:") || istarts_with(u, "Envoyé :") ||
        istarts_with(u, "Gesendet:")) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  text_writer w;
  std::string link;  // the href of the <a> being read
  std::string link_text_start;
  int preformatted = 0;
  std::size_t i = 0;
  while (i < html.size()) {
    // A '<' starts a tag only before a letter, '/', '!' or '?'; otherwise it is text.
    auto lt = html.find('<', i);
    while (lt != std::string_view::npos && lt + 1 < html.size() &&
           !std::isalpha(static_cast<unsigned char>(html[lt + 1])) &&
           std::string_view("/!?").find(html[lt + 1]) == std::string_view::npos) {
      lt = html.find('<', lt + 1);
    }
    write_text(w, html.substr(i, std::min(lt, html.size()) - i), preformatted > 0);
    if (lt == std::string_view::npos) break;
    i = lt + 1;
    if (html.substr(i).starts_with("!--")) {  // a comment
      const auto end = html.find("-->", i + 3);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    // The tag's end, skipping '>' inside quoted attribute values.
    std::size_t end = i;
    char quote = 0;
    while (end < html.size() && (quote || html[end] != '>')) {
      if (quote && html[end] == quote) {
        quote = 0;
      } else if (!quote && (html[end] == '"' || html[end] == '\'') && end > i &&
                 html[end - 1] == '=') {
        quote = html[end];
      }
      ++end;
    }
    const auto tag = html.substr(i, end - i);
    i = std::min(end + 1, html.size());
    const bool closing = !tag.empty() && tag.front() == '/';
    const auto name_start = closing ? 1 : 0;
    std::size_t name_end = name_start;
    while (name_end < tag.size() && std::isalnum(static_cast<unsigned char>(tag[name_end]))) {
      ++name_end;
    }
    std::string name(tag.substr(name_start, name_end - name_start));
    std::transform(name.begin(), name.end(), name.begin(), lower);
    if (name.empty()) continue;  // <!DOCTYPE>, <?xml?>, or a stray '<'
    if (!closing && one_of(name, {"script", "style", "head", "title", "template"})) {
      // Skip to the matching end tag.
      const std::string close = "</" + name;
      std::size_t at = i;
      while (at < html.size()) {
        at = html.find("</", at);
        if (at == std::string_view::npos || istarts_with(html.substr(at), close)) break;
        at += 2;
      }
      if (at == std::string_view::npos) break;
      const auto gt = html.find('>', at);
      i = gt == std::string_view::npos ? html.size() : gt + 1;
      continue;
    }
    if (name == "br") {
      w.line_break();
    } else if (one_of(name,
                      {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "hr"})) {
      w.paragraph();
    } else if (one_of(name, {"div", "tr", "section", "article", "header", "footer", "dt", "dd",
                             "address", "center"})) {
      w.block();
    } else if (name == "li" && !closing) {
      w.block();
      w.word("-");
      w.space();
    } else if (name == "td" || name == "th") {
      w.space();
    } else if (name == "blockquote") {
      w.quote(closing ? -1 : 1);
    } else if (name == "pre") {
      w.block();
      preformatted = std::max(0, preformatted + (closing ? -1 : 1));
    } else if (name == "img" && !closing) {
      if (const auto alt = attribute(tag.substr(name_end), "alt"); !core::trim(alt).empty()) {
        w.word("[" + std::string(core::trim(alt)) + "]");
      }
    } else if (name == "a") {
      if (!closing) {
        link = attribute(tag.substr(name_end), "href");
      } else if (!link.empty()) {
        if (istarts_with(link, "http:") || istarts_with(link, "https:") ||
            istarts_with(link, "mailto:")) {
          w.space();
          w.word("<" + link + ">");
        }
        link.clear();
      }
    }
  }
  return w.finish();
}

std::size_t fold_line(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t start = 0;;) {
    const auto nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  const std::size_t n = lines.size();
  std::size_t cut = n;

  // A quoted tail, with the attribution line (perhaps wrapped over two) that introduces it.
  std::size_t j = n;
  bool quoted = false;
  while (j > 0 && (is_blank(lines[j - 1]) || is_quoted(lines[j - 1]))) {
    quoted = quoted || is_quoted(lines[j - 1]);
    --j;
  }
  if (quoted) {
    cut = j;
    std::size_t k = j;
    while (k > 0 && is_blank(lines[k - 1])) --k;
    if (k > 0 && is_attribution(lines[k - 1])) {
      cut = k - 1;
      if (k > 1 && !is_blank(lines[k - 2]) && !is_attribution(lines[k - 2]) &&
          is_attribution(std::string(lines[k - 2]) + " " + std::string(lines[k - 1])) &&
          istarts_with(core::trim(lines[k - 2]), "On ")) {
        cut = k - 2;
      }
    }
  }
  // A signature or an unquoted original before that.
  for (std::size_t i = 1; i < cut; ++i) {
    const auto line = lines[i];
    const bool signature = line == "-- " || line == "--" || line == "-- \r" || line == "--\r";
    if (signature || starts_original(lines, i)) {
      cut = i;
      break;
    }
  }
  while (cut > 0 && is_blank(lines[cut - 1])) --cut;
  return cut == 0 ? n : cut;
}

}  // namespace askdesk::connectors::email
