// GMime does the hard parts (header decoding, charsets, transfer encodings, multipart
// boundaries, broken input); this file decides what a librarian sees of the result.
#include "connectors/email/mime.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "connectors/email/mail_text.hpp"
#include "daemon/core/auto_reply.hpp"
#include "daemon/core/text.hpp"

namespace askdesk::connectors::email {

namespace {

constexpr int max_depth = 16;               // nested multiparts and forwarded messages
constexpr std::size_t max_references = 50;  // the most recent ones are kept
constexpr std::size_t max_id_bytes = 500;

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct unref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using gobject = std::unique_ptr<T, unref>;

struct gfree {
  void operator()(void* p) const { g_free(p); }
};
using gstring = std::unique_ptr<char, gfree>;

std::string utf8(const char* text) { return text ? core::repair_utf8(text) : std::string(); }

// A message id as we keep it: no <>, no spaces or controls, not too long; "" otherwise.
std::string clean_id(std::string_view id) {
  std::string s(core::trim(id));
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > max_id_bytes) return "";
  for (const unsigned char c : s) {
    if (c <= ' ' || c == '<' || c == '>' || c >= 0x7F) return "";
  }
  return s;
}

// The message ids in a References or In-Reply-To value, oldest first.
std::vector<std::string> ids_in(const char* value) {
  std::vector<std::string> ids;
  if (!value) return ids;
  GMimeReferences* refs = g_mime_references_parse(nullptr, value);
  if (!refs) return ids;
  const int n = g_mime_references_length(refs);
  for (int i = std::max(0, n - static_cast<int>(max_references)); i < n; ++i) {
    if (auto id = clean_id(g_mime_references_get_message_id(refs, i)); !id.empty()) {
      ids.push_back(std::move(id));
    }
  }
  g_mime_references_free(refs);
  return ids;
}

// The bytes of a part's content, transfer encoding undone.
std::string content_of(GMimePart* part, std::size_t limit) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (!wrapper) return "";
  gobject<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(wrapper, mem.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data),
                     std::min<std::size_t>(bytes->len, limit));
}

// The decoded size of a part's content, without keeping it.
std::int64_t decoded_size(GMimePart* part) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (!wrapper) return 0;
  gobject<GMimeStream> null(g_mime_stream_null_new());
  g_mime_data_wrapper_write_to_stream(wrapper, null.get());
  return static_cast<std::int64_t>(GMIME_STREAM_NULL(null.get())->written);
}

std::string mime_type_of(GMimeObject* o) {
  GMimeContentType* ct = g_mime_object_get_content_type(o);
  if (!ct) return "application/octet-stream";
  gstring type(g_mime_content_type_get_mime_type(ct));
  return core::ascii_lower(type ? type.get() : "application/octet-stream");
}

// "Name: value" fields of a delivery-status body, in blocks separated by blank lines
// (per-message fields, then one block per recipient); names in lower case.
using field_block = std::map<std::string, std::string>;
std::vector<field_block> status_blocks(std::string_view body) {
  std::vector<field_block> blocks(1);
  std::string last;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (core::trim(line).empty()) {
      if (!blocks.back().empty()) blocks.emplace_back();
      last.clear();
      continue;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !last.empty()) {
      blocks.back()[last] += " " + std::string(core::trim(line));
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = core::ascii_lower(core::trim(line.substr(0, colon)));
    blocks.back()[name] = std::string(core::trim(line.substr(colon + 1)));
    last = name;
  }
  return blocks;
}

// "rfc822; ada@example.org" -> "ada@example.org"; "smtp; 550 5.1.1 ..." -> "550 5.1.1 ...".
std::string after_type(const std::string& value) {
  const auto semi = value.find(';');
  return std::string(core::trim(semi == std::string::npos ? value : value.substr(semi + 1)));
}

// One recipient's block of a delivery status: its action, status, address and diagnostic.
void read_recipient(const field_block& block, delivery_report& r) {
  const auto field = [&](const char* name) {
    const auto f = block.find(name);
    return f == block.end() ? std::string() : f->second;
  };
  r.action = core::ascii_lower(field("action"));
  r.status = field("status");
  r.recipient = after_type(field("final-recipient"));
  r.diagnostic = core::truncate_utf8(core::repair_utf8(after_type(field("diagnostic-code"))), 1000);
}

void read_headers(GMimeMessage* msg, parsed_mail& out) {
  auto* object = GMIME_OBJECT(msg);
  out.message_id =
      clean_id(g_mime_message_get_message_id(msg) ? g_mime_message_get_message_id(msg) : "");
  out.subject = utf8(g_mime_message_get_subject(msg));
  if (InternetAddressList* from = g_mime_message_get_from(msg)) {
    for (int i = 0; i < internet_address_list_length(from); ++i) {
      InternetAddress* a = internet_address_list_get_address(from, i);
      if (!INTERNET_ADDRESS_IS_MAILBOX(a)) continue;
      out.from_address = utf8(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
      out.from_name = utf8(internet_address_get_name(a));
      break;
    }
  }
  if (GDateTime* date = g_mime_message_get_date(msg)) {
    out.date = core::from_millis(g_date_time_to_unix(date) * 1000);
  }
  out.in_reply_to = ids_in(g_mime_object_get_header(object, "In-Reply-To"));
  out.references = ids_in(g_mime_object_get_header(object, "References"));
  for (const auto& [header, fact] : core::loop_headers) {
    const char* value = g_mime_object_get_header(object, std::string(header).c_str());
    if (!value) continue;
    std::string v(core::trim(utf8(value)));
    if (fact == core::fact_return_path && v.size() >= 2 && v.front() == '<' && v.back() == '>') {
      v = std::string(core::trim(std::string_view(v).substr(1, v.size() - 2)));
    }
    if (fact == core::fact_language) v = v.substr(0, v.find_first_of(", "));
    out.facts[std::string(fact)] = core::truncate_utf8(v, 256);
  }
}

class body_reader {
 public:
  body_reader(const parse_limits& limits, parsed_mail& out) : limits_(limits), out_(out) {}

  void visit(GMimeObject* o, int depth) {
    if (depth > max_depth) {
      note("parts nested deeper than " + std::to_string(max_depth) + " levels are left out");
      return;
    }
    if (GMIME_IS_MULTIPART(o)) {
      multipart(GMIME_MULTIPART(o), depth);
    } else if (GMIME_IS_MESSAGE_PART(o)) {
      forwarded(GMIME_MESSAGE_PART(o), depth);
    } else if (GMIME_IS_PART(o)) {
      part(GMIME_PART(o));
    }
  }

  std::string finish() {
    std::string text = std::move(text_);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    for (const auto& p : out_.problems) text += (text.empty() ? "" : "\n\n") + ("[" + p + "]");
    if (text.size() > limits_.max_text_bytes) {
      const std::string note = "\n\n[the rest of this message (" +
                               std::to_string(text.size() / 1024) + " KiB in all) is not shown]";
      const auto keep =
          limits_.max_text_bytes > note.size() ? limits_.max_text_bytes - note.size() : 0;
      text = std::string(core::truncate_utf8(text, keep)) + note;
    }
    return text;
  }

 private:
  void note(std::string problem) {
    if (std::find(out_.problems.begin(), out_.problems.end(), problem) == out_.problems.end()) {
      out_.problems.push_back(std::move(problem));
    }
  }

  void add_text(std::string text) {
    if (text.empty()) return;
    if (!text_.empty()) text_ += "\n\n";
    text_ += text;
  }

  static bool is_text(GMimeObject* o, std::string_view subtype) {
    return GMIME_IS_TEXT_PART(o) && !g_mime_part_is_attachment(GMIME_PART(o)) &&
           mime_type_of(o) == "text/" + std::string(subtype);
  }

  void multipart(GMimeMultipart* mp, int depth) {
    const int n = g_mime_multipart_get_count(mp);
    const std::string type = mime_type_of(GMIME_OBJECT(mp));
    if (type == "multipart/alternative") {
      // Plain text preferred; else HTML; else the richest (last) part, e.g. a related HTML.
      GMimeObject* chosen = nullptr;
      for (const std::string_view want : {"plain", "html"}) {
        for (int i = 0; i < n && !chosen; ++i) {
          if (is_text(g_mime_multipart_get_part(mp, i), want)) {
            chosen = g_mime_multipart_get_part(mp, i);
          }
        }
      }
      if (!chosen && n > 0) chosen = g_mime_multipart_get_part(mp, n - 1);
      if (chosen) visit(chosen, depth + 1);
      return;
    }
    if (type == "multipart/encrypted") {
      note("this message is encrypted: open it in a mail client");
      return;
    }
    if (type == "multipart/report" && depth == 0) {  // a report forwarded inside is just text
      report(mp, depth);
      return;
    }
    if (type == "multipart/signed") {  // the content, not its signature
      if (n > 0) visit(g_mime_multipart_get_part(mp, 0), depth + 1);
      return;
    }
    for (int i = 0; i < n; ++i) visit(g_mime_multipart_get_part(mp, i), depth + 1);
  }

  // A delivery status notification: its human part is the text; the machine part and the
  // returned original say which message failed.
  void report(GMimeMultipart* mp, int depth) {
    delivery_report r;
    bool machine = false;
    for (int i = 0; i < g_mime_multipart_get_count(mp); ++i) {
      GMimeObject* child = g_mime_multipart_get_part(mp, i);
      const std::string type = mime_type_of(child);
      if ((type == "message/delivery-status" || type == "message/global-delivery-status") &&
          GMIME_IS_PART(child)) {
        machine = true;
        // One block per recipient after the per-message one: the first failed recipient
        // is the one to report, else the first recipient.
        const auto blocks = status_blocks(content_of(GMIME_PART(child), 64 * 1024));
        const field_block* chosen = nullptr;
        for (const auto& block : blocks) {
          const auto action = block.find("action");
          if (action == block.end()) continue;
          const bool failed = core::ascii_lower(action->second) == "failed";
          if (!chosen || failed) chosen = &block;
          if (failed) break;
        }
        if (chosen) read_recipient(*chosen, r);
      } else if (GMIME_IS_MESSAGE_PART(child)) {
        if (GMimeMessage* original = g_mime_message_part_get_message(GMIME_MESSAGE_PART(child))) {
          const char* id = g_mime_message_get_message_id(original);
          r.original_message_id = clean_id(id ? id : "");
        }
      } else if (type == "text/rfc822-headers" && GMIME_IS_PART(child)) {
        r.original_message_id = parse_headers(content_of(GMIME_PART(child), 256 * 1024)).message_id;
      } else if (i == 0) {
        visit(child, depth + 1);  // the words for people
      }
    }
    if (machine) out_.report = std::move(r);
  }

  void forwarded(GMimeMessagePart* mp, int depth) {
    GMimeMessage* inner = g_mime_message_part_get_message(mp);
    if (!inner) return;
    parsed_mail headers;
    read_headers(inner, headers);
    std::string intro = "---------- Forwarded message ----------";
    if (!headers.from_address.empty()) {
      intro += "\nFrom: " + (headers.from_name.empty()
                                 ? headers.from_address
                                 : headers.from_name + " <" + headers.from_address + ">");
    }
    if (!headers.subject.empty()) intro += "\nSubject: " + headers.subject;
    add_text(intro);
    if (GMimeObject* body = g_mime_message_get_mime_part(inner)) visit(body, depth + 1);
  }

  void part(GMimePart* p) {
    auto* o = GMIME_OBJECT(p);
    if (is_text(o, "plain")) {
      add_text(text_of(GMIME_TEXT_PART(p)));
      return;
    }
    if (is_text(o, "html")) {
      add_text(html_to_text(text_of(GMIME_TEXT_PART(p))));
      return;
    }
    if (out_.attachments.size() >= limits_.max_attachments) {
      note("more than " + std::to_string(limits_.max_attachments) +
           " attachments: the rest are not listed");
      return;
    }
    core::attachment a;
    a.name = core::truncate_utf8(utf8(g_mime_part_get_filename(p)), 255);
    if (a.name.empty()) a.name = "attachment " + std::to_string(out_.attachments.size() + 1);
    a.content_type = mime_type_of(o);
    a.size = decoded_size(p);
    out_.attachments.push_back(std::move(a));
  }

  // The part's text in UTF-8 from its declared charset; bytes that are not text are replaced
  // (shown as U+FFFD, never silently dropped).
  std::string text_of(GMimeTextPart* p) {
    const char* declared = g_mime_text_part_get_charset(p);
    const std::string charset = declared ? core::ascii_lower(declared) : "";
    std::string s;
    if (charset.empty() || charset == "utf-8" || charset == "utf8" || charset == "us-ascii") {
      s = content_of(GMIME_PART(p), std::string::npos);
    } else {
      gstring text(g_mime_text_part_get_text(p));
      s = text ? text.get() : "";
    }
    if (!core::is_valid_utf8(s)) {
      note("some characters could not be read and are shown as \xEF\xBF\xBD");
      s = core::repair_utf8(s);
    }
    // CRLF and lone CR become LF.
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\r') {
        out += '\n';
        if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
      } else {
        out += s[i];
      }
    }
    return out;
  }

  const parse_limits& limits_;
  parsed_mail& out_;
  std::string text_;
};

gobject<GMimeMessage> parse_message(std::string_view raw) {
  init_gmime();
  gobject<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  gobject<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GMimeParserOptions* options = g_mime_parser_options_new();
  g_mime_parser_options_set_rfc2047_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_address_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
  // Undeclared 8-bit header text: UTF-8 if it is, else the usual Western mail charset.
  const char* fallback[] = {"UTF-8", "windows-1252", nullptr};
  g_mime_parser_options_set_fallback_charsets(options, fallback);
  gobject<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), options));
  g_mime_parser_options_free(options);
  return msg;
}

}  // namespace

parsed_mail parse_mail(std::string_view raw, const parse_limits& limits) {
  parsed_mail out;
  auto msg = parse_message(raw);
  if (!msg) {
    out.problems.push_back("this is not a mail message askdesk can read");
    out.text = "[" + out.problems.back() + "]";
    return out;
  }
  read_headers(msg.get(), out);
  body_reader reader(limits, out);
  if (GMimeObject* body = g_mime_message_get_mime_part(msg.get())) {
    reader.visit(body, 0);
  }
  out.text = reader.finish();
  return out;
}

parsed_mail parse_headers(std::string_view raw_headers) {
  parsed_mail out;
  std::string whole(raw_headers);
  if (!whole.ends_with("\r\n\r\n") && !whole.ends_with("\n\n")) whole += "\r\n\r\n";
  if (auto msg = parse_message(whole)) read_headers(msg.get(), out);
  return out;
}

std::string reply_subject(std::string_view subject, std::string_view fallback) {
  std::string s(core::trim(subject));
  if (s.empty()) s = core::trim(fallback);
  const auto lower3 = s.substr(0, 3);
  if (lower3.size() == 3 && (lower3[0] == 'R' || lower3[0] == 'r') &&
      (lower3[1] == 'E' || lower3[1] == 'e') && lower3[2] == ':') {
    return s;
  }
  return "Re: " + s;
}

std::string compose_mail(const outgoing_mail& m) {
  init_gmime();
  gobject<GMimeMessage> msg(g_mime_message_new(TRUE));
  g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_FROM, m.from_name.c_str(),
                             m.from_address.c_str());
  if (!m.reply_to.empty()) {
    g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_REPLY_TO, nullptr, m.reply_to.c_str());
  }
  g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_TO, m.to_name.c_str(),
                             m.to_address.c_str());
  g_mime_message_set_subject(msg.get(), m.subject.c_str(), "utf-8");
  GDateTime* date = g_date_time_new_from_unix_utc(core::to_millis(m.date) / 1000);
  g_mime_message_set_date(msg.get(), date);
  g_date_time_unref(date);
  auto* object = GMIME_OBJECT(msg.get());
  g_mime_object_set_header(object, "Message-ID", ("<" + m.message_id + ">").c_str(), nullptr);
  if (!m.in_reply_to.empty()) {
    g_mime_object_set_header(object, "In-Reply-To", ("<" + m.in_reply_to + ">").c_str(), nullptr);
  }
  if (!m.references.empty()) {
    std::string refs;
    for (const auto& id : m.references) refs += (refs.empty() ? "<" : " <") + id + ">";
    g_mime_object_set_header(object, "References", refs.c_str(), nullptr);
  }
  if (m.automatic) g_mime_object_set_header(object, "Auto-Submitted", "auto-replied", nullptr);

  gobject<GMimeTextPart> body(g_mime_text_part_new_with_subtype("plain"));
  gobject<GMimeStream> content(g_mime_stream_mem_new_with_buffer(m.text.data(), m.text.size()));
  gobject<GMimeDataWrapper> wrapper(
      g_mime_data_wrapper_new_with_stream(content.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(GMIME_PART(body.get()), wrapper.get());
  g_mime_text_part_set_charset(body.get(), "utf-8");
  g_mime_part_set_content_encoding(GMIME_PART(body.get()), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(body.get()));

  GMimeFormatOptions* format = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(format, GMIME_NEWLINE_FORMAT_DOS);
  gstring text(g_mime_object_to_string(object, format));
  g_mime_format_options_free(format);
  return text ? std::string(text.get()) : std::string();
}

}  // namespace askdesk::connectors::email
