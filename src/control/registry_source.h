// The registry source seam: where the registry comes from (a file, or etcd:
// etcd_registry_source.h). A source delivers every accepted registry whole,
// and reports every rejected update; a rejected update never replaces the
// last good registry. Main thread only (the source's events run on the
// io_context it is given).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "config/file_watcher.h"
#include "control/registry.h"

namespace sluice::control {

// The store's health, for /v1/registry and /metrics.
struct SourceStatus {
  std::string state = "watching";  // watching | reconnecting | unreachable
  std::string member;              // etcd: the member in use
  int64_t revision = 0;            // etcd: the revision the registry is at
  std::string last_error;          // the store's last failure ("" when none yet)
  std::chrono::system_clock::time_point last_error_at;
  uint64_t errors = 0;        // store failures (connects, reads, lost watches)
  uint64_t reconnects = 0;    // watches opened again after a loss
  uint64_t full_reads = 0;    // reads of every key (the first, and after each compaction)
  uint64_t compactions = 0;   // watches canceled because their revision was compacted
  uint64_t watch_events = 0;  // watch responses holding changes
};

// A write's answer, as the REST API returns it.
struct WriteResult {
  int status = 200;
  nlohmann::json body;
};

class RegistrySource {
 public:
  using Accepted = std::function<void(std::shared_ptr<const Registry>)>;
  using Rejected = std::function<void(const std::string& error)>;
  virtual ~RegistrySource() = default;
  // Reads the registry once (false with `error` when the first read fails:
  // nothing to serve), then follows it, calling `accepted` or `rejected`
  // for each later update.
  virtual bool start(Accepted accepted, Rejected rejected, std::shared_ptr<const Registry>& first,
                     std::string& error) = 0;
  // "file:/path", as given on the command line.
  virtual std::string describe() const = 0;
  virtual SourceStatus status() const { return {}; }
  // Registers (`fields` set: zone, weight, health, metadata) or deregisters
  // instance address:port of `service`, validated before it is written.
  // The change comes back through the watch like any other.
  virtual asio::awaitable<WriteResult> writeInstance(std::string service, std::string address, uint32_t port,
                                                     std::optional<nlohmann::json> fields);
  // The store's copy of the zone drains (etcd: the key PREFIX/state/drains)
  // as the watch sees it change, for replicas that do not write it. The
  // file store has one writer and never calls it.
  using DrainsListener = std::function<void(const std::string& value)>;
  virtual void onDrainsChanged(DrainsListener listener) { (void)listener; }
};

// A YAML file, re-read when it is replaced by a rename (config::FileWatcher's
// rule: a file written in place is never read half-written).
class FileRegistrySource final : public RegistrySource {
 public:
  FileRegistrySource(asio::io_context& io, std::string path) : watcher_(io), path_(std::move(path)) {}
  bool start(Accepted accepted, Rejected rejected, std::shared_ptr<const Registry>& first, std::string& error) override;
  std::string describe() const override { return "file:" + path_; }

 private:
  void reload();

  config::FileWatcher watcher_;
  std::string path_;
  Accepted accepted_;
  Rejected rejected_;
};

// A source for `spec` (`file:PATH` or `etcd://HOST:PORT[,...]/PREFIX`), or null with `error`.
std::unique_ptr<RegistrySource> makeRegistrySource(asio::io_context& io, const std::string& spec, std::string& error);

}  // namespace sluice::control
