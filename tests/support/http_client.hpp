// A blocking HTTP client for tests (libcurl's easy API): one request, the whole answer.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace askdesk::testing {

struct http_result {
  long status = 0;  // 0 when the connection failed
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string error;                                         // curl's message when status is 0

  std::string header(const std::string& lower_name) const;
};

// https:// requests trust the certificate in `cert_file` (a test's self-signed one).
void trust_certificate(const std::string& cert_file);

http_result http_request(const std::string& method, const std::string& url,
                         const std::string& body = {},
                         const std::vector<std::string>& headers = {});

}  // namespace askdesk::testing
