#include "daemon/core/channel.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "daemon/core/message.hpp"
#include "daemon/core/text.hpp"

namespace askdesk::core {

namespace {

constexpr std::array<std::pair<length_unit, std::string_view>, 5> unit_names = {{
    {length_unit::characters, "characters"},
    {length_unit::graphemes, "graphemes"},
    {length_unit::gsm_segments, "gsm_segments"},
    {length_unit::bytes, "bytes"},
    {length_unit::graphemes_short_urls, "graphemes_short_urls"},
}};

bool url_start(std::string_view text, std::size_t at) {
  const auto rest = ascii_lower(text.substr(at, 8));
  return rest.starts_with("http://") || rest.starts_with("https://");
}

bool handle_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

// `text` as Mastodon counts it: each URL (http(s):// up to the next space) as 23 characters,
// each @user@domain as @user.
std::string shortened(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  const auto boundary = [&](std::size_t at) {
    return at == 0 || std::isspace(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '(';
  };
  while (i < text.size()) {
    if (boundary(i) && url_start(text, i)) {
      std::size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      out.append(23, 'x');
      i = j;
      continue;
    }
    if (text[i] == '@' && boundary(i)) {
      std::size_t user_end = i + 1;
      while (user_end < text.size() && handle_char(text[user_end]) && text[user_end] != '.') {
        ++user_end;
      }
      std::size_t domain_end = user_end + 1;
      while (domain_end < text.size() && handle_char(text[domain_end])) ++domain_end;
      if (user_end > i + 1 && user_end < text.size() && text[user_end] == '@' &&
          domain_end > user_end + 1) {
        out.append(text.substr(i, user_end - i));
        i = domain_end;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

// Calls `fn(code point)` for each code point of valid UTF-8 `text`.
template <typename Fn>
void for_each_code_point(std::string_view text, Fn fn) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t at = 0;
  const auto size = static_cast<utf8proc_ssize_t>(text.size());
  while (at < size) {
    utf8proc_int32_t c = 0;
    const auto n = utf8proc_iterate(bytes + at, size - at, &c);
    if (n <= 0) {  // not valid UTF-8 after all: count the byte as one character
      fn(0xFFFD);
      ++at;
      continue;
    }
    fn(c);
    at += n;
  }
}

// 3GPP TS 23.038: the GSM-7 default alphabet and its extension table (two septets each).
constexpr std::u32string_view gsm_basic =
    U"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1b"
    U"ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    U"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
constexpr std::u32string_view gsm_extended = U"\f^{}\\[~]|€";

}  // namespace

std::string_view name_of(length_unit unit) {
  for (const auto& [u, name] : unit_names) {
    if (u == unit) return name;
  }
  return "characters";
}

std::optional<length_unit> length_unit_named(std::string_view name) {
  for (const auto& [u, n] : unit_names) {
    if (n == name) return u;
  }
  return std::nullopt;
}

sms_segments count_sms_segments(std::string_view text) {
  sms_segments s;
  std::size_t septets = 0, utf16 = 0;
  for_each_code_point(text, [&](char32_t c) {
    utf16 += c > 0xFFFF ? 2 : 1;
    if (gsm_basic.find(c) != std::u32string_view::npos) {
      septets += 1;
    } else if (gsm_extended.find(c) != std::u32string_view::npos) {
      septets += 2;
    } else {
      s.gsm7 = false;
    }
  });
  s.units = s.gsm7 ? septets : utf16;
  if (s.units == 0) return s;
  const std::size_t single = s.gsm7 ? 160 : 70, part = s.gsm7 ? 153 : 67;
  s.segments = s.units <= single ? 1 : (s.units + part - 1) / part;
  return s;
}

std::size_t measure(std::string_view text, length_unit unit) {
  switch (unit) {
    case length_unit::bytes:
      return text.size();
    case length_unit::gsm_segments:
      return count_sms_segments(text).segments;
    case length_unit::graphemes_short_urls:
      return measure(shortened(text), length_unit::graphemes);
    case length_unit::graphemes: {
      std::size_t count = 0;
      utf8proc_int32_t previous = -1, state = 0;
      for_each_code_point(text, [&](char32_t c) {
        const auto code = static_cast<utf8proc_int32_t>(c);
        if (previous < 0 || utf8proc_grapheme_break_stateful(previous, code, &state)) ++count;
        previous = code;
      });
      return count;
    }
    case length_unit::characters:
      break;
  }
  return count_code_points(text);
}

channel_keyword keyword_of(const channel_traits& traits, std::string_view text) {
  auto word = trim(text);
  while (!word.empty() && (word.back() == '.' || word.back() == '!')) word.remove_suffix(1);
  const std::string w = ascii_lower(trim(word));
  if (w.empty()) return channel_keyword::none;
  const auto in = [&w](const std::vector<std::string>& list) {
    return std::any_of(list.begin(), list.end(),
                       [&w](const std::string& k) { return ascii_lower(k) == w; });
  };
  if (in(traits.opt_out_keywords)) return channel_keyword::opt_out;
  if (in(traits.opt_in_keywords)) return channel_keyword::opt_in;
  if (in(traits.help_keywords)) return channel_keyword::help;
  return channel_keyword::none;
}

void mark_keyword(inbound_message& m, const channel_traits& traits) {
  if (m.facts.contains("offline_form")) return;
  switch (keyword_of(traits, m.text)) {
    case channel_keyword::opt_out:
      m.facts[std::string(fact_keyword)] = "opt_out";
      break;
    case channel_keyword::opt_in:
      m.facts[std::string(fact_keyword)] = "opt_in";
      break;
    case channel_keyword::help:
      m.facts[std::string(fact_keyword)] = "help";
      break;
    case channel_keyword::none:
      break;
  }
}

std::optional<std::string> too_long(const channel_traits& traits, std::string_view text) {
  const std::size_t length = measure(text, traits.unit);
  if (length <= traits.max_length) return std::nullopt;
  std::string unit(name_of(traits.unit));
  std::replace(unit.begin(), unit.end(), '_', ' ');
  if (traits.unit == length_unit::gsm_segments) unit = "SMS segments";
  if (traits.unit == length_unit::graphemes_short_urls) unit = "characters (a link counts 23)";
  return "the text is " + std::to_string(length) + " " + unit + " long; " + traits.display_name +
         " carries at most " + std::to_string(traits.max_length);
}

}  // namespace askdesk::core
