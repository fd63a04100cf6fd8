#include "control/registry_source.h"

#include <asio/steady_timer.hpp>

#include "config/input_limits.h"
#include "control/etcd_registry_source.h"
#include "network/asio_util.h"

namespace sluice::control {

bool FileRegistrySource::start(Accepted accepted, Rejected rejected, std::shared_ptr<const Registry>& first,
                               std::string& error) {
  auto registry = std::make_shared<Registry>();
  config::ErrorList errors;
  std::string text;
  if (!config::readConfigFile(path_, text, errors) || !parseRegistry(text, path_, *registry, errors)) {
    error = errors.toString();
    return false;
  }
  watched_ = std::move(text);
  accepted_ = std::move(accepted);
  rejected_ = std::move(rejected);
  if (!watcher_.watch(
          path_, "", [this] { reload(); }, error))
    return false;
  first = std::move(registry);
  return true;
}

void FileRegistrySource::reload() {
  std::string text;
  config::ErrorList errors;
  if (!config::readConfigFile(path_, text, errors)) {
    rejected_(errors.toString());
    return;
  }
  deliver(text);
}

void FileRegistrySource::deliver(const std::string& text) {
  watched_ = text;
  auto registry = std::make_shared<Registry>();
  config::ErrorList errors;
  if (!parseRegistry(text, path_, *registry, errors)) {
    rejected_(errors.toString());
    return;
  }
  accepted_(std::move(registry));
}

asio::awaitable<WatchCheckResult> FileRegistrySource::checkWatch(std::chrono::milliseconds grace) {
  // Blocking reads of a small local file, as the watcher's own reload does.
  const auto read = [this](std::string& text, std::string& error) {
    config::ErrorList errors;
    if (config::readConfigFile(path_, text, errors)) return true;
    error = errors.toString();
    return false;
  };
  std::string first;
  std::string error;
  if (!read(first, error)) co_return WatchCheckResult{WatchCheckResult::Outcome::Failed, error};
  if (first == watched_) co_return WatchCheckResult{};
  asio::steady_timer timer(io_, grace);
  co_await timer.async_wait(network::kNoThrow);
  std::string second;
  if (!read(second, error)) co_return WatchCheckResult{WatchCheckResult::Outcome::Failed, error};
  if (second == watched_) co_return WatchCheckResult{};  // the watcher caught up
  if (second != first) co_return WatchCheckResult{WatchCheckResult::Outcome::Busy, "the file changed between reads"};
  deliver(second);
  co_return WatchCheckResult{WatchCheckResult::Outcome::Mismatch,
                             "the file's content (" + std::to_string(second.size()) +
                                 " bytes) is not what the watcher delivered: a change inotify did not report"};
}

std::unique_ptr<RegistrySource> makeRegistrySource(asio::io_context& io, const std::string& spec, std::string& error,
                                                   const SourceOptions& options) {
  if (spec.starts_with("file:") && spec.size() > 5) return std::make_unique<FileRegistrySource>(io, spec.substr(5));
  if (spec.starts_with("etcd://")) {
    EtcdSpec etcd;
    if (!parseEtcdSpec(spec, etcd, error)) return nullptr;
    return std::make_unique<EtcdRegistrySource>(io, std::move(etcd), spec, options);
  }
  error = "--registry '" + spec + "': expected file:PATH or etcd://HOST:PORT[,HOST:PORT...]/PREFIX";
  return nullptr;
}

asio::awaitable<WriteResult> RegistrySource::writeInstance(std::string, std::string, uint32_t,
                                                           std::optional<nlohmann::json>) {
  co_return WriteResult{501,
                        {{"error", describe() + " is read-only: edit the file and replace it by a rename; "
                                                "writes need --registry etcd://HOST:PORT/PREFIX"}}};
}

}  // namespace sluice::control
