// The web UI's file table: what it reads from its directory, what it refuses,
// and that a lookup never leaves the table. Real files in a temporary directory.
#include "control/ui_assets.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sluice::control {
namespace {

namespace fs = std::filesystem;

class UiAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-ui-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "ui" / "img");
    root_ = dir_ / "ui";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

  fs::path dir_;
  fs::path root_;
};

TEST_F(UiAssetsTest, ReadsEveryRegularFileWithItsContentType) {
  write(root_ / "index.html", "<!doctype html>");
  write(root_ / "app.js", "export {}");
  write(root_ / "img" / "logo.svg", "<svg/>");
  UiAssets assets;
  std::string error;
  ASSERT_TRUE(assets.load(root_.string(), error)) << error;
  EXPECT_EQ(assets.fileCount(), 3u);
  ASSERT_NE(assets.find("index.html"), nullptr);
  EXPECT_EQ(assets.find("index.html")->body, "<!doctype html>");
  EXPECT_EQ(assets.find("index.html")->content_type, "text/html; charset=UTF-8");
  EXPECT_EQ(assets.find("app.js")->content_type, "text/javascript; charset=UTF-8");
  EXPECT_EQ(assets.find("img/logo.svg")->content_type, "image/svg+xml");
}

TEST_F(UiAssetsTest, SkipsDotFilesAndSymbolicLinksAndFindsNothingOutsideTheTable) {
  write(root_ / "index.html", "i");
  write(root_ / ".stamp", "");
  write(dir_ / "secret.txt", "secret");
  fs::create_symlink(dir_ / "secret.txt", root_ / "link.txt");
  UiAssets assets;
  std::string error;
  ASSERT_TRUE(assets.load(root_.string(), error)) << error;
  EXPECT_EQ(assets.fileCount(), 1u);
  for (const char* path :
       {".stamp", "link.txt", "../secret.txt", "./index.html", "/index.html", "img/../index.html", "index.html/", ""}) {
    EXPECT_EQ(assets.find(path), nullptr) << path;
  }
}

TEST_F(UiAssetsTest, RefusesAMissingDirectoryOrOneWithoutIndexHtml) {
  UiAssets assets;
  std::string error;
  EXPECT_FALSE(assets.load((dir_ / "nowhere").string(), error));
  EXPECT_EQ(error, "'" + (dir_ / "nowhere").string() + "' is not a directory: No such file or directory");
  EXPECT_FALSE(assets.loaded());
  write(root_ / "app.js", "x");
  EXPECT_FALSE(assets.load(root_.string(), error));
  EXPECT_EQ(error, "'" + root_.string() + "' has no index.html");
  EXPECT_FALSE(assets.loaded());
}

TEST_F(UiAssetsTest, RefusesADirectoryPastTheFileLimit) {
  write(root_ / "index.html", "i");
  for (size_t i = 0; i < UiAssets::kMaxFiles; ++i) write(root_ / ("f" + std::to_string(i) + ".js"), "x");
  UiAssets assets;
  std::string error;
  EXPECT_FALSE(assets.load(root_.string(), error));
  EXPECT_NE(error.find("more than 256 files"), std::string::npos) << error;
  EXPECT_FALSE(assets.loaded());
}

TEST(UiAssets, DefaultDirIsBesideTheBinarysPrefix) {
  // This test binary is build/<flavour>/test/control_test: the prefix is build/<flavour>.
  const fs::path exe = fs::read_symlink("/proc/self/exe");
  EXPECT_EQ(defaultUiDir(), (exe.parent_path().parent_path() / "share/sluice-control/ui").string());
}

TEST(UiAssets, ContentTypesByExtension) {
  EXPECT_EQ(contentTypeFor("style.css"), "text/css; charset=UTF-8");
  EXPECT_EQ(contentTypeFor("a.json"), "application/json");
  EXPECT_EQ(contentTypeFor("noext"), "application/octet-stream");
  EXPECT_EQ(contentTypeFor(".js"), "application/octet-stream");
}

}  // namespace
}  // namespace sluice::control
