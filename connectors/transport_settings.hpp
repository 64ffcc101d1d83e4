// Checks that connectors share when reading the settings of a connection to a server:
// whether a host is this machine (plain text is allowed only there), and whether a file can
// serve as the library's own CA. Pure functions over their arguments (and the file).
#pragma once

#include <string>
#include <string_view>

namespace askdesk::connectors {

// "localhost", "::1" or 127.x.y.z.
bool is_loopback(std::string_view host);

// Why `path` cannot serve as the CA certificates TLS checks the server against ("" when it
// can): an absolute path to a readable file with a PEM certificate.
std::string unusable_ca_file(const std::string& path);

}  // namespace askdesk::connectors
