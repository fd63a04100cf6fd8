// The registry in etcd (key layout: etcd_layout.h). Reads every key under
// the prefix with its revision, then follows them with one /v3/watch
// stream from revision+1 (no polling). A lost watch resumes from the last
// revision seen, on the next member, after a backoff (100 ms doubling to
// 5 s, reset once a watch is open again); a watch canceled by compaction
// reads everything again. While no member answers, the last good registry
// keeps being served and status() says so. Writes are compare-and-swap
// transactions on one service's key. Main thread only.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <asio/steady_timer.hpp>

#include "control/etcd_client.h"
#include "control/etcd_layout.h"
#include "control/registry_source.h"

namespace sluice::control {

class EtcdRegistrySource final : public RegistrySource {
 public:
  EtcdRegistrySource(asio::io_context& io, EtcdSpec spec, std::string describe);
  // Runs `io` until the first read is done (call it before io.run()).
  bool start(Accepted accepted, Rejected rejected, std::shared_ptr<const Registry>& first, std::string& error) override;
  std::string describe() const override { return describe_; }
  SourceStatus status() const override { return status_; }
  asio::awaitable<WriteResult> writeInstance(std::string service, std::string address, uint32_t port,
                                             std::optional<nlohmann::json> fields) override;
  void onDrainsChanged(DrainsListener listener) override { drains_listener_ = std::move(listener); }

 private:
  asio::awaitable<bool> readAll(std::string& error);
  asio::awaitable<void> follow();
  asio::awaitable<void> pause(std::chrono::milliseconds delay);
  void deliver();
  void noteError(const std::string& error);

  asio::io_context& io_;
  EtcdSpec spec_;
  std::string describe_;
  EtcdClient client_;
  EtcdWatchState watch_;
  Accepted accepted_;
  Rejected rejected_;
  std::string delivered_;  // the JSON of the last registry accepted
  DrainsListener drains_listener_;
  std::string drains_seen_;  // PREFIX/state/drains as last handed to the listener
  SourceStatus status_;
};

// A service key's JSON with instance address:port replaced by `fields`
// (or removed when `fields` is empty). False when the instance to remove is
// not there (`errors` empty) or the value is not an object (`errors` says so).
bool changeInstances(const std::string& value, const std::string& address, uint32_t port,
                     const std::optional<nlohmann::json>& fields, std::string& out, std::vector<std::string>& errors);

}  // namespace sluice::control
