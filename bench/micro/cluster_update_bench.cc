// What an endpoint update costs with many clusters loaded (issue 12): the main
// thread's ClusterManager::setAssignment and one worker's
// ThreadLocalClusters::apply for one cluster's new host set, at 100, 1,000 and
// 10,000 clusters of 10 hosts. Both should stay flat as the cluster count
// grows. BM_CdsUpdate (every cluster re-sent, one changed) is the O(clusters)
// path for contrast, and BM_ClusterMemory reports heap bytes per cluster and
// per host (the manager plus one worker's state). Figures: docs/PERFORMANCE.md.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "proxy/thread_local_clusters.h"
#include "server/cluster_manager.h"
#include "stats/stats.h"

namespace sluice::server {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;

std::string name(int i) { return "cluster_" + std::to_string(i); }

Cluster edsCluster(int i) {
  Cluster c;
  c.set_name(name(i));
  c.set_type(Cluster::EDS);
  c.mutable_connect_timeout()->set_seconds(1);
  return c;
}

// `hosts` endpoints 10.<i/250>.<i%250>.<h+1>:8080; `shift` moves the last one.
ClusterLoadAssignment assignment(int i, int hosts, int shift = 0) {
  ClusterLoadAssignment a;
  a.set_cluster_name(name(i));
  auto& locality = *a.add_endpoints();
  locality.mutable_locality()->set_zone("zone-a");
  for (int h = 0; h < hosts; ++h) {
    auto& sa = *locality.add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
    const int last = h == hosts - 1 ? shift : 0;
    sa.set_address("10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + "." +
                   std::to_string(h + 1 + last));
    sa.set_port_value(8080);
  }
  return a;
}

Resolver noDns() {
  return [](const std::string&, DnsAnswer) { return std::vector<std::string>{}; };
}

// A cluster manager and one worker's clusters with `count` EDS clusters of `hosts` hosts.
struct Loaded {
  Loaded(int count, int hosts) {
    std::vector<Cluster> protos;
    for (int i = 0; i < count; ++i) protos.push_back(edsCluster(i));
    std::vector<const Cluster*> all;
    for (const auto& c : protos) all.push_back(&c);
    workers.apply(manager.setClusters(all), [] { return 1; });
    for (int i = 0; i < count; ++i) workers.apply(manager.setAssignment(assignment(i, hosts)), [] { return 1; });
  }
  stats::Store store{2};  // as a two-worker server sizes its stats
  proxy::StatsRegistry registry{store};
  ClusterManager manager{registry, noDns()};
  asio::io_context io;
  proxy::ThreadLocalClusters workers{io.get_executor()};
};

void BM_EndpointUpdateMainThread(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  Loaded loaded(count, 10);
  const ClusterLoadAssignment moved[2] = {assignment(count / 2, 10, 1), assignment(count / 2, 10, 0)};
  size_t flip = 0;
  for (auto _ : state) {
    auto delta = loaded.manager.setAssignment(moved[flip ^= 1]);
    benchmark::DoNotOptimize(delta);
  }
}
BENCHMARK(BM_EndpointUpdateMainThread)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_EndpointUpdateWorker(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  Loaded loaded(count, 10);
  // The two deltas an alternating endpoint update sends, prepared once.
  const proxy::ClusterDelta deltas[2] = {loaded.manager.setAssignment(assignment(count / 2, 10, 1)),
                                         loaded.manager.setAssignment(assignment(count / 2, 10, 0))};
  size_t flip = 0;
  for (auto _ : state) loaded.workers.apply(deltas[flip ^= 1], [] { return 1; });
}
BENCHMARK(BM_EndpointUpdateWorker)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_CdsUpdate(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  Loaded loaded(count, 10);
  std::vector<Cluster> protos;
  for (int i = 0; i < count; ++i) protos.push_back(edsCluster(i));
  std::vector<const Cluster*> all;
  for (const auto& c : protos) all.push_back(&c);
  int64_t timeout = 1;
  for (auto _ : state) {
    protos[0].mutable_connect_timeout()->set_seconds(++timeout);
    auto delta = loaded.manager.setClusters(all);
    benchmark::DoNotOptimize(delta);
  }
}
BENCHMARK(BM_CdsUpdate)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

size_t heapInUse() { return mallinfo2().uordblks; }

void BM_ClusterMemory(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  double per_cluster = 0;
  double per_host = 0;
  for (auto _ : state) {
    const size_t before = heapInUse();
    {
      Loaded bare(count, 0);
      per_cluster = static_cast<double>(heapInUse() - before) / count;
    }
    {
      Loaded full(count, 10);
      per_host = (static_cast<double>(heapInUse() - before) / count - per_cluster) / 10;
    }
  }
  state.counters["bytes_per_cluster"] = per_cluster;
  state.counters["bytes_per_host"] = per_host;
}
BENCHMARK(BM_ClusterMemory)->Arg(10000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice::server
