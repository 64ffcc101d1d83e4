// The reports through the real daemon and redis-server, with the daemon's clock started at
// chosen times (serve --clock-start): a text at 02:00 acknowledged automatically and answered
// at 09:05 waited five minutes of opening hours; a conversation closed without a reply is
// missed, however many automatic messages it got; READ levels on closing; the summary and
// the CSV agree, and neither holds a patron's name, address or words.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "tests/support/askdesk_daemon.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {
namespace {

const char* config = R"({
  "teams": [{
    "id": "reference", "name": "Reference",
    "timezone": "America/Toronto",
    "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]],
              "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]],
              "fri": [["09:00", "17:00"]]},
    "auto_ack": {"*": {"en": "Hello {patron_name}, we open {next_open}."}}
  }, {"id": "ill", "read_required": true}],
  "connectors": [
    {"id": "texts", "type": "replay", "token": "text-token-0123456789", "channel": "sms"}
  ]
})";

// Tuesday 3 March 2026 in Toronto (EST, UTC-5): 02:00, then 09:05.
const char* at_0200 = "2026-03-03T07:00:00Z";
const char* at_0905 = "2026-03-03T14:05:00Z";

class Reports : public ::testing::Test {
 protected:
  Reports() { start(at_0200); }

  void start(const char* clock) {
    daemon_.reset();
    daemon_ = std::make_unique<askdesk_daemon>(redis_, config,
                                               std::vector<std::string>{"--clock-start", clock});
    if (!sue_) {
      daemon_->add_user("sue", "supervisor", {}, "sue-password-1");
      daemon_->add_user("ann", "staff", {"reference", "ill"}, "ann-password-1");
    }
    sue_ = daemon_->login("sue", "sue-password-1");
    ann_ = daemon_->login("ann", "ann-password-1");
  }

  // A patron's text; returns its conversation once the hub applied it.
  std::string texts(const std::string& from, const std::string& id, const std::string& text,
                    const std::string& extra = "") {
    return daemon_->replay("texts", "text-token-0123456789", from,
                           R"({"id":")" + id + R"(","from":")" + from +
                               R"(","name":"Ada Lovelace","text":")" + text + "\"" + extra + "}");
  }

  http_result as(const staff_session& who, const std::string& method, const std::string& path,
                 const std::string& body = "") {
    return daemon_->call(who, method, path, body);
  }

  redis_server redis_;
  std::unique_ptr<askdesk_daemon> daemon_;
  std::optional<staff_session> sue_, ann_;
};

// The CSV's rows as maps of column -> value (no field here holds a comma or a quote).
std::vector<std::map<std::string, std::string>> csv_rows(const std::string& csv) {
  std::istringstream lines(csv);
  std::vector<std::string> columns;
  std::vector<std::map<std::string, std::string>> rows;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    if (columns.empty()) {
      columns = cells;
      continue;
    }
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < columns.size() && i < cells.size(); ++i) row[columns[i]] = cells[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

TEST_F(Reports, WaitsCountOpeningHoursAndTheSummaryAgreesWithTheCsv) {
  // 02:00: acknowledged automatically, which is not an answer.
  const std::string night = texts("+15550100001", "t1", "Where is my hold?");
  ASSERT_TRUE(wait_until(
      [&] { return daemon_->metric(R"(askdesk_auto_acks_sent_total{channel="sms"})") >= 1; }));

  // 09:05: Ann answers it and closes it with a READ level.
  start(at_0905);
  const std::string path = "/api/v1/conversations/" + night;
  ASSERT_EQ(as(*ann_, "POST", path + "/messages", R"({"text":"It is on the shelf."})").status, 201);
  EXPECT_EQ(as(*ann_, "POST", path + "/close", R"({"read_level":7})").status, 400);
  EXPECT_EQ(as(*ann_, "POST", path + "/close", R"({"read_level":"3"})").status, 400);
  const auto closed = as(*ann_, "POST", path + "/close", R"({"read_level":3})");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(json_value_at(closed.body, "/conversation/read_level"), "3") << closed.body;

  // A question answered at once.
  const std::string quick = texts("+15550100002", "t2", "Are you open today?");
  ASSERT_EQ(
      as(*ann_, "POST", "/api/v1/conversations/" + quick + "/messages", R"({"text":"Until five."})")
          .status,
      201);
  ASSERT_EQ(
      as(*ann_, "POST", "/api/v1/conversations/" + quick + "/close", R"({"read_level":2})").status,
      200);

  // One nobody answered, moved to a team that asks for a READ level on closing.
  const std::string unanswered = texts("+15550100003", "t3", "Can I print from my phone?");
  const std::string up = "/api/v1/conversations/" + unanswered;
  ASSERT_EQ(as(*sue_, "POST", up + "/transfer", R"({"team":"ill"})").status, 200);
  const auto refused = as(*sue_, "POST", up + "/close");
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("READ level"), std::string::npos) << refused.body;
  ASSERT_EQ(as(*sue_, "POST", up + "/close", R"({"read_level":1})").status, 200);

  const std::string range = "from=2026-03-03&to=2026-03-03";
  const auto summary = as(*sue_, "GET", "/api/v1/reports/summary?" + range);
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_EQ(json_value_at(summary.body, "/conversations"), "3") << summary.body;
  EXPECT_EQ(json_value_at(summary.body, "/answered"), "2");
  EXPECT_EQ(json_value_at(summary.body, "/missed"), "1");
  EXPECT_EQ(json_value_at(summary.body, "/read/1"), "1");
  EXPECT_EQ(json_value_at(summary.body, "/read/2"), "1");
  EXPECT_EQ(json_value_at(summary.body, "/read/3"), "1");
  EXPECT_EQ(json_value_at(summary.body, "/csat/count"), "0");
  EXPECT_EQ(json_value_at(summary.body, "/csat/average"), "null");

  const auto csv = as(*sue_, "GET", "/api/v1/reports/conversations?format=csv&" + range);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_NE(csv.header("content-type").find("text/csv"), std::string::npos);
  const auto rows = csv_rows(csv.body);
  ASSERT_EQ(rows.size(), 3u) << csv.body;
  std::map<std::string, std::map<std::string, std::string>> by_id;
  for (const auto& r : rows) by_id[r.at("id")] = r;
  // Five minutes of opening hours (and the seconds this test took to answer), not seven hours.
  const int night_response = std::stoi(by_id[night]["first_response_seconds"]);
  EXPECT_GE(night_response, 300);
  EXPECT_LE(night_response, 330);
  EXPECT_EQ(by_id[night]["after_hours"], "true");
  EXPECT_EQ(by_id[night]["staff"], "ann");
  EXPECT_EQ(by_id[night]["read_level"], "3");
  EXPECT_EQ(by_id[unanswered]["missed"], "true");
  EXPECT_EQ(by_id[unanswered]["first_response_seconds"], "");
  EXPECT_EQ(by_id[unanswered]["team"], "ill");

  // The summary is the CSV's arithmetic.
  std::vector<double> responses;
  int answered = 0, missed = 0;
  for (const auto& r : rows) {
    if (!r.at("first_response_seconds").empty()) {
      responses.push_back(std::stod(r.at("first_response_seconds")));
    }
    answered += r.at("answered") == "true";
    missed += r.at("missed") == "true";
  }
  EXPECT_EQ(std::to_string(answered), json_value_at(summary.body, "/answered"));
  EXPECT_EQ(std::to_string(missed), json_value_at(summary.body, "/missed"));
  EXPECT_DOUBLE_EQ(std::stod(json_value_at(summary.body, "/first_response_seconds/median")),
                   median(responses));

  // Tuesday 02:00 and twice 09:00, local time.
  const auto heatmap = as(*sue_, "GET", "/api/v1/reports/heatmap?" + range);
  ASSERT_EQ(heatmap.status, 200) << heatmap.body;
  EXPECT_EQ(json_value_at(heatmap.body, "/volume/1/2"), "1");
  EXPECT_EQ(json_value_at(heatmap.body, "/volume/1/9"), "2");
  EXPECT_EQ(json_value_at(heatmap.body, "/missed/1/9"), "1");

  // A team's report; staff see what they took or answered.
  const auto reference = as(*sue_, "GET", "/api/v1/reports/summary?team=reference&" + range);
  EXPECT_EQ(json_value_at(reference.body, "/conversations"), "2");
  const auto own = as(*ann_, "GET", "/api/v1/reports/conversations?" + range);
  ASSERT_EQ(own.status, 200);
  EXPECT_EQ(json_value_at(own.body, "/conversations/1/id"), quick);
  EXPECT_EQ(json_value_at(own.body, "/conversations/2/id"), "");

  // The same first responses in Prometheus's histograms, by team and channel.
  EXPECT_EQ(
      daemon_->metric(R"(askdesk_first_response_seconds_count{team="reference",channel="sms"})"),
      2);
  EXPECT_EQ(daemon_->metric(
                R"(askdesk_first_response_seconds_bucket{team="reference",channel="sms",le="60"})"),
            1);
  EXPECT_GE(
      daemon_->metric(R"(askdesk_first_response_seconds_sum{team="reference",channel="sms"})"),
      300);
  EXPECT_EQ(daemon_->metric(R"(askdesk_wait_seconds_count{team="reference",channel="sms"})"), 2);

  // No patron data anywhere.
  const auto json = as(*sue_, "GET", "/api/v1/reports/conversations?" + range);
  for (const auto* body : {&summary.body, &csv.body, &heatmap.body, &json.body, &own.body}) {
    for (const char* secret : {"Ada", "Lovelace", "+1555", "5550100", "hold", "shelf", "print"}) {
      EXPECT_EQ(body->find(secret), std::string::npos) << secret << " in " << *body;
    }
  }
}

TEST_F(Reports, PatronsAreAskedOnceOnTheirChannelAndTheirDigitIsTheirScore) {
  start(at_0905);
  const std::string id = texts("+15550100004", "t4", "Do you have a scanner?");
  const std::string path = "/api/v1/conversations/" + id;
  ASSERT_EQ(as(*ann_, "POST", path + "/messages", R"({"text":"Yes, on the second floor."})").status,
            201);
  ASSERT_EQ(as(*ann_, "POST", path + "/close").status, 200);
  // The question, as an automatic message on the patron's channel, once.
  std::string transcript = as(*sue_, "GET", path).body;
  EXPECT_NE(transcript.find("How satisfied are you"), std::string::npos) << transcript;
  EXPECT_EQ(as(*ann_, "POST", path + "/close").status, 200);  // closed already: not again
  transcript = as(*sue_, "GET", path).body;
  EXPECT_EQ(transcript.find("How satisfied are you"), transcript.rfind("How satisfied are you"));

  // The answer: a score and a comment, and the conversation stays closed.
  const auto conversations = redis_.command({"GET", "seq:conversation"}).str();
  texts("+15550100004", "t5", "4 - very kind, thanks");
  ASSERT_TRUE(
      wait_until([&] { return json_value_at(as(*sue_, "GET", path).body, "/csat/score") == "4"; }));
  const auto rated = as(*sue_, "GET", path).body;
  EXPECT_EQ(json_value_at(rated, "/csat/comment"), "very kind, thanks") << rated;
  EXPECT_EQ(json_value_at(rated, "/status"), "closed");
  EXPECT_NE(rated.find("4 - very kind"), std::string::npos);  // in the transcript
  EXPECT_EQ(redis_.command({"GET", "seq:conversation"}).str(), conversations);

  // The next message is a question again, in a new conversation.
  texts("+15550100004", "t6", "5 more questions about scanning");
  EXPECT_TRUE(wait_until([&] {
    return redis_.command({"GET", "thread:texts:+15550100004"}).str() != id;
  }));

  const auto summary = as(*sue_, "GET", "/api/v1/reports/summary?from=2026-03-03&to=2026-03-03");
  EXPECT_EQ(json_value_at(summary.body, "/csat/count"), "1") << summary.body;
  EXPECT_EQ(json_value_at(summary.body, "/csat/average"), "4.0");
  EXPECT_EQ(json_value_at(summary.body, "/csat/distribution/4"), "1");
  const auto csv =
      as(*sue_, "GET", "/api/v1/reports/conversations?format=csv&from=2026-03-03&to=2026-03-03");
  EXPECT_EQ(csv.body.find("very kind"), std::string::npos);  // comments are not statistics

  // An automated sender is never asked.
  const std::string robot = texts("+15550100005", "t7", "I am away until Monday",
                                  R"(,"headers":{"Auto-Submitted":"auto-replied"})");
  ASSERT_EQ(as(*sue_, "POST", "/api/v1/conversations/" + robot + "/close").status, 200);
  EXPECT_EQ(as(*sue_, "GET", "/api/v1/conversations/" + robot).body.find("How satisfied"),
            std::string::npos);
}

TEST_F(Reports, AnIntegrationMayRecordAScoreOnce) {
  const std::string id = texts("+15550100006", "t8", "Hello?");
  const std::string path = "/api/v1/conversations/" + id + "/csat";
  for (const char* bad : {R"({})", R"({"score":0})", R"({"score":6})", R"({"score":"5"})",
                          R"({"score":5,"comment":7})"}) {
    EXPECT_EQ(as(*sue_, "POST", path, bad).status, 400) << bad;
  }
  const auto rated = as(*sue_, "POST", path, R"({"score":5,"comment":"Great"})");
  ASSERT_EQ(rated.status, 200) << rated.body;
  EXPECT_EQ(json_value_at(rated.body, "/conversation/csat/score"), "5") << rated.body;
  EXPECT_EQ(as(*sue_, "POST", path, R"({"score":1})").status, 409);
  EXPECT_EQ(as(*sue_, "POST", "/api/v1/conversations/999/csat", R"({"score":1})").status, 404);
}

TEST_F(Reports, BadQueriesAreRefusedWithTheReason) {
  for (const char* query :
       {"from=2026-02-30", "from=yesterday", "to=2026-3-3", "from=2026-03-04&to=2026-03-03",
        "from=2025-01-01&to=2026-03-03", "team=nobody", "channel=fax", "format=xml"}) {
    const auto r = as(*sue_, "GET", std::string("/api/v1/reports/conversations?") + query);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_NE(r.body.find("invalid_request"), std::string::npos) << r.body;
  }
  EXPECT_EQ(http_request("GET", daemon_->url("/api/v1/reports/summary")).status, 401);
  // An empty range measures nothing.
  const auto empty = as(*sue_, "GET", "/api/v1/reports/summary?from=2026-01-01&to=2026-01-31");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(json_value_at(empty.body, "/conversations"), "0");
  EXPECT_EQ(json_value_at(empty.body, "/first_response_seconds/median"), "null");
}

}  // namespace
}  // namespace askdesk::testing
