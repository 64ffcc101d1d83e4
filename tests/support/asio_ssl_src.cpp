// Asio's TLS layer compiled once for the tests' clients (the daemon itself speaks plain HTTP
// behind a proxy, so daemon/net/asio_src.cpp leaves it out).
#include <boost/asio/ssl/impl/src.hpp>
