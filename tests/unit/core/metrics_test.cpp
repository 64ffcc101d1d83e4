#include "daemon/core/metrics.hpp"

#include <gtest/gtest.h>

namespace askdesk::core {
namespace {

TEST(Metrics, RendersPrometheusTextWithHelpTypeAndLabels) {
  metrics m;
  m.declare_counter("askdesk_messages_received_total", "Messages stored, by channel.");
  m.declare_gauge("askdesk_websockets_open", "Open WebSockets.");
  m.add("askdesk_messages_received_total", {{"channel", "sms"}});
  m.add("askdesk_messages_received_total", {{"channel", "sms"}}, 2);
  m.add("askdesk_messages_received_total", {{"channel", "webchat"}});
  m.set("askdesk_websockets_open", {}, 7);
  EXPECT_EQ(m.value("askdesk_messages_received_total", {{"channel", "sms"}}), 3);
  EXPECT_EQ(m.value("askdesk_messages_received_total", {{"channel", "email"}}), 0);

  const std::string text = m.render();
  EXPECT_NE(text.find("# HELP askdesk_messages_received_total Messages stored, by channel.\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE askdesk_messages_received_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("askdesk_messages_received_total{channel=\"sms\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE askdesk_websockets_open gauge\n"), std::string::npos);
  EXPECT_NE(text.find("askdesk_websockets_open 7\n"), std::string::npos) << text;
}

TEST(Metrics, LabelValuesAreEscaped) {
  metrics m;
  m.declare_counter("askdesk_x_total", "x");
  m.add("askdesk_x_total", {{"connector", "a\"b\\c\nd"}});
  EXPECT_NE(m.render().find(R"(askdesk_x_total{connector="a\"b\\c\nd"} 1)"), std::string::npos)
      << m.render();
}

}  // namespace
TEST(Metrics, HistogramsCountEachBucketCumulativelyWithSumAndCount) {
  metrics m;
  m.declare_histogram("askdesk_wait_seconds", "How long patrons waited.", {10, 60});
  m.observe("askdesk_wait_seconds", {{"team", "reference"}}, 5);
  m.observe("askdesk_wait_seconds", {{"team", "reference"}}, 10);  // a bound is inside
  m.observe("askdesk_wait_seconds", {{"team", "reference"}}, 300);
  const std::string text = m.render();
  EXPECT_NE(text.find("# TYPE askdesk_wait_seconds histogram\n"), std::string::npos) << text;
  EXPECT_NE(text.find("askdesk_wait_seconds_bucket{team=\"reference\",le=\"10\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("askdesk_wait_seconds_bucket{team=\"reference\",le=\"60\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("askdesk_wait_seconds_bucket{team=\"reference\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("askdesk_wait_seconds_sum{team=\"reference\"} 315\n"), std::string::npos);
  EXPECT_NE(text.find("askdesk_wait_seconds_count{team=\"reference\"} 3\n"), std::string::npos);
  EXPECT_THROW(m.observe("askdesk_nothing", {}, 1), std::logic_error);
}

}  // namespace askdesk::core
