#include "admin/logging_handler.h"

#include <utility>
#include <vector>

#include "log/logger.h"

namespace sluice::admin {
namespace {

using log::Component;
using log::Level;

std::string listing() {
  std::string out = "active loggers:\n";
  for (size_t i = 0; i < log::kComponentCount; ++i) {
    const auto component = static_cast<Component>(i);
    out += "  " + std::string(log::componentName(component)) + ": " +
           std::string(log::levelName(log::level(component))) + "\n";
  }
  return out + "\n";
}

std::string usage() {
  std::string out =
      "usage: /logging?<name>=<level> (change single level)\n"
      "usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n"
      "usage: /logging?level=<level> (change all levels)\n"
      "levels: ";
  for (size_t i = 0; i < log::kLevelCount; ++i) out += std::string(log::levelName(static_cast<Level>(i))) + " ";
  return out + "\n";
}

// The changes a query asks for, all checked before any is made; "" or what is wrong.
std::string parseChanges(const std::string& query, bool& all, Level& all_level,
                         std::vector<std::pair<Component, Level>>& changes) {
  std::vector<std::pair<std::string, std::string>> params;
  for (size_t start = 0; start <= query.size();) {
    const size_t amp = std::min(query.find('&', start), query.size());
    const std::string pair = query.substr(start, amp - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      params.emplace_back(percentDecode(pair.substr(0, eq)),
                          eq == std::string::npos ? "" : percentDecode(pair.substr(eq + 1)));
    }
    start = amp + 1;
  }
  if (params.size() != 1) return "invalid number of parameters";
  const auto& [key, value] = params.front();
  auto levelOf = [](std::string_view text, Level& out) {
    const auto parsed = log::parseLevel(text);
    if (parsed) out = *parsed;
    return parsed.has_value();
  };
  if (key == "level") {
    all = true;
    return levelOf(value, all_level) ? "" : "unknown logger level '" + value + "'";
  }
  std::vector<std::pair<std::string, std::string>> named;
  if (key == "paths") {
    for (size_t start = 0; start <= value.size();) {
      const size_t comma = std::min(value.find(',', start), value.size());
      const std::string item = value.substr(start, comma - start);
      start = comma + 1;
      if (item.empty()) continue;
      const size_t colon = item.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == item.size()) {
        return "empty logger name or empty logger level in '" + item + "'";
      }
      named.emplace_back(item.substr(0, colon), item.substr(colon + 1));
    }
    if (named.empty()) return "empty logger name or empty logger level";
  } else {
    named.emplace_back(key, value);
  }
  for (const auto& [name, level_text] : named) {
    Level level;
    if (!levelOf(level_text, level)) return "unknown logger level '" + level_text + "'";
    const auto component = log::parseComponent(name);
    if (!component) return "unknown logger name '" + name + "'";
    changes.emplace_back(*component, level);
  }
  return "";
}

}  // namespace

AdminResponse handleLogging(const AdminRequest& request) {
  if (request.query.empty()) return {200, "text/plain; charset=UTF-8", listing()};
  if (request.method != "POST") {
    return {405, "text/plain; charset=UTF-8",
            "Method " + request.method + " not allowed, POST required (to change levels; GET /logging lists them).\n"};
  }
  bool all = false;
  Level all_level = Level::Info;
  std::vector<std::pair<Component, Level>> changes;
  if (const std::string problem = parseChanges(request.query, all, all_level, changes); !problem.empty()) {
    return {400, "text/plain; charset=UTF-8", "error: " + problem + "\n\n" + usage() + listing()};
  }
  if (all) {
    SLUICE_LOG(admin, info, "change all log levels: level='{}'", log::levelName(all_level));
    log::setAllLevels(all_level);
  }
  for (const auto& [component, level] : changes) {
    SLUICE_LOG(admin, info, "change log level: name='{}' level='{}'", log::componentName(component),
               log::levelName(level));
    log::setLevel(component, level);
  }
  return {200, "text/plain; charset=UTF-8", listing()};
}

void installLoggingHandler(AdminServer& admin) {
  admin.add("/logging", "query/change logging levels", false, handleLogging,
            {{"level", "the level of every component (POST)"},
             {"paths", "component:level pairs, comma-separated (POST)"},
             {"<component>", "the level of one component, e.g. ?router=debug (POST)"}});
}

}  // namespace sluice::admin
