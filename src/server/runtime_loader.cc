#include "server/runtime_loader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/input_limits.h"
#include "log/logger.h"

namespace sluice::server {

namespace fs = std::filesystem;

void flattenStaticLayer(const google::protobuf::Struct& layer, RuntimeValues& out) {
  const std::function<void(const google::protobuf::Struct&, const std::string&)> visit =
      [&](const google::protobuf::Struct& s, const std::string& prefix) {
        for (const auto& [key, value] : s.fields()) {
          const std::string name = prefix.empty() ? key : prefix + "." + key;
          switch (value.kind_case()) {
            case google::protobuf::Value::kStructValue:
              visit(value.struct_value(), name);
              break;
            case google::protobuf::Value::kNumberValue: {
              const double n = value.number_value();
              out[name] = n == std::floor(n) && std::fabs(n) < 1e18 ? std::to_string(static_cast<int64_t>(n))
                                                                    : std::to_string(n);
              break;
            }
            case google::protobuf::Value::kBoolValue:
              out[name] = value.bool_value() ? "true" : "false";
              break;
            case google::protobuf::Value::kStringValue:
              out[name] = value.string_value();
              break;
            default:
              break;
          }
        }
      };
  visit(layer, "");
}

namespace {

constexpr int kMaxWalkDepth = 16;  // Envoy's DiskLayer limit

// The file's value: comment lines ('#' first) dropped, whitespace trimmed.
std::string fileValue(const std::string& text) {
  std::string value;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.front() == '#') continue;
    if (!value.empty()) value += '\n';
    value += line;
  }
  const auto space = " \t\r\n\v\f";
  const size_t first = value.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return value.substr(first, value.find_last_not_of(space) - first + 1);
}

bool walk(const fs::path& directory, const std::string& prefix, int depth, RuntimeValues& out, std::string& error) {
  if (depth > kMaxWalkDepth) {
    error = "walk recursion depth exceeded " + std::to_string(kMaxWalkDepth) + " at '" + directory.string() + "'";
    return false;
  }
  std::error_code ec;
  fs::directory_iterator it(directory, ec);
  if (ec) {
    error = "cannot read '" + directory.string() + "': " + ec.message();
    return false;
  }
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    const fs::path path = it->path();
    const std::string key = prefix.empty() ? path.filename().string() : prefix + "." + path.filename().string();
    const auto status = fs::status(path, ec);                 // follows symlinks
    if (status.type() == fs::file_type::not_found) continue;  // a dangling symlink: no key
    if (ec) {
      error = "cannot stat '" + path.string() + "': " + ec.message();
      return false;
    }
    if (fs::is_directory(status)) {
      if (!walk(path, key, depth + 1, out, error)) return false;
    } else if (fs::is_regular_file(status)) {
      // A runtime file is config input: the same size bound as any other.
      std::string text;
      config::ErrorList errors;
      if (!config::readConfigFile(path.string(), text, errors)) {
        error = errors.toString();
        if (!error.empty() && error.back() == '\n') error.pop_back();
        return false;
      }
      out[key] = fileValue(text);
    }
  }
  if (ec) {
    error = "cannot read '" + directory.string() + "': " + ec.message();
    return false;
  }
  return true;
}

}  // namespace

bool readRuntimeDirectory(const std::string& directory, RuntimeValues& out, std::string& error) {
  return walk(directory, "", 1, out, error);
}

RuntimeStats::RuntimeStats(stats::Store& store)
    : load_success(store.counter("runtime.load_success")),
      load_error(store.counter("runtime.load_error")),
      override_dir_exists(store.counter("runtime.override_dir_exists")),
      override_dir_not_exists(store.counter("runtime.override_dir_not_exists")),
      num_keys(store.gauge("runtime.num_keys")),
      num_layers(store.gauge("runtime.num_layers")),
      admin_overrides_active(store.gauge("runtime.admin_overrides_active")) {}

RuntimeLoader::RuntimeLoader(const envoy::config::bootstrap::v3::LayeredRuntime& config,
                             const std::string& service_cluster, stats::Store& stats)
    : stats_(stats) {
  layers_.reserve(config.layers_size());
  for (const auto& spec : config.layers()) {
    Layer layer;
    layer.name = spec.name();
    if (spec.has_static_layer()) {
      flattenStaticLayer(spec.static_layer(), layer.values);
    } else if (spec.has_disk_layer()) {
      const auto& disk = spec.disk_layer();
      layer.kind = Kind::Disk;
      layer.symlink_root = disk.symlink_root();
      layer.directory = disk.symlink_root() + "/" + disk.subdirectory();
      if (disk.append_service_cluster()) layer.directory += "/" + service_cluster;
      layer.present = false;
    } else if (spec.has_admin_layer()) {
      layer.kind = Kind::Admin;
    } else if (spec.has_rtds_layer()) {
      layer.kind = Kind::Rtds;  // empty until its resource arrives
      layer.rtds_name = spec.rtds_layer().name();
    } else {
      continue;  // no layer type: refused by validation
    }
    layers_.push_back(std::move(layer));
  }
  for (auto& layer : layers_) {
    if (layer.kind == Kind::Admin && admin_ == nullptr) admin_ = &layer;
  }
  rebuild(!readDiskLayers());
}

bool RuntimeLoader::watch(config::FileWatcher& watcher, std::string& error) {
  std::vector<std::string> watched;
  for (const auto& layer : layers_) {
    if (layer.kind != Kind::Disk) continue;
    // One watch per symlink: a swap reloads every disk layer anyway.
    if (std::find(watched.begin(), watched.end(), layer.symlink_root) != watched.end()) continue;
    if (!watcher.watch(
            layer.symlink_root, "", [this] { reload(); }, error))
      return false;
    watched.push_back(layer.symlink_root);
  }
  return true;
}

bool RuntimeLoader::readDiskLayers() {
  bool ok = true;
  for (auto& layer : layers_) {
    if (layer.kind != Kind::Disk) continue;
    std::error_code ec;
    if (!fs::is_directory(layer.directory, ec)) {
      layer.present = false;
      layer.values.clear();
      continue;
    }
    RuntimeValues values;
    std::string error;
    if (!readRuntimeDirectory(layer.directory, values, error)) {
      // Envoy drops such a layer; sluice keeps what it last read (a tree
      // caught half-written must not flip every key back to its default).
      SLUICE_LOG(runtime, warn, "sluice: runtime layer '{}' not reloaded, keeping its previous values: {}", layer.name,
                 error);
      ok = false;
      continue;
    }
    layer.present = true;
    layer.values = std::move(values);
  }
  return ok;
}

void RuntimeLoader::reload() {
  rebuild(!readDiskLayers());
  SLUICE_LOG(runtime, info, "sluice: runtime update applied ({} keys)", snapshot_->values().size());
}

bool RuntimeLoader::mergeAdminValues(const std::vector<std::pair<std::string, std::string>>& values,
                                     std::string& error) {
  if (admin_ == nullptr) {
    error = "No admin layer specified";
    return false;
  }
  for (const auto& [key, value] : values) {
    if (value.empty()) {
      admin_->values.erase(key);
    } else {
      admin_->values[key] = value;
    }
  }
  rebuild(false);
  return true;
}

bool RuntimeLoader::setRtdsLayer(const std::string& resource_name, const google::protobuf::Struct& layer,
                                 const std::string& version) {
  RuntimeValues values;
  flattenStaticLayer(layer, values);
  bool found = false;
  for (auto& l : layers_) {
    if (l.kind != Kind::Rtds || l.rtds_name != resource_name) continue;
    l.values = values;
    l.rtds_version = version;
    found = true;
  }
  if (found) rebuild(false);
  return found;
}

void RuntimeLoader::clearRtdsLayer(const std::string& resource_name) {
  bool found = false;
  for (auto& l : layers_) {
    if (l.kind != Kind::Rtds || l.rtds_name != resource_name) continue;
    l.values.clear();
    l.rtds_version.clear();
    found = true;
  }
  if (found) rebuild(false);
}

std::vector<std::string> RuntimeLoader::rtdsNames() const {
  std::vector<std::string> names;
  for (const auto& l : layers_) {
    if (l.kind == Kind::Rtds) names.push_back(l.rtds_name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<const RuntimeLoader::Layer*> RuntimeLoader::activeLayers() const {
  std::vector<const Layer*> out;
  for (const auto& layer : layers_) {
    if (layer.kind != Kind::Disk || layer.present) out.push_back(&layer);
  }
  return out;
}

void RuntimeLoader::rebuild(bool load_failed) {
  RuntimeValues merged;
  int64_t disk_layers = 0;
  const auto active = activeLayers();
  for (const auto* layer : active) {
    if (layer->kind == Kind::Disk) ++disk_layers;
    for (const auto& [key, value] : layer->values) merged[key] = value;
  }
  // Envoy's meanings: one load per snapshot; the "override directory" is a
  // second disk layer (the historical root + override pair).
  (load_failed ? stats_.load_error : stats_.load_success).inc();
  (disk_layers > 1 ? stats_.override_dir_exists : stats_.override_dir_not_exists).inc();
  stats_.num_layers.set(static_cast<int64_t>(active.size()));
  stats_.num_keys.set(static_cast<int64_t>(merged.size()));
  stats_.admin_overrides_active.set(admin_ != nullptr && !admin_->values.empty() ? 1 : 0);
  snapshot_ = std::make_shared<const runtime::Snapshot>(std::move(merged));
  if (publish_) publish_(snapshot_);
}

}  // namespace sluice::server
