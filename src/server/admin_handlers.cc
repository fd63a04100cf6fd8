// The admin endpoints of Envoy's observability and operations set, in Envoy's
// output formats (the envoy.admin.v3 messages printed as JSON, or Envoy's
// `name::field::value` text): /server_info, /clusters, /config_dump, /certs,
// /healthcheck/fail|ok, /drain_listeners; and the listener_manager.* stats.
// Server members, on the main thread, like every admin handler.
#include <google/protobuf/any.pb.h>
#include <google/protobuf/util/field_mask_util.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdio>

#include "common/utf8.h"
#include "config/proto_hash.h"
#include "envoy/admin/v3/certs.pb.h"
#include "envoy/admin/v3/clusters.pb.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/config_dump_shared.pb.h"
#include "envoy/admin/v3/server_info.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "log/logger.h"
#include "server/server.h"
#include "stats/stats.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.0.0"
#endif

namespace sluice::server {
namespace {

// A success rate as /clusters prints it: -1 when not computed.
std::string rateText(double rate) {
  if (rate < 0) return "-1";
  char text[32];
  std::snprintf(text, sizeof(text), "%.15g", rate);
  return text;
}

using admin::AdminRequest;
using admin::AdminResponse;
using google::protobuf::Message;
using google::protobuf::util::TimeUtil;

constexpr const char* kText = "text/plain; charset=UTF-8";
constexpr const char* kJson = "application/json";

// Envoy's admin JSON: pretty, proto field names, Anys resolved from the
// generated pool (every config type sluice accepts is linked in).
AdminResponse jsonResponse(const Message& message, bool always_print_primitive_fields = false) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = always_print_primitive_fields;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) return {500, kText, "cannot print " + message.GetTypeName() + ": " + status.ToString() + "\n"};
  // A string that is not UTF-8 (from a flag, say) is printed as is; JSON must be UTF-8.
  if (!isValidUtf8(out)) out = toValidUtf8(out);
  return {200, kJson, out};
}

google::protobuf::Timestamp timestamp(std::chrono::system_clock::time_point time) {
  return TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count());
}

google::protobuf::Duration seconds(int64_t s) { return TimeUtil::SecondsToDuration(s); }

// The HIGH priority's circuit breakers are not configurable: Envoy's defaults.
using Thresholds = proxy::BreakerLimits;

// The inline route configs of every HTTP connection manager in `listener`.
template <typename Fn>
void forEachRouteConfig(const envoy::config::listener::v3::Listener& listener, Fn fn) {
  for (const auto& chain : listener.filter_chains()) {
    for (const auto& filter : chain.filters()) {
      envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
      if (filter.typed_config().UnpackTo(&hcm) && hcm.has_route_config()) fn(hcm.route_config());
    }
  }
}

// Keeps only `paths` (FieldMask paths: dot-separated field names) of
// `message`; false if a path does not name a field. As in Envoy, a path may go
// on through a google.protobuf.Any (e.g. `cluster.name`): the Any is unpacked,
// trimmed and packed again. It cannot index into a repeated field.
bool trimPaths(const std::vector<std::string>& paths, Message& message) {
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  std::map<const google::protobuf::FieldDescriptor*, std::vector<std::string>> keep;  // field -> rest of paths
  for (const auto& path : paths) {
    const size_t dot = path.find('.');
    const auto* field = descriptor->FindFieldByName(path.substr(0, dot));
    if (field == nullptr) return false;
    auto& rest = keep[field];
    if (dot == std::string::npos) {
      rest.push_back("");  // the whole field
    } else if (field->is_repeated() || field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      return false;
    } else {
      rest.push_back(path.substr(dot + 1));
    }
  }
  std::vector<const google::protobuf::FieldDescriptor*> present;
  reflection->ListFields(message, &present);
  for (const auto* field : present) {
    const auto it = keep.find(field);
    if (it == keep.end()) {
      reflection->ClearField(&message, field);
      continue;
    }
    if (std::find(it->second.begin(), it->second.end(), "") != it->second.end()) continue;
    Message* child = reflection->MutableMessage(&message, field);
    if (field->message_type()->full_name() != "google.protobuf.Any") {
      if (!trimPaths(it->second, *child)) return false;
      continue;
    }
    auto& any = static_cast<google::protobuf::Any&>(*child);
    const auto* type = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
        any.type_url().substr(any.type_url().rfind('/') + 1));
    if (type == nullptr) return false;
    std::unique_ptr<Message> inner(google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
    if (!any.UnpackTo(inner.get()) || !trimPaths(it->second, *inner)) return false;
    any.PackFrom(*inner);
  }
  // A path into a field that is not set is still a valid path.
  for (const auto& [field, rest] : keep) {
    if (std::find(rest.begin(), rest.end(), "") != rest.end() || reflection->HasField(message, field)) continue;
    if (field->message_type()->full_name() == "google.protobuf.Any") continue;
    std::unique_ptr<Message> probe(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(field->message_type())->New());
    if (!trimPaths(rest, *probe)) return false;
  }
  return true;
}

bool trim(const google::protobuf::FieldMask& mask, Message& message) {
  if (mask.paths().empty()) return false;
  return trimPaths({mask.paths().begin(), mask.paths().end()}, message);
}

}  // namespace

bool Server::draining() const { return shutting_down_ || graceful_drain_ || health_check_failed_; }

void Server::installObservabilityHandlers() {
  admin_->add("/server_info", "print server version/status information", false, [this](const AdminRequest&) {
    envoy::admin::v3::ServerInfo info;
    info.set_version(std::string("sluice/") + SLUICE_VERSION + "/RELEASE");
    info.set_state(draining() ? envoy::admin::v3::ServerInfo::DRAINING : envoy::admin::v3::ServerInfo::LIVE);
    const auto uptime =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    *info.mutable_uptime_current_epoch() = seconds(uptime);
    *info.mutable_uptime_all_epochs() = seconds(uptime);  // no hot restart: one epoch
    info.set_hot_restart_version("disabled");
    auto& o = *info.mutable_command_line_options();
    o.set_base_id(options_.base_id);
    o.set_concurrency(options_.concurrency);
    o.set_config_path(options_.config_path);
    o.set_config_yaml(options_.config_yaml);
    o.set_admin_address_path(options_.admin_address_path);
    o.set_log_level(options_.log_level);
    std::string components;
    for (const auto& [component, level] : options_.component_log_levels) {
      components += (components.empty() ? "" : ",") + component + ":" + level;
    }
    o.set_component_log_level(components);
    o.set_service_cluster(options_.service_cluster);
    o.set_service_node(options_.service_node);
    o.set_service_zone(options_.service_zone);
    o.set_mode(options_.mode == Mode::Validate ? envoy::admin::v3::CommandLineOptions::Validate
                                               : envoy::admin::v3::CommandLineOptions::Serve);
    o.set_disable_hot_restart(true);
    o.set_restart_epoch(options_.restart_epoch);
    *o.mutable_drain_time() = seconds(options_.drain_time_s);
    *o.mutable_parent_shutdown_time() = seconds(options_.parent_shutdown_time_s);
    *info.mutable_node() = bootstrap_.node();
    return jsonResponse(info, true);  // Envoy prints every field here, LIVE (0) included
  });

  admin_->add(
      "/clusters", "upstream cluster status", false,
      [this](const AdminRequest& request) {
        const std::string format = request.param("format");
        if (!format.empty() && format != "text" && format != "json") {
          return AdminResponse{400, kText, "usage: /clusters?format=(text|json)\n"};
        }
        std::map<std::string, const envoy::config::cluster::v3::Cluster*> protos;
        std::set<std::string> via_api;
        for (const auto& c : bootstrap_.static_resources().clusters()) protos[c.name()] = &c;
        for (const auto& c : dynamic_.clusters) {
          protos[c.name()] = &c;
          via_api.insert(c.name());
        }
        const auto& clusters = cluster_manager_->clusters();  // by name
        const auto edsName = [&](const std::string& name) -> std::string {
          const auto it = protos.find(name);
          if (it == protos.end() || it->second->type() != envoy::config::cluster::v3::Cluster::EDS) return "";
          return it->second->eds_cluster_config().service_name();
        };
        const Thresholds high;
        if (format == "json") {
          envoy::admin::v3::Clusters out;
          for (const auto& [name, cluster] : clusters) {
            auto& status = *out.add_cluster_statuses();
            status.set_name(name);
            status.set_observability_name(name);
            status.set_added_via_api(via_api.count(name) > 0);
            status.set_eds_service_name(edsName(name));
            for (const auto priority : {envoy::config::core::v3::DEFAULT, envoy::config::core::v3::HIGH}) {
              const Thresholds& thresholds =
                  priority == envoy::config::core::v3::DEFAULT ? cluster.config->breakers : high;
              auto& t = *status.mutable_circuit_breakers()->add_thresholds();
              t.set_priority(priority);
              t.mutable_max_connections()->set_value(thresholds.max_connections);
              t.mutable_max_pending_requests()->set_value(thresholds.max_pending_requests);
              t.mutable_max_requests()->set_value(thresholds.max_requests);
              t.mutable_max_retries()->set_value(thresholds.max_retries);
            }
            const auto& hosts = *cluster.hosts->hosts();
            for (size_t i = 0; i < hosts.size(); ++i) {
              const auto& host = hosts.hosts()[i];
              auto& h = *status.add_host_statuses();
              auto& sa = *h.mutable_address()->mutable_socket_address();
              sa.set_address(host->address);
              sa.set_port_value(host->port);
              const auto& s = *host->stats;
              const auto metric = [&h](const char* stat, uint64_t value, bool gauge) {
                auto& m = *h.add_stats();
                m.set_name(stat);
                m.set_value(value);
                m.set_type(gauge ? envoy::admin::v3::SimpleMetric::GAUGE : envoy::admin::v3::SimpleMetric::COUNTER);
              };
              constexpr auto relaxed = std::memory_order_relaxed;
              metric("cx_connect_fail", s.cx_connect_fail.load(relaxed), false);
              metric("cx_total", s.cx_total.load(relaxed), false);
              metric("rq_error", s.rq_error.load(relaxed), false);
              metric("rq_success", s.rq_success.load(relaxed), false);
              metric("rq_timeout", s.rq_timeout.load(relaxed), false);
              metric("rq_total", s.rq_total.load(relaxed), false);
              metric("cx_active", static_cast<uint64_t>(std::max<int64_t>(0, s.cx_active.load(relaxed))), true);
              metric("rq_active", static_cast<uint64_t>(std::max<int64_t>(0, s.rq_active.load(relaxed))), true);
              const uint32_t flags = host->healthFlags();
              auto& health = *h.mutable_health_status();
              health.set_eds_health_status(
                  (flags & upstream::kEdsStatusDraining) != 0   ? envoy::config::core::v3::DRAINING
                  : (flags & upstream::kFailedEdsHealth) != 0   ? envoy::config::core::v3::UNHEALTHY
                  : (flags & upstream::kDegradedEdsHealth) != 0 ? envoy::config::core::v3::DEGRADED
                                                                : envoy::config::core::v3::HEALTHY);
              health.set_failed_active_health_check((flags & upstream::kFailedActiveHc) != 0);
              health.set_failed_outlier_check((flags & upstream::kFailedOutlierCheck) != 0);
              if (cluster.detector) {
                if (const double rate = cluster.detector->successRate(*host); rate >= 0) {
                  h.mutable_success_rate()->set_value(rate);
                }
                if (const double rate = cluster.detector->localOriginSuccessRate(*host); rate >= 0) {
                  h.mutable_local_origin_success_rate()->set_value(rate);
                }
              }
              health.set_excluded_via_immediate_hc_fail((flags & upstream::kExcludedViaImmediateHcFail) != 0);
              health.set_active_hc_timeout((flags & upstream::kActiveHcTimeout) != 0);
              h.set_weight(hosts.weight(i));
              h.mutable_locality()->set_region(host->region);
              h.mutable_locality()->set_zone(host->zone);
              h.mutable_locality()->set_sub_zone(host->sub_zone);
            }
          }
          return jsonResponse(out);
        }
        AdminResponse r;
        std::string& body = r.body;
        const auto line = [&body](const std::string& a, const std::string& b, const std::string& c) {
          body += a + "::" + b + "::" + c + "\n";
        };
        for (const auto& [name, cluster] : clusters) {
          line(name, "observability_name", name);
          for (const char* priority : {"default_priority", "high_priority"}) {
            const std::string p = priority;
            const Thresholds& thresholds = p == "default_priority" ? cluster.config->breakers : high;
            line(name, p + "::max_connections", std::to_string(thresholds.max_connections));
            line(name, p + "::max_pending_requests", std::to_string(thresholds.max_pending_requests));
            line(name, p + "::max_requests", std::to_string(thresholds.max_requests));
            line(name, p + "::max_retries", std::to_string(thresholds.max_retries));
          }
          if (const auto& detector = cluster.detector) {
            line(name, "outlier::success_rate_average", rateText(detector->successRateAverage()));
            line(name, "outlier::success_rate_ejection_threshold", rateText(detector->successRateEjectionThreshold()));
          }
          line(name, "added_via_api", via_api.count(name) ? "true" : "false");
          if (const auto eds = edsName(name); !eds.empty()) line(name, "eds_service_name", eds);
          const auto& hosts = *cluster.hosts->hosts();
          for (size_t i = 0; i < hosts.size(); ++i) {
            const auto& host = hosts.hosts()[i];
            const std::string prefix = name + "::" + host->address_string;
            const auto& s = *host->stats;
            constexpr auto relaxed = std::memory_order_relaxed;
            // Envoy's order: the stats by name, then the host's facts.
            line(prefix, "cx_active", std::to_string(std::max<int64_t>(0, s.cx_active.load(relaxed))));
            line(prefix, "cx_connect_fail", std::to_string(s.cx_connect_fail.load(relaxed)));
            line(prefix, "cx_total", std::to_string(s.cx_total.load(relaxed)));
            line(prefix, "rq_active", std::to_string(std::max<int64_t>(0, s.rq_active.load(relaxed))));
            line(prefix, "rq_error", std::to_string(s.rq_error.load(relaxed)));
            line(prefix, "rq_success", std::to_string(s.rq_success.load(relaxed)));
            line(prefix, "rq_timeout", std::to_string(s.rq_timeout.load(relaxed)));
            line(prefix, "rq_total", std::to_string(s.rq_total.load(relaxed)));
            line(prefix, "hostname", "");
            line(prefix, "health_flags", upstream::healthFlagsString(host->healthFlags()));
            line(prefix, "weight", std::to_string(hosts.weight(i)));
            line(prefix, "region", host->region);
            line(prefix, "zone", host->zone);
            line(prefix, "sub_zone", host->sub_zone);
            line(prefix, "canary", "false");
            line(prefix, "priority", "0");
            const auto& detector = cluster.detector;
            line(prefix, "success_rate", rateText(detector ? detector->successRate(*host) : -1));
            line(prefix, "local_origin_success_rate",
                 rateText(detector ? detector->localOriginSuccessRate(*host) : -1));
          }
        }
        return r;
      },
      {{"format", "Output format; one of (text, json)"}});

  admin_->add(
      "/config_dump", "dump current sluice configs (Envoy's ConfigDump)", false,
      [this](const AdminRequest& request) {
        const auto started = timestamp(started_wall_);
        std::vector<std::unique_ptr<Message>> dumps;

        auto bootstrap = std::make_unique<envoy::admin::v3::BootstrapConfigDump>();
        *bootstrap->mutable_bootstrap() = bootstrap_;
        *bootstrap->mutable_last_updated() = started;
        dumps.push_back(std::move(bootstrap));

        auto clusters = std::make_unique<envoy::admin::v3::ClustersConfigDump>();
        clusters->set_version_info(dynamic_.cds_version);
        for (const auto& c : bootstrap_.static_resources().clusters()) {
          auto& entry = *clusters->add_static_clusters();
          entry.mutable_cluster()->PackFrom(c);
          *entry.mutable_last_updated() = started;
        }
        const auto& managed = cluster_manager_->clusters();
        for (const auto& c : dynamic_.clusters) {
          // A CDS cluster waiting for its endpoints is in dynamic_warming_clusters, as in Envoy.
          const auto m = managed.find(c.name());
          const bool warming = m != managed.end() && m->second.warming;
          auto& entry = warming ? *clusters->add_dynamic_warming_clusters() : *clusters->add_dynamic_active_clusters();
          entry.mutable_cluster()->PackFrom(c);
          if (const auto it = dynamic_.cluster_versions.find(c.name()); it != dynamic_.cluster_versions.end()) {
            entry.set_version_info(it->second.version_info);
            *entry.mutable_last_updated() = timestamp(it->second.last_updated);
          }
        }
        dumps.push_back(std::move(clusters));

        if (request.hasParam("include_eds")) {
          auto endpoints = std::make_unique<envoy::admin::v3::EndpointsConfigDump>();
          for (const auto& c : bootstrap_.static_resources().clusters()) {
            if (!c.has_load_assignment()) continue;
            auto& entry = *endpoints->add_static_endpoint_configs();
            entry.mutable_endpoint_config()->PackFrom(c.load_assignment());
            *entry.mutable_last_updated() = started;
          }
          const auto& assignments = cluster_manager_->assignments();
          std::map<std::string, const ClusterManager::Assignment*> sorted;
          for (const auto& [name, assignment] : assignments) sorted.emplace(name, &assignment);
          for (const auto& [name, assignment] : sorted) {
            auto& entry = *endpoints->add_dynamic_endpoint_configs();
            entry.mutable_endpoint_config()->PackFrom(*assignment->endpoints);
            entry.set_version_info(assignment->version_info);
            *entry.mutable_last_updated() = timestamp(assignment->last_updated);
          }
          dumps.push_back(std::move(endpoints));
        }

        auto listeners = std::make_unique<envoy::admin::v3::ListenersConfigDump>();
        auto routes = std::make_unique<envoy::admin::v3::RoutesConfigDump>();
        listeners->set_version_info(dynamic_.lds_version);
        const auto addRoutes = [&routes](const envoy::config::listener::v3::Listener& l,
                                         const google::protobuf::Timestamp& updated) {
          forEachRouteConfig(l, [&](const envoy::config::route::v3::RouteConfiguration& rc) {
            auto& entry = *routes->add_static_route_configs();
            entry.mutable_route_config()->PackFrom(rc);
            *entry.mutable_last_updated() = updated;
          });
        };
        for (const auto& l : bootstrap_.static_resources().listeners()) {
          auto& entry = *listeners->add_static_listeners();
          entry.mutable_listener()->PackFrom(l);
          *entry.mutable_last_updated() = started;
          addRoutes(l, started);
        }
        for (const auto& l : dynamic_.listeners) {
          auto& entry = *listeners->add_dynamic_listeners();
          entry.set_name(l.name());
          // A listener waiting for its RDS routes is in warming_state (Envoy's dynamic_warming).
          auto& state = warming_.count(l.name()) ? *entry.mutable_warming_state() : *entry.mutable_active_state();
          state.mutable_listener()->PackFrom(l);
          google::protobuf::Timestamp updated = started;
          if (const auto it = dynamic_.listener_versions.find(l.name()); it != dynamic_.listener_versions.end()) {
            state.set_version_info(it->second.version_info);
            updated = timestamp(it->second.last_updated);
            *state.mutable_last_updated() = updated;
          }
          addRoutes(l, updated);
        }
        // error_state: on the listener it concerns, or alone when no such listener was ever accepted.
        for (const auto& [name, rejected] : rejected_listeners_) {
          envoy::admin::v3::ListenersConfigDump::DynamicListener* entry = nullptr;
          for (auto& d : *listeners->mutable_dynamic_listeners()) {
            if (d.name() == name) entry = &d;
          }
          if (entry == nullptr) {
            entry = listeners->add_dynamic_listeners();
            entry->set_name(name);
          }
          auto& error = *entry->mutable_error_state();
          *error.mutable_failed_configuration() = rejected.config;
          error.set_details(rejected.details);
          *error.mutable_last_update_attempt() = timestamp(rejected.when);
        }
        for (const auto& [key, rds] : rds_->entries()) {
          if (!rds.table) continue;
          auto& entry = *routes->add_dynamic_route_configs();
          entry.set_version_info(rds.version_info);
          entry.mutable_route_config()->PackFrom(rds.config);
          *entry.mutable_last_updated() = timestamp(rds.last_updated);
        }
        dumps.push_back(std::move(listeners));
        dumps.push_back(std::move(routes));

        google::protobuf::FieldMask mask;
        const bool masked = request.hasParam("mask");
        if (masked)
          google::protobuf::util::FieldMaskUtil::FromString(admin::percentDecode(request.param("mask")), &mask);
        const auto badMask = [&mask] {
          return AdminResponse{400, kText,
                               "FieldMask " + google::protobuf::util::FieldMaskUtil::ToString(mask) +
                                   " could not be successfully used.\n"};
        };
        envoy::admin::v3::ConfigDump out;
        if (request.hasParam("resource")) {
          // Envoy: the entries of the repeated field named `resource`, each an Any.
          const std::string resource = admin::percentDecode(request.param("resource"));
          bool found = false;
          for (const auto& dump : dumps) {
            const auto* field = dump->GetDescriptor()->FindFieldByName(resource);
            if (field == nullptr) continue;
            if (!field->is_repeated() || field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
              return AdminResponse{
                  400, kText,
                  resource + " is not a repeated field. Use ?mask=" + resource + " to get only this field\n"};
            }
            found = true;
            const auto* reflection = dump->GetReflection();
            for (int i = 0; i < reflection->FieldSize(*dump, field); ++i) {
              std::unique_ptr<Message> entry(reflection->GetRepeatedMessage(*dump, field, i).New());
              entry->CopyFrom(reflection->GetRepeatedMessage(*dump, field, i));
              if (masked && !trim(mask, *entry)) return badMask();
              out.add_configs()->PackFrom(*entry);
            }
          }
          if (!found) return AdminResponse{404, kText, resource + " not found in config dump\n"};
          return jsonResponse(out);
        }
        for (auto& dump : dumps) {
          if (masked && !trim(mask, *dump)) return badMask();
          out.add_configs()->PackFrom(*dump);
        }
        return jsonResponse(out);
      },
      {{"resource",
        "The resource to dump: the name of a repeated field of one of the config dumps, e.g. "
        "dynamic_listeners"},
       {"mask",
        "The mask to apply (a FieldMask, comma-separated paths). With resource, applied to every entry of it; "
        "otherwise to every config dump"},
       {"include_eds", "Dump the endpoints (EndpointsConfigDump) too"}});

  admin_->add("/certs", "print certs on machine", false, [](const AdminRequest&) {
    return jsonResponse(envoy::admin::v3::Certificates(), true);  // no TLS yet: none
  });

  admin_->add("/healthcheck/fail", "cause the server to fail health checks", true, [this](const AdminRequest&) {
    health_check_failed_ = true;
    return AdminResponse{200, kText, "OK\n"};
  });
  admin_->add("/healthcheck/ok", "cause the server to pass health checks", true, [this](const AdminRequest&) {
    health_check_failed_ = false;
    return AdminResponse{200, kText, "OK\n"};
  });

  admin_->add(
      "/drain_listeners", "drain listeners", true,
      [this](const AdminRequest& request) { return drainListeners(request); },
      {{"graceful",
        "When draining listeners, enter a graceful drain period (--drain-time-s) prior to closing listeners"},
       {"inboundonly",
        "Drains only inbound listeners (traffic_direction INBOUND); sluice does not support traffic_direction, so "
        "this drains none"}});
}

// Stops every listener on every worker (the process and admin keep running);
// every connection closes after its current response, idle ones at once. With
// ?graceful the listeners keep accepting for --drain-time-s while every
// connection, new ones too, answers its next response with connection: close
// and closes after it (idle ones wait for a request or their idle timeout, as
// in Envoy); then they stop as above.
AdminResponse Server::drainListeners(const AdminRequest& request) {
  if (request.hasParam("inboundonly")) return {200, kText, "OK\n"};  // no listener is INBOUND (see the help)
  if (shutting_down_ || listeners_stopped_ || graceful_drain_) return {200, kText, "OK\n"};
  const auto stop = [this] {
    graceful_drain_ = false;
    listeners_stopped_ = true;
    for (auto& w : workers_) w->drain(nullptr);
    context_.store().counter("listener_manager.listener_stopped").inc(sockets_.bound().size());
    SLUICE_LOG(main, info, "sluice: listeners stopped by /drain_listeners");
  };
  if (!request.hasParam("graceful") || options_.drain_time_s == 0) {
    stop();
    return {200, kText, "OK\n"};
  }
  graceful_drain_ = true;
  for (auto& w : workers_) w->drainClose();
  listener_drain_timer_ = std::make_unique<asio::steady_timer>(main_);
  listener_drain_timer_->expires_after(std::chrono::seconds(options_.drain_time_s));
  listener_drain_timer_->async_wait([this, stop](const std::error_code& ec) {
    if (!ec && !shutting_down_) stop();
  });
  SLUICE_LOG(main, info, "sluice: graceful listener drain for {}s started by /drain_listeners", options_.drain_time_s);
  return {200, kText, "OK\n"};
}

// Envoy's listener_manager.* for the listeners of `next` replacing the current
// ones (at start: none). `created` false: the new listeners could not be
// bound, and the config was rejected.
void Server::countListenerChanges(const Dynamic& next, bool created) {
  auto& store = context_.store();
  std::map<std::string, uint64_t> before, after;
  for (const auto& l : bootstrap_.static_resources().listeners()) after[l.name()] = config::protoHash(l);
  for (const auto& l : next.listeners) after[l.name()] = config::protoHash(l);
  if (config_) {
    for (const auto& l : bootstrap_.static_resources().listeners()) before[l.name()] = config::protoHash(l);
    for (const auto& l : dynamic_.listeners) before[l.name()] = config::protoHash(l);
  }
  uint64_t added = 0, modified = 0, removed = 0;
  for (const auto& [name, proto] : after) {
    const auto it = before.find(name);
    if (it == before.end()) {
      ++added;
    } else if (it->second != proto) {
      ++modified;
    }
  }
  for (const auto& [name, proto] : before) removed += after.count(name) ? 0 : 1;
  const uint64_t workers = workers_.size();
  if (!created) {
    store.counter("listener_manager.listener_create_failure").inc((added + modified) * workers);
    return;
  }
  store.counter("listener_manager.listener_added").inc(added);
  store.counter("listener_manager.listener_modified").inc(modified);
  store.counter("listener_manager.listener_removed").inc(removed);
  store.counter("listener_manager.listener_create_success").inc((added + modified) * workers);
  store.counter("listener_manager.listener_stopped");
  store.counter("listener_manager.listener_create_failure");
  store.gauge("listener_manager.total_listeners_draining").set(0);  // a removed listener's connections are not tracked
}

}  // namespace sluice::server
