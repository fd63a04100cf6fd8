// The registry in etcd: one key per service, gateway and zone weight under a
// prefix, each holding the same fields as the file's entry, as JSON
// (docs/ARCHITECTURE.md, "sluice-control", key layout):
//
//   PREFIX/zones                ["us-east-1a", "us-east-1b"]
//   PREFIX/services/<name>      {"protocol": "http1", "instances": [{"address": ..., "port": ...}]}
//   PREFIX/gateways/<name>      {"port": 10000, "address": "0.0.0.0", "virtual_hosts": [...]}
//   PREFIX/zone_weights/<zone>  100
//   PREFIX/state/...            control-plane state (drain, leases: issue 15), not registry
//
// A `name` field in a service or gateway value is optional and must equal the
// key's last segment. The keys are assembled into one document and validated
// with parseRegistry(); every error names its key and the path inside it.
// Also here: the watch's state (the keys as last seen and the revision to
// resume from), pure logic fed with the gateway's JSON messages.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "config/config_error.h"
#include "control/registry.h"

namespace sluice::control {

struct EtcdKeyValue {
  std::string value;
  int64_t mod_revision = 0;
};
using EtcdKeys = std::map<std::string, EtcdKeyValue>;  // full key -> value

enum class KeyKind { Zones, Service, Gateway, ZoneWeight, State, Unknown };
struct RegistryKey {
  KeyKind kind = KeyKind::Unknown;
  std::string name;  // the service, gateway or zone
};
// What `key` (under `prefix`, which has no trailing '/') is.
RegistryKey parseRegistryKey(std::string_view prefix, std::string_view key);
std::string serviceKey(std::string_view prefix, std::string_view service);

// Assembles and validates the registry held by `keys`. False with every
// error in `errors` (paths `<key>: <path in the value>`); `out` only written
// when valid.
bool assembleRegistry(std::string_view prefix, const EtcdKeys& keys, Registry& out, config::ErrorList& errors);

// The keys as the watch last saw them and the revision they are at.
class EtcdWatchState {
 public:
  enum class Outcome {
    Created,    // the watch is open
    Changed,    // events applied: assemble again
    Progress,   // nothing changed (a progress notification, or events outside the prefix)
    Compacted,  // the resume revision is gone: read everything again
    Canceled,   // canceled for another reason (`error` says why): open it again
    Malformed,  // not a watch message (`error` says why)
  };
  // After a full read at `revision`.
  void reset(EtcdKeys keys, int64_t revision);
  // One message of /v3/watch's stream ({"result": {...}} or {"error": {...}}).
  Outcome onMessage(const nlohmann::json& message, std::string& error);
  // A new watch starts here: every revision up to revision() is applied.
  int64_t resumeRevision() const { return revision_ + 1; }
  int64_t revision() const { return revision_; }
  int64_t compactRevision() const { return compact_revision_; }
  const EtcdKeys& keys() const { return keys_; }

 private:
  EtcdKeys keys_;
  int64_t revision_ = 0;
  int64_t compact_revision_ = 0;
};

// etcd's JSON gateway: bytes fields are base64, int64 fields are strings.
std::string base64Encode(std::string_view bytes);
bool base64Decode(std::string_view text, std::string& out);
// A JSON int64 as the gateway writes it ("12") or as a number; 0 when absent.
int64_t jsonInt(const nlohmann::json& object, std::string_view field);
// The key after the last key starting with `prefix` (etcd's range_end for a prefix).
std::string prefixRangeEnd(std::string_view prefix);
// Reads a range response's kvs into `out`; false with `error` when malformed.
bool readRangeKvs(const nlohmann::json& response, EtcdKeys& out, std::string& error);

}  // namespace sluice::control
