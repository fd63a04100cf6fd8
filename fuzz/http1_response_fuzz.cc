// Fuzzes the HTTP/1 response head parser and response framing: any bytes an
// upstream sends. Checks, as for requests, that
//  - every error answers 502 with a detail;
//  - a complete head parses the same from exactly its bytes and every shorter
//    prefix is Incomplete;
//  - parsed fields are clean and the status a 3-digit code;
//  - what sluice forwards to its client (appendResponseHead) parses back to
//    the same head;
//  - the body framing, for a GET, a HEAD and a CONNECT request, is one sluice
//    can decode without looping.
#include <cstdint>
#include <string>
#include <string_view>

#include "http/http1_serializer.h"
#include "http_common.h"

using namespace sluice::http::http1;
using sluice::fuzz::checkFields;
using sluice::fuzz::checkHeadPromises;
using sluice::fuzz::sameFields;

namespace {

// The reason phrase is not compared: the serialiser may supply the registered
// one when the upstream sent none.
bool sameHead(const ResponseHead& a, const ResponseHead& b) {
  return a.status == b.status && a.version_minor == b.version_minor && sameFields(a.headers, b.headers);
}

void checkOne(std::string_view input, const Limits& limits) {
  ResponseHead head;
  const HeadResult r = parseResponseHead(input, limits, head);
  if (r.status == ParseStatus::Error) {
    FUZZ_CHECK(r.error_status == 502);
    FUZZ_CHECK(!r.detail.empty());
    return;
  }
  if (r.status == ParseStatus::Incomplete) return;

  FUZZ_CHECK(r.consumed > 0 && r.consumed <= input.size());
  FUZZ_CHECK(head.status >= 100 && head.status <= 999);
  FUZZ_CHECK(head.version_minor == 0 || head.version_minor == 1);
  for (char c : head.reason) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
  checkFields(head.headers);

  // Only the exact re-parse must keep the reason phrase (see sameHead).
  checkHeadPromises(
      input, r.consumed, limits, head, parseResponseHead, appendResponseHead,
      [](const ResponseHead& a, const ResponseHead& b) { return sameHead(a, b) && a.reason == b.reason; },
      [](const ResponseHead& a, const ResponseHead& b) { return sameHead(a, b); });

  for (std::string_view method : {"GET", "HEAD", "CONNECT"}) {
    ResponseHead copy;
    copy.status = head.status;
    copy.version_minor = head.version_minor;
    head.headers.forEach([&](const sluice::http::HeaderMap::Entry& e) { copy.headers.add(e.name, e.value); });
    const FramingResult framing = responseFraming(copy, method, limits);
    if (!framing.ok) {
      FUZZ_CHECK(framing.error_status == 502);
      FUZZ_CHECK(!framing.detail.empty());
      continue;
    }
    if (method == "HEAD" || head.status == 204 || head.status == 304 || head.status < 200) {
      FUZZ_CHECK(framing.framing.kind == Framing::Kind::None);
    }
    // Bodiless responses keep their fields as sent (RFC 9112 6.3 rules 1-2);
    // a response with a body has at most one, normalised, Content-Length.
    if (framing.framing.kind != Framing::Kind::None) FUZZ_CHECK(copy.headers.count("content-length") <= 1);
    sluice::fuzz::decodeBody(framing.framing, limits, input.substr(r.consumed));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const Limits& limits : sluice::fuzz::limitVariants()) checkOne(input, limits);
  return 0;
}
