// The email connector's config block (README.md's table), read once by the factory. Every
// check that can be made before a server is asked is made here, so `askdesk check-config`
// names the problem with its JSON path: the mail URLs' schemes and mailbox names (a name with
// a quote or a backslash would break out of the IMAP commands it is quoted in), the addresses,
// the CA file (absolute, readable, with a certificate: the daemon's working directory is not
// the config's), and `insecure` against `ca_file`. Whether TLS is required is decided here
// too, from the URL's scheme and host, and every request to the servers starts from
// login_request(), so the poller and the sender cannot disagree.

#include <algorithm>

#include "connectors/email/email_parts.hpp"
#include "connectors/transport_settings.hpp"
#include "daemon/core/text.hpp"
#include "daemon/net/http.hpp"

namespace askdesk::connectors::email {

namespace {

// Reads "imaps://mail.example.org:993/INBOX"; nullopt with the reason otherwise.
std::optional<mail_url> parse_mail_url(std::string_view url, bool imap, std::string& why) {
  mail_url u;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    why = imap ? "must be imap://host/MAILBOX or imaps://host/MAILBOX"
               : "must be smtp://host:587 or smtps://host:465";
    return std::nullopt;
  }
  u.scheme = url.substr(0, sep);
  if (imap ? u.scheme != "imap" && u.scheme != "imaps"
           : u.scheme != "smtp" && u.scheme != "smtps") {
    why = imap ? "must start with imap:// or imaps://" : "must start with smtp:// or smtps://";
    return std::nullopt;
  }
  auto rest = url.substr(sep + 3);
  const auto slash = rest.find('/');
  u.authority = rest.substr(0, slash);
  u.path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  if (u.authority.empty() || u.authority.find('@') != std::string::npos ||
      rest.find_first_of("?#") != std::string_view::npos) {
    why = "must name a host, without user, password or query (use username and password)";
    return std::nullopt;
  }
  u.host = u.authority;
  if (u.host.starts_with('[')) {
    u.host = u.host.substr(1, u.host.find(']') - 1);
  } else if (const auto colon = u.host.rfind(':'); colon != std::string::npos) {
    u.host = u.host.substr(0, colon);
  }
  if (imap) {
    if (u.path.empty()) u.path = "INBOX";
    const auto mailbox = net::percent_decode(u.path, false);
    if (!mailbox || u.path.find(';') != std::string::npos ||
        std::any_of(mailbox->begin(), mailbox->end(), [](unsigned char c) {
          return c < ' ' || c == 0x7F || c == '"' || c == '\\';
        })) {
      why = "the mailbox name must not contain \", \\, ; or control characters";
      return std::nullopt;
    }
    u.mailbox = *mailbox;
  } else if (!u.path.empty()) {
    why = "must not have a path";
    return std::nullopt;
  }
  return u;
}

}  // namespace

bool email_settings::require_tls(const mail_url& u) const {
  return (u.scheme == "imap" || u.scheme == "smtp") &&
         (!ca_file.empty() || (!insecure && !is_loopback(u.host)));
}

net::outgoing_request email_settings::login_request(const mail_url& server) const {
  net::outgoing_request r;
  r.protocols = server.scheme.starts_with("imap") ? "imap,imaps" : "smtp,smtps";
  r.require_tls = require_tls(server);
  r.ca_file = ca_file;
  r.username = username;
  r.password = password;
  return r;
}

std::unique_ptr<email_settings> parse_settings(json::object_reader& block) {
  auto s = std::make_unique<email_settings>();
  auto& out = block.out();
  std::string why;
  if (auto url = block.required_string("imap_url")) {
    if (auto u = parse_mail_url(*url, true, why)) {
      s->imap = *u;
    } else {
      out.add(block.child_path("imap_url"), why);
    }
  }
  if (auto url = block.required_string("smtp_url")) {
    s->smtp_url = *url;
    if (auto u = parse_mail_url(*url, false, why)) {
      s->smtp = *u;
    } else {
      out.add(block.child_path("smtp_url"), why);
    }
  }
  if (auto v = block.required_string("username")) s->username = *v;
  if (auto v = block.required_string("password")) s->password = *v;
  if (auto v = block.required_string("address")) {
    s->address = *v;
    if (!core::plausible_email(*v)) {
      out.add(block.child_path("address"), "must be an email address, like ask@library.org");
    }
  }
  s->from_name = block.string("from_name", "");
  s->reply_to = block.string("reply_to", "");
  if (!s->reply_to.empty() && !core::plausible_email(s->reply_to)) {
    out.add(block.child_path("reply_to"), "must be an email address");
  }
  s->subject = block.string("subject", s->subject);
  s->move_to = block.string("move_to", "");
  if (s->move_to.find_first_of("\"\\\r\n") != std::string::npos) {
    out.add(block.child_path("move_to"), "a folder name without \", \\ or line breaks");
  }
  s->poll_every = std::chrono::seconds(block.integer("poll_seconds", 30, 1, 3600));
  s->max_message_bytes =
      static_cast<std::size_t>(block.integer("max_message_mb", 40, 1, 1024)) * 1024 * 1024;
  s->reopen_window = std::chrono::hours(24 * block.integer("reopen_days", 30, 0, 3650));
  s->insecure = block.boolean("insecure", false);
  s->ca_file = block.string("ca_file", "");
  if (!s->ca_file.empty()) {
    if (const auto problem = unusable_ca_file(s->ca_file); !problem.empty()) {
      out.add(block.child_path("ca_file"), problem);
    }
    if (s->insecure) {
      out.add(block.child_path("insecure"),
              "cannot go with ca_file, which asks for TLS to every host");
    }
  }
  return s;
}

}  // namespace askdesk::connectors::email
