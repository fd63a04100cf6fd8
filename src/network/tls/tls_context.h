// TlsServerContext: one DownstreamTlsContext made into an OpenSSL SSL_CTX:
// certificates (one per key type: OpenSSL picks RSA or ECDSA from what the
// client offers), versions, ciphers, curves, ALPN, client certificate
// verification (CA, subject alt names). Built and checked on the main thread
// when a config is compiled (the set...() calls return an error text, or an
// empty string), then immutable: every worker makes its connections' SSL
// objects from it (SSL_CTX is safe to share for SSL_new). No session cache,
// no tickets, no renegotiation.
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "network/tls/tls_stats.h"

namespace sluice::network::tls {

// A client certificate's subject alt name matcher (match_typed_subject_alt_names).
struct SanMatcher {
  enum class Type : uint8_t { kEmail, kDns, kUri, kIpAddress };
  Type type;
  std::function<bool(std::string_view)> matches;
};

// Envoy's defaults (tls_params unset), in OpenSSL's syntax. Envoy's cipher
// list groups equal-preference ciphers ("[A|B]", BoringSSL's syntax); OpenSSL
// has no such groups: their members keep the written order here.
inline constexpr std::string_view kDefaultServerCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
inline constexpr std::string_view kDefaultCurves = "X25519:P-256";

// Why the verify callback refused a client certificate; the transport's,
// reached through SSL_get_app_data.
enum class VerifyFailure : uint8_t { kNone, kError, kSan };

class TlsServerContext {
 public:
  explicit TlsServerContext(std::shared_ptr<TlsStats> stats);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // --- main thread, while compiling ---
  // TLS1_VERSION .. TLS1_3_VERSION.
  std::string setVersions(int min_version, int max_version);
  // One cipher name (TLS 1.2 and below); an error when OpenSSL knows none.
  static std::string checkCipher(const std::string& name);
  std::string setCiphers(const std::string& list);
  std::string setCurves(const std::string& list);
  // PEM: the leaf first, then its chain; the key matching the leaf.
  std::string addCertificate(std::string_view chain_pem, std::string_view key_pem);
  // Protocols offered by ALPN, in preference order.
  void setAlpn(const std::vector<std::string>& protocols);
  // PEM CA certificates that verify client certificates; the server then asks
  // for one. `required`: a client without one fails the handshake.
  std::string setTrustedCa(std::string_view ca_pem, bool required);
  void setSanMatchers(std::vector<SanMatcher> matchers) { san_matchers_ = std::move(matchers); }
  bool hasCertificate() const { return key_types_ != 0; }

  // --- any thread, afterwards ---
  SSL_CTX* native() const { return ctx_; }
  TlsStats& stats() const { return *stats_; }
  // The verify callback's check of a leaf certificate's subject alt names.
  bool sanMatches(X509* leaf) const;
  bool verifiesPeers() const { return verifies_peers_; }

 private:
  static int selectAlpn(SSL* ssl, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                        unsigned int in_len, void* arg);

  SSL_CTX* ctx_;
  std::shared_ptr<TlsStats> stats_;
  std::string alpn_wire_;  // length-prefixed protocol names
  std::vector<SanMatcher> san_matchers_;
  unsigned key_types_ = 0;  // bits of the key types with a certificate
  bool verifies_peers_ = false;
};

}  // namespace sluice::network::tls
