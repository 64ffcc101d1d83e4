// UTF-8 helpers for text that arrives from outside (webhooks, mail, widgets). Every string
// askdesk stores is valid UTF-8: edges either reject bad input or repair it with these.
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace askdesk::core {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` with every ill-formed sequence replaced by U+FFFD.
std::string repair_utf8(std::string_view text);

// The longest prefix of valid UTF-8 `text` that fits in `max_bytes` without splitting a
// character.
std::string_view truncate_utf8(std::string_view text, std::size_t max_bytes);

// A one-line preview of valid UTF-8 `text` for lists: whitespace runs become one space,
// and past `max_bytes` it is cut at a character boundary and ends with "…".
std::string preview(std::string_view text, std::size_t max_bytes);

// Number of Unicode code points in valid UTF-8 `text`.
std::size_t count_code_points(std::string_view text);

// `text` with ASCII letters in lower case (header names, addresses, keywords).
std::string ascii_lower(std::string_view text);

// `text` without leading and trailing ASCII whitespace (space, tab, CR, LF, FF, VT).
std::string_view trim(std::string_view text);

// Whether `url` is http:// or https:// with something after the scheme.
bool is_http_url(std::string_view url);

// An address mail can be sent to: local@domain, at most 254 bytes, with none of the
// characters that would make it several addresses or a header ("ada@example.org", not
// "a@b, c@d" or "<a@b>").
bool plausible_email(std::string_view address);

// "https://library.example.org/path" -> "https://library.example.org" (the URL itself when it
// has no scheme or no path).
std::string origin_of(std::string_view url);

}  // namespace askdesk::core
