#include "network/accept_backoff.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "network/asio_util.h"

namespace sluice::network {

bool isResourceExhaustion(const std::error_code& ec) {
  // Asio reports errno values in a system category of its own.
  if (ec.category() != asio::error::get_system_category() && ec.category() != std::system_category()) return false;
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

bool connectionWaiting(int listen_fd) {
  pollfd p{listen_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

std::chrono::milliseconds AcceptBackoff::next() {
  delay_ = delay_.count() == 0 ? kFirst : std::min(delay_ * 2, kMax);
  return delay_;
}

bool ExhaustionEpisodes::failureStartsEpisode(std::chrono::steady_clock::time_point now) {
  const int64_t at = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const int64_t quiet = std::chrono::duration_cast<std::chrono::nanoseconds>(kQuiet).count();
  int64_t last = last_failure_ns_.load(std::memory_order_relaxed);
  for (;;) {
    const bool starts = last == INT64_MIN || at - last > quiet;
    if (last >= at) return false;  // another worker recorded a later failure
    // The worker whose exchange succeeds owns the decision: one log line per episode.
    if (last_failure_ns_.compare_exchange_weak(last, at, std::memory_order_relaxed)) return starts;
  }
}

std::string describeDescriptorUse(const std::error_code& accept_error) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  const std::string of = limit.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(limit.rlim_cur);
  // Counting needs a descriptor for /proc/self/fd; at the process's limit
  // there is none, but then (EMFILE) every one below the limit is open.
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    if (accept_error.value() == EMFILE) return of + " of " + of + " descriptors open (RLIMIT_NOFILE)";
    return "? of " + of + " descriptors open (RLIMIT_NOFILE)";
  }
  size_t open = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++open;
  }
  ::closedir(dir);
  if (open > 0) --open;  // the directory's own descriptor
  return std::to_string(open) + " of " + of + " descriptors open (RLIMIT_NOFILE)";
}

bool ReservedDescriptor::reserve() {
  if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return fd_ >= 0;
}

void ReservedDescriptor::release() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

}  // namespace sluice::network
