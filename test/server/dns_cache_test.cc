// DnsCache: names resolved again on the resolver thread while the main thread
// keeps using the cache. Run under ThreadSanitizer too (scripts/test.sh).
#include "server/dns_cache.h"

#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <memory>
#include <string>

namespace sluice::server {
namespace {

TEST(DnsCache, LooksUpIpLiteralsAndLocalhost) {
  asio::io_context main;
  DnsCache cache(main);
  EXPECT_EQ(cache.lookup("127.0.0.1"), std::vector<std::string>{"127.0.0.1"});
  EXPECT_FALSE(cache.lookup("localhost").empty());
  EXPECT_TRUE(cache.lookup("no-such-host.invalid").empty());
}

// Refreshes run one after another on the resolver thread while the main
// thread adds names to the cache between them; an unchanged answer reports
// no change.
TEST(DnsCache, RefreshesOnTheResolverThread) {
  asio::io_context main;
  auto guard = asio::make_work_guard(main);
  DnsCache cache(main);
  ASSERT_FALSE(cache.lookup("localhost").empty());
  constexpr int kRefreshes = 20;
  int done = 0;
  std::function<void(bool)> on_done = [&](bool changed) {
    EXPECT_FALSE(changed);
    if (++done == kRefreshes) {
      guard.reset();
      return;
    }
    cache.refresh(on_done);
    // The main thread writes the cache while the resolver thread works.
    cache.lookup("127.0.0." + std::to_string(done));
  };
  cache.refresh(on_done);
  cache.refresh([](bool) { ADD_FAILURE() << "a second refresh while one runs must be ignored"; });
  main.run();
  EXPECT_EQ(done, kRefreshes);
}

// A refresh still running when the cache goes away is dropped: its result,
// posted to the main thread, must not touch the destroyed cache. The test
// cannot choose the interleaving (the destructor usually stops the resolver
// before it picks the job up); it holds for every one, and under ASan catches
// a result that reaches a destroyed cache whenever the resolver was first.
TEST(DnsCache, DestroyedWhileRefreshing) {
  asio::io_context main;
  for (int i = 0; i < 20; ++i) {
    auto cache = std::make_unique<DnsCache>(main);
    cache->lookup("localhost");
    cache->refresh([](bool) { ADD_FAILURE() << "called after the cache was destroyed"; });
    cache.reset();
    main.run();
    main.restart();
  }
}

}  // namespace
}  // namespace sluice::server
