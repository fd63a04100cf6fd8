#include "control/drain_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "control/etcd_client.h"
#include "control/etcd_layout.h"
#include "log/logger.h"

namespace sluice::control {

bool FileDrainStore::load(Drains& out, std::string& error) {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      out.clear();
      return true;
    }
    error = path_ + ": " + std::strerror(errno);
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded()) {
    error = path_ + ": not valid JSON";
    return false;
  }
  std::string why;
  if (!drainsFromJson(json, out, why)) {
    error = path_ + ": " + why;
    return false;
  }
  return true;
}

std::string FileDrainStore::write(const Drains& drains) {
  const std::string text = drainsToJson(drains).dump(2) + "\n";
  const std::string temp = path_ + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return temp + ": " + std::strerror(errno);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = temp + ": " + std::strerror(errno);
      ::close(fd);
      return why;
    }
    done += static_cast<size_t>(n);
  }
  // Durable before it is served: the rename must not publish an empty file
  // after a crash.
  if (::fsync(fd) != 0) {
    const std::string why = temp + ": fsync: " + std::strerror(errno);
    ::close(fd);
    return why;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path_.c_str()) != 0) return path_ + ": rename: " + std::strerror(errno);
  return "";
}

asio::awaitable<std::string> FileDrainStore::save(const Drains& drains) { co_return write(drains); }

}  // namespace sluice::control

// ---- etcd ----

namespace sluice::control {

namespace {

using nlohmann::json;

// The leader key's lease: a replica that stops renewing it (killed, cut
// off) loses the drains to another within this.
constexpr int64_t kLeaseTtlSeconds = 6;
constexpr std::chrono::milliseconds kRenewEvery{2000};

class EtcdDrainStore final : public DrainStore {
 public:
  EtcdDrainStore(asio::io_context& io, EtcdSpec spec, std::string replica)
      : io_(io), client_(spec.endpoints), prefix_(spec.prefix), replica_(std::move(replica)), timer_(io) {}

  std::string describe() const override { return "etcd:" + key(); }
  bool leader() const override { return leader_; }
  std::string leaderId() const override { return leader_id_; }

  bool load(Drains& out, std::string& error) override {
    bool done = false;
    bool ok = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          ok = co_await read(out, error);
          if (ok) co_await campaign();
          done = true;
        },
        asio::detached);
    while (!done && io_.run_one() > 0) {
    }
    if (io_.stopped()) io_.restart();
    return ok;
  }

  asio::awaitable<std::string> save(const Drains& drains) override {
    if (!leader_) co_return "this replica does not hold " + leaderKey() + " (" + leader_id_ + " does)";
    // Written only while this replica's lease holds the leader key.
    json compare{{"key", base64Encode(leaderKey())},
                 {"target", "LEASE"},
                 {"result", "EQUAL"},
                 {"lease", std::to_string(lease_)}};
    json put{{"key", base64Encode(key())}, {"value", base64Encode(drainsToJson(drains).dump())}};
    json txn{{"compare", json::array({compare})}, {"success", json::array({json{{"request_put", put}}})}};
    const auto reply = co_await client_.call("/v3/kv/txn", txn);
    if (!reply.error.empty()) co_return "etcd: " + reply.error;
    if (!reply.body.value("succeeded", false)) {
      leader_ = false;
      co_return "etcd: this replica lost " + leaderKey();
    }
    co_return "";
  }

  void run() override { asio::co_spawn(io_, keepLeading(), asio::detached); }

 private:
  std::string key() const { return prefix_ + "/state/drains"; }
  std::string leaderKey() const { return prefix_ + "/state/leader"; }

  asio::awaitable<bool> read(Drains& out, std::string& error) {
    json request = json::object();
    request["key"] = base64Encode(key());
    const auto reply = co_await client_.call("/v3/kv/range", request);
    if (!reply.error.empty()) {
      error = "etcd " + key() + ": " + reply.error;
      co_return false;
    }
    EtcdKeys keys;
    std::string why;
    if (!readRangeKvs(reply.body, keys, why)) {
      error = "etcd " + key() + ": " + why;
      co_return false;
    }
    out.clear();
    const auto it = keys.find(key());
    if (it == keys.end()) co_return true;
    const auto value = json::parse(it->second.value, nullptr, false);
    if (value.is_discarded() || !drainsFromJson(value, out, why)) {
      error = "etcd " + key() + ": " + (value.is_discarded() ? std::string("not valid JSON") : why);
      co_return false;
    }
    co_return true;
  }

  // Takes the leader key when nobody holds it; keeps it when this replica does.
  asio::awaitable<void> campaign() {
    if (lease_ == 0) {
      json request = json::object();
      request["TTL"] = std::to_string(kLeaseTtlSeconds);
      const auto grant = co_await client_.call("/v3/lease/grant", request);
      if (!grant.error.empty()) {
        SLUICE_LOG(config, warn, "zone drains: etcd lease: {}", grant.error);
        co_return;
      }
      lease_ = jsonInt(grant.body, "ID");
      if (lease_ == 0) co_return;
    }
    json absent{
        {"key", base64Encode(leaderKey())}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}};
    json put{{"key", base64Encode(leaderKey())}, {"value", base64Encode(replica_)}, {"lease", std::to_string(lease_)}};
    json get{{"key", base64Encode(leaderKey())}};
    json txn{{"compare", json::array({absent})},
             {"success", json::array({json{{"request_put", put}}})},
             {"failure", json::array({json{{"request_range", get}}})}};
    const auto reply = co_await client_.call("/v3/kv/txn", txn);
    if (!reply.error.empty()) {
      SLUICE_LOG(config, warn, "zone drains: etcd {}: {}", leaderKey(), reply.error);
      co_return;
    }
    const bool was = leader_;
    if (reply.body.value("succeeded", false)) {
      leader_ = true;
      leader_id_ = replica_;
    } else {
      leader_id_.clear();
      for (const auto& r : reply.body.value("responses", json::array())) {
        EtcdKeys keys;
        std::string why;
        if (r.contains("response_range") && readRangeKvs(r["response_range"], keys, why)) {
          for (const auto& [k, v] : keys) leader_id_ = v.value;
        }
      }
      leader_ = leader_id_ == replica_;
    }
    if (leader_ != was) {
      SLUICE_LOG(config, info, "zone drains: {} {} (replica {})",
                 leader_ ? "this replica now drives drains: holds" : "another replica drives drains: holds",
                 leaderKey(), leader_id_);
    }
  }

  asio::awaitable<void> keepLeading() {
    for (;;) {
      timer_.expires_after(kRenewEvery);
      co_await timer_.async_wait(network::kNoThrow);
      if (lease_ != 0) {
        json request = json::object();
        request["ID"] = std::to_string(lease_);
        const auto renewed = co_await client_.call("/v3/lease/keepalive", request);
        const auto& result = renewed.body.contains("result") ? renewed.body["result"] : renewed.body;
        if (!renewed.error.empty() || jsonInt(result, "TTL") <= 0) {
          if (leader_) SLUICE_LOG(config, warn, "zone drains: the lease on {} is lost", leaderKey());
          leader_ = false;
          lease_ = 0;
        }
      }
      co_await campaign();
    }
  }

  asio::io_context& io_;
  EtcdClient client_;
  std::string prefix_;
  std::string replica_;
  asio::steady_timer timer_;
  int64_t lease_ = 0;
  bool leader_ = false;
  std::string leader_id_;
};

}  // namespace

std::unique_ptr<DrainStore> makeEtcdDrainStore(asio::io_context& io, const std::string& spec, std::string replica,
                                               std::string& error) {
  EtcdSpec parsed;
  if (!parseEtcdSpec(spec, parsed, error)) return nullptr;
  return std::make_unique<EtcdDrainStore>(io, std::move(parsed), std::move(replica));
}

}  // namespace sluice::control
