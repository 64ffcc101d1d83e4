// Self-signed certificates for tests that speak TLS to a real server on loopback (Prosody,
// and whatever comes next): made by the openssl command for the names a client checks, and
// trusted by a client that takes the certificate itself as its CA file.
#pragma once

#include <string>
#include <vector>

namespace askdesk::testing {

// Writes a new EC P-256 key to `key_file` and a certificate valid for two days to
// `cert_file`, for `names`: each a DNS name or an IP address (the first is also the
// subject's CN). REQUIRES: `names` is not empty. Throws std::runtime_error with openssl's
// output when it cannot.
void make_self_signed_certificate(const std::string& cert_file, const std::string& key_file,
                                  const std::vector<std::string>& names);

}  // namespace askdesk::testing
