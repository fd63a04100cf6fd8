#include "http/http1_body.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace sluice::http::http1 {
namespace {

// A chunk extension is ignored, so there is no reason to accept a long one;
// bounding it keeps a peer from streaming unbounded non-body bytes per chunk.
constexpr size_t kMaxChunkExtensionBytes = 4096;

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each non-empty element of a comma-separated list
// (RFC 9110 5.6.1: empty elements are ignored).
template <typename F>
void forEachListElement(std::string_view list, F f) {
  while (true) {
    const size_t comma = list.find(',');
    const std::string_view element = trimOws(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

enum class TransferEncoding { Absent, Chunked, Unsupported };

// Every Transfer-Encoding field, as one list. Only exactly one `chunked` is
// supported: another coding would have to be decoded to find the body's end
// or to forward it, and chunked twice is forbidden (RFC 9112 6.1).
TransferEncoding transferEncoding(const HeaderMap& headers) {
  bool present = false;
  size_t codings = 0;
  bool chunked = false;
  headers.forEach([&](const HeaderMap::Entry& e) {
    if (e.name != "transfer-encoding") return;
    present = true;
    forEachListElement(e.value, [&](std::string_view coding) {
      ++codings;
      chunked = codings == 1 && equalsIgnoreCase(coding, "chunked");
    });
  });
  if (!present) return TransferEncoding::Absent;
  return codings == 1 && chunked ? TransferEncoding::Chunked : TransferEncoding::Unsupported;
}

struct ContentLength {
  bool present = false;
  bool valid = true;
  size_t values = 0;  // elements over all fields; more than one is normalised
  uint64_t length = 0;
};

// Content-Length = 1*DIGIT; repeats (fields or list elements) must agree
// (RFC 9110 8.6).
ContentLength contentLength(const HeaderMap& headers) {
  ContentLength cl;
  headers.forEach([&](const HeaderMap::Entry& e) {
    if (e.name != "content-length") return;
    cl.present = true;
    std::string_view list = e.value;
    while (cl.valid) {
      const size_t comma = list.find(',');
      const std::string_view digits = trimOws(list.substr(0, comma));
      uint64_t value = 0;
      const char* end = digits.data() + digits.size();
      const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
      // from_chars takes no sign or whitespace for unsigned types; require a
      // leading digit anyway and every byte used.
      if (digits.empty() || digits.front() < '0' || digits.front() > '9' || ec != std::errc() || ptr != end ||
          (cl.values > 0 && value != cl.length)) {
        cl.valid = false;
        return;
      }
      cl.length = value;
      ++cl.values;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  });
  return cl;
}

// Leaves one Content-Length field with one value, so that what is forwarded
// cannot be read differently by the next hop.
void normaliseContentLength(HeaderMap& headers, const ContentLength& cl) {
  if (cl.values <= 1) return;
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), cl.length);
  headers.set("content-length", std::string_view(digits, static_cast<size_t>(end - digits)));
}

FramingResult failed(int status, std::string_view detail) { return {false, {}, status, detail}; }

FramingResult chunkedFraming(HeaderMap& headers, bool has_content_length, const Limits& limits, int error_status) {
  if (has_content_length) {
    if (!limits.allow_chunked_length) return failed(error_status, details::kChunkedContentLength);
    headers.remove("content-length");
  }
  return {true, {Framing::Kind::Chunked, 0}, 0, {}};
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

FramingResult requestFraming(RequestHead& head, const Limits& limits) {
  const TransferEncoding te = transferEncoding(head.headers);
  const ContentLength cl = contentLength(head.headers);
  if (te != TransferEncoding::Absent) {
    // HTTP/1.0 has no transfer codings: its framing is faulty (RFC 9112 6.1).
    if (head.version_minor == 0) return failed(400, details::kTransferEncodingNotAllowed);
    if (te == TransferEncoding::Unsupported || head.method == "CONNECT") {
      return failed(501, details::kInvalidTransferEncoding);
    }
    return chunkedFraming(head.headers, cl.present, limits, 400);
  }
  if (!cl.present) return {};
  if (!cl.valid) return failed(400, details::kInvalidContentLength);
  // Bytes after a CONNECT head are tunnel data, never a body (RFC 9110 9.3.6).
  if (head.method == "CONNECT" && cl.length > 0) return failed(400, details::kContentLengthNotAllowed);
  normaliseContentLength(head.headers, cl);
  return {true, {Framing::Kind::ContentLength, cl.length}, 0, {}};
}

FramingResult responseFraming(ResponseHead& head, std::string_view request_method, const Limits& limits) {
  // RFC 9112 6.3 rules 1 and 2: these never have a body, whatever they say.
  if (request_method == "HEAD" || head.status < 200 || head.status == 204 || head.status == 304) return {};
  if (request_method == "CONNECT" && head.status < 300) return {};
  const TransferEncoding te = transferEncoding(head.headers);
  const ContentLength cl = contentLength(head.headers);
  if (te != TransferEncoding::Absent) {
    if (head.version_minor == 0) return failed(502, details::kTransferEncodingNotAllowed);
    if (te == TransferEncoding::Unsupported) return failed(502, details::kInvalidTransferEncoding);
    return chunkedFraming(head.headers, cl.present, limits, 502);
  }
  if (!cl.present) return {true, {Framing::Kind::UntilClose, 0}, 0, {}};
  if (!cl.valid) return failed(502, details::kInvalidContentLength);
  normaliseContentLength(head.headers, cl);
  return {true, {Framing::Kind::ContentLength, cl.length}, 0, {}};
}

void BodyDecoder::reset(Framing framing) {
  framing_ = framing;
  remaining_ = framing.length;
  chunk_size_ = 0;
  chunk_size_digits_ = 0;
  extension_bytes_ = 0;
  error_detail_ = {};
  trailer_buffer_.clear();
  trailers_.clear();
  switch (framing.kind) {
    case Framing::Kind::None:
      state_ = State::Done;
      break;
    case Framing::Kind::ContentLength:
      state_ = framing.length == 0 ? State::Done : State::Body;
      break;
    case Framing::Kind::Chunked:
      state_ = State::ChunkSize;
      break;
    case Framing::Kind::UntilClose:
      state_ = State::Body;
      break;
  }
}

BodyDecoder::Step BodyDecoder::decode(std::string_view input) {
  switch (state_) {
    case State::Done:
      return {0, {}, true, false, {}};
    case State::Failed:
      return {0, {}, false, true, error_detail_};
    case State::Body: {
      if (framing_.kind == Framing::Kind::UntilClose) return {input.size(), input, false, false, {}};
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size()));
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::Done;
      return {n, input.substr(0, n), state_ == State::Done, false, {}};
    }
    default:
      return decodeChunked(input);
  }
}

BodyDecoder::Step BodyDecoder::fail(size_t consumed, std::string_view detail) {
  state_ = State::Failed;
  error_detail_ = detail;
  return {consumed, {}, false, true, detail};
}

// Chunked body (RFC 9112 7.1): framing bytes go through a small per-byte state
// machine (they are few); chunk data is returned as one slice.
BodyDecoder::Step BodyDecoder::decodeChunked(std::string_view input) {
  size_t pos = 0;
  while (true) {
    if (state_ == State::Trailers) return decodeTrailers(input.substr(pos), pos);
    if (pos == input.size()) return {pos, {}, false, false, {}};
    if (state_ == State::ChunkData) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size() - pos));
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::ChunkDataCr;
      return {pos + n, input.substr(pos, n), false, false, {}};
    }
    if (!consumeFramingByte(input[pos])) return fail(pos, error_detail_);
    ++pos;
  }
}

bool BodyDecoder::consumeFramingByte(char c) {
  const auto reject = [this](std::string_view detail) {
    state_ = State::Failed;
    error_detail_ = detail;
    return false;
  };
  switch (state_) {
    case State::ChunkSize: {
      const int digit = hexValue(c);
      if (digit >= 0) {
        if (chunk_size_ > (std::numeric_limits<uint64_t>::max() >> 4)) return reject(details::kInvalidChunkSize);
        chunk_size_ = (chunk_size_ << 4) | static_cast<uint64_t>(digit);
        ++chunk_size_digits_;
        return true;
      }
      if (chunk_size_digits_ == 0) return reject(details::kInvalidChunkSize);
      if (c == ';') {
        state_ = State::ChunkExtension;
      } else if (c == ' ' || c == '\t') {
        state_ = State::ChunkSizeWs;  // BWS before ";" (RFC 9112 7.1.1)
      } else if (c == '\r') {
        state_ = State::ChunkSizeLf;
      } else {
        return reject(c == '\n' ? details::kCodecError : details::kInvalidChunkSize);
      }
      return true;
    }
    case State::ChunkSizeWs:
      if (c == ';') {
        state_ = State::ChunkExtension;
      } else if (c != ' ' && c != '\t') {
        return reject(details::kInvalidChunkSize);
      }
      return true;
    case State::ChunkExtension:
      // Ignored, but it must not hide a line end: no CTL but HTAB, no bare LF.
      if (c == '\r') {
        state_ = State::ChunkSizeLf;
        return true;
      }
      if (c == '\n') return reject(details::kCodecError);
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return reject(details::kInvalidChunkExtension);
      }
      if (++extension_bytes_ > kMaxChunkExtensionBytes) return reject(details::kInvalidChunkExtension);
      return true;
    case State::ChunkSizeLf:
      if (c != '\n') return reject(details::kCodecError);  // bare CR
      remaining_ = chunk_size_;
      state_ = chunk_size_ == 0 ? State::Trailers : State::ChunkData;
      return true;
    case State::ChunkDataCr:
      if (c != '\r') return reject(details::kInvalidChunkFraming);
      state_ = State::ChunkDataLf;
      return true;
    case State::ChunkDataLf:
      if (c != '\n') return reject(details::kInvalidChunkFraming);
      state_ = State::ChunkSize;
      chunk_size_ = 0;
      chunk_size_digits_ = 0;
      extension_bytes_ = 0;
      return true;
    default:
      return reject(details::kCodecError);  // not reached: other states consume no framing bytes
  }
}

// The trailer section after the last chunk. Usually it is the bare CRLF and
// arrives with the last chunk, so it is parsed straight from the input; only a
// section split across inputs is copied, up to the limit.
BodyDecoder::Step BodyDecoder::decodeTrailers(std::string_view input, size_t consumed_before) {
  const size_t buffered = trailer_buffer_.size();
  const size_t max_buffer = limits_.max_header_bytes == std::numeric_limits<size_t>::max()
                                ? limits_.max_header_bytes
                                : limits_.max_header_bytes + 1;
  const size_t take = std::min(input.size(), max_buffer - std::min(max_buffer, buffered));
  std::string_view section = input;
  if (buffered > 0) {
    trailer_buffer_.append(input.substr(0, take));
    section = trailer_buffer_;
  }
  trailers_.clear();
  const HeadResult result = parseTrailerSection(section, limits_, trailers_);
  switch (result.status) {
    case ParseStatus::Complete:
      state_ = State::Done;
      trailer_buffer_.clear();
      return {consumed_before + (result.consumed - buffered), {}, true, false, {}};
    case ParseStatus::Error:
      trailers_.clear();
      return fail(consumed_before, result.detail);
    case ParseStatus::Incomplete:
      break;
  }
  trailers_.clear();
  if (buffered == 0) trailer_buffer_.assign(input.substr(0, take));
  return {consumed_before + take, {}, false, false, {}};
}

}  // namespace sluice::http::http1
