// Fuzzes the chunked body decoder (RFC 9112 7.1), trailers included: the input
// is a body as it follows a `Transfer-Encoding: chunked` head. Checks that
//  - decoding terminates, and every data slice lies in the consumed input;
//  - feeding the same bytes in small pieces, as a connection reading a slow
//    peer does, gives the same body, the same trailers and the same outcome
//    (done at the same byte, or an error) as feeding them at once;
//  - a decoded body re-encoded by the serialiser (appendChunk,
//    appendLastChunk) decodes to the same body and trailers.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "http/http1_body.h"
#include "http/http1_serializer.h"

using namespace sluice::http::http1;
using sluice::fuzz::checkFields;
using sluice::fuzz::sameFields;

namespace {

struct Outcome {
  std::string body;
  bool done = false;
  bool error = false;
  size_t consumed = 0;  // when done: where the body ended
  std::string_view detail;
};

// Feeds `input` in pieces of the sizes `next_piece` returns; the unconsumed
// rest of one read is kept and the next piece appended, as the connection's
// buffer does. Trailers are copied to `trailers`.
template <typename NextPiece>
Outcome decodeInPieces(std::string_view input, const Limits& limits, NextPiece next_piece,
                       sluice::http::HeaderMap& trailers) {
  BodyDecoder decoder(limits);
  decoder.reset(Framing{Framing::Kind::Chunked, 0});
  Outcome out;
  size_t read = 0;      // bytes of input handed to the decoder so far
  size_t consumed = 0;  // bytes the decoder consumed
  size_t steps = 0;
  while (true) {
    const std::string_view buffer = input.substr(consumed, read - consumed);
    const auto step = decoder.decode(buffer);
    FUZZ_CHECK(step.consumed <= buffer.size());
    if (!step.data.empty()) {
      FUZZ_CHECK(step.data.data() >= buffer.data());
      FUZZ_CHECK(step.data.data() + step.data.size() <= buffer.data() + step.consumed);
      out.body.append(step.data);
    }
    consumed += step.consumed;
    if (step.error) {
      FUZZ_CHECK(!step.detail.empty());
      out.error = true;
      out.detail = step.detail;
      return out;
    }
    if (step.done) {
      out.done = true;
      out.consumed = consumed;
      decoder.trailers().forEach([&](const sluice::http::HeaderMap::Entry& e) { trailers.add(e.name, e.value); });
      checkFields(decoder.trailers());
      return out;
    }
    FUZZ_CHECK(++steps <= 4 * input.size() + 8);
    if (step.consumed == 0 && step.data.empty()) {
      if (read == input.size()) return out;  // the peer sent no more
      read = std::min(input.size(), read + next_piece());
    }
  }
}

void checkOne(std::string_view input, const Limits& limits) {
  sluice::http::HeaderMap whole_trailers;
  const Outcome whole = decodeInPieces(
      input, limits, [&] { return input.size(); }, whole_trailers);

  // Piece sizes from a generator seeded by the input, so a crash reproduces.
  uint32_t state = static_cast<uint32_t>(input.size()) * 2654435761u + 1;
  for (unsigned char c : input.substr(0, 16)) state = state * 31 + c;
  auto small_pieces = [&] {
    state = state * 1103515245u + 12345u;
    return static_cast<size_t>((state >> 16) % 5 + 1);
  };
  sluice::http::HeaderMap split_trailers;
  const Outcome split = decodeInPieces(input, limits, small_pieces, split_trailers);
  sluice::http::HeaderMap byte_trailers;
  const Outcome bytewise = decodeInPieces(
      input, limits, [] { return size_t{1}; }, byte_trailers);

  for (const Outcome* other : {&split, &bytewise}) {
    FUZZ_CHECK(other->error == whole.error);
    FUZZ_CHECK(other->done == whole.done);
    if (whole.done) {
      FUZZ_CHECK(other->consumed == whole.consumed);
      FUZZ_CHECK(other->body == whole.body);
    }
    // Data before an error may differ in how much was released, never in content.
    FUZZ_CHECK(whole.body.compare(0, other->body.size(), other->body) == 0 ||
               other->body.compare(0, whole.body.size(), whole.body) == 0);
  }
  FUZZ_CHECK(sameFields(whole_trailers, split_trailers));
  FUZZ_CHECK(sameFields(whole_trailers, byte_trailers));

  if (!whole.done) return;
  std::string encoded;
  appendChunk(whole.body, encoded);
  appendLastChunk(whole_trailers.empty() ? nullptr : &whole_trailers, encoded);
  Limits relaxed = limits;
  relaxed.max_header_bytes = encoded.size() + 1024;
  sluice::http::HeaderMap again_trailers;
  const Outcome again = decodeInPieces(
      encoded, relaxed, [&] { return encoded.size(); }, again_trailers);
  FUZZ_CHECK(again.done && again.consumed == encoded.size());
  FUZZ_CHECK(again.body == whole.body);
  FUZZ_CHECK(sameFields(again_trailers, whole_trailers));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Limits defaults;
  checkOne(input, defaults);
  Limits small;
  small.max_header_bytes = 128;
  small.max_headers_count = 4;
  small.headers_with_underscores = Limits::Underscores::DropHeader;
  checkOne(input, small);
  return 0;
}
