// The operator's web UI (ui/ in the repo): its files, read once at start
// into memory, served at /ui/ on --http-listen. Built on the main thread
// before the HTTP server starts; read-only after, so the handlers share it.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "admin/admin_server.h"

namespace sluice::control {

// Where the UI's files are when --ui-dir is not given: beside the binary's
// install prefix, <dir of /proc/self/exe>/../share/sluice-control/ui (the
// build tree has the same layout: build/release/src/sluice-control and
// build/release/share/sluice-control/ui). "" when /proc/self/exe cannot be read.
std::string defaultUiDir();

class UiAssets {
 public:
  // Limits: a UI is a few small files; a directory past them is refused.
  static constexpr size_t kMaxFiles = 256;
  static constexpr size_t kMaxBytes = 16 * 1024 * 1024;

  // Reads every regular file under `dir` (recursively; symbolic links and
  // dot files skipped). False with the reason when `dir` is not a readable
  // directory or passes the limits; then nothing is served.
  bool load(const std::string& dir, std::string& error);

  bool loaded() const { return !files_.empty(); }
  const std::string& dir() const { return dir_; }
  size_t fileCount() const { return files_.size(); }

  struct File {
    std::string content_type;
    std::string body;
  };
  // The file at `relative` (a path under the directory, as stored: no
  // percent coding, no "." or ".." segments). nullptr when there is none.
  const File* find(std::string_view relative) const;

 private:
  std::string dir_;
  std::map<std::string, File, std::less<>> files_;
};

// The content type for a file name, by its extension
// (application/octet-stream when unknown).
std::string_view contentTypeFor(std::string_view name);

// GET /ui/ and everything under it: the files of `assets` by name (a
// lookup in the table read at start, so no path reaches the file system),
// "/ui" and "/ui/" answer index.html. Without assets, 404 saying where the
// UI was looked for. `missing_reason` says why it was not loaded.
void addUiHandlers(admin::AdminServer& server, const UiAssets& assets, std::string missing_reason);

}  // namespace sluice::control
