// The route table: an Envoy RouteConfiguration compiled for matching. The
// main thread builds it (RouteTable::build); it is then immutable and shared
// by every worker through std::shared_ptr<const RouteTable>, each request
// finding its virtual host by authority and then the first matching route.
// Routes and virtual hosts returned are owned by the table and live as long
// as it does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"
#include "envoy/config/route/v3/route.pb.h"
#include "router/domain_index.h"
#include "router/header_mutation.h"
#include "router/request.h"
#include "router/route.h"
#include "runtime/runtime.h"

namespace sluice::router {

class VirtualHost {
 public:
  const std::string& name() const { return name_; }
  const std::vector<std::string>& domains() const { return domains_; }
  const std::vector<std::unique_ptr<const Route>>& routes() const { return routes_; }

  // The first route, in configuration order, that matches; nullptr: none.
  const Route* match(const RequestView& request, const runtime::Snapshot& runtime, uint64_t random) const;

  // include_request_attempt_count / include_attempt_count_in_response:
  // x-envoy-attempt-count on the upstream request / the downstream response.
  bool includeRequestAttemptCount() const { return include_request_attempt_count_; }
  bool includeAttemptCountInResponse() const { return include_attempt_count_in_response_; }

 private:
  friend class RouteTable;
  VirtualHost() = default;

  bool include_request_attempt_count_ = false;
  bool include_attempt_count_in_response_ = false;

  std::string name_;
  std::vector<std::string> domains_;
  std::vector<std::unique_ptr<const Route>> routes_;
  HeaderMutations request_mutations_;
  HeaderMutations response_mutations_;
};

class RouteTable {
 public:
  // Compiles `config` (found at `path`, e.g. `...typed_config.route_config`).
  // Every problem is added to `errors` with its field path (e.g.
  // `virtual_hosts[0].routes[2].match.safe_regex.regex: invalid RE2 pattern: ...`);
  // returns nullptr when there was any, so a bad config is never half-applied.
  static std::shared_ptr<const RouteTable> build(const envoy::config::route::v3::RouteConfiguration& config,
                                                 std::string_view path, config::ErrorList& errors);

  const std::string& name() const { return name_; }
  const std::vector<std::unique_ptr<const VirtualHost>>& virtualHosts() const { return virtual_hosts_; }

  // The virtual host for `authority` (see DomainIndex for precedence; ports per
  // `options` and ignore_port_in_host_matching); nullptr: none matches.
  const VirtualHost* findVirtualHost(std::string_view authority, const MatchOptions& options) const;

  // The route for a request; nullptr: no virtual host or no route matches
  // (answer 404). `random` is the stream's random value: use the same one for
  // Route::forward()->chooseCluster().
  const Route* match(const RequestView& request, const MatchOptions& options, const runtime::Snapshot& runtime,
                     uint64_t random) const;

 private:
  RouteTable() = default;

  std::string name_;
  bool ignore_port_in_host_matching_ = false;
  std::vector<std::unique_ptr<const VirtualHost>> virtual_hosts_;
  DomainIndex domains_;
  HeaderMutations request_mutations_;
  HeaderMutations response_mutations_;
};

}  // namespace sluice::router
