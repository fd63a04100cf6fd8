// Routes answered by the proxy itself: redirects (Envoy's RedirectAction,
// building the Location header) and direct responses (status + body).
// Immutable once built; const methods from any worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config_error.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "router/request.h"
#include "router/route_action.h"

namespace sluice::router {

class RedirectAction {
 public:
  static std::optional<RedirectAction> build(const envoy::config::route::v3::RedirectAction& config,
                                             std::string_view path, config::ErrorList& errors);

  // The Location value: scheme (scheme_redirect, https_redirect, else the
  // request's) :// host (host_redirect, else the request's authority, whose
  // port is dropped when port_redirect is set or when the scheme changes away
  // from the port's default) port_redirect, then the path: path_redirect
  // (keeping the request's query unless the redirect has its own), else
  // `path` — the request :path after the redirect's prefix/regex rewrite
  // (see pathRewrite()). strip_query then drops the query, except one written
  // in path_redirect.
  std::string location(const RequestView& request, std::string_view path) const;
  // 301, 302, 303, 307 or 308.
  uint32_t responseCode() const { return response_code_; }
  const std::optional<PathRewrite>& pathRewrite() const { return path_rewrite_; }

 private:
  RedirectAction() = default;

  std::string scheme_;  // empty: keep the request's
  std::string host_;    // empty: keep the request's
  std::string port_;    // ":<port>" or empty
  std::string path_redirect_;
  bool path_redirect_has_query_ = false;
  std::optional<PathRewrite> path_rewrite_;
  uint32_t response_code_ = 301;
  bool strip_query_ = false;
};

// Envoy's default for RouteConfiguration.max_direct_response_body_size_bytes.
inline constexpr uint32_t kDefaultMaxDirectResponseBodyBytes = 4096;

struct DirectResponse {
  static std::optional<DirectResponse> build(const envoy::config::route::v3::DirectResponseAction& config,
                                             uint32_t max_body_bytes, std::string_view path, config::ErrorList& errors);

  uint32_t status = 200;
  std::string body;  // may be empty: no body
};

}  // namespace sluice::router
