#include "log/logger.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include "log/log_format.h"

namespace sluice::log {

namespace detail {
std::atomic<uint8_t> levels[kComponentCount] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2};  // Envoy's default: info
}  // namespace detail

namespace {

constexpr std::array<std::string_view, kComponentCount> kComponentNames = {
    "admin", "config", "connection", "dns", "http", "main", "pool", "router", "runtime", "upstream"};
constexpr std::array<std::string_view, kLevelCount> kLevelNames = {"trace", "debug",    "info", "warning",
                                                                   "error", "critical", "off"};

std::atomic<uint64_t> g_writes_completed{0}, g_writes_failed{0}, g_reopens_failed{0};

// As the access-log files (accesslog/log_writer.cc): non-blocking for the
// open only, so a FIFO without a reader fails (ENXIO) instead of hanging.
int openForAppend(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

// stderr or the --log-path file; each line is one write(2) on the writer
// thread, so a line is visible as soon as the writer has it. A failed write
// (EPIPE: the reader of a pipe left; SIGPIPE is ignored) loses the line and is
// counted, never fatal. reopen() comes from the main thread, under the sink's lock.
class StreamSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit StreamSink(std::string path) : path_(std::move(path)) {}
  ~StreamSink() override {
    if (fd_ >= 0 && fd_ != STDERR_FILENO) ::close(fd_);
  }

  bool open(std::string& error) {
    if (path_.empty()) {
      fd_ = STDERR_FILENO;
      return true;
    }
    fd_ = openForAppend(path_);
    if (fd_ < 0) error = "cannot open --log-path '" + path_ + "': " + std::strerror(errno);
    return fd_ >= 0;
  }

  void reopen() {
    if (path_.empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    // A file that cannot be opened keeps the old one: lines still go somewhere.
    if (const int next = openForAppend(path_); next >= 0) {
      ::close(fd_);
      fd_ = next;
    } else {
      g_reopens_failed.fetch_add(1, std::memory_order_relaxed);
    }
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    size_t offset = 0;
    while (offset < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + offset, line.size() - offset);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (counted()) g_writes_failed.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      offset += static_cast<size_t>(n);
    }
    if (counted()) g_writes_completed.fetch_add(1, std::memory_order_relaxed);
  }
  void flush_() override {}

 private:
  bool counted() const { return !path_.empty(); }  // a file, as Envoy's filesystem.* stats count

  std::string path_;
  int fd_ = -1;
};

struct State {
  std::shared_ptr<spdlog::details::thread_pool> pool;
  std::shared_ptr<StreamSink> stream;  // null when a test gave its own sink
  std::array<std::shared_ptr<spdlog::async_logger>, kComponentCount> loggers;
};

// Set by init() before the workers start, cleared by shutdown() after they stop.
std::atomic<State*> g_state{nullptr};
uint64_t g_dropped_before = 0;  // drops of earlier init()s (tests)

// The path from the source root ("src/server/server.cc"), as Envoy's %g shows
// "source/server/server.cc".
const char* sourcePath(const char* file) {
  const std::string_view path(file);
  for (const std::string_view root : {"/src/", "/test/"}) {
    if (const size_t at = path.rfind(root); at != std::string_view::npos) return file + at + 1;
  }
  return file;
}

}  // namespace

std::string_view componentName(Component component) { return kComponentNames[static_cast<size_t>(component)]; }

std::string_view levelName(Level level) { return kLevelNames[static_cast<size_t>(level)]; }

std::optional<Component> parseComponent(std::string_view name) {
  for (size_t i = 0; i < kComponentCount; ++i) {
    if (kComponentNames[i] == name) return static_cast<Component>(i);
  }
  return std::nullopt;
}

std::optional<Level> parseLevel(std::string_view name, bool aliases) {
  for (size_t i = 0; i < kLevelCount; ++i) {
    if (kLevelNames[i] == name) return static_cast<Level>(i);
  }
  if (aliases && name == "warn") return Level::Warning;
  if (aliases && name == "err") return Level::Error;
  return std::nullopt;
}

Level level(Component component) {
  return static_cast<Level>(detail::levels[static_cast<size_t>(component)].load(std::memory_order_relaxed));
}

void setLevel(Component component, Level level) {
  detail::levels[static_cast<size_t>(component)].store(static_cast<uint8_t>(level), std::memory_order_relaxed);
}

void setAllLevels(Level level) {
  for (size_t i = 0; i < kComponentCount; ++i) setLevel(static_cast<Component>(i), level);
}

bool init(const Config& config, std::string& error) {
  if (error = checkFormat(config.format); !error.empty()) return false;
  shutdown();
  auto state = std::make_unique<State>();
  std::shared_ptr<spdlog::sinks::sink> sink = config.sink;
  if (!sink) {
    state->stream = std::make_shared<StreamSink>(config.path);
    if (!state->stream->open(error)) return false;
    sink = state->stream;
  }
  sink->set_formatter(makeFormatter(config.format, config.escaped));
  state->pool = std::make_shared<spdlog::details::thread_pool>(config.queue_lines, 1);
  for (size_t i = 0; i < kComponentCount; ++i) {
    // One spdlog logger per component (its name is %n), all on the one
    // thread pool and sink. Levels are ours, checked before a line is made.
    auto logger = std::make_shared<spdlog::async_logger>(std::string(kComponentNames[i]), sink, state->pool,
                                                         spdlog::async_overflow_policy::overrun_oldest);
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::off);  // the sink flushes each line itself
    state->loggers[i] = std::move(logger);
  }
  g_state.store(state.release(), std::memory_order_release);
  return true;
}

void shutdown() {
  State* state = g_state.exchange(nullptr, std::memory_order_acq_rel);
  if (state == nullptr) return;
  g_dropped_before += state->pool->overrun_counter();
  state->loggers = {};
  // ~thread_pool queues its stop after the lines already queued and joins.
  delete state;
}

void reopen() {
  if (State* state = g_state.load(std::memory_order_acquire); state != nullptr && state->stream) {
    state->stream->reopen();
  }
}

WriteCounts writeCounts() {
  return {g_writes_completed.load(std::memory_order_relaxed), g_writes_failed.load(std::memory_order_relaxed),
          g_reopens_failed.load(std::memory_order_relaxed)};
}

uint64_t dropped() {
  const State* state = g_state.load(std::memory_order_acquire);
  return g_dropped_before + (state != nullptr ? state->pool->overrun_counter() : 0);
}

void detail::write(Component component, Level level, const char* file, int line, const char* function,
                   fmt::string_view format, fmt::format_args args) {
  fmt::memory_buffer message;
  fmt::vformat_to(fmt::appender(message), format, args);
  State* state = g_state.load(std::memory_order_acquire);
  if (state == nullptr) {
    fmt::print(stderr, "[{}][{}] {}\n", levelName(level), componentName(component),
               std::string_view(message.data(), message.size()));
    return;
  }
  state->loggers[static_cast<size_t>(component)]->log(spdlog::source_loc{sourcePath(file), line, function},
                                                      static_cast<spdlog::level::level_enum>(level),
                                                      spdlog::string_view_t(message.data(), message.size()));
}

}  // namespace sluice::log
