#include "network/inspect/client_hello.h"

#include <cctype>

namespace sluice::network::inspect {
namespace {

constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHelloMessage = 1;
constexpr uint16_t kServerNameExtension = 0;
constexpr uint16_t kAlpnExtension = 16;
constexpr size_t kRecordHeader = 5;
constexpr size_t kMaxRecordPayload = 16384 + 2048;  // TLSPlaintext bound, with room for what peers send

// A bounds-checked reader over one buffer; a read past its end fails it.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}
  bool ok() const { return ok_; }
  size_t left() const { return data_.size() - at_; }
  uint32_t number(size_t bytes) {
    if (!ok_ || left() < bytes) {
      ok_ = false;
      return 0;
    }
    uint32_t value = 0;
    for (size_t i = 0; i < bytes; ++i) value = (value << 8) | data_[at_++];
    return value;
  }
  std::span<const uint8_t> take(size_t n) {
    if (!ok_ || left() < n) {
      ok_ = false;
      return {};
    }
    auto out = data_.subspan(at_, n);
    at_ += n;
    return out;
  }
  // A vector with a `length_bytes` length prefix.
  std::span<const uint8_t> vector(size_t length_bytes) { return take(number(length_bytes)); }

 private:
  std::span<const uint8_t> data_;
  size_t at_ = 0;
  bool ok_ = true;
};

bool parseServerName(std::span<const uint8_t> data, ClientHello& out) {
  Reader r(data);
  Reader list(r.vector(2));
  while (list.ok() && list.left() > 0) {
    const uint32_t type = list.number(1);
    const auto name = list.vector(2);
    if (!list.ok()) return false;
    if (type != 0 || !out.server_name.empty()) continue;  // host_name; the first one counts
    for (uint8_t c : name) out.server_name += static_cast<char>(std::tolower(c));
  }
  return r.ok() && list.ok();
}

bool parseAlpn(std::span<const uint8_t> data, ClientHello& out) {
  Reader r(data);
  Reader list(r.vector(2));
  while (list.ok() && list.left() > 0) {
    const auto protocol = list.vector(1);
    if (!list.ok() || protocol.empty()) return false;
    out.alpn.emplace_back(protocol.begin(), protocol.end());
  }
  return r.ok() && list.ok();
}

// The ClientHello body (after its 4-byte header).
bool parseBody(std::span<const uint8_t> body, ClientHello& out) {
  Reader r(body);
  r.number(2);  // legacy_version
  r.take(32);   // random
  r.vector(1);  // legacy_session_id
  r.vector(2);  // cipher_suites
  r.vector(1);  // legacy_compression_methods
  if (!r.ok()) return false;
  if (r.left() == 0) return true;  // no extensions (SSL 3.0 style)
  Reader extensions(r.vector(2));
  while (extensions.ok() && extensions.left() > 0) {
    const uint32_t type = extensions.number(2);
    const auto data = extensions.vector(2);
    if (!extensions.ok()) return false;
    if (type == kServerNameExtension && !parseServerName(data, out)) return false;
    if (type == kAlpnExtension && !parseAlpn(data, out)) return false;
  }
  return r.ok() && extensions.ok();
}

}  // namespace

HelloStatus parseClientHello(std::span<const uint8_t> bytes, size_t max_size, ClientHello& out) {
  out = ClientHello();
  // The handshake message may span records: join their payloads, up to the
  // message's length (or max_size).
  std::vector<uint8_t> message;
  size_t at = 0;
  size_t needed = 0;  // the whole message's length, once its header is in
  for (;;) {
    if (bytes.size() - at < kRecordHeader) {
      // A first byte that is not a handshake record is not TLS, however few bytes came.
      if (at == 0 && !bytes.empty() && bytes[0] != kHandshakeRecord) return HelloStatus::kNotTls;
      return HelloStatus::kNeedMore;
    }
    const uint8_t type = bytes[at];
    const uint8_t major = bytes[at + 1];
    const size_t length = (size_t{bytes[at + 3]} << 8) | bytes[at + 4];
    if (type != kHandshakeRecord || major != 3 || length == 0 || length > kMaxRecordPayload) {
      return HelloStatus::kNotTls;
    }
    if (bytes.size() - at - kRecordHeader < length) {
      // Part of a record: enough to read the message header early?
      if (message.empty() && bytes.size() - at - kRecordHeader >= 4) {
        const auto* h = bytes.data() + at + kRecordHeader;
        if (h[0] != kClientHelloMessage) return HelloStatus::kNotTls;
        const size_t body = (size_t{h[1]} << 16) | (size_t{h[2]} << 8) | h[3];
        if (body + 4 > max_size) return HelloStatus::kTooLarge;
      }
      return HelloStatus::kNeedMore;
    }
    const auto payload = bytes.subspan(at + kRecordHeader, length);
    message.insert(message.end(), payload.begin(), payload.end());
    at += kRecordHeader + length;
    if (needed == 0 && message.size() >= 4) {
      if (message[0] != kClientHelloMessage) return HelloStatus::kNotTls;
      needed = ((size_t{message[1]} << 16) | (size_t{message[2]} << 8) | message[3]) + 4;
      if (needed > max_size) return HelloStatus::kTooLarge;
    }
    if (needed != 0 && message.size() >= needed) break;
    if (message.size() > max_size) return HelloStatus::kTooLarge;
  }
  if (!parseBody(std::span<const uint8_t>(message).subspan(4, needed - 4), out)) return HelloStatus::kNotTls;
  return HelloStatus::kTls;
}

}  // namespace sluice::network::inspect
