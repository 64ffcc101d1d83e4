#include "connectors/email/email.hpp"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "connectors/email/mail_text.hpp"
#include "connectors/email/mime.hpp"
#include "daemon/core/text.hpp"
#include "daemon/net/crypto.hpp"
#include "daemon/net/curl_client.hpp"
#include "daemon/net/http.hpp"
#include "daemon/net/timer.hpp"
#include "daemon/store/redis_connection.hpp"
#include "daemon/store/scripts.hpp"

namespace askdesk::connectors {

namespace {

constexpr std::size_t max_uids_per_poll = 500;   // the rest wait for the next poll, at once
constexpr std::size_t reply_references = 20;     // References kept on our replies
constexpr int max_fetch_attempts = 5;            // polls in a row a message fails to fetch
constexpr char no_sender_suffix[] = "@invalid";  // RFC 2606: never a real domain

struct mail_url {
  std::string scheme;     // imap, imaps, smtp, smtps
  std::string authority;  // host[:port]
  std::string host;
  std::string path;     // the mailbox, URL-encoded ("Ask%20Desk"); "" for SMTP
  std::string mailbox;  // the same decoded, for IMAP commands ("Ask Desk")
};

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

bool is_loopback(std::string_view host) {
  in_addr v4{};
  return host == "localhost" || host == "::1" ||
         (inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1 &&
          (ntohl(v4.s_addr) >> 24) == 127);
}

// The numbers after a keyword in an IMAP answer: "* SEARCH 4 7 9" -> {4, 7, 9}.
std::vector<std::uint64_t> numbers_after(std::string_view text, std::string_view keyword) {
  std::vector<std::uint64_t> out;
  auto at = text.find(keyword);
  if (at == std::string_view::npos) return out;
  text.remove_prefix(at + keyword.size());
  text = text.substr(0, text.find('\n'));
  while (!text.empty()) {
    while (!text.empty() && !std::isdigit(static_cast<unsigned char>(text.front()))) {
      text.remove_prefix(1);
    }
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{}) break;
    out.push_back(v);
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  }
  return out;
}

// A Redis answer as a number (a cursor field, a UID); 0 when absent or not one.
std::uint64_t number_of(const store::reply& r) {
  std::uint64_t v = 0;
  if (r.is_string()) std::from_chars(r.str().data(), r.str().data() + r.str().size(), v);
  return v;
}

// Why `path` cannot serve as CURLOPT_CAINFO ("" when it can): an absolute path (the daemon's
// working directory is not the config's) to a readable file with a PEM certificate.
std::string unusable_ca_file(const std::string& path) {
  if (!path.starts_with('/')) return "must be an absolute path to a PEM file of CA certificates";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path + ": " + std::strerror(errno);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return path + " has no PEM certificate (-----BEGIN CERTIFICATE-----)";
  }
  return "";
}

// A number after "NAME " in "* STATUS INBOX (UIDNEXT 5 UIDVALIDITY 17)"; 0 when absent.
std::uint64_t status_item(std::string_view text, std::string_view name) {
  const auto at = text.find(std::string(name) + " ");
  if (at == std::string_view::npos) return 0;
  std::uint64_t v = 0;
  const auto start = text.data() + at + name.size() + 1;
  std::from_chars(start, text.data() + text.size(), v);
  return v;
}

struct email_settings final : connector_settings {
  mail_url imap;
  mail_url smtp;
  std::string smtp_url;
  std::string username;
  std::string password;
  std::string address;
  std::string from_name;
  std::string reply_to;
  std::string subject = "Your question to the library";
  std::string move_to;  // "" marks \Seen only
  std::chrono::seconds poll_every{30};
  std::size_t max_message_bytes = 40 * 1024 * 1024;
  std::chrono::milliseconds reopen_window = std::chrono::hours(24 * 30);
  bool insecure = false;
  std::string ca_file;  // the library's own CAs, instead of the system's; TLS on every host

  bool require_tls(const mail_url& u) const {
    return (u.scheme == "imap" || u.scheme == "smtp") &&
           (!ca_file.empty() || (!insecure && !is_loopback(u.host)));
  }
};

class email_connector final : public connector {
 public:
  email_connector(const email_settings& settings, const connector_services& services)
      : settings_(settings), services_(services), poll_timer_(services.io) {
    services.metrics.declare_counter("askdesk_email_bounces_total",
                                     "Delivery status notifications read, by action.");
    services.metrics.declare_counter("askdesk_email_skipped_total",
                                     "Messages passed over, left unread, as they could not be "
                                     "fetched.");
  }

  const std::string& id() const override { return settings_.id; }
  std::string_view type() const override { return "email"; }
  std::string_view channel() const override { return "email"; }
  std::chrono::milliseconds reopen_window() const override { return settings_.reopen_window; }

  void start() override {
    poll_timer_.after(std::chrono::milliseconds(0), [this] { poll(); });
  }

  void stop() override {
    stopped_ = true;
    poll_timer_.cancel();
  }

  void send(const outbound_message& m, std::function<void(send_result)> done) override {
    if (m.to.ends_with(no_sender_suffix)) {
      done(send_result::permanent("this email came without a sender address to answer"));
      return;
    }
    if (!core::plausible_email(m.to)) {
      done(send_result::permanent("'" + m.to + "' is not an email address"));
      return;
    }
    const auto fact = [&](const char* name) -> std::string {
      const auto it = m.facts.find(name);
      return it == m.facts.end() ? std::string() : it->second;
    };
    email::outgoing_mail mail;
    mail.from_address = settings_.address;
    mail.from_name = settings_.from_name;
    mail.reply_to = settings_.reply_to;
    mail.to_address = m.to;
    mail.to_name = m.patron_name;
    mail.in_reply_to = fact("in_reply_to");
    mail.subject = mail.in_reply_to.empty()
                       ? (fact("subject").empty() ? settings_.subject : fact("subject"))
                       : email::reply_subject(fact("subject"), settings_.subject);
    mail.references = split_ids(fact("references"));
    if (!mail.in_reply_to.empty() &&
        (mail.references.empty() || mail.references.back() != mail.in_reply_to)) {
      mail.references.push_back(mail.in_reply_to);
    }
    if (mail.references.size() > reply_references) {
      mail.references.erase(mail.references.begin(),
                            mail.references.end() - static_cast<long>(reply_references));
    }
    mail.message_id = "askdesk." + m.conversation + "." + m.message + "." +
                      net::random_token().substr(0, 12) + "@" + domain();
    mail.date = services_.clock.now();
    mail.text = m.text;
    mail.automatic = m.automatic;

    net::outgoing_request r;
    r.url = settings_.smtp_url;
    r.protocols = "smtp,smtps";
    r.require_tls = settings_.require_tls(settings_.smtp);
    r.ca_file = settings_.ca_file;
    r.username = settings_.username;
    r.password = settings_.password;
    r.mail_from = m.automatic ? "" : settings_.address;  // automatic: MAIL FROM:<> (RFC 3834)
    r.mail_to = {m.to};
    r.body = email::compose_mail(mail);
    r.timeout = std::chrono::seconds(60);
    services_.http.send(std::move(r), [this, done = std::move(done), id = mail.message_id](
                                          core::result<net::incoming_response> answer) {
      if (!answer) {
        note_error(answer.err().message);
        done(send_result::retry(answer.err().message));
        return;
      }
      const long code = answer->status;
      if (code >= 400) {
        const std::string why =
            "the mail server answered " + std::to_string(code) + ": " + answer->body;
        note_error(why);
        done(code < 500 ? send_result::retry(why, std::to_string(code))
                        : send_result::permanent(why, std::to_string(code)));
        return;
      }
      health_.last_success = services_.clock.now();
      done(send_result::sent(id));
    });
  }

  connector_health health() const override { return health_; }

 private:
  static std::vector<std::string> split_ids(std::string_view text) {
    std::vector<std::string> ids;
    while (!text.empty()) {
      const auto space = text.find(' ');
      if (space != 0) ids.emplace_back(text.substr(0, space));
      if (space == std::string_view::npos) break;
      text.remove_prefix(space + 1);
    }
    return ids;
  }

  std::string domain() const { return settings_.address.substr(settings_.address.find('@') + 1); }

  void note_error(std::string message) {
    spdlog::warn("email {}: {}", settings_.id, message);
    health_.last_error = std::move(message);
    health_.last_error_at = services_.clock.now();
  }

  // ---- polling -----------------------------------------------------------------------------

  std::string lease_key() const {
    return "lease:imap:" + settings_.username + "@" + settings_.imap.authority + "/" +
           settings_.imap.path;
  }
  std::string cursor_key() const { return "email:" + settings_.id + ":cursor"; }
  // A fresh start's unseen UIDs (a sorted set, each UID its own score).
  std::string pending_key() const { return "email:" + settings_.id + ":pending"; }
  std::string mailbox_url() const {
    return settings_.imap.scheme + "://" + settings_.imap.authority + "/" + settings_.imap.path;
  }
  const std::string& mailbox_name() const { return settings_.imap.mailbox; }

  net::outgoing_request imap_request(std::string url, std::string command = "GET") const {
    net::outgoing_request r;
    r.url = std::move(url);
    r.method = std::move(command);
    r.protocols = "imap,imaps";
    r.require_tls = settings_.require_tls(settings_.imap);
    r.ca_file = settings_.ca_file;
    r.username = settings_.username;
    r.password = settings_.password;
    r.timeout = std::chrono::seconds(120);
    return r;
  }

  void poll_later(std::chrono::milliseconds delay) {
    if (!stopped_) poll_timer_.after(delay, [this] { poll(); });
  }
  void poll_later() { poll_later(settings_.poll_every); }

  struct poll_batch {
    std::uint64_t validity = 0;
    std::vector<std::uint64_t> uids;  // ascending, all above the cursor
    std::size_t next = 0;
    bool more = false;        // uids left for the next poll
    std::uint64_t floor = 0;  // the cursor's UID once the batch is done, at least
  };

  // Takes or renews the mailbox lease; `then` runs only while this daemon holds it.
  void with_lease(std::function<void()> then) {
    const std::string ms = std::to_string(std::max<std::int64_t>(
        120000,
        std::chrono::duration_cast<std::chrono::milliseconds>(settings_.poll_every * 3).count()));
    const std::string key = lease_key();
    const std::string_view args[] = {key, services_.daemon_name, ms};
    store::run(services_.redis, services_.scripts, store::script::lease, args,
               [this, then = std::move(then)](store::reply held) {
                 if (stopped_) return;
                 if (!held.is_integer() || held.integer() != 1) {
                   poll_later();  // another daemon reads this mailbox, or Redis is away
                   return;
                 }
                 then();
               });
  }

  void poll() {
    if (stopped_) return;
    if (!services_.sink.accepting()) {
      poll_later();
      return;
    }
    with_lease([this] { read_status(); });
  }

  // NOOP first: an IMAP session that already has the mailbox selected (curl keeps the
  // connection) sees newly delivered mail only once it syncs, and STATUS alone does not.
  void read_status() {
    services_.http.send(imap_request(mailbox_url(), "NOOP"),
                        [this](core::result<net::incoming_response> synced) {
                          if (stopped_) return;
                          if (!synced) {
                            note_error("opening the mailbox: " + synced.err().message);
                            poll_later();
                            return;
                          }
                          read_uids();
                        });
  }

  void read_uids() {
    auto r = imap_request(settings_.imap.scheme + "://" + settings_.imap.authority + "/",
                          "STATUS \"" + mailbox_name() + "\" (UIDVALIDITY UIDNEXT)");
    services_.http.send(std::move(r), [this](core::result<net::incoming_response> status) {
      if (stopped_) return;
      if (!status) {
        note_error("reading the mailbox: " + status.err().message);
        poll_later();
        return;
      }
      const auto validity = status_item(status->body, "UIDVALIDITY");
      const auto uidnext = status_item(status->body, "UIDNEXT");
      spdlog::debug("email {}: {} has UIDVALIDITY {}, UIDNEXT {}", settings_.id, mailbox_name(),
                    validity, uidnext);
      if (validity == 0) {
        note_error("the IMAP server gave no UIDVALIDITY for " + mailbox_name());
        poll_later();
        return;
      }
      services_.redis.command({"HMGET", cursor_key(), "validity", "uid", "floor"},
                              [this, validity, uidnext](store::reply c) {
                                if (stopped_) return;
                                if (!c.is_array() || c.size() != 3) {
                                  poll_later();
                                  return;
                                }
                                choose_search(validity, uidnext, c);
                              });
    });
  }

  // The cursor (validity, uid, floor) against the mailbox's status says what to read:
  // - no cursor, or another UIDVALIDITY: a fresh start (fresh_start());
  // - uid below floor: that fresh start goes on, through its list of UIDs;
  // - otherwise every UID after the cursor.
  void choose_search(std::uint64_t validity, std::uint64_t uidnext, const store::reply& c) {
    if (!c[0].is_string() || number_of(c[0]) != validity) {
      if (c[0].is_string()) {
        spdlog::warn(
            "email {}: UIDVALIDITY of {} changed ({} -> {}): reading its unseen "
            "messages again",
            settings_.id, mailbox_name(), c[0].str(), validity);
      }
      fresh_start(validity, uidnext);
      return;
    }
    const std::uint64_t last = number_of(c[1]);
    const std::uint64_t floor = number_of(c[2]);
    if (last < floor) {
      services_.redis.command(
          {"ZRANGEBYSCORE", pending_key(), std::to_string(last + 1), std::to_string(floor), "LIMIT",
           "0", std::to_string(max_uids_per_poll + 1)},
          [this, validity, last, floor](store::reply r) {
            if (stopped_) return;
            if (!r.is_array()) {
              poll_later();
              return;
            }
            std::vector<std::uint64_t> uids;
            for (std::size_t i = 0; i < r.size(); ++i) uids.push_back(number_of(r[i]));
            start_batch(validity, last, std::move(uids), floor);
          });
    } else if (uidnext != 0 && uidnext <= last + 1) {
      health_.backlog = 0;
      poll_later();  // nothing new
    } else {
      search("UID SEARCH UID " + std::to_string(last + 1) + ":*",
             [this, validity, last](std::vector<std::uint64_t> uids) {
               start_batch(validity, last, std::move(uids), 0);
             });
    }
  }

  // The UIDs a UID SEARCH finds, to `then`; an error waits for the next poll.
  void search(std::string command, std::function<void(std::vector<std::uint64_t>)> then) {
    services_.http.send(imap_request(mailbox_url(), std::move(command)),
                        [this, then = std::move(then)](core::result<net::incoming_response> found) {
                          if (stopped_) return;
                          if (!found) {
                            note_error("searching the mailbox: " + found.err().message);
                            poll_later();
                            return;
                          }
                          then(numbers_after(found->body, "* SEARCH"));
                        });
  }

  // Mail people already read before askdesk (or before the mailbox was renewed) stays with
  // them: the UIDs unseen now, up to UIDNEXT, are listed in Redis, and the cursor keeps that
  // bound as `floor` (the list, not \Seen, says what is left: fetching a message marks it
  // \Seen before askdesk has stored it). Above the floor, every new UID is read.
  void fresh_start(std::uint64_t validity, std::uint64_t uidnext) {
    const std::uint64_t floor = uidnext > 0 ? uidnext - 1 : 0;
    search("UID SEARCH UNSEEN", [this, validity, floor](std::vector<std::uint64_t> unseen) {
      auto pending = std::make_shared<std::vector<std::string>>();
      for (const auto uid : unseen) {
        if (uid <= floor) pending->push_back(std::to_string(uid));
      }
      spdlog::info("email {}: starting on {} with {} unseen message(s)", settings_.id,
                   mailbox_name(), pending->size());
      // The list first, the cursor last: a crash in between starts afresh.
      services_.redis.command(
          {"DEL", pending_key()}, [this, validity, floor, pending](store::reply deleted) {
            if (stopped_) return;
            if (deleted.failed()) {
              poll_later();
              return;
            }
            list_pending(pending, 0, [this, validity, floor] {
              services_.redis.command({"HSET", cursor_key(), "validity", std::to_string(validity),
                                       "uid", "0", "floor", std::to_string(floor)},
                                      [this](store::reply saved) {
                                        if (stopped_) return;
                                        poll_later(saved.failed() ? settings_.poll_every
                                                                  : std::chrono::milliseconds(0));
                                      });
            });
          });
    });
  }

  // Adds the UIDs from `from` on to the pending list, a thousand at a time, then `then`.
  void list_pending(std::shared_ptr<std::vector<std::string>> uids, std::size_t from,
                    std::function<void()> then) {
    if (from >= uids->size()) {
      then();
      return;
    }
    const std::string key = pending_key();
    std::vector<std::string_view> args = {"ZADD", key};
    const auto to = std::min(uids->size(), from + 1000);
    for (auto i = from; i < to; ++i) {
      args.push_back((*uids)[i]);  // score
      args.push_back((*uids)[i]);  // member
    }
    services_.redis.command(args,
                            [this, uids, to, then = std::move(then)](store::reply added) mutable {
                              if (stopped_) return;
                              if (added.failed()) {
                                poll_later();
                                return;
                              }
                              list_pending(uids, to, std::move(then));
                            });
  }

  // `floor`: the UID the cursor reaches once a fresh start's list is done, or 0.
  void start_batch(std::uint64_t validity, std::uint64_t last, std::vector<std::uint64_t> uids,
                   std::uint64_t floor) {
    auto batch = std::make_shared<poll_batch>();
    batch->validity = validity;
    batch->floor = floor;
    for (const auto uid : uids) {
      if (uid > last) batch->uids.push_back(uid);  // "n:*" also names the last UID
    }
    std::sort(batch->uids.begin(), batch->uids.end());
    spdlog::debug("email {}: {} new message(s) after UID {}", settings_.id, batch->uids.size(),
                  last);
    health_.backlog = static_cast<std::int64_t>(batch->uids.size());
    if (batch->uids.size() > max_uids_per_poll) {
      batch->uids.resize(max_uids_per_poll);
      batch->more = true;
    }
    next_message(batch);
  }

  // The mailbox as long as its UIDVALIDITY is `validity` (curl checks it when selecting).
  std::string validity_url(std::uint64_t validity) const {
    return mailbox_url() + "/;UIDVALIDITY=" + std::to_string(validity);
  }
  std::string message_url(std::uint64_t validity, std::uint64_t uid) const {
    return validity_url(validity) + "/;UID=" + std::to_string(uid);
  }

  void next_message(std::shared_ptr<poll_batch> batch) {
    if (stopped_) return;
    if (batch->next >= batch->uids.size()) {
      const auto again = batch->more ? std::chrono::milliseconds(0)
                                     : std::chrono::milliseconds(settings_.poll_every);
      if (batch->more || batch->floor == 0) {
        poll_later(again);
        return;
      }
      // A fresh start's list is done: the cursor reaches its floor, and the list goes.
      save_cursor(batch->validity, batch->floor, [this, again] {
        services_.redis.command({"DEL", pending_key()}, [](store::reply) {});
        poll_later(again);
      });
      return;
    }
    // Renew the lease as the batch goes: a large poll may outlast it.
    with_lease([this, batch] {
      const auto uid = batch->uids[batch->next];
      auto r = imap_request(message_url(batch->validity, uid));
      r.max_response_bytes = settings_.max_message_bytes;
      services_.http.send(
          std::move(r), [this, batch, uid](core::result<net::incoming_response> raw) {
            if (stopped_) return;
            if (!raw) {
              if (raw.err().code == "stale") {  // UIDVALIDITY changed under us: start again
                poll_later(std::chrono::milliseconds(0));
              } else if (raw.err().code == "not_found") {
                gone_or_refused(batch, uid, raw.err().message);
              } else if (raw.err().code == "too_large") {
                fetch_headers_only(batch, uid,
                                   "This email is larger than " +
                                       std::to_string(settings_.max_message_bytes >> 20) +
                                       " MiB and was not fetched");
              } else {
                fetch_failed(batch, uid, raw.err().message);
              }
              return;
            }
            fetch_failures_ = {};
            take(batch, uid, raw->body, email::parse_mail(raw->body));
          });
    });
  }

  // The mailbox answered this poll but not for this message: after a few polls in a row it is
  // passed over (so one damaged message cannot stop the mailbox), shown to staff with its
  // headers when those can be read, else left unread in the mailbox with an error.
  void fetch_failed(std::shared_ptr<poll_batch> batch, std::uint64_t uid, std::string why) {
    const auto tries =
        fetch_failures_.uid == uid ? ++fetch_failures_.count : (fetch_failures_ = {uid, 1}).count;
    note_error("fetching UID " + std::to_string(uid) + " (attempt " + std::to_string(tries) +
               "): " + why);
    if (tries < max_fetch_attempts) {
      poll_later();
      return;
    }
    fetch_failures_ = {};
    fetch_headers_only(batch, uid, "askdesk could not fetch this email (" + why + ")", true);
  }

  // curl says "not found" for any tagged answer to a FETCH: a message expunged since the
  // search (passed over at once), or a NO (a failed fetch like any other).
  void gone_or_refused(std::shared_ptr<poll_batch> batch, std::uint64_t uid, std::string why) {
    search("UID SEARCH UID " + std::to_string(uid),
           [this, batch, uid, why = std::move(why)](std::vector<std::uint64_t> found) {
             if (std::find(found.begin(), found.end(), uid) != found.end()) {
               fetch_failed(batch, uid, why);
               return;
             }
             spdlog::info("email {}: UID {} was expunged before it was fetched", settings_.id, uid);
             save_cursor(batch->validity, uid, [this, batch] { next_in_batch(batch); });
           });
  }

  // Only the headers of a message that cannot be taken whole, with `why` as its text. When
  // even they cannot be read: a failed fetch like any other, or, once those are used up
  // (`last_try`), the message is passed over.
  void fetch_headers_only(std::shared_ptr<poll_batch> batch, std::uint64_t uid, std::string why,
                          bool last_try = false) {
    auto r = imap_request(message_url(batch->validity, uid) + ";SECTION=HEADER");
    services_.http.send(std::move(r), [this, batch, uid, why = std::move(why),
                                       last_try](core::result<net::incoming_response> raw) {
      if (stopped_) return;
      if ((!raw || raw->body.empty()) && !last_try) {
        fetch_failed(batch, uid, why + "; its headers: " + (raw ? "empty" : raw.err().message));
        return;
      }
      if (!raw || raw->body.empty()) {
        services_.metrics.add("askdesk_email_skipped_total", {});
        note_error("UID " + std::to_string(uid) + " passed over, left unread in " + mailbox_name() +
                   ": " + why +
                   (raw ? "" : "; its headers could not be read either: " + raw.err().message));
        // The failed fetches marked it \Seen: people should still see it as new.
        services_.http.send(
            imap_request(validity_url(batch->validity),
                         "UID STORE " + std::to_string(uid) + " -FLAGS.SILENT (\\Seen)"),
            [this, batch, uid](core::result<net::incoming_response> unmarked) {
              if (stopped_) return;
              if (!unmarked) {
                note_error("marking UID " + std::to_string(uid) +
                           " unseen again: " + unmarked.err().message);
              }
              save_cursor(batch->validity, uid, [this, batch] { next_in_batch(batch); });
            });
        return;
      }
      auto mail = email::parse_headers(raw->body);
      mail.text = "[" + why + ": open it in the mailbox " + mailbox_name() + ".]";
      take(batch, uid, raw->body, std::move(mail));
    });
  }

  // Stores one parsed message (or records its bounce), then moves on.
  void take(std::shared_ptr<poll_batch> batch, std::uint64_t uid, const std::string& raw,
            email::parsed_mail mail) {
    if (mail.report) {
      bounce(batch, uid, *mail.report);
      return;
    }
    auto m = inbound_of(raw, std::move(mail));
    services_.sink.deliver(std::move(m), [this, batch, uid](core::result<delivery> stored) {
      if (stopped_) return;
      if (!stored && stored.err().code != "invalid") {  // Redis away, loading, out of memory
        note_error(stored.err().message);
        poll_later();  // not advanced: asked again next time, and dedup keeps one copy
        return;
      }
      if (!stored) {
        // A message the hub refuses would refuse again: skip it rather than stop the poll.
        note_error("UID " + std::to_string(uid) + " refused: " + stored.err().message);
      } else {
        health_.last_success = services_.clock.now();
      }
      finish_message(batch, uid);
    });
  }

  core::inbound_message inbound_of(const std::string& raw, email::parsed_mail mail) const {
    core::inbound_message m;
    m.connector = settings_.id;
    m.channel = "email";
    m.external_id = mail.message_id.empty() ? "sha256:" + net::sha256_hex(raw) : mail.message_id;
    m.thread = m.external_id;
    for (const auto& id : mail.in_reply_to) {
      m.references.push_back({"In-Reply-To", id});
    }
    for (auto id = mail.references.rbegin(); id != mail.references.rend(); ++id) {
      const bool known = std::any_of(m.references.begin(), m.references.end(),
                                     [&](const auto& r) { return r.key == *id; });
      if (!known) m.references.push_back({"References", *id});
    }
    if (m.references.size() > core::max_references) m.references.resize(core::max_references);
    m.sender_address = core::ascii_lower(mail.from_address);
    if (!core::plausible_email(m.sender_address)) {
      const auto rp = mail.facts.find(std::string(core::fact_return_path));
      // No address to answer: a patron of its own (never joined to another's thread), whom
      // send() will not try to write to.
      m.sender_address =
          rp != mail.facts.end() && core::plausible_email(rp->second)
              ? core::ascii_lower(rp->second)
              : "unknown-sender." + net::sha256_hex(m.external_id).substr(0, 16) + no_sender_suffix;
    }
    m.sender_name = core::truncate_utf8(mail.from_name, core::max_name_bytes);
    m.text = std::move(mail.text);
    if (m.text.empty() && mail.attachments.empty()) m.text = "[This email has no text.]";
    m.attachments = std::move(mail.attachments);
    m.received_at = services_.clock.now();
    m.sent_at = m.received_at;
    if (mail.date && *mail.date < m.received_at + std::chrono::hours(24) &&
        *mail.date > m.received_at - std::chrono::hours(24 * 365)) {
      m.sent_at = *mail.date;
    }
    m.facts = std::move(mail.facts);
    m.facts["subject"] = core::truncate_utf8(mail.subject, 1000);
    if (!mail.message_id.empty()) {
      m.facts["message_id"] = mail.message_id;
      std::string refs;
      const auto& chain = mail.references;
      for (auto it = chain.size() > reply_references ? chain.end() - reply_references
                                                     : chain.begin();
           it != chain.end(); ++it) {
        refs += (refs.empty() ? "" : " ") + *it;
      }
      m.facts["references"] = refs;
    }
    if (const auto fold = email::fold_line(m.text);
        fold < static_cast<std::size_t>(std::count(m.text.begin(), m.text.end(), '\n')) + 1) {
      m.facts["fold_line"] = std::to_string(fold);
    }
    return m;
  }

  // A delivery status notification: the message it names, if ours, is marked failed.
  void bounce(std::shared_ptr<poll_batch> batch, std::uint64_t uid,
              const email::delivery_report& report) {
    services_.metrics.add("askdesk_email_bounces_total",
                          {{"action", report.action.empty() ? "unknown" : report.action}});
    const bool ours = report.original_message_id.starts_with("askdesk.");
    if (!ours || report.action != "failed") {
      spdlog::info(
          "email {}: UID {} is a delivery report ({}) for {}: nothing to mark", settings_.id, uid,
          report.action,
          report.original_message_id.empty() ? "an unknown message" : report.original_message_id);
      finish_message(batch, uid);
      return;
    }
    const std::string now = std::to_string(core::to_millis(services_.clock.now()));
    const std::string why =
        "bounced: " +
        (report.diagnostic.empty() ? "the mail server could not deliver it" : report.diagnostic) +
        (report.recipient.empty() ? "" : " (" + report.recipient + ")");
    const std::string_view args[] = {now,      settings_.id,  report.original_message_id,
                                     "failed", report.status, why};
    store::run(services_.redis, services_.scripts, store::script::delivery_status, args,
               [this, batch, uid](store::reply r) {
                 if (stopped_) return;
                 if (r.failed()) {
                   note_error("recording a bounce: " + r.str());
                   poll_later();
                   return;
                 }
                 finish_message(batch, uid);
               });
  }

  void save_cursor(std::uint64_t validity, std::uint64_t uid, std::function<void()> then) {
    services_.redis.command(
        {"HSET", cursor_key(), "validity", std::to_string(validity), "uid", std::to_string(uid)},
        [this, then = std::move(then)](store::reply saved) {
          if (stopped_) return;
          if (saved.failed()) {
            poll_later();
            return;
          }
          then();
        });
  }

  // The message is durable: the mailbox is told, then the cursor moves (a crash between the
  // two fetches it again, and dedup keeps one copy).
  void finish_message(std::shared_ptr<poll_batch> batch, std::uint64_t uid) {
    mark_done(batch->validity, uid, [this, batch, uid] {
      save_cursor(batch->validity, uid, [this, batch] { next_in_batch(batch); });
    });
  }

  void next_in_batch(std::shared_ptr<poll_batch> batch) {
    ++batch->next;
    health_.backlog = static_cast<std::int64_t>(batch->uids.size() - batch->next);
    next_message(batch);
  }

  // With the UIDVALIDITY in the URL, curl refuses to touch a renewed mailbox's other message.
  void mark_done(std::uint64_t validity, std::uint64_t uid, std::function<void()> then) {
    const std::string id = std::to_string(uid);
    const std::string url = validity_url(validity);
    services_.http.send(
        imap_request(url, "UID STORE " + id + " +FLAGS.SILENT (\\Seen)"),
        [this, id, url, then = std::move(then)](core::result<net::incoming_response> r) {
          if (stopped_) return;
          if (!r) note_error("marking UID " + id + " \\Seen: " + r.err().message);
          if (settings_.move_to.empty()) {
            then();
            return;
          }
          services_.http.send(
              imap_request(url, "UID MOVE " + id + " \"" + settings_.move_to + "\""),
              [this, id, then](core::result<net::incoming_response> moved) {
                if (!moved) {
                  note_error("moving UID " + id + " to " + settings_.move_to + ": " +
                             moved.err().message);
                }
                if (!stopped_) then();
              });
        });
  }

  const email_settings settings_;
  const connector_services services_;
  connector_health health_;
  net::timer poll_timer_;
  struct {
    std::uint64_t uid = 0;
    int count = 0;
  } fetch_failures_;  // consecutive failed fetches of one UID
  bool stopped_ = false;
};

class email_factory final : public connector_factory {
 public:
  std::string_view type() const override { return "email"; }

  std::unique_ptr<connector_settings> parse(json::object_reader& block) const override {
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

  std::unique_ptr<connector> create(std::unique_ptr<connector_settings> settings,
                                    const connector_services& services) const override {
    return std::make_unique<email_connector>(static_cast<const email_settings&>(*settings),
                                             services);
  }
};

}  // namespace

std::unique_ptr<connector_factory> make_email_factory() {
  return std::make_unique<email_factory>();
}

}  // namespace askdesk::connectors
