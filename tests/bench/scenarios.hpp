// The scenarios of tests/bench/run.sh. Each starts what it needs (redis-server, askdesk,
// baselines) on loopback, runs a bounded load, stops everything, and reports to `results`.
#pragma once

#include <string>

#include "tests/bench/suite.hpp"

namespace askdesk::bench {

struct options {
  double seconds = 10;  // the measured window of the timed scenarios
  bool quick = false;   // smaller counts, for trying the suite out (not for the README)
};

// Signed Twilio webhooks over keep-alive connections, stored, routed and seen by a staff
// dashboard; baseline: redis-benchmark for the Redis commands each message cost.
void ingest(results& out, const options& o);
// Patron widgets and staff dashboards talking; baseline: a minimal Beast WebSocket echo.
void chat(results& out, const options& o);
// Idle patron WebSockets: resident memory each, time to accept them all.
void connections(results& out, const options& o);
// The routing decision with 500 staff and 10,000 open conversations (core only).
void routing(results& out, const options& o);
// Time to /healthz 200, and to drain an inbound backlog after a restart.
void recovery(results& out, const options& o);
// The Reports page's data over a year of 100,000 conversations; baseline: Redis handing
// over their facts.
void reports(results& out, const options& o);

// The Twilio connector of the scenarios that send texts (its account, token and number are
// ingest.cpp's).
std::string twilio_connector_json();

}  // namespace askdesk::bench
