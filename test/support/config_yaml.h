// YAML fixtures shared by the C++ tests: one listener item for
// static_resources.listeners with an HTTP connection manager (router last).
#pragma once

#include <string>

namespace sluice::test {

// `  - name: <name>` on 127.0.0.1:0, stat_prefix <name>, with
// `virtual_hosts_yaml` as the route_config's virtual_hosts list (its items
// start with "            - name:", twelve spaces in).
inline std::string listenerYaml(const std::string& name, const std::string& virtual_hosts_yaml) {
  return "  - name: " + name + R"(
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: )" +
         name + R"(
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          route_config:
            virtual_hosts:
)" + virtual_hosts_yaml;
}

}  // namespace sluice::test
