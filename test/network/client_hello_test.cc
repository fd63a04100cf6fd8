// The tls_inspector's ClientHello parser: TLS or not from the first bytes,
// SNI and ALPN from a ClientHello in one record or split over several, "need
// more" for every prefix of one, and the size bound. Hand-built messages.
#include "network/inspect/client_hello.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::network::inspect {
namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

Bytes extension(uint16_t type, const Bytes& data) {
  Bytes out;
  put16(out, type);
  put16(out, data.size());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes sni(const std::string& name) {
  Bytes entry{0};
  put16(entry, name.size());
  entry.insert(entry.end(), name.begin(), name.end());
  Bytes list;
  put16(list, entry.size());
  list.insert(list.end(), entry.begin(), entry.end());
  return extension(0, list);
}

Bytes alpn(const std::vector<std::string>& protocols) {
  Bytes entries;
  for (const auto& p : protocols) {
    entries.push_back(static_cast<uint8_t>(p.size()));
    entries.insert(entries.end(), p.begin(), p.end());
  }
  Bytes list;
  put16(list, entries.size());
  list.insert(list.end(), entries.begin(), entries.end());
  return extension(16, list);
}

// A ClientHello handshake message with `extensions`.
Bytes hello(const Bytes& extensions, size_t padding = 0) {
  Bytes body{3, 3};
  body.insert(body.end(), 32, 0xab);  // random
  body.push_back(0);                  // session id
  put16(body, 2);
  body.push_back(0x13);
  body.push_back(0x01);  // cipher suites
  body.push_back(1);
  body.push_back(0);  // compression
  Bytes all = extensions;
  if (padding > 0) {
    const auto pad = extension(21, Bytes(padding, 0));
    all.insert(all.end(), pad.begin(), pad.end());
  }
  put16(body, all.size());
  body.insert(body.end(), all.begin(), all.end());
  Bytes message{1, static_cast<uint8_t>(body.size() >> 16), static_cast<uint8_t>(body.size() >> 8),
                static_cast<uint8_t>(body.size())};
  message.insert(message.end(), body.begin(), body.end());
  return message;
}

// `message` in TLS records of at most `per_record` bytes each.
Bytes records(const Bytes& message, size_t per_record = 16384) {
  Bytes out;
  for (size_t at = 0; at < message.size(); at += per_record) {
    const size_t n = std::min(per_record, message.size() - at);
    out.insert(out.end(), {22, 3, 1});
    put16(out, n);
    out.insert(out.end(), message.begin() + static_cast<long>(at), message.begin() + static_cast<long>(at + n));
  }
  return out;
}

TEST(ClientHello, ReadsServerNameAndAlpn) {
  auto ext = sni("WWW.Example.com");
  const auto a = alpn({"h2", "http/1.1"});
  ext.insert(ext.end(), a.begin(), a.end());
  ClientHello out;
  ASSERT_EQ(parseClientHello(records(hello(ext)), kDefaultMaxClientHelloSize, out), HelloStatus::kTls);
  EXPECT_EQ(out.server_name, "www.example.com");
  EXPECT_EQ(out.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(ClientHello, WithoutExtensionsHasNoNameAndNoAlpn) {
  ClientHello out;
  ASSERT_EQ(parseClientHello(records(hello({})), kDefaultMaxClientHelloSize, out), HelloStatus::kTls);
  EXPECT_TRUE(out.server_name.empty());
  EXPECT_TRUE(out.alpn.empty());
}

TEST(ClientHello, SpansRecords) {
  ClientHello out;
  ASSERT_EQ(parseClientHello(records(hello(sni("a.example.com")), 7), kDefaultMaxClientHelloSize, out),
            HelloStatus::kTls);
  EXPECT_EQ(out.server_name, "a.example.com");
}

TEST(ClientHello, EveryPrefixNeedsMore) {
  const auto bytes = records(hello(sni("a.example.com")), 50);
  for (size_t n = 0; n < bytes.size(); ++n) {
    ClientHello out;
    EXPECT_EQ(parseClientHello(std::span(bytes).first(n), kDefaultMaxClientHelloSize, out), HelloStatus::kNeedMore)
        << n;
  }
}

TEST(ClientHello, PlainBytesAreNotTls) {
  const std::string get = "GET / HTTP/1.1\r\n";
  ClientHello out;
  EXPECT_EQ(parseClientHello(Bytes(get.begin(), get.end()), kDefaultMaxClientHelloSize, out), HelloStatus::kNotTls);
  EXPECT_EQ(parseClientHello(Bytes{'G'}, kDefaultMaxClientHelloSize, out), HelloStatus::kNotTls);
  // A handshake record that is not a ClientHello (a ServerHello).
  auto server_hello = hello({});
  server_hello[0] = 2;
  EXPECT_EQ(parseClientHello(records(server_hello), kDefaultMaxClientHelloSize, out), HelloStatus::kNotTls);
}

TEST(ClientHello, MalformedExtensionsAreNotTls) {
  auto bad = sni("x");
  bad[3] = 0xff;  // the extension's length runs past the message
  ClientHello out;
  EXPECT_EQ(parseClientHello(records(hello(bad)), kDefaultMaxClientHelloSize, out), HelloStatus::kNotTls);
  EXPECT_EQ(parseClientHello(records(hello(alpn({""}))), kDefaultMaxClientHelloSize, out), HelloStatus::kNotTls);
}

TEST(ClientHello, LargerThanTheBoundIsTooLarge) {
  const auto big = records(hello(sni("a.example.com"), 3000));
  ClientHello out;
  EXPECT_EQ(parseClientHello(big, 2048, out), HelloStatus::kTooLarge);
  // Told from the message header already, before the rest arrives.
  EXPECT_EQ(parseClientHello(std::span(big).first(20), 2048, out), HelloStatus::kTooLarge);
  EXPECT_EQ(parseClientHello(big, kDefaultMaxClientHelloSize, out), HelloStatus::kTls);
}

}  // namespace
}  // namespace sluice::network::inspect
