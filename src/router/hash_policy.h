// A route's hash_policy list: the request hash that consistent-hashing load
// balancers (ring hash, maglev) use to pick a host. Follows Envoy: each policy
// that yields a value is folded into the hash (the running hash rotated left
// by one, then xor-ed, so duplicate policies do not cancel out); a terminal
// policy that produced a hash ends the walk. No policy yielding a value means
// no hash. Immutable once built; hash() runs on any worker.
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "router/request.h"

namespace sluice::router {

class HashPolicy {
 public:
  // nullopt when the list is empty or (with errors added) has an entry sluice cannot evaluate.
  static std::optional<HashPolicy> build(
      const google::protobuf::RepeatedPtrField<envoy::config::route::v3::RouteAction::HashPolicy>& config,
      std::string_view path, config::ErrorList& errors);

  std::optional<uint64_t> hash(const RequestView& request) const;

 private:
  enum class Kind { kHeader, kCookie, kSourceIp, kQueryParameter };
  struct Method {
    Kind kind;
    std::string name;  // header name (lowercase), cookie name or query parameter name
    bool terminal;
  };

  std::optional<uint64_t> evaluate(const Method& method, const RequestView& request) const;

  std::vector<Method> methods_;
};

// The value of cookie `name` in the request's cookie header(s), with
// surrounding double quotes removed; nullopt when absent.
std::optional<std::string_view> findCookie(const http::HeaderMap& headers, std::string_view name);

}  // namespace sluice::router
