#pragma once
/// A blocking HTTP/1.1 client for the CLI commands that talk to a running daemon (never used on
/// the daemon's I/O thread). Beast stays inside http_client.cpp.

#include <chrono>
#include <cstdint>
#include <string>

namespace kentongan::daemon {

struct http_reply {
  unsigned status = 0;
  std::string body;
};

/// Throws std::runtime_error that says which address could not be reached and what to check.
http_reply http_call(const std::string& host, std::uint16_t port, const std::string& method, const std::string& target,
                     const std::string& body, const std::string& bearer_token,
                     std::chrono::seconds timeout = std::chrono::seconds{30});

}  // namespace kentongan::daemon
