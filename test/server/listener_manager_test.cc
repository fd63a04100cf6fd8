// ListenerManager: an unchanged listener keeps its compiled object; a changed
// one is compiled again; a rejected compile changes nothing.
#include "server/listener_manager.h"

#include <gtest/gtest.h>

#include <string>

#include "config/bootstrap_loader.h"
#include "support/config_yaml.h"

namespace sluice::server {
namespace {

// Listener `name` whose one route matches the regex `prefix`.
std::string listenerYaml(const std::string& name, const std::string& prefix) {
  return test::listenerYaml(name,
                            "            - name: all\n              domains: [\"*\"]\n              routes:\n"
                            "              - match: { safe_regex: { regex: \"" +
                                prefix + "\" } }\n                direct_response: { status: 200 }\n");
}

envoy::config::bootstrap::v3::Bootstrap bootstrap(const std::string& listeners) {
  envoy::config::bootstrap::v3::Bootstrap b;
  config::ErrorList errors;
  EXPECT_TRUE(config::loadBootstrap({"", "static_resources:\n  listeners:\n" + listeners}, b, errors))
      << errors.toString();
  return b;
}

TEST(ListenerManager, AnUnchangedListenerKeepsItsCompiledObject) {
  stats::Store store(1);
  proxy::StatsRegistry registry(store);
  ListenerManager manager(registry);
  config::ErrorList errors;
  const auto first = bootstrap(listenerYaml("one", "/a") + listenerYaml("two", "/b"));
  auto v1 = manager.compile(first, nullptr, errors);
  ASSERT_TRUE(v1) << errors.toString();
  manager.commit(*v1, first);
  const auto second = bootstrap(listenerYaml("one", "/a") + listenerYaml("two", "/c"));
  auto v2 = manager.compile(second, nullptr, errors);
  ASSERT_TRUE(v2) << errors.toString();
  EXPECT_EQ(v2->listeners[0], v1->listeners[0]);
  EXPECT_NE(v2->listeners[1], v1->listeners[1]);
}

TEST(ListenerManager, ARejectedCompileLeavesTheCommittedListeners) {
  stats::Store store(1);
  proxy::StatsRegistry registry(store);
  ListenerManager manager(registry);
  config::ErrorList errors;
  const auto good = bootstrap(listenerYaml("one", "/a"));
  auto v1 = manager.compile(good, nullptr, errors);
  ASSERT_TRUE(v1);
  manager.commit(*v1, good);
  EXPECT_EQ(manager.compile(bootstrap(listenerYaml("one", "(")), nullptr, errors), nullptr);
  EXPECT_FALSE(errors.empty());
  config::ErrorList again;
  auto v2 = manager.compile(good, nullptr, again);
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->listeners[0], v1->listeners[0]);
}

}  // namespace
}  // namespace sluice::server
