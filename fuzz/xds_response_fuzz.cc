// Fuzzes what sluice does with a response from a control plane before it
// applies anything: the input is the bytes of a gRPC message on an ADS stream,
// decoded as a state-of-the-world DiscoveryResponse and as a
// DeltaDiscoveryResponse (the same bytes, both ways), then each is put through
// the per-resource checks the xDS client runs (src/config/xds/grpc_subscription.cc)
// for each of the five types: clusters, listeners, route configurations,
// endpoint assignments and runtime layers. That is readDiscoveryResponse
// (SotW, all or nothing) and readDiscoveryResource per resource with the name
// check (delta): the type URL, Any decoding, the supported-subset gate and
// the protoc-gen-validate rules. A response that passes then gets the
// semantic checks its type gets before the compile: clusters and listeners
// join a bootstrap configured for ADS and go through checkSemantics (as
// Server::apply does with withDynamicResources); a route configuration goes
// through checkRouteConfiguration and RouteTable::build (as RdsRoutes does);
// an assignment is checked as a STATIC cluster's load_assignment (the cluster
// manager's host building is in the server library, not built here).
//
// Invariants, besides no crash, leak, undefined behaviour or hang:
// - readDiscoveryResponse fails exactly when it reports errors, and every
//   error has a message; when it succeeds it returns every resource, each of
//   the type asked for, in order (all or nothing);
// - a delta resource accepted has the name it was sent under (or none was
//   given) and is of the type asked for; one rejected leaves an error;
// - RouteTable::build returns a table exactly when it reports no error.
// protobuf may log an ERROR only for what it rejects while decoding (invalid
// UTF-8 in a string field), which is the rejection itself; any other ERROR log
// is a finding.
#include <google/protobuf/stubs/logging.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/config_error.h"
#include "config/discovery_file.h"
#include "config/semantic_validator.h"
#include "config/subscription.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "fuzz_util.h"
#include "router/route_table.h"

using namespace sluice;

namespace {

void onProtobufLog(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
  if (level < google::protobuf::LOGLEVEL_ERROR) return;
  // Decoding a string field that is not UTF-8: protobuf logs and fails the
  // parse; the failure is what the client acts on (a stream error, or the
  // resource's decoding error).
  if (message.find("invalid UTF-8") != std::string::npos) return;
  std::fprintf(stderr, "[libprotobuf %d %s:%d] %s\n", static_cast<int>(level), file, line, message.c_str());
  std::fprintf(stderr, "fuzz invariant failed: protobuf logged an error\n");
  std::abort();
}

const bool kLogHandlerInstalled = [] {
  google::protobuf::SetLogHandler(&onProtobufLog);
  return true;
}();

constexpr const char* kTypes[] = {
    "envoy.config.cluster.v3.Cluster",          "envoy.config.listener.v3.Listener",
    "envoy.config.route.v3.RouteConfiguration", "envoy.config.endpoint.v3.ClusterLoadAssignment",
    "envoy.service.runtime.v3.Runtime",
};

void checkErrors(const config::ErrorList& errors) {
  for (const auto& e : errors.errors()) FUZZ_CHECK(!e.message.empty());
}

// What sluice runs on an ADS-configured bootstrap with `resources` added.
envoy::config::bootstrap::v3::Bootstrap adsBootstrap() {
  envoy::config::bootstrap::v3::Bootstrap b;
  auto& ads = *b.mutable_dynamic_resources()->mutable_ads_config();
  ads.set_api_type(envoy::config::core::v3::ApiConfigSource::GRPC);
  ads.set_transport_api_version(envoy::config::core::v3::V3);
  ads.add_grpc_services()->mutable_envoy_grpc()->set_cluster_name("xds");
  b.mutable_dynamic_resources()->mutable_cds_config()->mutable_ads();
  b.mutable_dynamic_resources()->mutable_lds_config()->mutable_ads();
  auto& xds = *b.mutable_static_resources()->add_clusters();
  xds.set_name("xds");
  xds.mutable_connect_timeout()->set_seconds(1);
  auto& sa = *xds.mutable_load_assignment()
                  ->add_endpoints()
                  ->add_lb_endpoints()
                  ->mutable_endpoint()
                  ->mutable_address()
                  ->mutable_socket_address();
  xds.mutable_load_assignment()->set_cluster_name("xds");
  sa.set_address("127.0.0.1");
  sa.set_port_value(18000);
  return b;
}

// The checks a resource of `type` gets once it has passed the gate and the rules.
void checkSemantics(const std::string& type, const google::protobuf::Message& resource, config::ErrorList& errors) {
  if (type == kTypes[0] || type == kTypes[1] || type == kTypes[3]) {
    auto bootstrap = adsBootstrap();
    if (type == kTypes[0]) {
      bootstrap.mutable_static_resources()->add_clusters()->CopyFrom(resource);
    } else if (type == kTypes[1]) {
      bootstrap.mutable_static_resources()->add_listeners()->CopyFrom(resource);
    } else {
      const auto& assignment = static_cast<const envoy::config::endpoint::v3::ClusterLoadAssignment&>(resource);
      auto& c = *bootstrap.mutable_static_resources()->add_clusters();
      c.set_name(assignment.cluster_name().empty() ? "eds" : assignment.cluster_name());
      c.mutable_connect_timeout()->set_seconds(1);
      *c.mutable_load_assignment() = assignment;
    }
    config::checkSemantics(bootstrap, errors);
  } else if (type == kTypes[2]) {
    const auto& route = static_cast<const envoy::config::route::v3::RouteConfiguration&>(resource);
    const std::string where = "route_config '" + route.name() + "'";
    const size_t before = errors.size();
    config::checkRouteConfiguration(route, where, errors);
    if (errors.size() != before) return;
    const auto table = router::RouteTable::build(route, where, errors);
    FUZZ_CHECK((table != nullptr) == (errors.size() == before));
  }
}

void stateOfTheWorld(const envoy::service::discovery::v3::DiscoveryResponse& response) {
  for (const std::string type : kTypes) {
    config::DiscoveryFile decoded;
    config::ErrorList errors;
    const bool ok = config::readDiscoveryResponse(response, type, decoded, errors);
    FUZZ_CHECK(ok == errors.empty());
    checkErrors(errors);
    if (!ok) {
      if (response.type_url() == "type.googleapis.com/" + type) {
        sluice::fuzz::verbose("sotw " + type + ": rejected\n" + errors.toString() + "\n");
      }
      continue;
    }
    FUZZ_CHECK(decoded.version_info == response.version_info());
    FUZZ_CHECK(static_cast<int>(decoded.resources.size()) == response.resources_size());
    for (const auto& r : decoded.resources) {  // all of them passed the gate and the rules
      FUZZ_CHECK(r->GetDescriptor()->full_name() == type);
      checkSemantics(type, *r, errors);
    }
    checkErrors(errors);
    const auto update = config::toDiscoveryUpdate(std::move(decoded));
    FUZZ_CHECK(static_cast<int>(update.resources.size()) == response.resources_size());
    if (response.type_url() == "type.googleapis.com/" + type) {
      sluice::fuzz::verbose("sotw " + type + ": " + (errors.empty() ? "valid\n" : errors.toString() + "\n"));
    }
  }
}

void delta(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response) {
  for (const std::string type : kTypes) {
    config::ErrorList errors;
    size_t accepted = 0;
    for (int i = 0; i < response.resources_size(); ++i) {
      const auto& r = response.resources(i);
      const std::string path = config::indexPath("resources", static_cast<size_t>(i));
      const size_t before = errors.size();
      if (!r.has_resource()) {
        errors.add(path, "resource '" + r.name() + "' has no body (resource TTLs are not supported)");
        continue;
      }
      auto decoded = config::readDiscoveryResource(r.resource(), type, path + ".resource", errors);
      FUZZ_CHECK((decoded == nullptr) == (errors.size() != before));
      if (!decoded) continue;
      FUZZ_CHECK(decoded->GetDescriptor()->full_name() == type);
      const std::string name = config::resourceName(*decoded);
      if (!r.name().empty() && r.name() != name) {
        errors.add(path + ".name", "'" + r.name() + "' names a resource called '" + name + "'");
        continue;
      }
      ++accepted;
      checkSemantics(type, *decoded, errors);
    }
    checkErrors(errors);
    FUZZ_CHECK(accepted <= static_cast<size_t>(response.resources_size()));
    if (response.type_url() == "type.googleapis.com/" + type) {
      sluice::fuzz::verbose("delta " + type + ": " + std::to_string(accepted) + " accepted\n" + errors.toString() +
                            "\n");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)kLogHandlerInstalled;
  envoy::service::discovery::v3::DiscoveryResponse sotw;
  if (sotw.ParseFromArray(data, static_cast<int>(size))) stateOfTheWorld(sotw);
  envoy::service::discovery::v3::DeltaDiscoveryResponse incremental;
  if (incremental.ParseFromArray(data, static_cast<int>(size))) delta(incremental);
  return 0;
}
