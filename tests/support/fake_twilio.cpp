#include "tests/support/fake_twilio.hpp"

#include <atomic>
#include <deque>
#include <future>

#include <boost/asio/io_context.hpp>

#include "daemon/json/writer.hpp"
#include "daemon/net/http_server.hpp"

namespace askdesk::testing {

struct fake_twilio::state {
  mutable std::mutex mutex;
  mutable std::condition_variable arrived;
  std::vector<request> requests;
  std::deque<net::http_response> failures;
  int next_sid = 1;
  boost::asio::io_context io{1};
  net::http_router router;
  std::unique_ptr<net::http_server> server;
};

std::string fake_twilio::request::field(std::string_view name) const {
  for (const auto& [n, v] : form) {
    if (n == name) return v;
  }
  return "";
}

namespace {

// A message resource as Twilio's API reference shows it.
std::string message_resource(const std::string& account, const std::string& sid,
                             const fake_twilio::request& r) {
  json::writer w;
  w.start_object()
      .field("account_sid", account)
      .field("api_version", "2010-04-01")
      .field("body", r.field("Body"))
      .field("date_created", "Mon, 23 Nov 2026 10:00:00 +0000")
      .key("date_sent")
      .null()
      .field("date_updated", "Mon, 23 Nov 2026 10:00:00 +0000")
      .field("direction", "outbound-api")
      .key("error_code")
      .null()
      .key("error_message")
      .null()
      .field("from", r.field("From"))
      .key("messaging_service_sid")
      .null()
      .field("num_media", "0")
      .field("num_segments", "1")
      .key("price")
      .null()
      .field("price_unit", "USD")
      .field("sid", sid)
      .field("status", "queued")
      .key("subresource_uris")
      .start_object()
      .field("media", "/2010-04-01/Accounts/" + account + "/Messages/" + sid + "/Media.json")
      .end_object()
      .field("to", r.field("To"))
      .field("uri", "/2010-04-01/Accounts/" + account + "/Messages/" + sid + ".json")
      .end_object();
  return w.str();
}

}  // namespace

fake_twilio::fake_twilio() : state_(std::make_shared<state>()) {
  state* s = state_.get();  // it owns the router and the thread's work: they must not own it
  s->router.add(
      "POST", "/2010-04-01/Accounts/{sid}/Messages.json",
      [s](const net::http_request& r, const net::route_params& p, net::respond_fn respond) {
        request seen{r.method, r.path, r.query, std::string(r.header("authorization")),
                     net::parse_form(r.body).value_or(net::form_fields{})};
        std::unique_lock lock(s->mutex);
        s->requests.push_back(seen);
        s->arrived.notify_all();
        if (!s->failures.empty()) {
          auto answer = std::move(s->failures.front());
          s->failures.pop_front();
          lock.unlock();
          respond(std::move(answer));
          return;
        }
        char sid[40];
        std::snprintf(sid, sizeof sid, "SM%032d", s->next_sid++);
        lock.unlock();
        respond(net::http_response::json(201, message_resource(p.get("sid"), sid, seen)));
      });
  s->server = net::http_server::create(s->io, {.host = "127.0.0.1", .port = 0}, s->router);
  if (!s->server->listen()) throw std::runtime_error("fake twilio cannot listen");
  port_ = s->server->port();
  thread_ = std::thread([s] { s->io.run(); });
}

fake_twilio::~fake_twilio() {
  state_->io.stop();
  thread_.join();
  // The io_context goes with the state: destroying it frees the connections still open.
}

void fake_twilio::fail_next(int status, int code, std::string message) {
  json::writer w;
  w.start_object()
      .field("code", code)
      .field("message", message)
      .field("more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code))
      .field("status", status)
      .end_object();
  std::lock_guard lock(state_->mutex);
  state_->failures.push_back(net::http_response::json(status, w.str()));
}

std::vector<fake_twilio::request> fake_twilio::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

bool fake_twilio::wait_for(std::size_t n, std::chrono::milliseconds wait) const {
  std::unique_lock lock(state_->mutex);
  return state_->arrived.wait_for(lock, wait, [&] { return state_->requests.size() >= n; });
}

}  // namespace askdesk::testing
