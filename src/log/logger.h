// The application log (Envoy's "component logs"): one level per component,
// checked with a relaxed atomic load, and one asynchronous writer thread
// (spdlog's thread pool) that formats and writes the lines. A thread that logs
// never waits for the writer: when the queue is full the oldest line is
// dropped and counted (dropped(), the stat application_log.dropped).
//
// Any thread may log and read levels; init(), shutdown(), reopen() and the
// level setters belong to the main thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/core.h>

namespace spdlog::sinks {
class sink;
}  // namespace spdlog::sinks

namespace sluice::log {

// Envoy's logger ids that sluice uses, in Envoy's (alphabetical) order.
enum class Component : uint8_t { Admin, Config, Connection, Dns, Http, Main, Pool, Router, Runtime, Upstream };
inline constexpr size_t kComponentCount = 10;

// spdlog's levels, with spdlog's numbering.
enum class Level : uint8_t { Trace, Debug, Info, Warning, Error, Critical, Off };
inline constexpr size_t kLevelCount = 7;

std::string_view componentName(Component component);
std::string_view levelName(Level level);  // "trace" ... "warning" ... "off", as Envoy prints them
std::optional<Component> parseComponent(std::string_view name);
// Envoy's level names; `warn` and `err` too when `aliases` (the command line takes them, /logging does not).
std::optional<Level> parseLevel(std::string_view name, bool aliases = false);

namespace detail {
extern std::atomic<uint8_t> levels[kComponentCount];
void write(Component component, Level level, const char* file, int line, const char* function, fmt::string_view format,
           fmt::format_args args);
}  // namespace detail

// Whether a line of `level` for `component` is written: one relaxed load.
inline bool enabled(Component component, Level level) {
  return static_cast<uint8_t>(level) >= detail::levels[static_cast<size_t>(component)].load(std::memory_order_relaxed);
}
Level level(Component component);
void setLevel(Component component, Level level);
void setAllLevels(Level level);

// Envoy's default --log-format.
inline constexpr std::string_view kDefaultFormat = "[%Y-%m-%d %T.%e][%t][%l][%n] [%g:%#] %v";

// "" when `format` uses only the flags Envoy documents for --log-format
// (spdlog's, plus Envoy's %_ and %j); otherwise what is wrong.
std::string checkFormat(std::string_view format);

struct Config {
  std::string format{kDefaultFormat};
  bool escaped = false;  // --log-format-escaped: C-style escapes, one line per message
  std::string path;      // --log-path; "" is stderr
  size_t queue_lines = 8192;
  // Tests: write here instead of stderr or `path`.
  std::shared_ptr<spdlog::sinks::sink> sink;
};

// Starts the writer thread. Before init() (and after shutdown()) lines are
// written to stderr at once, unformatted but for "[level][component] ".
// False, with `error`, when the format is bad or the file cannot be opened.
bool init(const Config& config, std::string& error);
// Writes what is queued, then stops the writer thread.
void shutdown();
// Reopens --log-path (SIGUSR1, as Envoy does); nothing for stderr.
void reopen();
// Lines dropped because the queue was full, since the process started.
uint64_t dropped();
// The write(2)s to --log-path that completed and failed (a line each; a line
// that fails is lost), and its reopens that failed, since the process started;
// stderr is not counted. Any thread.
struct WriteCounts {
  uint64_t completed = 0, failed = 0, reopen_failed = 0;
};
WriteCounts writeCounts();

template <typename... Args>
void write(Component component, Level level, const char* file, int line, const char* function,
           fmt::format_string<Args...> format, Args&&... args) {
  detail::write(component, level, file, line, function, format, fmt::make_format_args(args...));
}

// Envoy-style names for the macro's arguments: SLUICE_LOG(connection, debug, ...).
namespace id {
inline constexpr Component admin = Component::Admin, config = Component::Config, connection = Component::Connection,
                           dns = Component::Dns, http = Component::Http, main = Component::Main, pool = Component::Pool,
                           router = Component::Router, runtime = Component::Runtime, upstream = Component::Upstream;
}  // namespace id
namespace lvl {
inline constexpr Level trace = Level::Trace, debug = Level::Debug, info = Level::Info, warn = Level::Warning,
                       error = Level::Error, critical = Level::Critical;
}  // namespace lvl

}  // namespace sluice::log

// SLUICE_LOG(component, level, "format {}", args...): the arguments are not
// evaluated unless the line is enabled; the format is checked at compile time.
#define SLUICE_LOG(COMPONENT, LEVEL, ...)                                                               \
  do {                                                                                                  \
    if (::sluice::log::enabled(::sluice::log::id::COMPONENT, ::sluice::log::lvl::LEVEL)) {              \
      ::sluice::log::write(::sluice::log::id::COMPONENT, ::sluice::log::lvl::LEVEL, __FILE__, __LINE__, \
                           static_cast<const char*>(__func__), __VA_ARGS__);                            \
    }                                                                                                   \
  } while (false)
