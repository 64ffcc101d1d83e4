// libcurl's multi "socket" interface on Asio. Curl tells us, through its socket callback,
// which sockets to watch for reading or writing, and through its timer callback when to call
// it back anyway; each becomes an async_wait on a stream_descriptor (which does not own the
// socket: curl opens and closes it) or the steady_timer. When a wait completes we hand the
// event to curl_multi_socket_action, then collect finished transfers from
// curl_multi_info_read and complete their requests.
//
// A watcher may be removed (CURL_POLL_REMOVE) while its wait is queued; the wait's handler
// holds the watcher and sees it is gone. Everything runs on the io_context's thread.
#include "daemon/net/curl_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace askdesk::net {

namespace asio = boost::asio;

namespace {

struct transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* recipients = nullptr;
  std::size_t uploaded = 0;  // bytes of the body curl has read (SMTP)
  outgoing_request request;  // keeps the URL and body alive while curl uses them
  incoming_response response;
  std::size_t limit = 0;
  bool too_large = false;
  char error[CURL_ERROR_SIZE] = {};
  std::function<void(core::result<incoming_response>)> done;

  ~transfer() {
    if (headers) curl_slist_free_all(headers);
    if (recipients) curl_slist_free_all(recipients);
    if (easy) curl_easy_cleanup(easy);
  }
};

struct watcher {
  explicit watcher(asio::io_context& io, curl_socket_t s) : descriptor(io, s) {}
  asio::posix::stream_descriptor descriptor;
  int wanted = 0;  // CURL_POLL_IN, _OUT or _INOUT
  bool reading = false;
  bool writing = false;
  bool gone = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t n = size * count;
  if (t->response.body.size() + n > t->limit) {
    t->too_large = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

std::size_t on_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::string& body = t->request.body;
  const std::size_t n = std::min(size * count, body.size() - t->uploaded);
  std::memcpy(buffer, body.data() + t->uploaded, n);
  t->uploaded += n;
  return n;
}

bool is_mail(std::string_view url) { return url.starts_with("imap") || url.starts_with("smtp"); }

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new response (after a 100 Continue or a redirect)
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  t->response.headers.emplace_back(std::move(name), std::string(value));
  return n;
}

}  // namespace

std::string_view incoming_response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return {};
}

struct curl_client::impl {
  impl(asio::io_context& io, curl_client_options options)
      : io(io), options(std::move(options)), timer(io) {
    static std::once_flag global;
    std::call_once(global, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &impl::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &impl::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  }

  ~impl() {
    *alive = false;
    abandon();
    curl_multi_cleanup(multi);
  }

  // Drops every transfer in flight, its `done` uncalled, and lets go of curl's sockets.
  void abandon() {
    timer.cancel();
    for (auto& [easy, t] : transfers) curl_multi_remove_handle(multi, easy);
    transfers.clear();
    for (auto& [s, w] : watchers) {
      w->gone = true;
      w->descriptor.release();
    }
    watchers.clear();
  }

  static int on_socket(CURL*, curl_socket_t s, int what, void* user, void*) {
    auto* self = static_cast<impl*>(user);
    if (what == CURL_POLL_REMOVE) {
      self->forget(s);
      return 0;
    }
    auto& w = self->watchers[s];
    if (!w) w = std::make_shared<watcher>(self->io, s);
    w->wanted = what;
    self->arm(s, w);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* user) {
    auto* self = static_cast<impl*>(user);
    self->timer.cancel();
    if (timeout_ms < 0) return 0;
    self->timer.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer.async_wait([self, alive = self->alive](const boost::system::error_code& ec) {
      if (ec || !*alive) return;
      self->act(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  void forget(curl_socket_t s) {
    const auto it = watchers.find(s);
    if (it == watchers.end()) return;
    it->second->gone = true;
    it->second->descriptor.release();  // cancels its waits; curl closes the socket itself
    watchers.erase(it);
  }

  void arm(curl_socket_t s, const std::shared_ptr<watcher>& w) {
    wait(s, w, CURL_POLL_IN, &watcher::reading, asio::posix::descriptor_base::wait_read,
         CURL_CSELECT_IN);
    wait(s, w, CURL_POLL_OUT, &watcher::writing, asio::posix::descriptor_base::wait_write,
         CURL_CSELECT_OUT);
  }

  // One wait (read or write) on the socket while curl wants it and none is pending; tells
  // curl when it is ready, then waits again.
  void wait(curl_socket_t s, const std::shared_ptr<watcher>& w, int poll, bool watcher::*busy,
            asio::posix::descriptor_base::wait_type type, int select) {
    if (!(w->wanted & poll) || (*w).*busy) return;
    (*w).*busy = true;
    w->descriptor.async_wait(
        type, [this, s, w, busy, select, alive = alive](const boost::system::error_code& ec) {
          (*w).*busy = false;
          if (ec || !*alive || w->gone) return;
          act(s, select);
          if (!w->gone) arm(s, w);
        });
  }

  void act(curl_socket_t s, int events) {
    int running = 0;
    curl_multi_socket_action(multi, s, events, &running);
    finish_done();
  }

  void finish_done() {
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      const auto it = transfers.find(m->easy_handle);
      if (it == transfers.end()) continue;
      std::unique_ptr<transfer> t = std::move(it->second);
      transfers.erase(it);
      curl_multi_remove_handle(multi, t->easy);
      const CURLcode code = m->data.result;
      core::result<incoming_response> outcome = incoming_response{};
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->response.status);
      if (code == CURLE_OK) {
        outcome = std::move(t->response);
      } else if (t->response.status >= 400 && t->request.url.starts_with("smtp") &&
                 (code == CURLE_SEND_ERROR || code == CURLE_WEIRD_SERVER_REPLY)) {
        // The mail server refused the mail: its code says whether to try again (4xx) or not
        // (5xx). A refused login (a changed password, a locked account) is not about this
        // mail: an error like a connection failure, tried again.
        t->response.body = t->error[0] ? t->error : curl_easy_strerror(code);
        outcome = std::move(t->response);
      } else {
        const std::string why =
            t->too_large ? "the response is larger than " + std::to_string(t->limit) + " bytes"
                         : std::string(t->error[0] ? t->error : curl_easy_strerror(code));
        const bool refused = code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT;
        const bool stale = why.find("UIDVALIDITY") != std::string::npos;
        // IMAP: no such message (a UID expunged since the search).
        const bool gone = code == CURLE_REMOTE_FILE_NOT_FOUND;
        // A request with a body (a POST, a mail) that failed once connected and sending it
        // may have reached the server: sending it again could deliver it twice.
        curl_off_t uploaded = 0, connected = 0;
        curl_easy_getinfo(t->easy, CURLINFO_SIZE_UPLOAD_T, &uploaded);
        curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &connected);
        const bool uncertain =
            !t->request.body.empty() && connected > 0 && (uploaded > 0 || t->uploaded > 0);
        outcome = core::error{refused        ? "invalid"
                              : stale        ? "stale"
                              : gone         ? "not_found"
                              : t->too_large ? "too_large"
                              : uncertain    ? "uncertain"
                                             : "unavailable",
                              t->request.method + " " + t->request.url + ": " + why};
      }
      // Completing may start new requests (a retry, the next page) or destroy the client:
      // post it, so this loop never runs into either.
      asio::post(io, [done = std::move(t->done), outcome = std::move(outcome)]() mutable {
        done(std::move(outcome));
      });
    }
  }

  void send(outgoing_request r, std::function<void(core::result<incoming_response>)> done) {
    auto t = std::make_unique<transfer>();
    t->limit = r.max_response_bytes ? r.max_response_bytes : options.max_response_bytes;
    t->request = std::move(r);
    t->done = std::move(done);
    t->easy = curl_easy_init();
    CURL* e = t->easy;
    const auto& q = t->request;
    curl_easy_setopt(e, CURLOPT_URL, q.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, q.protocols.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(q.timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<std::int64_t>(q.timeout.count(), 10000)));
    curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    if (is_mail(q.url)) {
      if (!q.mail_to.empty()) {
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, q.mail_from.c_str());
        for (const auto& to : q.mail_to) {
          t->recipients = curl_slist_append(t->recipients, to.c_str());
        }
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->recipients);
      }
      if (!q.body.empty() || !q.mail_to.empty()) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, &on_upload);
        curl_easy_setopt(e, CURLOPT_READDATA, t.get());
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(q.body.size()));
      }
    } else if (q.method == "POST" || !q.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, q.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(q.body.size()));
    }
    if (q.method != "GET" && q.method != "POST") {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q.method.c_str());
    }
    if (q.require_tls) curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!q.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, q.ca_file.c_str());
    if (!q.username.empty()) {
      if (!is_mail(q.url)) curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(e, CURLOPT_USERNAME, q.username.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, q.password.c_str());
    }
    // No "Expect: 100-continue" round trip for larger bodies.
    t->headers = curl_slist_append(t->headers, "Expect:");
    for (const auto& [name, value] : q.headers) {
      t->headers = curl_slist_append(t->headers, (name + ": " + value).c_str());
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);

    if (const CURLMcode added = curl_multi_add_handle(multi, e); added != CURLM_OK) {
      asio::post(io, [done = std::move(t->done), url = q.url, why = curl_multi_strerror(added)] {
        done(core::error{"invalid", url + ": " + why});
      });
      return;
    }
    transfers.emplace(e, std::move(t));
  }

  asio::io_context& io;
  const curl_client_options options;
  CURLM* multi = nullptr;
  asio::steady_timer timer;
  std::map<curl_socket_t, std::shared_ptr<watcher>> watchers;
  std::map<CURL*, std::unique_ptr<transfer>> transfers;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

curl_client::curl_client(asio::io_context& io, curl_client_options options)
    : impl_(std::make_unique<impl>(io, std::move(options))) {}

curl_client::~curl_client() = default;

void curl_client::send(outgoing_request r,
                       std::function<void(core::result<incoming_response>)> done) {
  impl_->send(std::move(r), std::move(done));
}

std::size_t curl_client::in_flight() const { return impl_->transfers.size(); }

void curl_client::abandon_all() { impl_->abandon(); }

}  // namespace askdesk::net
