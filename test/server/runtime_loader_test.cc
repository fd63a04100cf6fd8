// RuntimeLoader: disk layers read from a directory tree, layer precedence,
// the symlink swap, a broken tree, and the admin layer. Real files in a
// temporary directory; the swap is awaited through inotify.
#include "server/runtime_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "config/bootstrap_loader.h"

namespace sluice::server {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sluice-runtime-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void writeFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

// Points `link` at `target` atomically: a new symlink renamed over the old one.
void swapSymlink(const fs::path& link, const fs::path& target) {
  const fs::path tmp = link.string() + ".tmp";
  fs::create_directory_symlink(target, tmp);
  fs::rename(tmp, link);
}

envoy::config::bootstrap::v3::LayeredRuntime layered(const std::string& yaml) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  config::ErrorList errors;
  EXPECT_TRUE(config::readBootstrap({"", "layered_runtime:\n" + yaml}, bootstrap, errors)) << errors.toString();
  return bootstrap.layered_runtime();
}

std::string value(const RuntimeLoader& loader, std::string_view key) {
  return std::string(loader.snapshot()->get(key).value_or("<unset>"));
}

TEST(RuntimeDirectory, KeysJoinPathComponentsWithDotsAndValuesAreTrimmed) {
  TempDir dir;
  writeFile(dir.path() / "top", "  7 \n");
  writeFile(dir.path() / "routing" / "traffic_shift" / "web", "90\n");
  writeFile(dir.path() / "commented", "# a placeholder\n42\n");
  writeFile(dir.path() / "only_comment", "# nothing here\n");
  RuntimeValues values;
  std::string error;
  ASSERT_TRUE(readRuntimeDirectory(dir.path().string(), values, error)) << error;
  EXPECT_EQ(values, (RuntimeValues{
                        {"commented", "42"}, {"only_comment", ""}, {"routing.traffic_shift.web", "90"}, {"top", "7"}}));
}

TEST(RuntimeDirectory, ASymlinkLoopIsAnError) {
  TempDir dir;
  writeFile(dir.path() / "ok", "1");
  fs::create_symlink(dir.path() / "loop", dir.path() / "loop");
  RuntimeValues values;
  std::string error;
  EXPECT_FALSE(readRuntimeDirectory(dir.path().string(), values, error));
  EXPECT_NE(error.find("loop"), std::string::npos) << error;
}

class RuntimeLoaderTest : public ::testing::Test {
 protected:
  // A static layer, a disk layer at root/current/sluice, an admin layer.
  std::unique_ptr<RuntimeLoader> make(bool with_admin = true) {
    std::string yaml =
        "  layers:\n"
        "  - name: base\n"
        "    static_layer: {shared: static, only_static: s, nested: {key: 1}}\n"
        "  - name: disk\n"
        "    disk_layer: {symlink_root: " +
        (root_.path() / "current").string() + ", subdirectory: sluice}\n";
    if (with_admin) yaml += "  - name: admin\n    admin_layer: {}\n";
    return std::make_unique<RuntimeLoader>(layered(yaml), "cluster", store_);
  }
  uint64_t counter(const std::string& name) { return store_.counter("runtime." + name).value(); }
  int64_t gauge(const std::string& name) { return store_.gauge("runtime." + name).value(); }

  TempDir root_;
  stats::Store store_{1};
};

TEST_F(RuntimeLoaderTest, LaterLayersWin) {
  writeFile(root_.path() / "v1" / "sluice" / "shared", "disk");
  writeFile(root_.path() / "v1" / "sluice" / "only_disk", "d");
  swapSymlink(root_.path() / "current", root_.path() / "v1");
  auto loader = make();
  EXPECT_EQ(value(*loader, "shared"), "disk");
  EXPECT_EQ(value(*loader, "only_static"), "s");
  EXPECT_EQ(value(*loader, "only_disk"), "d");
  EXPECT_EQ(value(*loader, "nested.key"), "1");
  std::string error;
  ASSERT_TRUE(loader->mergeAdminValues({{"shared", "admin"}}, error)) << error;
  EXPECT_EQ(value(*loader, "shared"), "admin");
  EXPECT_EQ(gauge("num_layers"), 3);
  EXPECT_EQ(gauge("num_keys"), 4);
}

TEST_F(RuntimeLoaderTest, AMissingDirectoryLeavesItsLayerOut) {
  auto loader = make();
  EXPECT_EQ(value(*loader, "shared"), "static");
  ASSERT_EQ(loader->activeLayers().size(), 2u);
  EXPECT_EQ(loader->activeLayers()[0]->name, "base");
  EXPECT_EQ(loader->activeLayers()[1]->name, "admin");
  EXPECT_EQ(gauge("num_layers"), 2);
  EXPECT_EQ(counter("load_success"), 1u);
  EXPECT_EQ(counter("override_dir_not_exists"), 1u);
}

TEST_F(RuntimeLoaderTest, SymlinkSwapPublishesTheNewTree) {
  writeFile(root_.path() / "v1" / "sluice" / "shared", "one");
  swapSymlink(root_.path() / "current", root_.path() / "v1");
  auto loader = make();
  asio::io_context io;
  config::FileWatcher watcher(io);
  std::string error;
  ASSERT_TRUE(loader->watch(watcher, error)) << error;
  runtime::SnapshotPtr published;
  loader->onPublish([&](runtime::SnapshotPtr snapshot) {
    published = std::move(snapshot);
    io.stop();
  });
  EXPECT_EQ(value(*loader, "shared"), "one");

  writeFile(root_.path() / "v2" / "sluice" / "shared", "two");
  writeFile(root_.path() / "v2" / "sluice" / "a" / "b", "new");
  swapSymlink(root_.path() / "current", root_.path() / "v2");
  io.run_for(std::chrono::seconds(30));  // a bound only: the publish stops it
  ASSERT_NE(published, nullptr);
  EXPECT_EQ(published, loader->snapshot());
  EXPECT_EQ(value(*loader, "shared"), "two");
  EXPECT_EQ(value(*loader, "a.b"), "new");
  EXPECT_EQ(counter("load_success"), 2u);
}

TEST_F(RuntimeLoaderTest, AnUnreadableTreeCountsALoadErrorAndKeepsTheOldValues) {
  writeFile(root_.path() / "v1" / "sluice" / "shared", "good");
  swapSymlink(root_.path() / "current", root_.path() / "v1");
  auto loader = make();
  writeFile(root_.path() / "v2" / "sluice" / "shared", "bad");
  fs::create_symlink(root_.path() / "v2" / "sluice" / "loop", root_.path() / "v2" / "sluice" / "loop");
  swapSymlink(root_.path() / "current", root_.path() / "v2");
  loader->reload();
  EXPECT_EQ(counter("load_error"), 1u);
  EXPECT_EQ(value(*loader, "shared"), "good");
  ASSERT_EQ(loader->activeLayers().size(), 3u);

  // Fixed: read again.
  fs::remove(root_.path() / "v2" / "sluice" / "loop");
  loader->reload();
  EXPECT_EQ(value(*loader, "shared"), "bad");
  EXPECT_EQ(counter("load_success"), 2u);
}

TEST_F(RuntimeLoaderTest, AdminOverridesAreSetAndRemoved) {
  auto loader = make();
  std::string error;
  ASSERT_TRUE(loader->mergeAdminValues({{"shared", "admin"}, {"fresh", "5"}}, error)) << error;
  EXPECT_EQ(value(*loader, "shared"), "admin");
  EXPECT_EQ(value(*loader, "fresh"), "5");
  EXPECT_EQ(gauge("admin_overrides_active"), 1);
  ASSERT_TRUE(loader->mergeAdminValues({{"shared", ""}}, error)) << error;
  EXPECT_EQ(value(*loader, "shared"), "static");  // the static layer shows again
  EXPECT_EQ(gauge("admin_overrides_active"), 1);
  ASSERT_TRUE(loader->mergeAdminValues({{"fresh", ""}}, error)) << error;
  EXPECT_EQ(value(*loader, "fresh"), "<unset>");
  EXPECT_EQ(gauge("admin_overrides_active"), 0);
}

TEST_F(RuntimeLoaderTest, AdminOverridesNeedAnAdminLayer) {
  auto loader = make(false);
  std::string error;
  EXPECT_FALSE(loader->mergeAdminValues({{"shared", "x"}}, error));
  EXPECT_EQ(error, "No admin layer specified");
  EXPECT_EQ(value(*loader, "shared"), "static");
}

TEST_F(RuntimeLoaderTest, AppendServiceClusterReadsTheClusterSubdirectory) {
  writeFile(root_.path() / "v1" / "sluice" / "web" / "k", "for web");
  swapSymlink(root_.path() / "current", root_.path() / "v1");
  RuntimeLoader loader(
      layered("  layers:\n  - name: disk\n    disk_layer: {symlink_root: " + (root_.path() / "current").string() +
              ", subdirectory: sluice, append_service_cluster: true}\n"),
      "web", store_);
  EXPECT_EQ(value(loader, "k"), "for web");
}

}  // namespace
}  // namespace sluice::server
