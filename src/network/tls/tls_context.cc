#include "network/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <cstring>

namespace sluice::network::tls {
namespace {

// OpenSSL's queued errors as text (the last one first), and the queue cleared.
std::string opensslError(std::string_view what) {
  std::string out(what);
  unsigned long code;
  bool first = true;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    out += first ? ": " : "; ";
    out += buffer;
    first = false;
  }
  return out;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr memoryBio(std::string_view pem) { return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

// The verify callback: OpenSSL's chain verdict, then the leaf's subject alt
// names. A refusal records why for the stats.
int verifyPeer(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* failure = static_cast<VerifyFailure*>(SSL_get_app_data(ssl));
  const auto* context = static_cast<const TlsServerContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (!preverify_ok) {
    if (failure != nullptr && *failure == VerifyFailure::kNone) *failure = VerifyFailure::kError;
    return 0;
  }
  if (X509_STORE_CTX_get_error_depth(store) != 0 || context == nullptr) return 1;
  if (!context->sanMatches(X509_STORE_CTX_get_current_cert(store))) {
    if (failure != nullptr) *failure = VerifyFailure::kSan;
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  return 1;
}

}  // namespace

TlsServerContext::TlsServerContext(std::shared_ptr<TlsStats> stats)
    : ctx_(SSL_CTX_new(TLS_server_method())), stats_(std::move(stats)) {
  SSL_CTX_set_app_data(ctx_, this);
  // Envoy's server defaults: TLS 1.2 to 1.3, the server's cipher preference;
  // no renegotiation (TLS 1.2 clients asking for it are refused). Session
  // resumption is not implemented yet: no cache, no tickets.
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx_, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx_, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx_, 0);
  // Record buffers are freed while a connection has nothing buffered (an idle
  // keep-alive or tunnel connection holds no 16 KiB buffers); a write may be
  // retried from a moved buffer; a read reads what the socket has (one
  // system call for several records).
  SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx_, 1);
  SSL_CTX_set_cipher_list(ctx_, std::string(kDefaultServerCiphers).c_str());
  // TLS 1.3 suites are not configurable in Envoy; BoringSSL's order.
  SSL_CTX_set_ciphersuites(ctx_, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  SSL_CTX_set1_groups_list(ctx_, std::string(kDefaultCurves).c_str());
}

TlsServerContext::~TlsServerContext() { SSL_CTX_free(ctx_); }

std::string TlsServerContext::setVersions(int min_version, int max_version) {
  if (min_version > max_version) return "the minimum protocol version is above the maximum";
  if (SSL_CTX_set_min_proto_version(ctx_, min_version) != 1 || SSL_CTX_set_max_proto_version(ctx_, max_version) != 1) {
    return opensslError("cannot set the protocol versions");
  }
  return {};
}

std::string TlsServerContext::checkCipher(const std::string& name) {
  SSL_CTX* probe = SSL_CTX_new(TLS_server_method());
  const bool known = SSL_CTX_set_cipher_list(probe, name.c_str()) == 1;
  SSL_CTX_free(probe);
  ERR_clear_error();
  return known ? std::string() : "unknown cipher suite '" + name + "'";
}

std::string TlsServerContext::setCiphers(const std::string& list) {
  if (SSL_CTX_set_cipher_list(ctx_, list.c_str()) != 1) return opensslError("no usable cipher suite");
  return {};
}

std::string TlsServerContext::setCurves(const std::string& list) {
  if (SSL_CTX_set1_groups_list(ctx_, list.c_str()) != 1) {
    ERR_clear_error();
    return "unknown curve in '" + list + "' (OpenSSL's group names: X25519, P-256, P-384, P-521, X448)";
  }
  return {};
}

std::string TlsServerContext::addCertificate(std::string_view chain_pem, std::string_view key_pem) {
  auto chain_bio = memoryBio(chain_pem);
  X509Ptr leaf(PEM_read_bio_X509(chain_bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) return opensslError("no certificate in certificate_chain");
  std::vector<X509Ptr> intermediates;
  while (X509* next = PEM_read_bio_X509(chain_bio.get(), nullptr, nullptr, nullptr)) intermediates.emplace_back(next);
  ERR_clear_error();  // the end of the PEM data
  auto key_bio = memoryBio(key_pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) return opensslError("no private key in private_key");
  EVP_PKEY* public_key = X509_get0_pubkey(leaf.get());
  if (public_key == nullptr) return opensslError("the certificate has no usable public key");
  const int type = EVP_PKEY_get_base_id(public_key);
  if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) return "only RSA and ECDSA certificates are supported";
  const unsigned bit = type == EVP_PKEY_RSA ? 1u : 2u;
  if ((key_types_ & bit) != 0) {
    return std::string("at most one ") + (type == EVP_PKEY_RSA ? "RSA" : "ECDSA") +
           " certificate may be given (OpenSSL chooses between one RSA and one ECDSA certificate)";
  }
  if (EVP_PKEY_eq(public_key, key.get()) != 1) {
    ERR_clear_error();
    return "the private key does not match the certificate";
  }
  if (SSL_CTX_use_certificate(ctx_, leaf.get()) != 1) return opensslError("cannot use the certificate");
  SSL_CTX_clear_chain_certs(ctx_);
  for (auto& cert : intermediates) {
    if (SSL_CTX_add1_chain_cert(ctx_, cert.get()) != 1) return opensslError("cannot use the certificate chain");
  }
  if (SSL_CTX_use_PrivateKey(ctx_, key.get()) != 1) return opensslError("cannot use the private key");
  key_types_ |= bit;
  return {};
}

void TlsServerContext::setAlpn(const std::vector<std::string>& protocols) {
  alpn_wire_.clear();
  for (const auto& p : protocols) {
    alpn_wire_ += static_cast<char>(p.size());
    alpn_wire_ += p;
  }
  if (!alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(ctx_, &TlsServerContext::selectAlpn, this);
}

int TlsServerContext::selectAlpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                                 unsigned int in_len, void* arg) {
  const auto* self = static_cast<const TlsServerContext*>(arg);
  unsigned char* selected = nullptr;
  const auto* ours = reinterpret_cast<const unsigned char*>(self->alpn_wire_.data());
  // Our preference; no protocol in common: the handshake goes on without ALPN (Envoy's behaviour).
  if (SSL_select_next_proto(&selected, out_len, ours, static_cast<unsigned>(self->alpn_wire_.size()), in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::string TlsServerContext::setTrustedCa(std::string_view ca_pem, bool required) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
  auto bio = memoryBio(ca_pem);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509Ptr owned(cert);
    if (X509_STORE_add_cert(store, cert) != 1) return opensslError("cannot add a trusted CA certificate");
    // The CA names sent in the certificate request.
    SSL_CTX_add_client_CA(ctx_, cert);
    ++added;
  }
  ERR_clear_error();
  if (added == 0) return "no certificate in trusted_ca";
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), &verifyPeer);
  verifies_peers_ = true;
  return {};
}

bool TlsServerContext::sanMatches(X509* leaf) const {
  if (san_matchers_.empty()) return true;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return false;
  bool matched = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !matched; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    SanMatcher::Type type;
    std::string value;
    switch (name->type) {
      case GEN_EMAIL:
      case GEN_DNS:
      case GEN_URI: {
        type = name->type == GEN_EMAIL ? SanMatcher::Type::kEmail
               : name->type == GEN_DNS ? SanMatcher::Type::kDns
                                       : SanMatcher::Type::kUri;
        const ASN1_IA5STRING* text = name->d.ia5;
        value.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     static_cast<size_t>(ASN1_STRING_length(text)));
        break;
      }
      case GEN_IPADD: {
        type = SanMatcher::Type::kIpAddress;
        const ASN1_OCTET_STRING* ip = name->d.iPAddress;
        const int length = ASN1_STRING_length(ip);
        if (length != 4 && length != 16) continue;
        char text[64];
        if (inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text, sizeof text) == nullptr) {
          continue;
        }
        value = text;
        break;
      }
      default:
        continue;
    }
    for (const auto& m : san_matchers_) {
      if (m.type == type && m.matches(value)) {
        matched = true;
        break;
      }
    }
  }
  GENERAL_NAMES_free(names);
  return matched;
}

}  // namespace sluice::network::tls
