// Fuzzes the tls_inspector's ClientHello parser (network/inspect/client_hello):
// the input is the bytes a new connection sent. Checks that
//  - parsing terminates within the bound and never reads out of the input;
//  - the verdict is stable as bytes arrive: every prefix of an input that
//    parses as TLS says "need more" (or the same verdict), never "not TLS",
//    so a slow client is not misclassified;
//  - a whole ClientHello's facts do not depend on trailing bytes.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "network/inspect/client_hello.h"

using sluice::network::inspect::ClientHello;
using sluice::network::inspect::HelloStatus;
using sluice::network::inspect::parseClientHello;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  constexpr size_t kMax = 16 * 1024;
  ClientHello whole;
  const HelloStatus verdict = parseClientHello(input, kMax, whole);
  if (verdict == HelloStatus::kTls) {
    // Prefixes of a ClientHello: never "not TLS" before the end.
    for (size_t n = 0; n < size; n += 1 + n / 8) {
      ClientHello part;
      const HelloStatus early = parseClientHello(input.first(n), kMax, part);
      if (early == HelloStatus::kNotTls) std::abort();
    }
    // Bytes after the ClientHello (the client's next records) change nothing.
    std::vector<uint8_t> longer(input.begin(), input.end());
    longer.insert(longer.end(), {0x17, 0x03, 0x03, 0x00, 0x01, 0x00});
    ClientHello again;
    if (parseClientHello(longer, kMax, again) != HelloStatus::kTls) std::abort();
    if (again.server_name != whole.server_name || again.alpn != whole.alpn) std::abort();
    if (whole.server_name.size() > size) std::abort();
  }
  return 0;
}
