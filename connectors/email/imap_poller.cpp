// Mail comes in by polling the mailbox with IMAP on a connectors::poller, which holds the
// lease (one daemon per mailbox, whatever the connector id: "<username>@<host[:port]>/<mailbox
// as in the URL>"), keeps the cursor, backs off after failures and keeps the health. A round:
// NOOP (a session curl kept open sees new mail only once it syncs), STATUS for UIDVALIDITY and
// UIDNEXT, then the cursor says what to read:
// - no cursor, or another UIDVALIDITY (a rebuilt mailbox): a fresh start. The UIDs unseen now,
//   up to UIDNEXT, are listed (the record "pending", field `uids`) and the cursor keeps that
//   bound as `floor`. The list, not \Seen, says what is left, because fetching a message marks
//   it \Seen before askdesk has stored it. The list first, the cursor last: a crash in between
//   starts afresh. Mail people read before askdesk saw the mailbox stays with them.
// - `uid` below `floor`: that fresh start goes on through its list; once the list is done the
//   cursor reaches the floor and the list goes.
// - otherwise every UID after the cursor (UID SEARCH UID n:*), at most max_uids_per_poll a
//   round; the next round then starts at once.
// The cursor record: `validity`, `uid` (the last UID taken), `floor`.
//
// Each message, in UID order: the lease is renewed, the message fetched by URL (with the
// UIDVALIDITY in it, so curl refuses a renewed mailbox's other message), read with GMime and
// handed to the hub. Only once it is durable is it marked \Seen (or moved to move_to) and then
// the cursor moved, fenced by the lease: a crash in between fetches it again, and the dedup
// key keeps one copy. A delivery status notification is recorded as the delivery report of the
// reply it names instead, and the same order follows.
//
// What cannot be taken whole does not stop the mailbox: a message too large is stored from its
// headers with a note; one the server will not hand over is tried for max_fetch_attempts rounds
// in a row, then stored from its headers, or, if even they cannot be read, passed over and left
// unread; one expunged since the search is gone; one the hub refuses is skipped. A store that
// fails (the daemon cannot write) ends the round without moving the cursor.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "connectors/email/email_parts.hpp"
#include "daemon/core/text.hpp"

namespace askdesk::connectors::email {

namespace {

constexpr std::size_t max_uids_per_poll = 500;  // the rest wait for the next round, at once
constexpr int max_fetch_attempts = 5;           // rounds in a row a message fails to fetch
constexpr std::chrono::seconds imap_timeout{120};
constexpr std::string_view pending_record = "pending";

// Every number in `text`: "4 7 9" -> {4, 7, 9}.
std::vector<std::uint64_t> numbers_in(std::string_view text) {
  std::vector<std::uint64_t> out;
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

// The numbers after a keyword in an IMAP answer: "* SEARCH 4 7 9" -> {4, 7, 9}.
std::vector<std::uint64_t> numbers_after(std::string_view text, std::string_view keyword) {
  const auto at = text.find(keyword);
  if (at == std::string_view::npos) return {};
  text.remove_prefix(at + keyword.size());
  return numbers_in(text.substr(0, text.find('\n')));
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

// A cursor field as a number; 0 when absent or not one.
std::uint64_t number_field(const state_record& record, const std::string& field) {
  const auto it = record.find(field);
  std::uint64_t v = 0;
  if (it != record.end())
    std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return v;
}

// True once the poller stopped: the round is ended, and nothing more is done.
bool ended(poller::round& round) {
  if (!round.stopped()) return false;
  round.done();
  return true;
}

}  // namespace

struct imap_poller::batch {
  round_ptr round;
  std::uint64_t validity = 0;
  std::uint64_t floor = 0;  // the cursor's floor, kept as the cursor moves
  bool fresh = false;       // the UIDs come from a fresh start's list, which ends at `floor`
  std::vector<std::uint64_t> uids = {};  // ascending, all above the cursor
  std::size_t next = 0;
  bool more = false;  // UIDs left for the next round
};

imap_poller::imap_poller(const email_settings& settings, connector_context& context,
                         smtp_sender& sender)
    : settings_(settings),
      context_(context),
      sender_(sender),
      poller_(
          context,
          {.connector = settings.id,
           .lease = settings.username + "@" + settings.imap.authority + "/" + settings.imap.path,
           .every = settings.poll_every,
           // A fetch may take imap_timeout: the lease outlasts one, renewed before each.
           .lease_ttl = settings.lease_or(
               std::max<std::chrono::milliseconds>(imap_timeout, settings.poll_every * 3))},
          [this](round_ptr round) { poll(std::move(round)); }) {
  context.metrics().declare_counter("askdesk_email_skipped_total",
                                    "Messages passed over, left unread, as they could not be "
                                    "fetched.");
}

std::string imap_poller::mailbox_url() const {
  return settings_.imap.scheme + "://" + settings_.imap.authority + "/" + settings_.imap.path;
}

// The mailbox as long as its UIDVALIDITY is `validity` (curl checks it when selecting).
std::string imap_poller::validity_url(std::uint64_t validity) const {
  return mailbox_url() + "/;UIDVALIDITY=" + std::to_string(validity);
}

std::string imap_poller::message_url(std::uint64_t validity, std::uint64_t uid) const {
  return validity_url(validity) + "/;UID=" + std::to_string(uid);
}

net::outgoing_request imap_poller::imap_request(std::string url, std::string command) const {
  auto r = settings_.login_request(settings_.imap);
  r.url = std::move(url);
  r.method = std::move(command);
  r.timeout = imap_timeout;
  return r;
}

void imap_poller::note_error(std::string message) {
  note_problem(health_, context_.clock().now(), settings_.id, std::move(message));
}

// Sends `r` in the round; a failure ends the round, saying `what` failed.
void imap_poller::ask(round_ptr round, net::outgoing_request r, std::string what,
                      std::function<void(net::incoming_response)> then) {
  context_.http().send(std::move(r), [round, what = std::move(what), then = std::move(then)](
                                         core::result<net::incoming_response> answer) {
    if (ended(*round)) return;
    if (!answer) {
      round->failed(what + ": " + answer.err().message);
      return;
    }
    then(std::move(*answer));
  });
}

// NOOP first: an IMAP session that already has the mailbox selected (curl keeps the
// connection) sees newly delivered mail only once it syncs, and STATUS alone does not.
void imap_poller::poll(round_ptr round) {
  ask(round, imap_request(mailbox_url(), "NOOP"), "opening the mailbox",
      [this, round](net::incoming_response) { read_status(round); });
}

void imap_poller::read_status(round_ptr round) {
  auto r = imap_request(settings_.imap.scheme + "://" + settings_.imap.authority + "/",
                        "STATUS \"" + settings_.imap.mailbox + "\" (UIDVALIDITY UIDNEXT)");
  ask(round, std::move(r), "reading the mailbox", [this, round](net::incoming_response status) {
    const auto validity = status_item(status.body, "UIDVALIDITY");
    const auto uidnext = status_item(status.body, "UIDNEXT");
    spdlog::debug("email {}: {} has UIDVALIDITY {}, UIDNEXT {}", settings_.id,
                  settings_.imap.mailbox, validity, uidnext);
    if (validity == 0) {
      round->failed("the IMAP server gave no UIDVALIDITY for " + settings_.imap.mailbox);
      return;
    }
    choose(round, validity, uidnext);
  });
}

void imap_poller::choose(round_ptr round, std::uint64_t validity, std::uint64_t uidnext) {
  const auto& cursor = round->cursor();
  const auto known = cursor.find("validity");
  if (known == cursor.end() || number_field(cursor, "validity") != validity) {
    if (known != cursor.end()) {
      spdlog::warn(
          "email {}: UIDVALIDITY of {} changed ({} -> {}): reading its unseen "
          "messages again",
          settings_.id, settings_.imap.mailbox, known->second, validity);
    }
    fresh_start(round, validity, uidnext);
    return;
  }
  const std::uint64_t last = number_field(cursor, "uid");
  const std::uint64_t floor = number_field(cursor, "floor");
  if (last < floor) {
    read_pending(round, validity, last, floor);
  } else if (uidnext != 0 && uidnext <= last + 1) {
    round->set_backlog(0);
    round->done();  // nothing new
  } else {
    search(round, "UID SEARCH UID " + std::to_string(last + 1) + ":*",
           [this, round, validity, last, floor](std::vector<std::uint64_t> uids) {
             start_batch(std::make_shared<batch>(batch{round, validity, floor, false}), last,
                         std::move(uids));
           });
  }
}

// The UIDs a UID SEARCH finds, to `then`; an error ends the round.
void imap_poller::search(round_ptr round, std::string command,
                         std::function<void(std::vector<std::uint64_t>)> then) {
  ask(round, imap_request(mailbox_url(), std::move(command)), "searching the mailbox",
      [then = std::move(then)](net::incoming_response found) {
        then(numbers_after(found.body, "* SEARCH"));
      });
}

void imap_poller::fresh_start(round_ptr round, std::uint64_t validity, std::uint64_t uidnext) {
  const std::uint64_t floor = uidnext > 0 ? uidnext - 1 : 0;
  search(round, "UID SEARCH UNSEEN",
         [this, round, validity, floor](std::vector<std::uint64_t> unseen) {
           std::string list;
           std::size_t count = 0;
           for (const auto uid : unseen) {
             if (uid > floor) continue;
             list += (list.empty() ? "" : " ") + std::to_string(uid);
             ++count;
           }
           spdlog::info("email {}: starting on {} with {} unseen message(s)", settings_.id,
                        settings_.imap.mailbox, count);
           // The list first, the cursor last: a crash in between starts afresh.
           context_.save_fenced(
               round->lease(), pending_record, {{"uids", list}},
               [round, validity, floor](core::status listed) {
                 if (ended(*round)) return;
                 if (!listed) {
                   round->failed("listing the unseen messages: " + listed.err().message);
                   return;
                 }
                 round->save_cursor({{"validity", std::to_string(validity)},
                                     {"uid", "0"},
                                     {"floor", std::to_string(floor)}},
                                    [round] { round->done(true); });
               });
         });
}

void imap_poller::read_pending(round_ptr round, std::uint64_t validity, std::uint64_t last,
                               std::uint64_t floor) {
  context_.load(
      pending_record, [this, round, validity, last, floor](core::result<state_record> pending) {
        if (ended(*round)) return;
        if (!pending) {
          round->failed("reading the list of unseen messages: " + pending.err().message);
          return;
        }
        const auto listed = pending->find("uids");
        auto uids =
            listed == pending->end() ? std::vector<std::uint64_t>{} : numbers_in(listed->second);
        std::erase_if(uids, [floor](std::uint64_t uid) { return uid > floor; });
        start_batch(std::make_shared<batch>(batch{round, validity, floor, true}), last,
                    std::move(uids));
      });
}

void imap_poller::start_batch(batch_ptr b, std::uint64_t last, std::vector<std::uint64_t> uids) {
  for (const auto uid : uids) {
    if (uid > last) b->uids.push_back(uid);  // "n:*" also names the last UID
  }
  std::sort(b->uids.begin(), b->uids.end());
  b->uids.erase(std::unique(b->uids.begin(), b->uids.end()), b->uids.end());
  spdlog::debug("email {}: {} new message(s) after UID {}", settings_.id, b->uids.size(), last);
  b->round->set_backlog(static_cast<std::int64_t>(b->uids.size()));
  if (b->uids.size() > max_uids_per_poll) {
    b->uids.resize(max_uids_per_poll);
    b->more = true;
  }
  next_message(b);
}

void imap_poller::next_message(batch_ptr b) {
  auto& round = *b->round;
  if (b->next < b->uids.size()) {
    fetch(b);
  } else if (b->more) {
    round.done(true);
  } else if (!b->fresh) {
    round.done();
  } else {
    // A fresh start's list is done: the cursor reaches its floor, and the list goes (saved
    // empty, under the lease: an empty record is no record).
    save_cursor(b, b->floor, [this, b] {
      context_.save_fenced(b->round->lease(), pending_record, {},
                           [round = b->round](core::status) { round->done(); });
    });
  }
}

void imap_poller::fetch(batch_ptr b) {
  // Renew the lease as the batch goes: a large batch may outlast it.
  b->round->renew([this, b] {
    if (ended(*b->round)) return;
    const auto uid = b->uids[b->next];
    auto r = imap_request(message_url(b->validity, uid));
    r.max_response_bytes = settings_.max_message_bytes;
    context_.http().send(std::move(r), [this, b, uid](core::result<net::incoming_response> raw) {
      if (ended(*b->round)) return;
      if (!raw) {
        if (raw.err().code == "stale") {  // UIDVALIDITY changed under us: start again
          b->round->done(true);
        } else if (raw.err().code == "not_found") {
          gone_or_refused(b, uid, raw.err().message);
        } else if (raw.err().code == "too_large") {
          fetch_headers_only(b, uid,
                             "This email is larger than " +
                                 std::to_string(settings_.max_message_bytes >> 20) +
                                 " MiB and was not fetched");
        } else {
          fetch_failed(b, uid, raw.err().message);
        }
        return;
      }
      fetch_failures_ = {};
      take(b, uid, raw->body, parse_mail(raw->body));
    });
  });
}

// The mailbox answered this round but not for this message: after a few rounds in a row it is
// passed over (so one damaged message cannot stop the mailbox), shown to staff with its headers
// when those can be read, else left unread in the mailbox with an error.
void imap_poller::fetch_failed(batch_ptr b, std::uint64_t uid, std::string why) {
  const auto tries =
      fetch_failures_.uid == uid ? ++fetch_failures_.count : (fetch_failures_ = {uid, 1}).count;
  std::string problem =
      "fetching UID " + std::to_string(uid) + " (attempt " + std::to_string(tries) + "): " + why;
  if (tries < max_fetch_attempts) {
    // Not the mailbox's failure: the next round comes as usual, without backing off.
    b->round->failed(std::move(problem), settings_.poll_every);
    return;
  }
  note_error(std::move(problem));
  fetch_failures_ = {};
  fetch_headers_only(b, uid, "askdesk could not fetch this email (" + why + ")", true);
}

// curl says "not found" for any tagged answer to a FETCH: a message expunged since the search
// (passed over at once), or a NO (a failed fetch like any other).
void imap_poller::gone_or_refused(batch_ptr b, std::uint64_t uid, std::string why) {
  search(b->round, "UID SEARCH UID " + std::to_string(uid),
         [this, b, uid, why = std::move(why)](std::vector<std::uint64_t> found) {
           if (std::find(found.begin(), found.end(), uid) != found.end()) {
             fetch_failed(b, uid, why);
             return;
           }
           spdlog::info("email {}: UID {} was expunged before it was fetched", settings_.id, uid);
           save_cursor(b, uid, [this, b] { next_in_batch(b); });
         });
}

// Only the headers of a message that cannot be taken whole, with `why` as its text. When even
// they cannot be read: a failed fetch like any other, or, once those are used up (`last_try`),
// the message is passed over.
void imap_poller::fetch_headers_only(batch_ptr b, std::uint64_t uid, std::string why,
                                     bool last_try) {
  auto r = imap_request(message_url(b->validity, uid) + ";SECTION=HEADER");
  context_.http().send(std::move(r), [this, b, uid, why = std::move(why),
                                      last_try](core::result<net::incoming_response> raw) {
    if (ended(*b->round)) return;
    if (!raw || raw->body.empty()) {
      if (!last_try) {
        fetch_failed(b, uid, why + "; its headers: " + (raw ? "empty" : raw.err().message));
      } else {
        pass_over(
            b, uid,
            why + (raw ? "" : "; its headers could not be read either: " + raw.err().message));
      }
      return;
    }
    auto mail = parse_headers(raw->body);
    mail.text = "[" + why + ": open it in the mailbox " + settings_.imap.mailbox + ".]";
    take(b, uid, raw->body, std::move(mail));
  });
}

void imap_poller::pass_over(batch_ptr b, std::uint64_t uid, std::string why) {
  context_.metrics().add("askdesk_email_skipped_total", {});
  note_error("UID " + std::to_string(uid) + " passed over, left unread in " +
             settings_.imap.mailbox + ": " + why);
  // The failed fetches marked it \Seen: people should still see it as new.
  context_.http().send(imap_request(validity_url(b->validity),
                                    "UID STORE " + std::to_string(uid) + " -FLAGS.SILENT (\\Seen)"),
                       [this, b, uid](core::result<net::incoming_response> unmarked) {
                         if (ended(*b->round)) return;
                         if (!unmarked) {
                           note_error("marking UID " + std::to_string(uid) +
                                      " unseen again: " + unmarked.err().message);
                         }
                         save_cursor(b, uid, [this, b] { next_in_batch(b); });
                       });
}

// Stores one parsed message (or records its bounce), then moves on.
void imap_poller::take(batch_ptr b, std::uint64_t uid, const std::string& raw, parsed_mail mail) {
  if (mail.report) {  // a bounce: recorded, and never a conversation
    sender_.record_bounce(*mail.report, [this, b, uid](core::status recorded) {
      if (ended(*b->round)) return;
      if (!recorded) {
        b->round->failed("recording a bounce: " + recorded.err().message);
        return;
      }
      finish_message(b, uid);
    });
    return;
  }
  context_.deliver(
      inbound_of(raw, std::move(mail), context_.clock().now()),
      [this, b, uid](core::result<delivery> stored) {
        if (ended(*b->round)) return;
        if (!stored && stored.err().code != "invalid") {
          // The store unavailable (loading, out of memory): not advanced, read again by a later
          // round (and dedup keeps one copy).
          b->round->failed(stored.err().message);
          return;
        }
        if (!stored) {
          // A message the hub refuses would be refused again: skipped rather than stop the poll.
          note_error("UID " + std::to_string(uid) + " refused: " + stored.err().message);
        } else {
          health_.last_success = context_.clock().now();
        }
        finish_message(b, uid);
      });
}

// The message is durable: the mailbox is told, then the cursor moves (a crash between the two
// fetches it again, and dedup keeps one copy).
void imap_poller::finish_message(batch_ptr b, std::uint64_t uid) {
  mark_done(b, uid, [this, b, uid] { save_cursor(b, uid, [this, b] { next_in_batch(b); }); });
}

// \Seen, then the move to move_to if set; their failures are noted, and the cursor moves on.
// With the UIDVALIDITY in the URL, curl refuses to touch a renewed mailbox's other message.
void imap_poller::mark_done(batch_ptr b, std::uint64_t uid, std::function<void()> then) {
  const std::string id = std::to_string(uid);
  const std::string url = validity_url(b->validity);
  context_.http().send(
      imap_request(url, "UID STORE " + id + " +FLAGS.SILENT (\\Seen)"),
      [this, b, id, url, then = std::move(then)](core::result<net::incoming_response> r) {
        if (ended(*b->round)) return;
        if (!r) note_error("marking UID " + id + " \\Seen: " + r.err().message);
        if (settings_.move_to.empty()) {
          then();
          return;
        }
        context_.http().send(imap_request(url, "UID MOVE " + id + " \"" + settings_.move_to + "\""),
                             [this, b, id, then](core::result<net::incoming_response> moved) {
                               if (ended(*b->round)) return;
                               if (!moved) {
                                 note_error("moving UID " + id + " to " + settings_.move_to + ": " +
                                            moved.err().message);
                               }
                               then();
                             });
      });
}

// The cursor at `uid`, keeping the batch's UIDVALIDITY and floor; saved under the lease.
void imap_poller::save_cursor(batch_ptr b, std::uint64_t uid, std::function<void()> then) {
  b->round->save_cursor({{"validity", std::to_string(b->validity)},
                         {"uid", std::to_string(uid)},
                         {"floor", std::to_string(b->floor)}},
                        std::move(then));
}

void imap_poller::next_in_batch(batch_ptr b) {
  ++b->next;
  b->round->set_backlog(static_cast<std::int64_t>(b->uids.size() - b->next));
  next_message(b);
}

}  // namespace askdesk::connectors::email
