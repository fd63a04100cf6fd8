// etcd v3 through its JSON gateway (HTTP/1.1, `/v3/kv/range`, `/v3/kv/txn`,
// `/v3/watch`), on the control plane's io_context. Calls fail over across
// the listed members: a call goes to the current member, then each of the
// others, and the member that answered stays current. Main thread only.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "network/asio_util.h"

namespace sluice::control {

// `etcd://HOST:PORT[,HOST:PORT…]/PREFIX`: the members (IP literals) and the
// key prefix ("/PREFIX", no trailing '/').
struct EtcdSpec {
  std::vector<network::Tcp::endpoint> endpoints;
  std::string prefix;
};
bool parseEtcdSpec(std::string_view spec, EtcdSpec& out, std::string& error);

class EtcdClient {
 public:
  explicit EtcdClient(std::vector<network::Tcp::endpoint> endpoints,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(2000))
      : endpoints_(std::move(endpoints)), timeout_(timeout) {}

  struct Reply {
    std::string error;  // every member failed: the last one's reason
    nlohmann::json body;
  };
  // POST `body` to `path` (e.g. "/v3/kv/range") on the current member, then on each other one.
  // Each member gets the client's timeout.
  asio::awaitable<Reply> call(const std::string& path, const nlohmann::json& body);
  // POST `body` to `path` on the member the last watch went to, only (no
  // failover): its probe. "" when it answered 200 in time.
  asio::awaitable<std::string> probe(const std::string& path, const nlohmann::json& body);
  // Opens /v3/watch on the current member with `create_request` and hands
  // each message of the stream to `on_message` until it returns false or
  // the stream ends. Returns why it ended ("" when on_message stopped it).
  // `abort`, when set, is filled with a function that ends the watch (HttpCall::abort).
  asio::awaitable<std::string> watch(const nlohmann::json& create_request,
                                     std::function<bool(const nlohmann::json&)> on_message,
                                     std::function<void()>* abort = nullptr);
  // Moves to the next member.
  void next() { current_ = (current_ + 1) % endpoints_.size(); }
  // After a lost watch: off its member, unless a failed call already moved on.
  void leaveWatched() {
    if (current_ == watched_) next();
  }
  std::string currentMember() const { return memberName(current_); }
  std::string watchedMember() const { return memberName(watched_); }
  size_t members() const { return endpoints_.size(); }

 private:
  std::vector<network::Tcp::endpoint> endpoints_;
  std::string memberName(size_t index) const;

  size_t current_ = 0;
  size_t watched_ = 0;  // the member the last watch went to
  std::chrono::milliseconds timeout_;
};

}  // namespace sluice::control
