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
}  // namespace askdesk::core
