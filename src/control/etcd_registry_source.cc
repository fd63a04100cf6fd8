#include "control/etcd_registry_source.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "control/control_plane.h"
#include "log/logger.h"

namespace sluice::control {

using nlohmann::json;

namespace {
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

json prefixRange(const std::string& prefix) {
  const std::string dir = prefix + "/";
  return {{"key", base64Encode(dir)}, {"range_end", base64Encode(prefixRangeEnd(dir))}};
}
json watchRequest(const std::string& prefix, int64_t start_revision) {
  json create = prefixRange(prefix);
  create["start_revision"] = std::to_string(start_revision);
  create["progress_notify"] = true;
  json out = json::object();
  out["create_request"] = std::move(create);
  return out;
}

WriteResult failure(int status, const std::string& error) {
  json body = json::object();
  body["error"] = error;
  return WriteResult{status, std::move(body)};
}

WriteResult invalid(std::vector<std::string> errors) {
  json body = json::object();
  body["errors"] = std::move(errors);
  return WriteResult{400, std::move(body)};
}

json keyOnly(const std::string& key) {
  json out = json::object();
  out["key"] = base64Encode(key);
  return out;
}

json casPut(const std::string& key, int64_t mod_revision, const std::string& value) {
  json compare = json::object();
  compare["key"] = base64Encode(key);
  compare["target"] = "MOD";
  compare["result"] = "EQUAL";
  compare["mod_revision"] = std::to_string(mod_revision);
  json put = json::object();
  put["key"] = base64Encode(key);
  put["value"] = base64Encode(value);
  json op = json::object();
  op["request_put"] = std::move(put);
  json txn = json::object();
  txn["compare"] = json::array();
  txn["compare"].push_back(std::move(compare));
  txn["success"] = json::array();
  txn["success"].push_back(std::move(op));
  return txn;
}

}  // namespace

EtcdRegistrySource::EtcdRegistrySource(asio::io_context& io, EtcdSpec spec, std::string describe)
    : io_(io), spec_(std::move(spec)), describe_(std::move(describe)), client_(spec_.endpoints) {
  status_.state = "reading";
}

bool EtcdRegistrySource::start(Accepted accepted, Rejected rejected, std::shared_ptr<const Registry>& first,
                               std::string& error) {
  bool done = false;
  bool ok = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        // A few rounds over the members: a cluster that is just starting
        // may take a moment to elect a leader.
        for (int round = 0; round < 3 && !ok; ++round) {
          if (round > 0) co_await pause(kFirstBackoff * (1 << round));
          ok = co_await readAll(error);
        }
        done = true;
      },
      asio::detached);
  while (!done && io_.run_one() > 0) {
  }
  if (io_.stopped()) io_.restart();
  if (!ok) return false;
  auto registry = std::make_shared<Registry>();
  config::ErrorList errors;
  if (!assembleRegistry(spec_.prefix, watch_.keys(), *registry, errors)) {
    error = errors.toString();
    return false;
  }
  delivered_ = registryJson(*registry);
  first = std::move(registry);
  accepted_ = std::move(accepted);
  rejected_ = std::move(rejected);
  asio::co_spawn(io_, follow(), asio::detached);
  return true;
}

asio::awaitable<bool> EtcdRegistrySource::readAll(std::string& error) {
  const auto reply = co_await client_.call("/v3/kv/range", prefixRange(spec_.prefix));
  if (!reply.error.empty()) {
    error = "reading " + spec_.prefix + "/: " + reply.error;
    noteError(error);
    co_return false;
  }
  EtcdKeys keys;
  std::string why;
  if (!readRangeKvs(reply.body, keys, why)) {
    error = "reading " + spec_.prefix + "/: " + why;
    noteError(error);
    co_return false;
  }
  const int64_t revision = reply.body.contains("header") ? jsonInt(reply.body["header"], "revision") : 0;
  watch_.reset(std::move(keys), revision);
  ++status_.full_reads;
  status_.revision = revision;
  status_.member = client_.currentMember();
  co_return true;
}

asio::awaitable<void> EtcdRegistrySource::pause(std::chrono::milliseconds delay) {
  asio::steady_timer timer(io_, delay);
  co_await timer.async_wait(network::kNoThrow);
}

void EtcdRegistrySource::noteError(const std::string& error) {
  ++status_.errors;
  status_.last_error = error;
  status_.last_error_at = std::chrono::system_clock::now();
}

void EtcdRegistrySource::deliver() {
  status_.revision = watch_.revision();
  if (drains_listener_) {
    const auto it = watch_.keys().find(spec_.prefix + "/state/drains");
    const std::string value = it == watch_.keys().end() ? std::string() : it->second.value;
    if (value != drains_seen_) {
      drains_seen_ = value;
      drains_listener_(value);
    }
  }
  auto registry = std::make_shared<Registry>();
  config::ErrorList errors;
  if (!assembleRegistry(spec_.prefix, watch_.keys(), *registry, errors)) {
    rejected_("at revision " + std::to_string(watch_.revision()) + ":\n" + errors.toString());
    return;
  }
  std::string text = registryJson(*registry);
  if (text == delivered_) return;  // a state key, or the same content again
  delivered_ = std::move(text);
  accepted_(std::move(registry));
}

asio::awaitable<void> EtcdRegistrySource::follow() {
  auto backoff = kFirstBackoff;
  bool read_all = false;
  size_t failures = 0;  // in a row, across members
  const auto failed = [&](const std::string& error) {
    noteError(error);
    ++failures;
    status_.state = failures >= client_.members() ? "unreachable" : "reconnecting";
    SLUICE_LOG(config, warn, "registry {}: {} (serving revision {}; retrying in {} ms)", describe_, error,
               watch_.revision(), backoff.count());
  };
  for (;;) {
    if (read_all) {
      std::string error;
      if (!co_await readAll(error)) {
        failed(error);
        co_await pause(backoff);
        backoff = std::min(backoff * 2, kMaxBackoff);
        continue;
      }
      read_all = false;
      deliver();
    }
    const json request = watchRequest(spec_.prefix, watch_.resumeRevision());
    bool compacted = false;
    std::string reason;
    const std::string ended = co_await client_.watch(request, [&](const json& message) {
      std::string error;
      switch (watch_.onMessage(message, error)) {
        case EtcdWatchState::Outcome::Created:
          if (status_.state != "watching") {
            SLUICE_LOG(config, info, "registry {}: watching from revision {} on {}", describe_, watch_.resumeRevision(),
                       client_.currentMember());
          }
          status_.state = "watching";
          status_.member = client_.currentMember();
          failures = 0;
          backoff = kFirstBackoff;
          return true;
        case EtcdWatchState::Outcome::Changed:
          ++status_.watch_events;
          deliver();
          return true;
        case EtcdWatchState::Outcome::Progress:
          status_.revision = watch_.revision();
          return true;
        case EtcdWatchState::Outcome::Compacted:
          compacted = true;
          return false;
        case EtcdWatchState::Outcome::Canceled:
        case EtcdWatchState::Outcome::Malformed:
          reason = error;
          return false;
      }
      return false;
    });
    if (compacted) {
      ++status_.compactions;
      SLUICE_LOG(config, info, "registry {}: revision {} is compacted (at {}): reading every key again", describe_,
                 watch_.resumeRevision(), watch_.compactRevision());
      read_all = true;
      continue;
    }
    ++status_.reconnects;
    failed("watch on " + client_.currentMember() + " lost: " + (reason.empty() ? ended : reason));
    client_.next();
    co_await pause(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

asio::awaitable<WriteResult> EtcdRegistrySource::writeInstance(std::string service, std::string address, uint32_t port,
                                                               std::optional<json> fields) {
  const std::string key = serviceKey(spec_.prefix, service);
  const std::string instance_name = address + ":" + std::to_string(port);
  if (fields && !fields->is_object()) {
    co_return invalid({"body: must be a JSON object (zone, weight, health, metadata)"});
  }
  if (fields && (fields->contains("address") || fields->contains("port"))) {
    co_return invalid({"body: address and port are taken from the path, leave them out"});
  }
  const json read_request = keyOnly(key);
  // Read, change, write if nobody wrote in between; again when somebody did.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const auto read = co_await client_.call("/v3/kv/range", read_request);
    if (!read.error.empty()) co_return failure(503, "etcd: " + read.error);
    EtcdKeys found;
    std::string why;
    if (!readRangeKvs(read.body, found, why)) co_return failure(502, "etcd: " + why);
    const auto it = found.find(key);
    if (it == found.end()) {
      co_return failure(404, "service '" + service + "' is not in the registry (no key " + key + ")");
    }
    std::string text;
    std::vector<std::string> errors;
    if (!changeInstances(it->second.value, address, port, fields, text, errors)) {
      co_return errors.empty() ? failure(404, instance_name + " is not an instance of '" + service + "'")
                               : failure(409, errors.front());
    }
    // Validated against the keys as the watch has them, with this one changed.
    EtcdKeys keys = watch_.keys();
    keys[key].value = text;
    Registry registry;
    config::ErrorList found_errors;
    if (!assembleRegistry(spec_.prefix, keys, registry, found_errors)) {
      for (const auto& e : found_errors.errors()) errors.push_back(e.toString());
      co_return invalid(std::move(errors));
    }
    const json txn = casPut(key, it->second.mod_revision, text);
    const auto wrote = co_await client_.call("/v3/kv/txn", txn);
    if (!wrote.error.empty()) co_return failure(503, "etcd: " + wrote.error);
    if (wrote.body.value("succeeded", false)) {
      const int64_t revision = wrote.body.contains("header") ? jsonInt(wrote.body["header"], "revision") : 0;
      SLUICE_LOG(config, info, "registry {}: {} {} in '{}' (revision {})", describe_,
                 fields ? "registered" : "deregistered", instance_name, service, revision);
      json body = json::object();
      body["key"] = key;
      body["revision"] = revision;
      body["instance"] = instance_name;
      co_return WriteResult{200, std::move(body)};
    }
  }
  co_return failure(409, key + " kept changing under the write; try again");
}

bool changeInstances(const std::string& value_text, const std::string& address, uint32_t port,
                     const std::optional<json>& fields, std::string& out, std::vector<std::string>& errors) {
  json value = json::parse(value_text, nullptr, false);
  if (!value.is_object()) {
    errors.push_back("the service's key does not hold a JSON object");
    return false;
  }
  json instances = json::array();
  bool existed = false;
  if (value.contains("instances") && value["instances"].is_array()) {
    for (const auto& instance : value["instances"]) {
      if (instance.is_object() && instance.value("address", std::string()) == address && instance.contains("port") &&
          instance["port"] == port) {
        existed = true;
        continue;
      }
      instances.push_back(instance);
    }
  }
  if (!fields && !existed) return false;
  if (fields) {
    json instance = *fields;
    instance["address"] = address;
    instance["port"] = port;
    instances.push_back(std::move(instance));
  }
  value["instances"] = std::move(instances);
  out = value.dump();
  return true;
}

}  // namespace sluice::control
