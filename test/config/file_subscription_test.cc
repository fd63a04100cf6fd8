// FileSubscription: the file implementation of the subscription seam. Its
// updates carry each resource's name and the file's version; its errors name
// the resource; a replaced file is delivered again.
#include "config/file_subscription.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace sluice::config {
namespace {

namespace fs = std::filesystem;

class Recorder final : public SubscriptionCallbacks {
 public:
  bool onConfigUpdate(const DiscoveryUpdate& update, std::string& error) override {
    updates.push_back(update);
    if (reject) error = "rejected by the test";
    return !reject;
  }
  void onConfigUpdateFailed(const std::string& error) override { failures.push_back(error); }
  std::vector<DiscoveryUpdate> updates;
  std::vector<std::string> failures;
  bool reject = false;
};

class FileSubscriptionTest : public ::testing::Test {
 protected:
  FileSubscriptionTest() {
    std::string pattern = (fs::temp_directory_path() / "sluice-sub-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    source_.mutable_path_config_source()->set_path((dir_ / "cds.yaml").string());
  }
  ~FileSubscriptionTest() override { fs::remove_all(dir_); }

  // Writes the file beside and renames it into place (Envoy's rule).
  void publish(const std::string& version, const std::string& clusters) {
    const auto tmp = dir_ / ".cds.tmp";
    std::ofstream(tmp) << "version_info: '" << version << "'\nresources:\n" << clusters;
    fs::rename(tmp, dir_ / "cds.yaml");
  }
  static std::string cluster(const std::string& name, const std::string& timeout = "1s") {
    return "- '@type': type.googleapis.com/envoy.config.cluster.v3.Cluster\n  name: " + name +
           "\n  connect_timeout: " + timeout + "\n";
  }
  // Runs the io_context until the recorder has seen `count` events.
  void waitForEvents(const Recorder& r, size_t count) {
    while (r.updates.size() + r.failures.size() < count) io_.run_one();
  }

  fs::path dir_;
  envoy::config::core::v3::ConfigSource source_;
  asio::io_context io_;
  FileWatcher watcher_{io_};
};

TEST_F(FileSubscriptionTest, DeliversEveryResourceByNameWithTheFileVersion) {
  publish("v1", cluster("web") + cluster("api"));
  Recorder r;
  FileSubscription subscription(watcher_, source_, "envoy.config.cluster.v3.Cluster", r);
  std::string error;
  ASSERT_TRUE(subscription.start(error)) << error;
  ASSERT_EQ(r.updates.size(), 1u);
  EXPECT_EQ(r.updates[0].version_info, "v1");
  ASSERT_EQ(r.updates[0].resources.size(), 2u);
  EXPECT_EQ(r.updates[0].resources[0].name, "web");
  EXPECT_EQ(r.updates[0].resources[1].name, "api");
  EXPECT_EQ(r.updates[0].resources[1].message->GetDescriptor()->full_name(), "envoy.config.cluster.v3.Cluster");

  publish("v2", cluster("web"));
  waitForEvents(r, 2);
  ASSERT_EQ(r.updates.size(), 2u);
  EXPECT_EQ(r.updates[1].version_info, "v2");
  EXPECT_EQ(r.updates[1].resources.size(), 1u);
}

TEST_F(FileSubscriptionTest, AnInvalidResourceIsNamedInTheError) {
  publish("v1", cluster("web"));
  Recorder r;
  FileSubscription subscription(watcher_, source_, "envoy.config.cluster.v3.Cluster", r);
  std::string error;
  ASSERT_TRUE(subscription.start(error)) << error;
  publish("v2", cluster("web") + cluster("api", "0s"));
  waitForEvents(r, 2);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].find("cluster 'api'.connect_timeout: must be greater than 0s"), std::string::npos)
      << r.failures[0];
  EXPECT_EQ(r.updates.size(), 1u) << "an invalid file is not delivered";
}

TEST_F(FileSubscriptionTest, ARejectedUpdateReportsTheConsumersError) {
  publish("v1", cluster("web"));
  Recorder r;
  r.reject = true;
  FileSubscription subscription(watcher_, source_, "envoy.config.cluster.v3.Cluster", r);
  std::string error;
  EXPECT_FALSE(subscription.start(error));
  EXPECT_EQ(error, "rejected by the test");
}

TEST_F(FileSubscriptionTest, AnOptionalFileMayComeLater) {
  Recorder r;
  FileSubscription subscription(watcher_, source_, "envoy.config.cluster.v3.Cluster", r);
  subscription.setOptional(true);
  std::string error;
  ASSERT_TRUE(subscription.start(error)) << error;
  EXPECT_TRUE(r.updates.empty());
  publish("v1", cluster("web"));
  waitForEvents(r, 1);
  ASSERT_EQ(r.updates.size(), 1u);
  EXPECT_EQ(r.updates[0].resources[0].name, "web");
}

TEST(ResourceNames, EachDiscoveryTypeIsLabelledByWhatItIs) {
  envoy::config::endpoint::v3::ClusterLoadAssignment endpoints;
  endpoints.set_cluster_name("web");
  EXPECT_EQ(resourceName(endpoints), "web");
  EXPECT_EQ(resourceLabel(endpoints), "endpoints 'web'");
}

}  // namespace
}  // namespace sluice::config
