// ThreadLocalClusters: a worker applies a cluster delta to the named clusters
// only; the others keep their load balancer, its state and their pool.
#include "proxy/thread_local_clusters.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "upstream/load_balancer_factory.h"

namespace sluice::proxy {
namespace {

stats::Store store(1);
StatsRegistry registry(store);

std::shared_ptr<const ClusterConfig> settings(const std::string& name, upstream::LbPolicy policy) {
  auto c = std::make_shared<ClusterConfig>();
  c->name = name;
  c->lb_policy = policy;
  c->stats = registry.cluster(name);
  return c;
}

upstream::HostSetPtr hostsOn(const std::vector<int>& ports, const upstream::HostSet* reuse = nullptr) {
  std::vector<upstream::HostPtr> hosts;
  for (int port : ports) {
    upstream::HostPtr found;
    for (size_t i = 0; reuse && i < reuse->size(); ++i) {
      if ((*reuse)[i].port == port) found = reuse->hosts()[i];
    }
    hosts.push_back(found ? found : upstream::makeHost("127.0.0.1", static_cast<uint16_t>(port)));
  }
  return std::make_shared<const upstream::HostSet>(std::move(hosts));
}

ClusterUpdate update(std::shared_ptr<const ClusterConfig> config, upstream::HostSetPtr hosts) {
  auto balancing = std::make_shared<const upstream::LoadBalancerFactory>(config->lb_policy, hosts, config->lb_config);
  return {std::move(config), std::move(balancing)};
}

class ThreadLocalClustersTest : public ::testing::Test {
 protected:
  void apply(std::vector<ClusterUpdate> updated, std::vector<std::string> removed = {}) {
    clusters_.apply(ClusterDelta{std::move(updated), std::move(removed)}, [this] { return ++seed_; });
  }
  const upstream::Host* pick(const std::string& name) { return clusters_.find(name)->lb->chooseHost(nullptr); }

  asio::io_context io_;
  ThreadLocalClusters clusters_{io_.get_executor()};
  uint64_t seed_ = 0;
};

TEST_F(ThreadLocalClustersTest, AnUpdateOfOneClusterLeavesTheOthersAsTheyWere) {
  const auto a = settings("a", upstream::LbPolicy::RoundRobin);
  const auto a_hosts = hostsOn({1, 2, 3});
  const auto b = settings("b", upstream::LbPolicy::RoundRobin);
  apply({update(a, a_hosts), update(b, hostsOn({4}))});
  const auto* lb = clusters_.find("a")->lb.get();
  const upstream::Host* first = pick("a");
  const upstream::Host* second = pick("a");
  apply({update(settings("b", upstream::LbPolicy::LeastRequest), hostsOn({5, 6}))});
  EXPECT_EQ(clusters_.find("a")->lb.get(), lb) << "a's load balancer was replaced";
  const upstream::Host* third = pick("a");
  EXPECT_NE(third, first);
  EXPECT_NE(third, second);
  EXPECT_EQ(pick("a"), first) << "the rotation did not go on";
}

TEST_F(ThreadLocalClustersTest, AHostUpdateUpdatesTheLoadBalancerInPlace) {
  const auto a = settings("a", upstream::LbPolicy::RoundRobin);
  const auto before = hostsOn({1, 2});
  apply({update(a, before)});
  auto* state = clusters_.find("a");
  const auto* lb = state->lb.get();
  const auto after = hostsOn({2, 3}, before.get());
  apply({update(a, after)});
  EXPECT_EQ(clusters_.find("a"), state);
  EXPECT_EQ(state->lb.get(), lb);
  EXPECT_EQ(state->hosts(), after);
  for (int i = 0; i < 4; ++i) EXPECT_NE(pick("a")->port, 1) << "a host that left was picked";
}

TEST_F(ThreadLocalClustersTest, ANewPolicyGetsANewLoadBalancer) {
  const auto hosts = hostsOn({1, 2});
  apply({update(settings("a", upstream::LbPolicy::RoundRobin), hosts)});
  const auto* lb = clusters_.find("a")->lb.get();
  apply({update(settings("a", upstream::LbPolicy::Random), hosts)});
  EXPECT_NE(clusters_.find("a")->lb.get(), lb);
  EXPECT_EQ(clusters_.find("a")->config->lb_policy, upstream::LbPolicy::Random);
}

TEST_F(ThreadLocalClustersTest, ARemovedClusterIsGoneButARequestHoldingItKeepsIt) {
  apply({update(settings("a", upstream::LbPolicy::RoundRobin), hostsOn({1}))});
  auto held = clusters_.get("a");
  apply({}, {"a"});
  EXPECT_EQ(clusters_.find("a"), nullptr);
  EXPECT_EQ(clusters_.size(), 0u);
  EXPECT_EQ(held->lb->chooseHost(nullptr)->port, 1);
}

}  // namespace
}  // namespace sluice::proxy
