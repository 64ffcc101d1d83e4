// The few cryptographic primitives askdesk needs, from libsodium: Argon2id password hashes
// (crypto_pwhash, libsodium's "interactive" cost: ~64 MiB and a noticeable fraction of a
// second, so the daemon runs them on its worker thread, never on the I/O thread), random
// tokens, SHA-256 digests of secrets, and constant-time comparison. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "daemon/core/result.hpp"

namespace askdesk::net {

// An Argon2id string with its salt and cost ("$argon2id$v=19$m=65536,t=2,p=1$...").
core::result<std::string> hash_password(std::string_view password);
// True when `password` matches `hash`; false for a wrong password or a malformed hash.
bool verify_password(std::string_view hash, std::string_view password);

// 32 random bytes, base64url without padding (43 characters): session cookies, CSRF tokens,
// API tokens, patron session tokens.
std::string random_token();
// Lower-case hex SHA-256: how secrets are stored and looked up.
std::string sha256_hex(std::string_view text);
bool constant_time_equal(std::string_view a, std::string_view b);

// Base64 (standard alphabet, padded) of HMAC-SHA1(key, data): webhook signatures (Twilio).
std::string hmac_sha1_base64(std::string_view key, std::string_view data);

}  // namespace askdesk::net
