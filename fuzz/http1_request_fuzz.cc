// Fuzzes the HTTP/1 request head parser and request framing: any bytes a
// client sends. Beyond "no crash, no leak, no UB", checks that
//  - errors carry a status the proxy may answer (400, 431, 501, 505) and a detail;
//  - a complete head parses the same from exactly its bytes, and every
//    shorter prefix is Incomplete (a request split across reads is not
//    rejected or cut short);
//  - parsed fields are clean (see checkFields) and the method a token;
//  - what the proxy would forward (appendRequestHead) parses back to the same
//    head, so sluice and the upstream agree on it;
//  - the body framing is one sluice can decode without looping.
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

bool sameHead(const RequestHead& a, const RequestHead& b) {
  return a.method == b.method && a.target == b.target && a.version_minor == b.version_minor &&
         sameFields(a.headers, b.headers);
}

void checkOne(std::string_view input, const Limits& limits) {
  RequestHead head;
  const HeadResult r = parseRequestHead(input, limits, head);
  if (r.status == ParseStatus::Error) {
    FUZZ_CHECK(r.error_status == 400 || r.error_status == 431 || r.error_status == 501 || r.error_status == 505);
    FUZZ_CHECK(!r.detail.empty());
    return;
  }
  if (r.status == ParseStatus::Incomplete) return;

  FUZZ_CHECK(r.consumed > 0 && r.consumed <= input.size());
  FUZZ_CHECK(sluice::fuzz::isToken(head.method));
  FUZZ_CHECK(!head.target.empty());
  for (char c : head.target) FUZZ_CHECK(c > ' ' && c != 0x7f);
  FUZZ_CHECK(head.version_minor == 0 || head.version_minor == 1);
  checkFields(head.headers);

  const auto same = [](const RequestHead& a, const RequestHead& b) { return sameHead(a, b); };
  checkHeadPromises(input, r.consumed, limits, head, parseRequestHead, appendRequestHead, same, same);

  const FramingResult framing = requestFraming(head, limits);
  if (!framing.ok) {
    FUZZ_CHECK(framing.error_status == 400 || framing.error_status == 501);
    FUZZ_CHECK(!framing.detail.empty());
    return;
  }
  FUZZ_CHECK(framing.framing.kind != Framing::Kind::UntilClose);
  // After framing, at most one Content-Length and never both framings.
  FUZZ_CHECK(head.headers.count("content-length") <= 1);
  FUZZ_CHECK(!(head.headers.has("content-length") && head.headers.has("transfer-encoding")));
  sluice::fuzz::decodeBody(framing.framing, limits, input.substr(r.consumed));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const Limits& limits : sluice::fuzz::limitVariants()) checkOne(input, limits);
  return 0;
}
