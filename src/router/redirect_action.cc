#include "router/redirect_action.h"

#include "config/data_source.h"

#include <cassert>

// Fields sluice does not implement never reach this file: the supported-subset
// gate (config/supported_fields.cc) rejects them, by path, before any compile.

namespace sluice::router {

using config::childPath;

namespace {

// The request's authority for a redirect that keeps it: its port is dropped
// when the redirect sets a port, or when the scheme changes and the port was
// the old scheme's default (so http://a:80 becomes https://a, not https://a:80).
std::string_view redirectHost(std::string_view authority, std::string_view request_scheme, std::string_view new_scheme,
                              bool new_port) {
  const size_t colon = hostPortStart(authority);
  if (colon == std::string_view::npos) return authority;
  const std::string_view port = authority.substr(colon);
  bool drop = new_port;
  if (new_scheme != request_scheme) {
    drop = drop || (request_scheme == "https" && port == ":443") || (request_scheme == "http" && port == ":80");
  }
  return drop ? authority.substr(0, colon) : authority;
}

}  // namespace

std::optional<RedirectAction> RedirectAction::build(const envoy::config::route::v3::RedirectAction& config,
                                                    std::string_view path, config::ErrorList& errors) {
  using Proto = envoy::config::route::v3::RedirectAction;
  RedirectAction out;
  bool ok = true;
  switch (config.scheme_rewrite_specifier_case()) {
    case Proto::kHttpsRedirect:
      if (config.https_redirect()) out.scheme_ = "https";
      break;
    case Proto::kSchemeRedirect:
      out.scheme_ = config.scheme_redirect();
      break;
    case Proto::SCHEME_REWRITE_SPECIFIER_NOT_SET:
      break;
  }
  out.host_ = config.host_redirect();
  if (config.port_redirect() > 65535) {
    errors.add(childPath(path, "port_redirect"), "must be at most 65535");
    ok = false;
  } else if (config.port_redirect() != 0) {
    out.port_ = ":" + std::to_string(config.port_redirect());
  }
  switch (config.path_rewrite_specifier_case()) {
    case Proto::kPathRedirect:
      out.path_redirect_ = config.path_redirect();
      out.path_redirect_has_query_ = out.path_redirect_.find('?') != std::string::npos;
      break;
    case Proto::kPrefixRewrite:
      out.path_rewrite_ = PathRewrite::build(config.prefix_rewrite(), nullptr, path, errors);
      break;
    case Proto::kRegexRewrite: {
      const size_t before = errors.size();
      out.path_rewrite_ = PathRewrite::build(std::string(), &config.regex_rewrite(), path, errors);
      ok = ok && errors.size() == before;
      break;
    }
    case Proto::PATH_REWRITE_SPECIFIER_NOT_SET:
      break;
  }
  switch (config.response_code()) {
    case Proto::MOVED_PERMANENTLY:
      out.response_code_ = 301;
      break;
    case Proto::FOUND:
      out.response_code_ = 302;
      break;
    case Proto::SEE_OTHER:
      out.response_code_ = 303;
      break;
    case Proto::TEMPORARY_REDIRECT:
      out.response_code_ = 307;
      break;
    case Proto::PERMANENT_REDIRECT:
      out.response_code_ = 308;
      break;
    default:
      errors.add(childPath(path, "response_code"), "unknown redirect response code");
      ok = false;
      break;
  }
  out.strip_query_ = config.strip_query();
  if (!ok) return std::nullopt;
  return out;
}

std::string RedirectAction::location(const RequestView& request, std::string_view path) const {
  const std::string_view scheme = scheme_.empty() ? request.scheme : std::string_view(scheme_);
  const std::string_view host =
      host_.empty() ? redirectHost(request.authority, request.scheme, scheme, !port_.empty()) : std::string_view(host_);

  std::string out;
  out.reserve(scheme.size() + 3 + host.size() + port_.size() + path.size() + path_redirect_.size() + 1);
  out.append(scheme).append("://").append(host).append(port_);
  const size_t path_start = out.size();
  if (!path_redirect_.empty()) {
    out.append(path_redirect_);
    if (!path_redirect_has_query_) {
      const size_t question = path.find('?');
      if (question != std::string_view::npos) out.append(path.substr(question));
    }
  } else {
    out.append(path);
  }
  if (out.size() == path_start || out[path_start] != '/') out.insert(path_start, "/");
  if (strip_query_ && !path_redirect_has_query_) {
    const size_t question = out.find('?', path_start);
    if (question != std::string::npos) out.resize(question);
  }
  return out;
}

std::optional<DirectResponse> DirectResponse::build(const envoy::config::route::v3::DirectResponseAction& config,
                                                    uint32_t max_body_bytes, std::string_view path,
                                                    config::ErrorList& errors) {
  DirectResponse out;
  bool ok = true;
  if (config.status() < 200 || config.status() >= 600) {
    errors.add(childPath(path, "status"), "must be in [200, 600)");
    ok = false;
  }
  out.status = config.status();
  if (config.has_body() && config.body().specifier_case() != envoy::config::core::v3::DataSource::SPECIFIER_NOT_SET) {
    const std::string body_path = childPath(path, "body");
    if (auto body = config::readDataSource(config.body(), body_path, errors)) {
      out.body = std::move(*body);
    } else {
      ok = false;
    }
    if (out.body.size() > max_body_bytes) {
      errors.add(body_path, "the body is " + std::to_string(out.body.size()) + " bytes; the limit is " +
                                std::to_string(max_body_bytes) + " (max_direct_response_body_size_bytes)");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace sluice::router
