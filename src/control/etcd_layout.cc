#include "control/etcd_layout.h"

#include <algorithm>
#include <array>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::control {

using nlohmann::json;

namespace {

constexpr std::string_view kServices = "/services/";
constexpr std::string_view kGateways = "/gateways/";
constexpr std::string_view kZoneWeights = "/zone_weights/";
constexpr std::string_view kState = "/state/";

bool oneSegment(std::string_view name) { return !name.empty() && name.find('/') == std::string_view::npos; }

// A document path ("services[2]") and the key its entry came from.
struct Origin {
  std::string doc_path;
  std::string key;
};

// "services[2].instances[0].port" -> "PREFIX/services/echo: instances[0].port".
std::string keyedPath(const std::vector<Origin>& origins, const std::string& path) {
  for (const auto& o : origins) {
    if (!path.starts_with(o.doc_path)) continue;
    std::string rest = path.substr(o.doc_path.size());
    if (!rest.empty() && rest[0] != '.' && rest[0] != '[') continue;
    if (rest.starts_with(".")) rest.erase(0, 1);
    return rest.empty() ? o.key : o.key + ": " + rest;
  }
  return path;
}

}  // namespace

RegistryKey parseRegistryKey(std::string_view prefix, std::string_view key) {
  RegistryKey out;
  if (!key.starts_with(prefix)) return out;
  const std::string_view rest = key.substr(prefix.size());
  if (rest == "/zones") {
    out.kind = KeyKind::Zones;
  } else if (rest.starts_with(kState)) {
    out.kind = KeyKind::State;
  } else {
    for (const auto& [segment, kind] : std::array<std::pair<std::string_view, KeyKind>, 3>{
             {{kServices, KeyKind::Service}, {kGateways, KeyKind::Gateway}, {kZoneWeights, KeyKind::ZoneWeight}}}) {
      if (rest.starts_with(segment) && oneSegment(rest.substr(segment.size()))) {
        out.kind = kind;
        out.name = std::string(rest.substr(segment.size()));
      }
    }
  }
  return out;
}

std::string serviceKey(std::string_view prefix, std::string_view service) {
  return std::string(prefix) + std::string(kServices) + std::string(service);
}

bool assembleRegistry(std::string_view prefix, const EtcdKeys& keys, Registry& out, config::ErrorList& errors) {
  const size_t before = errors.size();
  const std::string p(prefix);
  json doc = json::object();
  json services = json::array();
  json gateways = json::array();
  json weights = json::object();
  std::vector<Origin> origins{{"zones", p + "/zones"}};
  for (const auto& [key, kv] : keys) {
    const RegistryKey k = parseRegistryKey(prefix, key);
    if (k.kind == KeyKind::State) continue;
    if (k.kind == KeyKind::Unknown) {
      errors.add(key, "not a registry key (expected " + p + "/zones, " + p + "/services/<name>, " + p +
                          "/gateways/<name>, " + p + "/zone_weights/<zone>, or a key under " + p + "/state/)");
      continue;
    }
    json value = json::parse(kv.value, nullptr, false);
    if (value.is_discarded()) {
      errors.add(key, "not valid JSON");
      continue;
    }
    switch (k.kind) {
      case KeyKind::Zones:
        doc["zones"] = std::move(value);
        break;
      case KeyKind::Service:
      case KeyKind::Gateway: {
        if (!value.is_object()) {
          errors.add(key, "must be a JSON object");
          break;
        }
        if (const auto it = value.find("name"); it != value.end() && *it != k.name) {
          errors.add(key + ": name", "must be the key's name '" + k.name + "' (or left out)");
          break;
        }
        value["name"] = k.name;
        json& list = k.kind == KeyKind::Service ? services : gateways;
        origins.push_back({config::indexPath(k.kind == KeyKind::Service ? "services" : "gateways", list.size()), key});
        list.push_back(std::move(value));
        break;
      }
      case KeyKind::ZoneWeight:
        origins.push_back({config::keyPath("zone_weights", k.name), key});
        weights[k.name] = std::move(value);
        break;
      default:
        break;
    }
  }
  if (errors.size() != before) return false;
  if (!services.empty()) doc["services"] = std::move(services);
  if (!gateways.empty()) doc["gateways"] = std::move(gateways);
  if (!weights.empty()) doc["zone_weights"] = std::move(weights);
  config::ErrorList found;
  Registry registry;
  if (!parseRegistry(doc.dump(), p, registry, found)) {
    for (const auto& e : found.errors()) errors.add(keyedPath(origins, e.path), e.message);
    return false;
  }
  out = std::move(registry);
  return true;
}

void EtcdWatchState::reset(EtcdKeys keys, int64_t revision) {
  keys_ = std::move(keys);
  revision_ = revision;
  compact_revision_ = 0;
}

EtcdWatchState::Outcome EtcdWatchState::onMessage(const json& message, std::string& error) {
  if (!message.is_object()) {
    error = "not a JSON object";
    return Outcome::Malformed;
  }
  if (const auto it = message.find("error"); it != message.end()) {
    error = it->is_object() && it->contains("message") && (*it)["message"].is_string()
                ? (*it)["message"].get<std::string>()
                : it->dump();
    return Outcome::Canceled;
  }
  const auto result = message.find("result");
  if (result == message.end() || !result->is_object()) {
    error = "no result";
    return Outcome::Malformed;
  }
  const json& r = *result;
  if (r.value("canceled", false)) {
    compact_revision_ = jsonInt(r, "compact_revision");
    if (compact_revision_ > 0) return Outcome::Compacted;
    error = r.value("cancel_reason", std::string("the watch was canceled"));
    return Outcome::Canceled;
  }
  if (r.value("created", false)) return Outcome::Created;
  const auto events = r.find("events");
  if (events == r.end() || !events->is_array() || events->empty()) {
    // A progress notification: every revision up to the header's is delivered.
    if (const auto h = r.find("header"); h != r.end() && h->is_object()) {
      revision_ = std::max(revision_, jsonInt(*h, "revision"));
    }
    return Outcome::Progress;
  }
  for (const auto& event : *events) {
    const auto kv = event.find("kv");
    std::string key;
    if (kv == event.end() || !kv->is_object() || !kv->contains("key") || !(*kv)["key"].is_string() ||
        !base64Decode((*kv)["key"].get<std::string>(), key)) {
      error = "an event without a key";
      return Outcome::Malformed;
    }
    const int64_t revision = jsonInt(*kv, "mod_revision");
    if (event.value("type", std::string("PUT")) == "DELETE") {
      keys_.erase(key);
    } else {
      EtcdKeyValue value;
      value.mod_revision = revision;
      if (kv->contains("value") &&
          (!(*kv)["value"].is_string() || !base64Decode((*kv)["value"].get<std::string>(), value.value))) {
        error = "an event whose value is not base64";
        return Outcome::Malformed;
      }
      keys_[key] = std::move(value);
    }
    revision_ = std::max(revision_, revision);
  }
  return Outcome::Changed;
}

namespace {
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool base64Decode(std::string_view text, std::string& out) {
  out.clear();
  uint32_t bits = 0;
  int count = 0;
  size_t padding = 0;
  for (const char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return false;
    const size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return false;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return padding <= 2;
}

int64_t jsonInt(const json& object, std::string_view field) {
  const auto it = object.find(field);
  if (it == object.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return 0;
    return std::stoll(s);
  }
  return 0;
}

std::string prefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

bool readRangeKvs(const json& response, EtcdKeys& out, std::string& error) {
  const auto kvs = response.find("kvs");
  if (kvs == response.end()) return true;  // no keys
  if (!kvs->is_array()) {
    error = "kvs is not a list";
    return false;
  }
  for (const auto& kv : *kvs) {
    std::string key;
    EtcdKeyValue value;
    if (!kv.is_object() || !kv.contains("key") || !kv["key"].is_string() ||
        !base64Decode(kv["key"].get<std::string>(), key) ||
        (kv.contains("value") &&
         (!kv["value"].is_string() || !base64Decode(kv["value"].get<std::string>(), value.value)))) {
      error = "a key or value that is not base64";
      return false;
    }
    value.mod_revision = jsonInt(kv, "mod_revision");
    out[key] = std::move(value);
  }
  return true;
}

}  // namespace sluice::control
