// Watches config files the way Envoy does: a file is re-read when it is
// replaced by a rename (moved into its directory), or, with a
// `watched_directory`, when anything is moved into that directory (the
// symlink swap of Kubernetes ConfigMaps). Writes in place are ignored on
// purpose: a half-written file must never be loaded. inotify; main thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

namespace sluice::config {

class FileWatcher {
 public:
  explicit FileWatcher(asio::io_context& io);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  // Calls `on_change` after `path` is replaced by a rename; with a non-empty
  // `watched_directory`, after any rename into that directory instead.
  // False (with `error`) when the directory cannot be watched.
  bool watch(const std::string& path, const std::string& watched_directory, std::function<void()> on_change,
             std::string& error);

 private:
  void readEvents();

  struct Watch {
    std::string file;  // basename to match; empty: any file (watched_directory)
    std::function<void()> on_change;
  };
  int fd_ = -1;
  asio::posix::stream_descriptor stream_;
  std::map<int, std::vector<Watch>> watches_;  // by inotify watch descriptor
  std::vector<char> buffer_;
};

}  // namespace sluice::config
