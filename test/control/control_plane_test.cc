#include "control/control_plane.h"

#include <gtest/gtest.h>

#include <asio/steady_timer.hpp>

#include "test_registry.h"

namespace sluice::control {
namespace {

using test::registryOf;
using test::twoZones;

// Several registry changes inside the debounce window are applied once, the
// last one.
TEST(ControlPlane, DebouncesRegistryChanges) {
  asio::io_context io;
  ControlPlane cp(io, {std::chrono::milliseconds(30), std::chrono::seconds(10)});
  cp.start(registryOf(twoZones()), "test");
  ASSERT_EQ(cp.registryChangesApplied(), 1u);
  cp.onRegistryUpdate(registryOf(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }")));
  cp.onRegistryUpdate(registryOf(twoZones("{ address: 10.0.0.6, port: 80, zone: z1 }")));
  cp.onRegistryUpdate(registryOf(twoZones("{ address: 10.0.0.7, port: 80, zone: z1 }")));
  EXPECT_EQ(cp.registryChangesApplied(), 1u);
  io.run();  // the one timer
  EXPECT_EQ(cp.registryChangesApplied(), 2u);
  EXPECT_EQ(cp.registry()->services[0].instances.back().address, "10.0.0.7");
}

// A stream of changes closer than the debounce is still applied within the
// maximum delay.
TEST(ControlPlane, DebounceMaxBoundsTheDelay) {
  asio::io_context io;
  ControlPlane cp(io, {std::chrono::milliseconds(50), std::chrono::milliseconds(100)});
  cp.start(registryOf(twoZones()), "test");
  asio::steady_timer feeder(io);
  int fed = 0;
  std::function<void()> feed = [&] {
    cp.onRegistryUpdate(
        registryOf(twoZones("{ address: 10.0.0." + std::to_string(10 + fed) + ", port: 80, zone: z1 }")));
    if (++fed == 30) return;  // 30 changes, 10 ms apart: 300 ms, never a 50 ms gap
    feeder.expires_after(std::chrono::milliseconds(10));
    feeder.async_wait([&](const std::error_code&) { feed(); });
  };
  feed();
  io.run();
  // Without the maximum, only the last change would be applied (once).
  EXPECT_GE(cp.registryChangesApplied(), 3u);
}

TEST(ControlPlane, ARejectedUpdateKeepsTheRegistryAndIsShown) {
  asio::io_context io;
  ControlPlane cp(io, {});
  cp.start(registryOf(twoZones()), "test");
  const auto served = cp.registry();
  const std::string version = cp.registryStatus().version;
  cp.onRegistryRejected("services[0].port: must be 1..65535");
  EXPECT_EQ(cp.registry(), served);
  EXPECT_EQ(cp.registryStatus().version, version);
  EXPECT_EQ(cp.registryStatus().rejected, 1u);
  EXPECT_EQ(cp.registryStatus().last_error, "services[0].port: must be 1..65535");
}

// Memory follows distinct translations: nodes of one gateway share one snapshot.
TEST(ControlPlane, NodesOfOneClusterShareOneSnapshot) {
  asio::io_context io;
  ControlPlane cp(io, {});
  cp.start(registryOf(twoZones()), "test");
  EXPECT_EQ(cp.snapshotFor("edge"), cp.snapshotFor("edge"));
  EXPECT_NE(cp.snapshotFor("edge"), cp.snapshotFor("other"));
  EXPECT_EQ(cp.cachedSnapshots(), 2u);
}

}  // namespace
}  // namespace sluice::control
