// FileWatcher: a writer thread replaces files while the main thread's
// io_context delivers the inotify events. Run under ThreadSanitizer too.
#include "config/file_watcher.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>

namespace sluice::config {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sluice-watch-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void writeFile(const fs::path& path, const std::string& content) { std::ofstream(path) << content; }

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Hands each change from the writer thread to the main thread and back, so
// every event is checked before the next change is made.
class Handshake {
 public:
  void signal() {
    {
      std::lock_guard lock(mutex_);
      ++seen_;
    }
    changed_.notify_all();
  }
  void waitFor(int count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return seen_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int seen_ = 0;
};

// Only a rename onto the watched name fires; writes in place and renames of
// other files into the directory do not.
TEST(FileWatcher, FiresOnceForEachReplacementByRename) {
  TempDir dir;
  const fs::path target = dir.path() / "lds.yaml";
  writeFile(target, "initial");
  asio::io_context io;
  FileWatcher watcher(io);
  constexpr int kReplacements = 25;
  int fired = 0;
  Handshake handshake;
  std::string error;
  ASSERT_TRUE(watcher.watch(
      target.string(), "",
      [&] {
        EXPECT_EQ(readFile(target), "v" + std::to_string(fired));
        if (++fired == kReplacements) io.stop();
        handshake.signal();
      },
      error))
      << error;
  std::thread writer([&] {
    for (int i = 0; i < kReplacements; ++i) {
      writeFile(target, "written in place");
      writeFile(dir.path() / "other.tmp", "x");
      fs::rename(dir.path() / "other.tmp", dir.path() / "other.yaml");
      writeFile(dir.path() / "lds.tmp", "v" + std::to_string(i));
      fs::rename(dir.path() / "lds.tmp", target);
      handshake.waitFor(i + 1);
    }
  });
  io.run();
  writer.join();
  EXPECT_EQ(fired, kReplacements);
}

// With a watched_directory (the Kubernetes ConfigMap symlink swap), any
// rename into that directory fires.
TEST(FileWatcher, WatchedDirectoryFiresForAnyRenameIntoIt) {
  TempDir dir;
  fs::create_directory(dir.path() / "data");
  asio::io_context io;
  FileWatcher watcher(io);
  constexpr int kSwaps = 10;
  int fired = 0;
  Handshake handshake;
  std::string error;
  ASSERT_TRUE(watcher.watch((dir.path() / "data" / "cds.yaml").string(), (dir.path() / "data").string(),
                            [&] {
                              if (++fired == kSwaps) io.stop();
                              handshake.signal();
                            },
                            error))
      << error;
  std::thread writer([&] {
    for (int i = 0; i < kSwaps; ++i) {
      const fs::path link = dir.path() / ("link" + std::to_string(i));
      fs::create_symlink("..data_" + std::to_string(i), link);
      fs::rename(link, dir.path() / "data" / "..data");
      handshake.waitFor(i + 1);
    }
  });
  io.run();
  writer.join();
  EXPECT_EQ(fired, kSwaps);
}

TEST(FileWatcher, MissingDirectoryIsAnError) {
  asio::io_context io;
  FileWatcher watcher(io);
  std::string error;
  EXPECT_FALSE(watcher.watch(
      "/nonexistent-sluice-dir/lds.yaml", "", [] {}, error));
  EXPECT_NE(error.find("/nonexistent-sluice-dir"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::config
