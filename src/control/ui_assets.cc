#include "control/ui_assets.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice::control {

namespace fs = std::filesystem;

std::string defaultUiDir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return "";
  return (exe.parent_path().parent_path() / "share" / "sluice-control" / "ui").lexically_normal().string();
}

std::string_view contentTypeFor(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=UTF-8"},
      {".js", "text/javascript; charset=UTF-8"},
      {".mjs", "text/javascript; charset=UTF-8"},
      {".css", "text/css; charset=UTF-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=UTF-8"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (name.size() > ext.size() && name.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

bool UiAssets::load(const std::string& dir, std::string& error) {
  files_.clear();
  dir_ = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    error = "'" + dir + "' is not a directory" + (ec ? ": " + ec.message() : "");
    return false;
  }
  std::map<std::string, File, std::less<>> files;
  size_t bytes = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    if (path.filename().string().starts_with(".")) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
    if (files.size() >= kMaxFiles) {
      error = "'" + dir + "' holds more than " + std::to_string(kMaxFiles) + " files";
      return false;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) {
      error = "cannot read '" + path.string() + "'";
      return false;
    }
    bytes += body.str().size();
    if (bytes > kMaxBytes) {
      error = "'" + dir + "' holds more than " + std::to_string(kMaxBytes) + " bytes";
      return false;
    }
    const std::string relative = fs::relative(path, dir).generic_string();
    files[relative] = File{std::string(contentTypeFor(relative)), body.str()};
  }
  if (ec) {
    error = "cannot list '" + dir + "': " + ec.message();
    return false;
  }
  if (files.find("index.html") == files.end()) {
    error = "'" + dir + "' has no index.html";
    return false;
  }
  files_ = std::move(files);
  return true;
}

const UiAssets::File* UiAssets::find(std::string_view relative) const {
  const auto it = files_.find(relative);
  return it == files_.end() ? nullptr : &it->second;
}

void addUiHandlers(admin::AdminServer& server, const UiAssets& assets, std::string missing_reason) {
  const auto serve = [&assets, missing_reason](const admin::AdminRequest& request) -> admin::AdminResponse {
    if (request.method != "GET") {
      return {405, "text/plain; charset=UTF-8", "the UI's files are read with GET\n", {{"allow", "GET"}}};
    }
    // Relative links (app.js, style.css) resolve against /ui/, not /.
    if (request.path == "/ui") return {301, "text/plain; charset=UTF-8", "see /ui/\n", {{"location", "/ui/"}}};
    if (!assets.loaded()) {
      return {404, "text/plain; charset=UTF-8",
              "the web UI is not installed: " + missing_reason +
                  " (install share/sluice-control/ui beside the binary's prefix, or start with --ui-dir DIR)\n"};
    }
    std::string relative = admin::percentDecode(std::string_view(request.path).substr(4));
    if (relative.empty()) relative = "index.html";
    // A name from the table or nothing: "..", "%2e%2e" and absolute paths
    // are not in it, and nothing here touches the file system.
    const UiAssets::File* file = assets.find(relative);
    if (file == nullptr) return {404, "text/plain; charset=UTF-8", "no such file in the UI: /ui/" + relative + "\n"};
    // The files change only with a restart (an upgrade): revalidate each
    // load rather than keep a stale app.js beside a new index.html.
    return {200, file->content_type, file->body, {{"cache-control", "no-cache"}}};
  };
  server.add("/ui", "the operator's web UI (redirects to /ui/)", false, serve);
  server.add("/ui/", "the operator's web UI", false, serve);
  server.addPrefix("/ui/", "the operator's web UI: its files (index.html, app.js, style.css)", serve);
}

}  // namespace sluice::control
