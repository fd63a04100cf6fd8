// What an accept loop does when accept() fails for lack of resources (the
// process's or the system's descriptors, kernel memory): such a failure
// leaves the connection in the backlog, so the socket stays readable and an
// immediate retry would spin a core. The loop stops accepting for a backoff
// instead, logs once per episode and counts every failure (docs/HARDENING.md,
// "File-descriptor exhaustion"). Linux specifics live here, not in the loops.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

namespace sluice::network {

// EMFILE, ENFILE, ENOBUFS, ENOMEM: retrying before something is freed fails
// again. Any other accept error (ECONNABORTED, EPERM, ...) concerns one
// connection only and the loop simply accepts the next.
bool isResourceExhaustion(const std::error_code& ec);

// Whether a connection waits in `listen_fd`'s backlog (poll, no wait). At the
// limit Linux fails accept() with EMFILE before it looks at the backlog, so
// an accept right after a successful one fails so even when none waits: that
// is no refused connection, the loop waits for readiness instead.
bool connectionWaiting(int listen_fd);

// The pause before the next accept after such a failure: 10 ms, doubling up
// to 1 s; a successful accept starts again at 10 ms. One per accept loop,
// used on that loop's thread only.
class AcceptBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{10};
  static constexpr std::chrono::milliseconds kMax{1000};

  std::chrono::milliseconds next();
  void reset() { delay_ = std::chrono::milliseconds(0); }
  bool active() const { return delay_.count() != 0; }

 private:
  std::chrono::milliseconds delay_{0};
};

// Episodes of exhaustion of one listener, shared by every worker accepting on
// it (lock-free): an episode starts with a failure after kQuiet without one,
// so a listener that flaps at the limit logs once, not once per flap.
class ExhaustionEpisodes {
 public:
  static constexpr std::chrono::seconds kQuiet{10};

  // Records a failure at `now`; true when it starts an episode (log it).
  bool failureStartsEpisode(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

 private:
  std::atomic<int64_t> last_failure_ns_{INT64_MIN};
};

// "64 of 64 descriptors open (RLIMIT_NOFILE)" for the log line; works at the
// limit (EMFILE means every descriptor below the soft limit is taken).
std::string describeDescriptorUse(const std::error_code& accept_error);

// A spare descriptor (/dev/null) held so that one more socket can be accepted
// at the process's descriptor limit: release() it, accept, reserve() again
// once that socket is closed. The admin endpoint keeps itself reachable so.
// One thread (its owner's).
class ReservedDescriptor {
 public:
  ReservedDescriptor() = default;
  ~ReservedDescriptor() { release(); }
  ReservedDescriptor(const ReservedDescriptor&) = delete;
  ReservedDescriptor& operator=(const ReservedDescriptor&) = delete;

  // Opens the spare unless held; false when that fails (at the limit still).
  bool reserve();
  void release();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace sluice::network
