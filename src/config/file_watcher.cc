#include "config/file_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sluice::config {

FileWatcher::FileWatcher(asio::io_context& io) : stream_(io), buffer_(64 * 1024) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ >= 0) {
    stream_.assign(fd_);
    readEvents();
  }
}

FileWatcher::~FileWatcher() {
  std::error_code ignored;
  stream_.close(ignored);
}

bool FileWatcher::watch(const std::string& path, const std::string& watched_directory, std::function<void()> on_change,
                        std::string& error) {
  if (fd_ < 0) {
    error = std::string("inotify is unavailable: ") + std::strerror(errno);
    return false;
  }
  const std::filesystem::path file(path);
  const std::string directory = watched_directory.empty() ? file.parent_path().string() : watched_directory;
  const int wd = ::inotify_add_watch(fd_, directory.empty() ? "." : directory.c_str(), IN_MOVED_TO);
  if (wd < 0) {
    error = "cannot watch '" + directory + "': " + std::strerror(errno);
    return false;
  }
  watches_[wd].push_back({watched_directory.empty() ? file.filename().string() : "", std::move(on_change)});
  return true;
}

void FileWatcher::readEvents() {
  stream_.async_read_some(asio::buffer(buffer_), [this](const std::error_code& ec, size_t n) {
    if (ec) return;  // closed
    // Collect first: a callback may add watches.
    std::vector<std::function<void()>> fire;
    for (size_t offset = 0; offset + sizeof(inotify_event) <= n;) {
      inotify_event event;
      std::memcpy(&event, buffer_.data() + offset, sizeof event);
      const std::string name = event.len ? std::string(buffer_.data() + offset + sizeof event) : std::string();
      offset += sizeof event + event.len;
      const auto it = watches_.find(event.wd);
      if (it == watches_.end() || (event.mask & IN_MOVED_TO) == 0) continue;
      for (const auto& w : it->second) {
        if (w.file.empty() || w.file == name) fire.push_back(w.on_change);
      }
    }
    for (auto& f : fire) f();
    readEvents();
  });
}

}  // namespace sluice::config
