#include "connectors/transport_settings.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace askdesk::connectors {

bool is_loopback(std::string_view host) {
  in_addr v4{};
  return host == "localhost" || host == "::1" ||
         (inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1 &&
          (ntohl(v4.s_addr) >> 24) == 127);
}

std::string unusable_ca_file(const std::string& path) {
  if (!path.starts_with('/')) return "must be an absolute path to a PEM file of CA certificates";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path + ": " + std::strerror(errno);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return path + " has no PEM certificate (-----BEGIN CERTIFICATE-----)";
  }
  return "";
}

}  // namespace askdesk::connectors
