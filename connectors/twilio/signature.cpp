#include "connectors/twilio/signature.hpp"

#include <algorithm>
#include <optional>

#include "daemon/net/crypto.hpp"

namespace askdesk::connectors::twilio {

namespace {

// "https://host/x" <-> "https://host:443/x"; nullopt when the URL is not http(s).
std::optional<std::string> with_default_port_toggled(std::string_view url) {
  std::string_view port;
  if (url.starts_with("https://")) {
    port = "443";
  } else if (url.starts_with("http://")) {
    port = "80";
  } else {
    return std::nullopt;
  }
  const std::size_t host = url.find("://") + 3;
  const std::size_t end = std::min(url.find_first_of("/?#", host), url.size());
  const std::string_view authority = url.substr(host, end - host);
  const std::size_t at = authority.rfind('@');
  const std::size_t colon = authority.rfind(':');
  const bool has_port = colon != std::string_view::npos &&
                        (at == std::string_view::npos || colon > at) &&
                        authority.find(']', colon) == std::string_view::npos;
  std::string out(url.substr(0, host));
  if (has_port) {
    out += authority.substr(0, colon);  // drop whatever port it had
  } else {
    out += authority;
    out += ':';
    out += port;
  }
  out += url.substr(end);
  return out;
}

}  // namespace

std::string compute_signature(std::string_view auth_token, std::string_view url,
                              net::form_fields params) {
  std::sort(params.begin(), params.end());
  std::string data(url);
  for (const auto& [name, value] : params) {
    data += name;
    data += value;
  }
  return net::hmac_sha1_base64(auth_token, data);
}

bool valid_signature(std::string_view auth_token, std::string_view url,
                     const net::form_fields& params, std::string_view signature) {
  if (signature.empty()) return false;
  if (net::constant_time_equal(compute_signature(auth_token, url, params), signature)) return true;
  const auto other = with_default_port_toggled(url);
  return other &&
         net::constant_time_equal(compute_signature(auth_token, *other, params), signature);
}

}  // namespace askdesk::connectors::twilio
