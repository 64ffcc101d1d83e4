#include "tests/support/fake_twilio.hpp"

#include <atomic>
#include <deque>
#include <future>
#include <map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/json/writer.hpp"
#include "daemon/net/http_server.hpp"

namespace askdesk::testing {

struct fake_twilio::state {
  mutable std::mutex mutex;
  mutable std::condition_variable arrived;
  std::vector<request> requests;
  std::deque<net::http_response> failures;
  std::vector<std::map<std::string, std::string>> inbound;  // oldest first
  int next_sid = 1;
  std::chrono::milliseconds delay{0};
  bool hold_lists = false;
  std::vector<std::function<void()>> held;  // answers to send on release_lists()
  boost::asio::io_context io{1};
  net::http_router router;
  std::unique_ptr<net::http_server> server;
};

std::string fake_twilio::request::field(std::string_view name) const {
  const auto* v = net::form_value(form, name);
  return v ? *v : "";
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
        const auto delay = s->delay;
        lock.unlock();
        auto answer = net::http_response::json(201, message_resource(p.get("sid"), sid, seen));
        if (delay.count() == 0) {
          respond(std::move(answer));
          return;
        }
        auto timer = std::make_shared<boost::asio::steady_timer>(s->io, delay);
        timer->async_wait([timer, answer = std::move(answer), respond = std::move(respond)](
                              const boost::system::error_code&) { respond(answer); });
      });
  s->router.add(
      "GET", "/2010-04-01/Accounts/{sid}/Messages.json",
      [s](const net::http_request& r, const net::route_params& p, net::respond_fn respond) {
        const auto query = net::parse_form(r.query).value_or(net::form_fields{});
        request seen{r.method, r.path, r.query, std::string(r.header("authorization")), query};
        const std::string to = seen.field("To");
        const int size = std::max(1, std::atoi(seen.field("PageSize").c_str()));
        const int page = std::atoi(seen.field("Page").c_str());
        std::lock_guard lock(s->mutex);
        s->requests.push_back(seen);
        s->arrived.notify_all();
        std::vector<const std::map<std::string, std::string>*> listed;
        for (auto m = s->inbound.rbegin(); m != s->inbound.rend(); ++m) {
          if (to.empty() || m->at("to") == to) listed.push_back(&*m);
        }
        const std::string base = "/2010-04-01/Accounts/" + p.get("sid") + "/Messages.json";
        const auto page_uri = [&](int n) {
          return base + "?" +
                 net::encode_form({{"To", to},
                                   {"PageSize", std::to_string(size)},
                                   {"Page", std::to_string(n)},
                                   {"PageToken", "PASM" + std::to_string(n)}});
        };
        json::writer w;
        w.start_object().key("messages").start_array();
        const std::size_t first = static_cast<std::size_t>(page) * size;
        for (std::size_t i = first; i < listed.size() && i < first + size; ++i) {
          const auto& m = *listed[i];
          w.start_object()
              .field("account_sid", p.get("sid"))
              .field("api_version", "2010-04-01")
              .field("body", m.at("body"))
              .field("date_sent", m.at("date_sent"))
              .field("direction", "inbound")
              .field("from", m.at("from"))
              .field("num_media", "0")
              .field("num_segments", "1")
              .field("sid", m.at("sid"))
              .field("status", "received")
              .field("to", m.at("to"))
              .field("uri", base.substr(0, base.size() - 5) + "/" + m.at("sid") + ".json")
              .end_object();
        }
        w.end_array().field("end", static_cast<std::int64_t>(first + size - 1));
        w.field("first_page_uri", page_uri(0));
        w.key("next_page_uri");
        if (first + size < listed.size()) {
          w.string(page_uri(page + 1));
        } else {
          w.null();
        }
        w.field("page", page).field("page_size", size);
        w.key("previous_page_uri");
        if (page > 0) {
          w.string(page_uri(page - 1));
        } else {
          w.null();
        }
        w.field("start", static_cast<std::int64_t>(first)).field("uri", page_uri(page));
        w.end_object();
        auto answer = net::http_response::json(200, w.str());
        if (s->hold_lists) {
          s->held.push_back(
              [respond = std::move(respond), answer = std::move(answer)] { respond(answer); });
          s->arrived.notify_all();
          return;
        }
        respond(std::move(answer));
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

void fake_twilio::hold_lists(bool hold) {
  std::lock_guard lock(state_->mutex);
  state_->hold_lists = hold;
}

void fake_twilio::release_lists() {
  std::lock_guard lock(state_->mutex);
  for (auto& send : state_->held) boost::asio::post(state_->io, std::move(send));
  state_->held.clear();
}

std::size_t fake_twilio::lists_held() const {
  std::lock_guard lock(state_->mutex);
  return state_->held.size();
}

void fake_twilio::delay_answers(std::chrono::milliseconds delay) {
  std::lock_guard lock(state_->mutex);
  state_->delay = delay;
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

void fake_twilio::add_inbound(std::string sid, std::string from, std::string to, std::string body,
                              std::string date_sent) {
  std::lock_guard lock(state_->mutex);
  state_->inbound.push_back({{"sid", std::move(sid)},
                             {"from", std::move(from)},
                             {"to", std::move(to)},
                             {"body", std::move(body)},
                             {"date_sent", std::move(date_sent)}});
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
