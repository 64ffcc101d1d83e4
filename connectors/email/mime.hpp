// Reading and writing Internet mail with GMime 3: a raw message (RFC 5322 and MIME) becomes
// what askdesk needs of it, and a reply becomes a message ready for SMTP. Everything the
// parser is given is untrusted: any bytes give a result, never a crash; what could not be
// read is said in `problems`.
//
// Not thread-safe across threads that both initialise GMime: the daemon calls these on its
// one I/O thread (tests and the fuzzer on theirs).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/message.hpp"
#include "daemon/core/time.hpp"

namespace askdesk::connectors::email {

struct parse_limits {
  std::size_t max_text_bytes = core::max_text_bytes;  // longer text is cut, with a note
  std::size_t max_attachments = 50;                   // more are counted, not listed
};

// A delivery status notification (RFC 3464): which of our messages did not arrive, and why.
struct delivery_report {
  std::string original_message_id;  // without <>
  std::string action;               // "failed", "delayed", "delivered", ...
  std::string status;               // "5.1.1"
  std::string recipient;            // Final-Recipient's address
  std::string diagnostic;           // Diagnostic-Code's text, or the report's own words
};

struct parsed_mail {
  std::string message_id;  // without <>; "" when absent or empty
  std::string from_address;
  std::string from_name;
  std::string subject;
  std::optional<core::timestamp> date;
  std::vector<std::string> in_reply_to;  // message ids, without <>
  std::vector<std::string> references;   // oldest first, without <>
  // Everything readable, as UTF-8 text: the chosen body (plain preferred, else HTML as
  // text), forwarded messages with their headers, notes of what could not be read.
  std::string text;
  std::vector<core::attachment> attachments;
  // The loop-relevant headers (core::loop_headers) as facts.
  std::map<std::string, std::string> facts;
  std::optional<delivery_report> report;  // set for a delivery status notification
  std::vector<std::string> problems;      // what was damaged or left out
};

parsed_mail parse_mail(std::string_view raw, const parse_limits& limits = {});

// Only the headers of a message (a message too large to fetch whole): no body, no problems
// about its absence.
parsed_mail parse_headers(std::string_view raw_headers);

struct outgoing_mail {
  std::string from_address;
  std::string from_name;
  std::string reply_to;  // "" for none
  std::string to_address;
  std::string to_name;
  std::string subject;
  std::string message_id;               // without <>
  std::string in_reply_to;              // without <>; "" for none
  std::vector<std::string> references;  // oldest first, without <>
  core::timestamp date{};
  std::string text;        // UTF-8; sent as text/plain in quoted-printable
  bool automatic = false;  // an automatic reply: Auto-Submitted: auto-replied (RFC 3834)
};

// The message in RFC 5322 form with CRLF line ends: headers folded, non-ASCII words
// encoded (RFC 2047), the body in quoted-printable with lines under 78 characters.
std::string compose_mail(const outgoing_mail& m);

// "Re: " + subject unless it already starts with a reply prefix; "Re: " + fallback if empty.
std::string reply_subject(std::string_view subject, std::string_view fallback);

}  // namespace askdesk::connectors::email
