// Checks shared by the HTTP/1 request and response targets: the head parser's
// promises (prefixes, determinism, serialise-reparse) and body decoding.
#pragma once

#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "http/http1_body.h"
#include "http/http1_parser.h"

namespace sluice::fuzz {

// The limit sets every input is parsed with: Envoy's defaults; the lenient
// options; small limits, so that the 431 paths are reachable with short inputs.
inline std::vector<http::http1::Limits> limitVariants() {
  using http::http1::Limits;
  Limits defaults;
  Limits lenient;
  lenient.allow_chunked_length = true;
  lenient.headers_with_underscores = Limits::Underscores::RejectRequest;
  Limits small;
  small.max_header_bytes = 256;
  small.max_headers_count = 6;
  small.headers_with_underscores = Limits::Underscores::DropHeader;
  return {defaults, lenient, small};
}

// The head parser's promises for a head that parsed Complete from `input`
// (`consumed` bytes): exactly those bytes parse to the same head, shorter
// prefixes are Incomplete, and what sluice would forward parses back to the
// same head. `parse` and `append` are the request or the response functions;
// `same_exact` compares with the exact re-parse, `same` with the forwarded one
// (which may differ in what sluice rewrites, e.g. a reason phrase).
template <typename Head, typename Parse, typename Append, typename SameExact, typename Same>
void checkHeadPromises(std::string_view input, size_t consumed, const http::http1::Limits& limits, const Head& head,
                       Parse parse, Append append, SameExact same_exact, Same same) {
  using http::http1::ParseStatus;
  Head exact;
  const auto again = parse(input.substr(0, consumed), limits, exact);
  FUZZ_CHECK(again.status == ParseStatus::Complete && again.consumed == consumed);
  FUZZ_CHECK(same_exact(head, exact));
  for (size_t cut : {consumed - 1, consumed / 2, consumed / 3}) {
    Head partial;
    FUZZ_CHECK(parse(input.substr(0, cut), limits, partial).status == ParseStatus::Incomplete);
  }
  std::string forwarded;
  append(head, forwarded);
  http::http1::Limits relaxed = limits;
  relaxed.max_header_bytes = forwarded.size() + 1024;
  Head reparsed;
  const auto back = parse(forwarded, relaxed, reparsed);
  FUZZ_CHECK(back.status == ParseStatus::Complete && back.consumed == forwarded.size());
  FUZZ_CHECK(same(head, reparsed));
}

// Decodes `input` as the body `framing` describes, as a connection would with
// all of it already read. Returns the bytes consumed.
inline size_t decodeBody(const http::http1::Framing& framing, const http::http1::Limits& limits,
                         std::string_view input) {
  http::http1::BodyDecoder decoder(limits);
  decoder.reset(framing);
  size_t consumed = 0;
  size_t steps = 0;
  for (;;) {
    const auto step = decoder.decode(input.substr(consumed));
    FUZZ_CHECK(step.consumed <= input.size() - consumed);
    if (!step.data.empty()) {
      // Body bytes are a slice of what this step consumed.
      FUZZ_CHECK(step.data.data() >= input.data() + consumed);
      FUZZ_CHECK(step.data.data() + step.data.size() <= input.data() + consumed + step.consumed);
    }
    consumed += step.consumed;
    if (step.error) {
      FUZZ_CHECK(!step.detail.empty());
      break;
    }
    if (step.done) {
      checkFields(decoder.trailers());
      break;
    }
    if (step.consumed == 0 && step.data.empty()) break;  // needs more input
    FUZZ_CHECK(++steps <= 2 * input.size() + 4);         // progress every step
  }
  return consumed;
}

}  // namespace sluice::fuzz
