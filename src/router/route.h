// One route of a virtual host: its match and what to do with a matching
// request — forward (RouteAction), redirect or answer directly — plus the
// header mutations that apply to it (its own, its virtual host's and the route
// configuration's, in Envoy's order). Owned by its VirtualHost inside an
// immutable RouteTable; all methods are const and safe from any worker.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "config/config_error.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "http/header_map.h"
#include "router/header_mutation.h"
#include "router/redirect_action.h"
#include "router/request.h"
#include "router/route_action.h"
#include "router/route_match.h"
#include "runtime/runtime.h"

namespace sluice::router {

class VirtualHost;

class Route {
 public:
  enum class Kind { kForward, kRedirect, kDirectResponse };

  // What a route inherits from the levels around it. Pointers outlive the route.
  struct Enclosing {
    const VirtualHost* virtual_host = nullptr;
    const HeaderMutations* virtual_host_request = nullptr;
    const HeaderMutations* virtual_host_response = nullptr;
    const HeaderMutations* config_request = nullptr;
    const HeaderMutations* config_response = nullptr;
    bool most_specific_header_mutations_wins = false;
    uint32_t max_direct_response_body_bytes = kDefaultMaxDirectResponseBodyBytes;
    std::shared_ptr<const RetryPolicy> retry_policy;         // the virtual host's, if any
    std::optional<uint32_t> per_request_buffer_limit_bytes;  // the virtual host's, if set
  };

  // nullptr (with errors added at `path`) when the route is invalid.
  static std::unique_ptr<const Route> build(const envoy::config::route::v3::Route& config, const Enclosing& enclosing,
                                            std::string_view path, config::ErrorList& errors);

  // The header-mutation chain points into the route itself: never copied or moved.
  Route(const Route&) = delete;
  Route& operator=(const Route&) = delete;

  const std::string& name() const { return name_; }
  // per_request_buffer_limit_bytes (the route's, else its virtual host's):
  // how much of a request body may be buffered to retry it; nullopt: the
  // listener's per_connection_buffer_limit_bytes (Envoy's rule).
  std::optional<uint32_t> perRequestBufferLimit() const { return per_request_buffer_limit_; }
  Kind kind() const { return static_cast<Kind>(action_.index()); }
  const VirtualHost& virtualHost() const { return *virtual_host_; }
  const RouteMatcher& matcher() const { return match_; }

  // Non-null exactly when kind() says so.
  const RouteAction* forward() const { return std::get_if<RouteAction>(&action_); }
  const RedirectAction* redirect() const { return std::get_if<RedirectAction>(&action_); }
  const DirectResponse* directResponse() const { return std::get_if<DirectResponse>(&action_); }

  // `random` is the stream's random value; pass the same one to chooseCluster().
  bool matches(const RequestView& request, const runtime::Snapshot& runtime, uint64_t random) const {
    return match_.matches(request, runtime, random);
  }

  // The :path to send upstream after the forward action's prefix_rewrite or
  // regex_rewrite (query kept); nullopt when the route rewrites nothing.
  // `path` is the request's :path, which this route matched.
  std::optional<std::string> rewritePath(std::string_view path) const;

  // The Location header for a redirect route. Precondition: kind() == kRedirect.
  std::string redirectLocation(const RequestView& request) const;

  // request_headers_to_remove/_add of route, virtual host and route
  // configuration. By default the most specific level is applied first, so
  // the route configuration's overwrites win; most_specific_header_mutations_wins
  // reverses the order.
  void applyRequestHeaderMutations(http::HeaderMap& headers) const;
  void applyResponseHeaderMutations(http::HeaderMap& headers) const;

 private:
  using Action = std::variant<RouteAction, RedirectAction, DirectResponse>;  // order matches Kind
  using Chain = std::array<const HeaderMutations*, 3>;

  Route(std::string name, RouteMatcher match, Action action)
      : name_(std::move(name)), match_(std::move(match)), action_(std::move(action)) {}

  std::string name_;
  RouteMatcher match_;
  Action action_;
  const VirtualHost* virtual_host_ = nullptr;
  std::optional<uint32_t> per_request_buffer_limit_;
  HeaderMutations request_mutations_;
  HeaderMutations response_mutations_;
  Chain request_chain_{};  // in application order; entries never null
  Chain response_chain_{};
};

}  // namespace sluice::router
