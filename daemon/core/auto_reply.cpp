#include "daemon/core/auto_reply.hpp"

#include "daemon/core/channel.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "daemon/core/text.hpp"

namespace askdesk::core {

namespace {

const std::string* fact(const inbound_message& m, std::string_view key) {
  const auto it = m.facts.find(std::string(key));
  return it == m.facts.end() ? nullptr : &it->second;
}

// Why the address's local part marks a machine or a list, or nullopt.
std::optional<std::string> automated_address(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const std::string local = ascii_lower(address.substr(0, at));
  static constexpr std::array<std::string_view, 7> machines = {
      "mailer-daemon", "postmaster", "listserv",    "majordomo",
      "no-reply",      "noreply",    "do-not-reply"};
  if (std::find(machines.begin(), machines.end(), local) != machines.end()) {
    return "sender " + std::string(address) + " is automated";
  }
  if (local.ends_with("-request") || local.starts_with("owner-")) {
    return "sender " + std::string(address) + " is a mailing list";
  }
  return std::nullopt;
}

bool language_subtag(std::string_view s, std::size_t min, std::size_t max) {
  return s.size() >= min && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c); });
}

}  // namespace

std::string_view fact_for_header(std::string_view header) {
  const std::string name = ascii_lower(header);
  for (const auto& h : loop_headers) {
    if (name == ascii_lower(h.header)) return h.fact;
  }
  return {};
}

std::optional<std::string> automated_sender(const inbound_message& m) {
  if (const auto* v = fact(m, fact_auto_submitted)) {
    // "auto-replied; owner-email=..." -> "auto-replied"; only "no" marks a person.
    const std::string token = ascii_lower(trim(std::string_view(*v).substr(0, v->find(';'))));
    if (!token.empty() && token != "no") return "Auto-Submitted: " + std::string(trim(*v));
  }
  if (const auto* v = fact(m, fact_precedence)) {
    const std::string value = ascii_lower(trim(*v));
    if (value == "bulk" || value == "list" || value == "junk") return "Precedence: " + value;
  }
  if (const auto* v = fact(m, fact_list_id); v && !trim(*v).empty()) {
    return "a mailing list (List-Id " + std::string(trim(*v)) + ")";
  }
  if (const auto* v = fact(m, fact_return_path)) {
    auto path = trim(*v);
    if (path.starts_with('<') && path.ends_with('>')) path = path.substr(1, path.size() - 2);
    if (trim(path).empty()) return "an empty envelope sender (a bounce)";
    if (auto why = automated_address(path)) return why;
  }
  if (const auto* v = fact(m, fact_auto_response_suppress)) {
    const std::string value = ascii_lower(*v);
    if (value.find("all") != std::string::npos || value.find("autoreply") != std::string::npos ||
        value.find("oof") != std::string::npos) {
      return "X-Auto-Response-Suppress: " + std::string(trim(*v));
    }
  }
  if (trim(m.sender_address).empty()) return "no sender";
  return automated_address(m.sender_address);
}

sms_keyword sms_keyword_of(std::string_view text) {
  static const channel_traits sms = [] {
    channel_traits t;
    t.opt_out_keywords.assign(std::begin(sms_opt_out_words), std::end(sms_opt_out_words));
    t.opt_in_keywords.assign(std::begin(sms_opt_in_words), std::end(sms_opt_in_words));
    t.help_keywords.assign(std::begin(sms_help_words), std::end(sms_help_words));
    return t;
  }();
  switch (keyword_of(sms, text)) {
    case channel_keyword::opt_out:
      return sms_keyword::opt_out;
    case channel_keyword::opt_in:
      return sms_keyword::opt_in;
    case channel_keyword::help:
      return sms_keyword::help;
    case channel_keyword::none:
      break;
  }
  return sms_keyword::none;
}

std::optional<std::string> normalize_language(std::string_view tag) {
  if (tag.empty() || tag.size() > 35) return std::nullopt;
  std::string out = ascii_lower(tag);
  std::replace(out.begin(), out.end(), '_', '-');
  std::size_t start = 0;
  bool first = true;
  while (start <= out.size()) {
    const auto end = std::min(out.find('-', start), out.size());
    const std::string_view part(out.data() + start, end - start);
    const bool fits = first ? language_subtag(part, 2, 3) &&
                                  std::all_of(part.begin(), part.end(),
                                              [](unsigned char c) { return std::isalpha(c); })
                            : language_subtag(part, 1, 8);
    if (!fits) return std::nullopt;
    first = false;
    start = end + 1;
  }
  return out;
}

std::optional<chosen_template> choose_template(const message_templates& templates,
                                               std::string_view channel, std::string_view language,
                                               std::string_view fallback_language) {
  auto by_channel = templates.find(channel);
  if (by_channel == templates.end()) by_channel = templates.find("*");
  if (by_channel == templates.end() || by_channel->second.empty()) return std::nullopt;
  const auto& texts = by_channel->second;
  const std::string wanted = normalize_language(language).value_or("");
  const std::string primary = wanted.substr(0, wanted.find('-'));
  for (std::string_view key : {std::string_view(wanted), std::string_view(primary),
                               fallback_language, std::string_view("en")}) {
    if (key.empty()) continue;
    if (const auto it = texts.find(key); it != texts.end())
      return chosen_template{it->second, it->first};
  }
  return chosen_template{texts.begin()->second, texts.begin()->first};
}

std::string fill_template(std::string_view text, const template_values& values) {
  std::string out;
  out.reserve(text.size() + 64);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '{') {
      const auto close = text.find('}', i);
      if (close != std::string_view::npos) {
        const auto name = text.substr(i + 1, close - i - 1);
        if (const auto it = values.find(name); it != values.end()) {
          if (it->second.empty()) {
            // Drop the space before an empty value when punctuation follows it.
            const char next = close + 1 < text.size() ? text[close + 1] : '\0';
            if (!out.empty() && out.back() == ' ' &&
                (next == ',' || next == '.' || next == '!' || next == '?' || next == ';')) {
              out.pop_back();
            }
          }
          out += it->second;
          i = close;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

std::optional<std::string> template_problem(std::string_view text,
                                            std::span<const std::string_view> known) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      ++i;
      continue;
    }
    if (c == '}') return "a lone '}' (write '}}' for a brace)";
    if (c != '{') continue;
    const auto close = text.find('}', i);
    if (close == std::string_view::npos) return "a '{' without its '}' (write '{{' for a brace)";
    const auto name = text.substr(i + 1, close - i - 1);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto k : known) list += (list.empty() ? "{" : ", {") + std::string(k) + "}";
      return "unknown placeholder {" + std::string(name) + "}; use " + list;
    }
    i = close;
  }
  return std::nullopt;
}

}  // namespace askdesk::core
