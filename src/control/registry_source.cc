#include "control/registry_source.h"

#include "control/etcd_registry_source.h"

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
    EtcdSpec etcd;
    if (!parseEtcdSpec(spec, etcd, error)) return nullptr;
    return std::make_unique<EtcdRegistrySource>(io, std::move(etcd), spec);
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
