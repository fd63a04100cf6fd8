#include "control/registry_source.h"

namespace sluice::control {

bool FileRegistrySource::start(Accepted accepted, Rejected rejected, std::shared_ptr<const Registry>& first,
                               std::string& error) {
  auto registry = std::make_shared<Registry>();
  config::ErrorList errors;
  if (!loadRegistryFile(path_, *registry, errors)) {
    error = errors.toString();
    return false;
  }
  accepted_ = std::move(accepted);
  rejected_ = std::move(rejected);
  if (!watcher_.watch(
          path_, "", [this] { reload(); }, error))
    return false;
  first = std::move(registry);
  return true;
}

void FileRegistrySource::reload() {
  auto registry = std::make_shared<Registry>();
  config::ErrorList errors;
  if (!loadRegistryFile(path_, *registry, errors)) {
    rejected_(errors.toString());
    return;
  }
  accepted_(std::move(registry));
}

std::unique_ptr<RegistrySource> makeRegistrySource(asio::io_context& io, const std::string& spec, std::string& error) {
  if (spec.starts_with("file:") && spec.size() > 5) return std::make_unique<FileRegistrySource>(io, spec.substr(5));
  if (spec.starts_with("etcd://")) {
    error = "--registry " + spec + ": the etcd registry is not built yet (use file:PATH)";
  } else {
    error = "--registry '" + spec + "': expected file:PATH";
  }
  return nullptr;
}

}  // namespace sluice::control
