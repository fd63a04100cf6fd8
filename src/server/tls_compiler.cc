#include "server/tls_compiler.h"

#include "config/data_source.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "router/matchers.h"

namespace sluice::server {
namespace {

using envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext;
using envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher;
using envoy::extensions::transport_sockets::tls::v3::TlsParameters;

int opensslVersion(TlsParameters::TlsProtocol protocol, int automatic) {
  switch (protocol) {
    case TlsParameters::TLSv1_0:
      return TLS1_VERSION;
    case TlsParameters::TLSv1_1:
      return TLS1_1_VERSION;
    case TlsParameters::TLSv1_2:
      return TLS1_2_VERSION;
    case TlsParameters::TLSv1_3:
      return TLS1_3_VERSION;
    default:
      return automatic;
  }
}

// Envoy's cipher list: names and BoringSSL's equal-preference groups
// "[A|B]"; OpenSSL takes "A:B" (the group's members in written order).
std::vector<std::string> cipherNames(const google::protobuf::RepeatedPtrField<std::string>& suites) {
  std::vector<std::string> out;
  for (const auto& entry : suites) {
    std::string text = entry;
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    size_t start = 0;
    while (start <= text.size()) {
      const size_t bar = text.find('|', start);
      out.push_back(text.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
  }
  return out;
}

void compileValidation(const DownstreamTlsContext& config, const std::string& path,
                       network::tls::TlsServerContext& context, config::ErrorList& errors) {
  const auto& common = config.common_tls_context();
  const bool required = config.has_require_client_certificate() && config.require_client_certificate().value();
  const std::string validation_path = path + ".common_tls_context.validation_context";
  if (!common.has_validation_context()) {
    if (required) {
      errors.add(path + ".require_client_certificate",
                 "needs common_tls_context.validation_context.trusted_ca to verify client certificates with");
    }
    return;
  }
  const auto& validation = common.validation_context();
  if (!validation.has_trusted_ca()) {
    errors.add(validation_path + ".trusted_ca", "is required (sluice verifies client certificates against it)");
    return;
  }
  const auto ca = config::readDataSource(validation.trusted_ca(), validation_path + ".trusted_ca", errors);
  if (!ca) return;
  if (auto error = context.setTrustedCa(*ca, required); !error.empty()) {
    errors.add(validation_path + ".trusted_ca", error);
    return;
  }
  std::vector<network::tls::SanMatcher> matchers;
  for (int i = 0; i < validation.match_typed_subject_alt_names_size(); ++i) {
    const auto& m = validation.match_typed_subject_alt_names(i);
    const std::string m_path = config::indexPath(validation_path + ".match_typed_subject_alt_names", i);
    network::tls::SanMatcher::Type type;
    switch (m.san_type()) {
      case SubjectAltNameMatcher::EMAIL:
        type = network::tls::SanMatcher::Type::kEmail;
        break;
      case SubjectAltNameMatcher::DNS:
        type = network::tls::SanMatcher::Type::kDns;
        break;
      case SubjectAltNameMatcher::URI:
        type = network::tls::SanMatcher::Type::kUri;
        break;
      case SubjectAltNameMatcher::IP_ADDRESS:
        type = network::tls::SanMatcher::Type::kIpAddress;
        break;
      default:  // the gate refuses the others
        continue;
    }
    auto matcher = router::StringMatcher::build(m.matcher(), m_path + ".matcher", errors);
    if (!matcher) continue;
    auto shared = std::make_shared<const router::StringMatcher>(std::move(*matcher));
    matchers.push_back({type, [shared](std::string_view value) { return shared->match(value); }});
  }
  context.setSanMatchers(std::move(matchers));
}

}  // namespace

std::shared_ptr<const network::tls::TlsServerContext> compileDownstreamTls(
    const envoy::config::core::v3::TransportSocket& socket, const std::string& path, const std::string& stats_address,
    proxy::StatsRegistry& stats, config::ErrorList& errors) {
  DownstreamTlsContext config;
  const std::string config_path = path + ".typed_config";
  if (!socket.typed_config().UnpackTo(&config)) {
    errors.add(config_path, "is not a DownstreamTlsContext");
    return nullptr;
  }
  const size_t before = errors.size();
  auto context = std::make_shared<network::tls::TlsServerContext>(stats.listenerTls(stats_address));
  const auto& common = config.common_tls_context();
  const std::string common_path = config_path + ".common_tls_context";
  const auto& params = common.tls_params();
  const std::string params_path = common_path + ".tls_params";
  // Envoy's server defaults: TLS 1.2 to TLS 1.3.
  const int min_version = opensslVersion(params.tls_minimum_protocol_version(), TLS1_2_VERSION);
  const int max_version = opensslVersion(params.tls_maximum_protocol_version(), TLS1_3_VERSION);
  if (auto error = context->setVersions(min_version, max_version); !error.empty()) errors.add(params_path, error);
  if (params.cipher_suites_size() > 0) {
    std::string list;
    const auto names = cipherNames(params.cipher_suites());
    bool known = true;
    for (const auto& name : names) {
      if (auto error = network::tls::TlsServerContext::checkCipher(name); !error.empty()) {
        errors.add(params_path + ".cipher_suites", error);
        known = false;
      }
      list += (list.empty() ? "" : ":") + name;
    }
    if (known) {
      if (auto error = context->setCiphers(list); !error.empty()) errors.add(params_path + ".cipher_suites", error);
    }
  }
  if (params.ecdh_curves_size() > 0) {
    std::string list;
    for (const auto& curve : params.ecdh_curves()) list += (list.empty() ? "" : ":") + curve;
    if (auto error = context->setCurves(list); !error.empty()) errors.add(params_path + ".ecdh_curves", error);
  }
  for (int i = 0; i < common.tls_certificates_size(); ++i) {
    const auto& cert = common.tls_certificates(i);
    const std::string cert_path = config::indexPath(common_path + ".tls_certificates", i);
    if (!cert.has_certificate_chain() || !cert.has_private_key()) {
      errors.add(cert_path, "needs certificate_chain and private_key");
      continue;
    }
    const auto chain = config::readDataSource(cert.certificate_chain(), cert_path + ".certificate_chain", errors);
    const auto key = config::readDataSource(cert.private_key(), cert_path + ".private_key", errors);
    if (!chain || !key) continue;
    if (auto error = context->addCertificate(*chain, *key); !error.empty()) errors.add(cert_path, error);
  }
  if (common.tls_certificates_size() == 0) {
    errors.add(common_path + ".tls_certificates", "a TLS server needs a certificate");
  }
  std::vector<std::string> alpn;
  for (int i = 0; i < common.alpn_protocols_size(); ++i) {
    const auto& protocol = common.alpn_protocols(i);
    if (protocol != "http/1.1") {
      errors.add(config::indexPath(common_path + ".alpn_protocols", i),
                 "'" + protocol + "' is not supported by sluice (supported: http/1.1; HTTP/2 is not implemented)");
      continue;
    }
    alpn.push_back(protocol);
  }
  context->setAlpn(alpn);
  compileValidation(config, config_path, *context, errors);
  if (errors.size() != before) return nullptr;
  return context;
}

}  // namespace sluice::server
