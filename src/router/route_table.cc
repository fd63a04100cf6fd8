#include "router/route_table.h"

#include <cassert>

// Fields sluice does not implement never reach this file: the supported-subset
// gate (config/supported_fields.cc) rejects them, by path, before any compile.

namespace sluice::router {

using config::childPath;
using config::indexPath;

const Route* VirtualHost::match(const RequestView& request, const runtime::Snapshot& runtime, uint64_t random) const {
  for (const auto& route : routes_) {
    if (route->matches(request, runtime, random)) return route.get();
  }
  return nullptr;
}

std::shared_ptr<const RouteTable> RouteTable::build(const envoy::config::route::v3::RouteConfiguration& config,
                                                    std::string_view path, config::ErrorList& errors) {
  const size_t errors_before = errors.size();
  // Settings that would change which route a request gets, or who may see a header.
  assert(!config.has_vhds() && config.internal_only_headers_size() == 0 &&
         !config.ignore_path_parameters_in_path_matching() && config.cluster_specifier_plugins_size() == 0);

  std::shared_ptr<RouteTable> table(new RouteTable());
  table->name_ = config.name();
  table->ignore_port_in_host_matching_ = config.ignore_port_in_host_matching();
  table->request_mutations_ = HeaderMutations::build(
      config.request_headers_to_add(), config.request_headers_to_remove(), childPath(path, "request_headers_to_add"),
      childPath(path, "request_headers_to_remove"), errors);
  table->response_mutations_ = HeaderMutations::build(
      config.response_headers_to_add(), config.response_headers_to_remove(), childPath(path, "response_headers_to_add"),
      childPath(path, "response_headers_to_remove"), errors);
  const uint32_t max_body_bytes = config.has_max_direct_response_body_size_bytes()
                                      ? config.max_direct_response_body_size_bytes().value()
                                      : kDefaultMaxDirectResponseBodyBytes;

  for (int v = 0; v < config.virtual_hosts_size(); ++v) {
    const auto& vh_config = config.virtual_hosts(v);
    const std::string vh_path = indexPath(childPath(path, "virtual_hosts"), v);
    std::unique_ptr<VirtualHost> vh(new VirtualHost());
    vh->name_ = vh_config.name();
    assert(!vh_config.has_matcher());
    if (vh_config.domains_size() == 0) errors.add(childPath(vh_path, "domains"), "at least one domain is required");
    vh->request_mutations_ = HeaderMutations::build(
        vh_config.request_headers_to_add(), vh_config.request_headers_to_remove(),
        childPath(vh_path, "request_headers_to_add"), childPath(vh_path, "request_headers_to_remove"), errors);
    vh->response_mutations_ = HeaderMutations::build(
        vh_config.response_headers_to_add(), vh_config.response_headers_to_remove(),
        childPath(vh_path, "response_headers_to_add"), childPath(vh_path, "response_headers_to_remove"), errors);

    for (int d = 0; d < vh_config.domains_size(); ++d) {
      const std::string& domain = vh_config.domains(d);
      const std::string domain_path = indexPath(childPath(vh_path, "domains"), d);
      if (domain.empty()) {
        errors.add(domain_path, "must not be empty");
        continue;
      }
      vh->domains_.push_back(domain);
      if (const VirtualHost* holder = table->domains_.add(domain, vh.get())) {
        errors.add(domain_path, "domain '" + domain + "' is already used by virtual host '" + holder->name() +
                                    "'; domains must be unique (case-insensitive) across virtual hosts");
      }
    }

    vh->include_request_attempt_count_ = vh_config.include_request_attempt_count();
    vh->include_attempt_count_in_response_ = vh_config.include_attempt_count_in_response();

    Route::Enclosing enclosing;
    if (vh_config.has_retry_policy()) {
      enclosing.retry_policy = RetryPolicy::build(vh_config.retry_policy(), childPath(vh_path, "retry_policy"), errors);
    }
    if (vh_config.has_per_request_buffer_limit_bytes()) {
      enclosing.per_request_buffer_limit_bytes = vh_config.per_request_buffer_limit_bytes().value();
    }
    enclosing.virtual_host = vh.get();
    enclosing.virtual_host_request = &vh->request_mutations_;
    enclosing.virtual_host_response = &vh->response_mutations_;
    enclosing.config_request = &table->request_mutations_;
    enclosing.config_response = &table->response_mutations_;
    enclosing.most_specific_header_mutations_wins = config.most_specific_header_mutations_wins();
    enclosing.max_direct_response_body_bytes = max_body_bytes;
    for (int r = 0; r < vh_config.routes_size(); ++r) {
      auto route = Route::build(vh_config.routes(r), enclosing, indexPath(childPath(vh_path, "routes"), r), errors);
      if (route) vh->routes_.push_back(std::move(route));
    }
    table->virtual_hosts_.push_back(std::move(vh));
  }

  if (errors.size() != errors_before) return nullptr;
  return table;
}

const VirtualHost* RouteTable::findVirtualHost(std::string_view authority, const MatchOptions& options) const {
  return domains_.find(stripHostPort(authority, options, ignore_port_in_host_matching_));
}

const Route* RouteTable::match(const RequestView& request, const MatchOptions& options,
                               const runtime::Snapshot& runtime, uint64_t random) const {
  const VirtualHost* vh = findVirtualHost(request.authority, options);
  return vh == nullptr ? nullptr : vh->match(request, runtime, random);
}

}  // namespace sluice::router
