// The TLS ClientHello as the tls_inspector listener filter reads it: from the
// bytes a new connection has sent so far (peeked, not consumed), whether it is
// TLS at all, and its server name (SNI) and ALPN protocols. Pure parsing, no
// I/O, bounded by `max_size` bytes of handshake data; any thread. Fuzzed
// (fuzz/client_hello_fuzz.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sluice::network::inspect {

enum class HelloStatus : uint8_t {
  kNeedMore,  // a ClientHello so far: more bytes are needed to decide
  kTls,       // a whole ClientHello: `out` is filled
  kNotTls,    // not a TLS handshake (plain bytes, or a malformed record or message)
  kTooLarge,  // a ClientHello larger than `max_size`
};

struct ClientHello {
  std::string server_name;        // the host_name of server_name, lower case; empty: none
  std::vector<std::string> alpn;  // application_layer_protocol_negotiation, in the client's order
};

// Envoy's default bound of a ClientHello (tls_inspector max_client_hello_size).
inline constexpr size_t kDefaultMaxClientHelloSize = 64 * 1024;

HelloStatus parseClientHello(std::span<const uint8_t> bytes, size_t max_size, ClientHello& out);

}  // namespace sluice::network::inspect
