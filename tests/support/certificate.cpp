#include "tests/support/certificate.hpp"

#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "tests/support/process.hpp"

namespace askdesk::testing {

namespace {

bool is_ip_address(const std::string& name) {
  unsigned char address[16];
  return inet_pton(AF_INET, name.c_str(), address) == 1 ||
         inet_pton(AF_INET6, name.c_str(), address) == 1;
}

}  // namespace

void make_self_signed_certificate(const std::string& cert_file, const std::string& key_file,
                                  const std::vector<std::string>& names) {
  if (names.empty()) throw std::invalid_argument("a certificate needs at least one name");
  std::string alt_names;
  for (const auto& name : names) {
    alt_names +=
        (alt_names.empty() ? "" : ",") + std::string(is_ip_address(name) ? "IP:" : "DNS:") + name;
  }
  const std::string log_file = cert_file + ".openssl.log";
  child_process openssl(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-days", "2", "-subj", "/CN=" + names.front(), "-addext", "subjectAltName=" + alt_names,
       "-keyout", key_file, "-out", cert_file},
      log_file);
  if (openssl.wait(std::chrono::seconds(20)) != 0) {
    throw std::runtime_error("openssl could not make a certificate for " + names.front() + ":\n" +
                             openssl.log());
  }
  std::remove(log_file.c_str());
}

}  // namespace askdesk::testing
