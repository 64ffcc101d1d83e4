// A real local AT Protocol network for Bluesky tests: tests/atproto/network.mjs runs PLC, a PDS,
// the bsky AppView and ozone from npm @atproto/dev-env (tests/atproto/node_modules, which
// ./deploy/test.sh installs), with a throw-away PostgreSQL 15 from pg_virtualenv, and is driven
// one JSON line at a time. It takes 8-15 s to start and about 400 MB, so a test binary shares
// one (shared_atproto_network()) and its tests keep apart by using fresh handles
// (unique_atproto_handle()). Thread-safe: calls are serialized; start it from a thread that
// outlives it (see child_process), as the shared one is from the test's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace askdesk::testing {

struct atproto_network_options {
  // The PDS's rate limits, as in production (createSession: 30 per 5 minutes per account).
  // false (the default): dev-env's PDS limits nothing.
  bool rate_limits = false;
  // How long the network may take to start before the constructor gives up.
  std::chrono::seconds start_timeout{60};
};

// An account made on the network's PDS.
struct atproto_account {
  std::string did;
  std::string handle;    // as asked, e.g. "ada-1.test"
  std::string password;  // the account's own password
  // An app password (not privileged: no DMs), made with the account; a client logs in with
  // handle + app_password through com.atproto.server.createSession as with the password.
  std::string app_password;
};

// A record as a strong reference.
struct atproto_record {
  std::string uri;  // at://did/app.bsky.feed.post/rkey
  std::string cid;
};

// A post to make, for the fields post(as, text, ...) does not take.
struct atproto_post {
  std::string as;  // the author: a handle made with account()
  std::string text;
  // Each "@handle" in the text becomes a mention facet (UTF-8 byte offsets, end exclusive).
  std::vector<std::string> mentions;
  // Each URL in the text becomes a link facet.
  std::vector<std::string> links;
  // The at:// URI of the post this answers: reply {root, parent} come from its record.
  std::string reply_to;
  // One 1x1 PNG per entry, with this alt text (app.bsky.embed.images).
  std::vector<std::string> image_alts;
  std::vector<std::string> langs;  // e.g. "fr"
  std::string rkey;                // empty: the PDS picks a TID
};

class atproto_network {
 public:
  // Starts the network and waits until it runs. Throws std::runtime_error, with the
  // launcher's log, when it cannot (no node_modules, no pg_virtualenv, too slow).
  explicit atproto_network(atproto_network_options options = {});
  // Ends the launcher's stdin: it stops the network and drops its PostgreSQL (about 1 s);
  // SIGTERM, then SIGKILL, when it takes too long.
  ~atproto_network();
  atproto_network(const atproto_network&) = delete;
  atproto_network& operator=(const atproto_network&) = delete;

  // http://127.0.0.1:PORT of each service. The PDS is what a client (the connector) talks to;
  // it proxies app.bsky.* to the AppView. DID documents name http://localhost:PORT.
  const std::string& pds() const { return pds_; }
  const std::string& appview() const { return appview_; }
  const std::string& plc() const { return plc_; }

  // Creates `handle` (new on this network, one label of 3 to 18 letters, digits or hyphens
  // before ".test", or the PDS answers InvalidHandle) with a profile
  // carrying `display_name` (empty: the handle's first label), a password and an app password.
  atproto_account account(const std::string& handle, const std::string& display_name = "");
  // Posts `text` as `as`, mentioning `mentions` (each must appear as "@handle" in the text),
  // in reply to `reply_to` when it is not empty, linking `links` (each must appear in it).
  atproto_record post(const std::string& as, const std::string& text,
                      const std::vector<std::string>& mentions = {},
                      const std::string& reply_to = "", const std::vector<std::string>& links = {});
  atproto_record post(const atproto_post& post);
  // Deletes one of `as`'s records.
  void delete_record(const std::string& as, const std::string& uri);

  // The AppView's app.bsky.feed.getPostThread answer for `uri`, as JSON text: the post under
  // "thread", its replies under "thread.replies". Throws when the AppView does not know it yet
  // (400 NotFound): call process() first, or poll.
  std::string thread(const std::string& uri);
  // app.bsky.notification.listNotifications as `as` (through its PDS), newest first, as JSON
  // text: "notifications", each with "reason" ("mention", "reply", ...) and "uri".
  std::string notifications(const std::string& as);
  // app.bsky.feed.searchPosts from the AppView, as JSON text: "posts". The local AppView
  // matches a case-sensitive substring of the text ("from:handle" works too).
  std::string search(const std::string& query);
  // Waits until the AppView indexed everything written so far (dev-env's processAll).
  void process();

  // Any launcher command, `command` being a JSON object with "cmd" (tests/atproto/README.md);
  // returns the answer line. Throws std::runtime_error naming the command when it failed or
  // no answer came within `wait`.
  std::string request(const std::string& command,
                      std::chrono::milliseconds wait = std::chrono::seconds(30));

  pid_t pid() const { return process_->pid(); }
  // What the launcher and the network wrote on stderr.
  std::string log() const { return process_->log(); }

 private:
  // The next line the launcher printed within `deadline`; throws when it ended or time ran out.
  std::string read_line(std::chrono::steady_clock::time_point deadline, const std::string& what);
  [[noreturn]] void fail(const std::string& what) const;

  temp_dir dir_;
  int commands_ = -1;  // our end of the launcher's stdin
  int answers_ = -1;   // our end of the launcher's stdout
  std::unique_ptr<child_process> process_;
  std::string pds_;
  std::string appview_;
  std::string plc_;

  std::mutex mutex_;      // one command at a time
  std::string buffered_;  // GUARDED_BY(mutex_): read past the last line
  long next_id_ = 1;      // GUARDED_BY(mutex_)
};

// The network this test binary shares: started on first use (the next calls throw the same
// error at once when that failed), stopped when the binary exits. Under ctest each test is
// its own process, so each test that uses it pays for one start.
atproto_network& shared_atproto_network();

// A handle no other call in this process returned: `prefix` (letters, digits, hyphens; cut to
// 12 characters) + a number + ".test", e.g. "ada-3.test".
std::string unique_atproto_handle(const std::string& prefix);

}  // namespace askdesk::testing
