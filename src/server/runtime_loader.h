// RuntimeLoader: the layers of Envoy's `layered_runtime` (static layers from the
// bootstrap, disk layers read from a directory tree behind a symlink, RTDS
// layers fed by a discovery subscription the Server holds, and the admin
// layer set by /runtime_modify) and the immutable Snapshot they merge
// into, later layers winning. Owned by the Server; main thread only. Every
// change builds a new Snapshot and hands it to the publish callback, which
// posts it to the workers (they read it without locks).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "admin/admin_server.h"
#include "config/file_watcher.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "runtime/runtime.h"
#include "stats/stats.h"

namespace sluice::server {

using RuntimeValues = std::map<std::string, std::string, std::less<>>;

// A static layer flattened as Envoy does: nested keys join with '.', whole
// numbers print without a fraction, booleans as true/false.
void flattenStaticLayer(const google::protobuf::Struct& layer, RuntimeValues& out);

// A disk layer's tree: every regular file below `directory` is a key (its
// path's components joined with '.'), its content the value (lines starting
// with '#' dropped, surrounding whitespace trimmed). Symlinks are followed;
// 16 levels at most (Envoy's limit). False with `error` when the tree cannot
// be read; `out` is then unspecified.
bool readRuntimeDirectory(const std::string& directory, RuntimeValues& out, std::string& error);

// Envoy's runtime.* stats.
struct RuntimeStats {
  explicit RuntimeStats(stats::Store& store);
  stats::Counter& load_success;
  stats::Counter& load_error;
  stats::Counter& override_dir_exists;      // a load found more than one disk layer (Envoy's "override" dir)
  stats::Counter& override_dir_not_exists;  // ... one or none
  stats::Gauge& num_keys;
  stats::Gauge& num_layers;
  stats::Gauge& admin_overrides_active;  // 1 while the admin layer holds a value
};

class RuntimeLoader {
 public:
  enum class Kind { Static, Disk, Rtds, Admin };
  struct Layer {
    std::string name;
    Kind kind = Kind::Static;
    std::string directory;  // disk: symlink_root/subdirectory[/service_cluster]
    std::string symlink_root;
    bool present = true;    // disk: the directory existed at the last load
    std::string rtds_name;  // rtds: the Runtime resource it holds
    std::string rtds_version;
    RuntimeValues values;
  };

  // Reads every layer once (the first load counts in the stats as Envoy's does).
  // `service_cluster` completes disk layers with append_service_cluster.
  RuntimeLoader(const envoy::config::bootstrap::v3::LayeredRuntime& config, const std::string& service_cluster,
                stats::Store& stats);

  // Receives every new snapshot after this call (not the current one).
  void onPublish(std::function<void(runtime::SnapshotPtr)> publish) { publish_ = std::move(publish); }
  // Reloads when a disk layer's symlink_root is replaced by a rename (the
  // atomic symlink swap), as Envoy watches it. False when it cannot watch.
  bool watch(config::FileWatcher& watcher, std::string& error);
  // Re-reads the disk layers and publishes the result. A layer that cannot be
  // read keeps its previous values (load_error); a missing directory leaves
  // its layer out.
  void reload();
  // RTDS: the layers fed by Runtime resource `resource_name` take `layer`
  // (flattened as a static layer's), and a new snapshot is published. False
  // if no layer subscribes to that name.
  bool setRtdsLayer(const std::string& resource_name, const google::protobuf::Struct& layer,
                    const std::string& version);
  // RTDS removed the resource (delta): its layers are empty again.
  void clearRtdsLayer(const std::string& resource_name);
  // The Runtime resource names of the RTDS layers, sorted, unique.
  std::vector<std::string> rtdsNames() const;
  // /runtime_modify: sets the admin layer's keys; an empty value removes one.
  // False (Envoy's "No admin layer specified") without an admin layer.
  bool mergeAdminValues(const std::vector<std::pair<std::string, std::string>>& values, std::string& error);

  runtime::SnapshotPtr snapshot() const { return snapshot_; }
  // The layers in the current snapshot, in order (missing disk layers left out).
  std::vector<const Layer*> activeLayers() const;

 private:
  // Merges the layers into a new snapshot, counts the load, publishes.
  void rebuild(bool load_failed);
  bool readDiskLayers();

  std::vector<Layer> layers_;
  Layer* admin_ = nullptr;
  RuntimeStats stats_;
  runtime::SnapshotPtr snapshot_ = std::make_shared<runtime::Snapshot>();
  std::function<void(runtime::SnapshotPtr)> publish_;
};

// /runtime (Envoy's JSON: layers and each key's value per layer) and
// /runtime_modify (POST key=value pairs, in the query or a form body).
void installRuntimeHandlers(admin::AdminServer& admin, RuntimeLoader& loader);

}  // namespace sluice::server
