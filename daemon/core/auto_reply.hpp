// The rules of automatic replies (RFC 3834 and SMS opt-out), and the templates they are
// written from. The after-hours acknowledgement (hub/after_hours.hpp) asks these before it
// answers anyone: never an automated sender, never a list, never a patron who opted out.
//
// Pure functions over values; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "daemon/core/message.hpp"

namespace askdesk::core {

// The inbound facts a connector sets from a message's headers for these rules (email):
//   auto_submitted   Auto-Submitted, e.g. "auto-replied"; absent or "no" for a person
//   precedence       Precedence, e.g. "bulk"
//   list_id          List-Id, present for mailing lists
//   return_path      the envelope sender (Return-Path) without <>; "" for bounces
//   auto_response_suppress   X-Auto-Response-Suppress (Exchange), e.g. "All" or "OOF"
inline constexpr std::string_view fact_auto_submitted = "auto_submitted";
inline constexpr std::string_view fact_precedence = "precedence";
inline constexpr std::string_view fact_list_id = "list_id";
inline constexpr std::string_view fact_return_path = "return_path";
inline constexpr std::string_view fact_auto_response_suppress = "auto_response_suppress";
// The language the patron writes in, as a BCP 47 tag ("fr-CA"), when the channel knows it.
inline constexpr std::string_view fact_language = "language";

// The mail headers those facts come from, as they are usually written.
struct header_fact {
  std::string_view header;
  std::string_view fact;
};
inline constexpr header_fact loop_headers[] = {
    {"Auto-Submitted", fact_auto_submitted},
    {"Precedence", fact_precedence},
    {"List-Id", fact_list_id},
    {"Return-Path", fact_return_path},
    {"X-Auto-Response-Suppress", fact_auto_response_suppress},
    {"Content-Language", fact_language}};
// The fact a header sets ("Auto-Submitted" -> "auto_submitted", any case); "" for others.
std::string_view fact_for_header(std::string_view header);

// Why `m` comes from a machine or a list and must get no automatic reply, or nullopt for a
// person: Auto-Submitted other than "no", Precedence bulk/list/junk, a List-Id, an empty
// envelope sender, auto-responses suppressed, or an address like MAILER-DAEMON@,
// LISTSERV@, *-request@, owner-*@ or no-reply@.
std::optional<std::string> automated_sender(const inbound_message& m);

// A whole SMS that is one of the carrier keywords: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
// QUIT opt out; START, UNSTOP, YES opt back in; HELP, INFO ask for help. Case, spaces and
// trailing punctuation do not matter.
inline constexpr std::string_view sms_opt_out_words[] = {"STOP",   "STOPALL", "UNSUBSCRIBE",
                                                         "CANCEL", "END",     "QUIT"};
inline constexpr std::string_view sms_opt_in_words[] = {"START", "UNSTOP", "YES"};
inline constexpr std::string_view sms_help_words[] = {"HELP", "INFO"};
enum class sms_keyword { none, opt_out, opt_in, help };
sms_keyword sms_keyword_of(std::string_view text);

// "fr-CA" -> "fr-ca"; nullopt unless a plausible BCP 47 tag (2-3 letters, then subtags).
std::optional<std::string> normalize_language(std::string_view tag);

// Templates by channel ("*" for any other), then by language ("en", "fr-ca").
using language_templates = std::map<std::string, std::string, std::less<>>;
using message_templates = std::map<std::string, language_templates, std::less<>>;

struct chosen_template {
  std::string text;
  std::string language;  // the key it was found under
};

// The template for `channel` (else "*") in `language` (else its primary subtag, else
// `fallback_language`, else "en", else the first there is); nullopt when the channel has
// none.
std::optional<chosen_template> choose_template(const message_templates& templates,
                                               std::string_view channel, std::string_view language,
                                               std::string_view fallback_language);

using template_values = std::map<std::string, std::string, std::less<>>;

// `text` with each {name} replaced by its value; "{{" and "}}" are literal braces. An empty
// value leaves no stray space before punctuation ("Hello {patron_name}," -> "Hello,").
std::string fill_template(std::string_view text, const template_values& values);

// The first {name} in `text` that is not in `known`, or a description of a lone brace;
// nullopt when the template is sound.
std::optional<std::string> template_problem(std::string_view text,
                                            std::span<const std::string_view> known);

}  // namespace askdesk::core
