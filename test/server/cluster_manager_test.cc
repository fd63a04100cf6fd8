// ClusterManager: per-cluster compiles, stable hosts, and deltas that hold
// only what changed.
#include "server/cluster_manager.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "config/bootstrap_loader.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace sluice::server {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;

Cluster staticCluster(const std::string& name, const std::vector<int>& ports, const std::string& extra = "") {
  std::string yaml = "static_resources:\n  clusters:\n  - name: " + name + "\n    connect_timeout: 1s\n" + extra +
                     "    load_assignment:\n      cluster_name: " + name +
                     "\n      endpoints:\n      - lb_endpoints:\n";
  for (int port : ports) {
    yaml +=
        "        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: " + std::to_string(port) +
        " } } }\n";
  }
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  config::ErrorList errors;
  EXPECT_TRUE(config::loadBootstrap({"", yaml}, bootstrap, errors)) << errors.toString();
  return bootstrap.static_resources().clusters(0);
}

Cluster edsCluster(const std::string& name, const std::string& service = "") {
  Cluster c;
  c.set_name(name);
  c.set_type(Cluster::EDS);
  if (!service.empty()) c.mutable_eds_cluster_config()->set_service_name(service);
  return c;
}

// (port, weight, zone) per endpoint, in one locality per distinct zone.
struct Endpoint {
  int port;
  uint32_t weight = 1;
  std::string zone;
};
ClusterLoadAssignment assignment(const std::string& name, const std::vector<Endpoint>& endpoints) {
  ClusterLoadAssignment a;
  a.set_cluster_name(name);
  for (const auto& e : endpoints) {
    auto& locality = *a.add_endpoints();
    locality.mutable_locality()->set_zone(e.zone);
    auto& lb = *locality.add_lb_endpoints();
    auto& sa = *lb.mutable_endpoint()->mutable_address()->mutable_socket_address();
    sa.set_address("127.0.0.1");
    sa.set_port_value(static_cast<uint32_t>(e.port));
    lb.mutable_load_balancing_weight()->set_value(e.weight);
  }
  return a;
}

class ClusterManagerTest : public ::testing::Test {
 protected:
  proxy::ClusterDelta set(const std::vector<Cluster>& clusters) {
    std::vector<const Cluster*> all;
    for (const auto& c : clusters) all.push_back(&c);
    return manager_.setClusters(all);
  }
  const ClusterManager::Entry& entry(const std::string& name) { return manager_.clusters().at(name); }
  const upstream::HostSet& hosts(const std::string& name) { return *entry(name).hosts->hosts(); }

  stats::Store store_{1};
  proxy::StatsRegistry registry_{store_};
  ClusterManager manager_{registry_, [](const std::string&, DnsAnswer) { return std::vector<std::string>{}; }};
};

TEST_F(ClusterManagerTest, AnUnchangedClusterKeepsItsCompiledObjectAndHosts) {
  set({staticCluster("a", {1, 2}, "    lb_policy: RING_HASH\n"), staticCluster("b", {3})});
  const auto config = entry("a").config;
  const auto balancing = entry("a").hosts;
  const auto* ring = balancing->ring().get();
  ASSERT_NE(ring, nullptr);
  const auto delta = set({staticCluster("a", {1, 2}, "    lb_policy: RING_HASH\n"), staticCluster("b", {3, 4})});
  ASSERT_EQ(delta.updated.size(), 1u);
  EXPECT_EQ(delta.updated[0].config->name, "b");
  EXPECT_TRUE(delta.removed.empty());
  EXPECT_EQ(entry("a").config, config);
  EXPECT_EQ(entry("a").hosts, balancing);
  EXPECT_EQ(entry("a").hosts->ring().get(), ring) << "the ring was rebuilt for an unrelated update";
  EXPECT_EQ(store_.counter("cluster_manager.cluster_added").value(), 2u);
  EXPECT_EQ(store_.counter("cluster_manager.cluster_modified").value(), 1u);
}

TEST_F(ClusterManagerTest, HostsAreStableAcrossEndpointUpdates) {
  set({edsCluster("web")});
  EXPECT_TRUE(hosts("web").empty());
  auto delta = manager_.setAssignment(assignment("web", {{1}, {2}}));
  ASSERT_EQ(delta.updated.size(), 1u);
  const upstream::HostPtr two = hosts("web").hosts()[1];
  two->stats->rq_total = 7;
  two->active_requests = 2;
  // 1 leaves, 2 stays with a new weight, 3 arrives.
  delta = manager_.setAssignment(assignment("web", {{2, 5}, {3}}));
  ASSERT_EQ(delta.updated.size(), 1u);
  ASSERT_EQ(hosts("web").size(), 2u);
  EXPECT_EQ(hosts("web").hosts()[0], two);
  EXPECT_EQ(hosts("web").weight(0), 5u);
  EXPECT_EQ(two->stats->rq_total.load(), 7u);
  EXPECT_EQ(two->active_requests.load(), 2u);
  EXPECT_EQ(hosts("web")[1].port, 3);
  two->active_requests = 0;
}

TEST_F(ClusterManagerTest, AHostThatMovesToAnotherZoneIsANewHost) {
  set({edsCluster("web")});
  manager_.setAssignment(assignment("web", {{1, 1, "a"}}));
  const upstream::HostPtr before = hosts("web").hosts()[0];
  manager_.setAssignment(assignment("web", {{1, 1, "b"}}));
  EXPECT_NE(hosts("web").hosts()[0], before);
  EXPECT_EQ(hosts("web")[0].zone, "b");
}

TEST_F(ClusterManagerTest, AnEndpointUpdateSendsOnlyTheClustersItFeeds) {
  std::vector<Cluster> clusters;
  for (int i = 0; i < 50; ++i) clusters.push_back(edsCluster("c" + std::to_string(i)));
  clusters.push_back(edsCluster("alias", "c7"));  // fed by c7's assignment too
  set(clusters);
  const auto delta = manager_.setAssignment(assignment("c7", {{1}}));
  ASSERT_EQ(delta.updated.size(), 2u);
  std::set<std::string> names{delta.updated[0].config->name, delta.updated[1].config->name};
  EXPECT_EQ(names, (std::set<std::string>{"c7", "alias"}));
  EXPECT_EQ(manager_.setAssignment(assignment("c7", {{1}})).updated.size(), 0u) << "nothing changed";
  EXPECT_EQ(entry("c7").config->stats->membership_total.value(), 1);
}

TEST_F(ClusterManagerTest, AnAssignmentThatCameFirstFeedsTheClusterAddedLater) {
  manager_.setAssignment(assignment("late", {{1}, {2}}));
  set({edsCluster("late")});
  EXPECT_EQ(hosts("late").size(), 2u);
}

TEST_F(ClusterManagerTest, AnAssignmentOverGrpcGoesWithItsLastClusterOneFromAFileStays) {
  set({edsCluster("web"), edsCluster("api"), edsCluster("files")});
  manager_.setAssignment(assignment("web", {{1}}), "v1", false);
  manager_.setAssignment(assignment("api", {{2}}), "v1", false);
  manager_.setAssignment(assignment("files", {{3}}), "v1", true);
  set({edsCluster("api")});
  EXPECT_EQ(manager_.assignments().count("web"), 0u) << "no cluster uses it: dropped";
  EXPECT_EQ(manager_.assignments().count("api"), 1u);
  EXPECT_EQ(manager_.assignments().count("files"), 1u) << "a file is not read again for a cluster added later";
  set({edsCluster("api"), edsCluster("web")});
  EXPECT_EQ(manager_.warming().count("web"), 1u) << "back: it waits for its endpoints again";
  EXPECT_EQ(manager_.warming().count("api"), 0u);
}

TEST_F(ClusterManagerTest, TheSameAssignmentObjectAgainChangesNothingAndCountsNoRebuild) {
  set({edsCluster("web")});
  const auto same = std::make_shared<const ClusterLoadAssignment>(assignment("web", {{1}, {2}}));
  ASSERT_EQ(manager_.setAssignment(same, "v1", false).updated.size(), 1u);
  const auto hosts_before = entry("web").hosts;
  EXPECT_TRUE(manager_.setAssignment(same, "v2", false).updated.empty());
  EXPECT_EQ(entry("web").hosts, hosts_before);
  EXPECT_EQ(manager_.assignments().at("web").version_info, "v1") << "unchanged: it keeps the version it came with";
  EXPECT_EQ(store_.counter("cluster.web.update_no_rebuild").value(), 1u);
  EXPECT_EQ(store_.counter("cluster.web.update_success").value(), 2u);
  // Removed and added again: the same object still brings the cluster out of warming.
  set({});
  set({edsCluster("web")});
  EXPECT_EQ(manager_.warming().count("web"), 1u);
  EXPECT_EQ(manager_.setAssignment(same, "v3", false).updated.size(), 1u);
  EXPECT_EQ(manager_.warming().count("web"), 0u);
  EXPECT_EQ(hosts("web").size(), 2u);
}

TEST_F(ClusterManagerTest, ChangedSettingsKeepTheHosts) {
  set({staticCluster("a", {1, 2})});
  const upstream::HostPtr host = hosts("a").hosts()[0];
  const auto balancing = entry("a").hosts;
  const auto delta = set({staticCluster("a", {1, 2}, "    per_connection_buffer_limit_bytes: 4096\n")});
  ASSERT_EQ(delta.updated.size(), 1u);
  EXPECT_EQ(delta.updated[0].config->per_connection_buffer_limit_bytes, 4096u);
  EXPECT_EQ(delta.updated[0].hosts, balancing) << "same hosts, same load balancing: nothing to rebuild";
  EXPECT_EQ(hosts("a").hosts()[0], host);
}

TEST_F(ClusterManagerTest, ANewPolicyRebuildsTheBalancingButKeepsTheHosts) {
  set({staticCluster("a", {1, 2})});
  const upstream::HostPtr host = hosts("a").hosts()[0];
  const auto delta = set({staticCluster("a", {1, 2}, "    lb_policy: MAGLEV\n")});
  ASSERT_EQ(delta.updated.size(), 1u);
  EXPECT_EQ(delta.updated[0].hosts->policy(), upstream::LbPolicy::Maglev);
  EXPECT_NE(delta.updated[0].hosts->table(), nullptr);
  EXPECT_EQ(hosts("a").hosts()[0], host);
}

TEST_F(ClusterManagerTest, ARemovedClusterIsNamedAndItsHostsGo) {
  set({staticCluster("a", {1}), staticCluster("b", {2})});
  const upstream::HostPtr old = hosts("b").hosts()[0];
  auto delta = set({staticCluster("a", {1})});
  EXPECT_TRUE(delta.updated.empty());
  EXPECT_EQ(delta.removed, std::vector<std::string>{"b"});
  EXPECT_EQ(store_.gauge("cluster_manager.active_clusters").value(), 1);
  delta = set({staticCluster("a", {1}), staticCluster("b", {2})});
  EXPECT_NE(hosts("b").hosts()[0], old) << "a cluster added again starts with new hosts";
}

}  // namespace
}  // namespace sluice::server
