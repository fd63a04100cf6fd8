// The registry source seam: where the registry comes from (a file now, etcd
// next). A source delivers every accepted registry whole, and reports every
// rejected update; a rejected update never replaces the last good registry.
// Main thread only (the source's events run on the io_context it is given).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <asio/io_context.hpp>

#include "config/file_watcher.h"
#include "control/registry.h"

namespace sluice::control {

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

// A source for `spec` (`file:PATH`), or null with `error`.
std::unique_ptr<RegistrySource> makeRegistrySource(asio::io_context& io, const std::string& spec, std::string& error);

}  // namespace sluice::control
