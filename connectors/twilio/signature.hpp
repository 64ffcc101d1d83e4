// Twilio's request signature (X-Twilio-Signature): the base64 HMAC-SHA1, keyed with the
// account's auth token, of the full URL Twilio requested followed by every POST parameter
// sorted by name (and, for a repeated name, by value), each as name then value with nothing
// between. Checked in constant time. Twilio's own libraries also accept the URL with the
// default port added or removed, since proxies differ on it; so does this.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "daemon/net/http.hpp"

namespace askdesk::connectors::twilio {

std::string compute_signature(std::string_view auth_token, std::string_view url,
                              net::form_fields params);

// True when `signature` is the one for `url` (or `url` with its default port toggled) and
// `params`. An empty signature is never valid.
bool valid_signature(std::string_view auth_token, std::string_view url,
                     const net::form_fields& params, std::string_view signature);

}  // namespace askdesk::connectors::twilio
