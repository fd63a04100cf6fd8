// The runtime's admin endpoints, Envoy's /runtime and /runtime_modify. Main
// thread (the admin server's handlers run there).
#include <algorithm>

#include <nlohmann/json.hpp>

#include "admin/admin_json.h"
#include "common/utf8.h"

#include "server/runtime_loader.h"

namespace sluice::server {
namespace {

constexpr std::string_view kUsage =
    "usage: /runtime_modify?key1=value1&key2=value2&keyN=valueN\n"
    "       or send the parameters as form values\n"
    "use an empty value to remove a previously added override\n";

// `text` with control characters, space and bytes outside ASCII as %XX, for
// an error message that quotes what the client sent.
std::string printable(std::string_view text) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (c <= ' ' || c >= 0x7f || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// `key=value&...` pairs, percent-decoded ('+' is a space in a form body).
// False with `error` for a pair that is not key=value or a key that cannot be
// a runtime key (empty, not UTF-8, or with whitespace or control characters)
// or a value that is not UTF-8 or has control characters.
bool parsePairs(std::string_view text, bool form, std::vector<std::pair<std::string, std::string>>& out,
                std::string& error) {
  const auto decode = [form](std::string_view raw) {
    std::string s(raw);
    if (form) std::replace(s.begin(), s.end(), '+', ' ');
    return admin::percentDecode(s);
  };
  while (!text.empty()) {
    const size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      error = "'" + std::string(pair) + "' is not key=value (an empty value removes an override)\n";
      return false;
    }
    std::string key = decode(pair.substr(0, eq));
    std::string value = decode(pair.substr(eq + 1));
    if (key.empty()) {
      error = "a runtime key must not be empty\n";
      return false;
    }
    // Checked before anything is echoed: the error texts quote the key.
    if (!isValidUtf8(key)) {
      error = "runtime key '" + printable(key) + "' is not valid UTF-8\n";
      return false;
    }
    for (const unsigned char c : key) {
      if (c <= ' ' || c == 0x7f) {
        error = "runtime key '" + printable(key) + "' contains whitespace or a control character\n";
        return false;
      }
    }
    if (!isValidUtf8(value)) {
      error = "the value of runtime key '" + key + "' is not valid UTF-8\n";
      return false;
    }
    for (const unsigned char c : value) {
      if ((c < ' ' && c != '\t') || c == 0x7f) {
        error = "the value of runtime key '" + key + "' contains a control character\n";
        return false;
      }
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return true;
}

admin::AdminResponse runtimeJson(const RuntimeLoader& loader) {
  const auto layers = loader.activeLayers();
  nlohmann::json names = nlohmann::json::array();
  std::map<std::string, nlohmann::json> entries;
  for (const auto* layer : layers) {
    names.push_back(layer->name);
    for (const auto& [key, value] : layer->values) entries.emplace(key, nlohmann::json());
  }
  nlohmann::json out_entries = nlohmann::json::object();
  for (auto& [key, entry] : entries) {
    nlohmann::json values = nlohmann::json::array();
    std::string final_value;
    for (const auto* layer : layers) {
      const auto it = layer->values.find(key);
      const std::string value = it == layer->values.end() ? "" : it->second;
      if (!value.empty()) final_value = value;
      values.push_back(value);
    }
    out_entries[key] = {{"final_value", final_value}, {"layer_values", values}};
  }
  return {200, "application/json", admin::dumpJson(nlohmann::json{{"layers", names}, {"entries", out_entries}})};
}

}  // namespace

void installRuntimeHandlers(admin::AdminServer& admin, RuntimeLoader& loader) {
  admin.add("/runtime", "print runtime values", false,
            [&loader](const admin::AdminRequest&) { return runtimeJson(loader); });
  admin.add("/runtime_modify",
            "Adds or modifies runtime values as passed in query parameters. To delete a previously "
            "added key, use an empty string as the value. Note that deletion only applies to overrides added via "
            "this endpoint; values loaded from disk can be modified via override but not deleted. E.g. "
            "?key1=value1&key2=value2...",
            true, [&loader](const admin::AdminRequest& request) {
              std::vector<std::pair<std::string, std::string>> values;
              std::string error;
              const bool form = request.content_type.starts_with("application/x-www-form-urlencoded");
              if (!parsePairs(request.query, false, values, error) ||
                  (form && !parsePairs(request.body, true, values, error))) {
                return admin::AdminResponse{400, "text/plain; charset=UTF-8", error};
              }
              if (values.empty()) return admin::AdminResponse{400, "text/plain; charset=UTF-8", std::string(kUsage)};
              if (!loader.mergeAdminValues(values, error)) {
                return admin::AdminResponse{503, "text/plain; charset=UTF-8", error};
              }
              return admin::AdminResponse{200, "text/plain; charset=UTF-8", "OK\n"};
            });
}

}  // namespace sluice::server
