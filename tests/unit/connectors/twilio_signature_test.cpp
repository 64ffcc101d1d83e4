#include "connectors/twilio/signature.hpp"

#include <gtest/gtest.h>

namespace askdesk::connectors::twilio {
namespace {

// The worked example Twilio's documentation and libraries use.
const std::string token = "12345";
const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
const net::form_fields params = {{"CallSid", "CA1234567890ABCDE"},
                                 {"Digits", "1234"},
                                 {"From", "+14158675309"},
                                 {"To", "+18005551212"},
                                 {"Caller", "+14158675309"}};
const std::string expected = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

TEST(TwilioSignature, TheDocumentedExample) {
  EXPECT_EQ(compute_signature(token, url, params), expected);
  EXPECT_TRUE(valid_signature(token, url, params, expected));
}

TEST(TwilioSignature, RepeatedParametersSortByValueToo) {
  const net::form_fields repeated = {
      {"Sid", "CA123"}, {"SidAccount", "AC123"}, {"Digits", "5678"}, {"Digits", "1234"}};
  EXPECT_EQ(compute_signature(token, url, repeated), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

TEST(TwilioSignature, TheDefaultPortMayBeWrittenOrNot) {
  EXPECT_TRUE(
      valid_signature(token, "https://mycompany.com:443/myapp.php?foo=1&bar=2", params, expected));
  EXPECT_TRUE(valid_signature(token, url, params, "kvajT1Ptam85bY51eRf/AJRuM3w="));  // with :443
  EXPECT_TRUE(valid_signature(token, "http://mycompany.com:1234/myapp.php?foo=1&bar=2", params,
                              "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));
}

TEST(TwilioSignature, TamperingIsRefused) {
  EXPECT_FALSE(valid_signature(token, "https://mycompany.com/myapp.php?foo=1&bar=3", params,
                               expected));  // tampered URL
  auto changed = params;
  changed[1].second = "1235";  // tampered parameter
  EXPECT_FALSE(valid_signature(token, url, changed, expected));
  auto added = params;
  added.emplace_back("Body", "extra");
  EXPECT_FALSE(valid_signature(token, url, added, expected));
  EXPECT_FALSE(valid_signature(token, url, params, ""));  // missing header
  EXPECT_FALSE(valid_signature("54321", url, params, expected));
  EXPECT_FALSE(valid_signature(token, url, params, expected.substr(1)));
}

TEST(TwilioSignature, FormsRoundTrip) {
  const net::form_fields fields = {{"To", "+15550100"}, {"Body", "Où est la bibliothèque? 100%"}};
  const auto body = net::encode_form(fields);
  EXPECT_EQ(body, "To=%2B15550100&Body=O%C3%B9%20est%20la%20biblioth%C3%A8que%3F%20100%25");
  EXPECT_EQ(net::parse_form(body), fields);
  EXPECT_EQ(net::parse_form("a=1+2&b=&c"), (net::form_fields{{"a", "1 2"}, {"b", ""}, {"c", ""}}));
  EXPECT_FALSE(net::parse_form("a=%ZZ"));
}

}  // namespace
}  // namespace askdesk::connectors::twilio
