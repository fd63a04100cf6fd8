#include "server/listener_manager.h"

#include "config/proto_hash.h"
#include "server/config_compiler.h"

namespace sluice::server {
namespace {

// A listener's identity: its name, or (unnamed) its address, as Envoy names it.
std::string keyOf(const envoy::config::listener::v3::Listener& listener) {
  if (!listener.name().empty()) return listener.name();
  const auto& sa = listener.address().socket_address();
  return sa.address() + ":" + std::to_string(sa.port_value());
}

}  // namespace

std::shared_ptr<proxy::ProxyConfig> ListenerManager::compile(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                             accesslog::LogWriter* access_logs,
                                                             config::ErrorList& errors, const RdsSlots* rds) const {
  auto out = std::make_shared<proxy::ProxyConfig>();
  const auto& listeners = bootstrap.static_resources().listeners();
  for (int i = 0; i < listeners.size(); ++i) {
    const auto& proto = listeners[i];
    const auto kept = listeners_.find(keyOf(proto));
    if (kept != listeners_.end() && kept->second.hash == config::protoHash(proto)) {
      out->listeners.push_back(kept->second.config);
      continue;
    }
    if (auto l = compileListener(proto, "static_resources.listeners[" + std::to_string(i) + "]", stats_, errors,
                                 access_logs, rds)) {
      out->listeners.push_back(std::move(l));
    }
  }
  if (!errors.empty()) return nullptr;
  return out;
}

void ListenerManager::commit(const proxy::ProxyConfig& config,
                             const envoy::config::bootstrap::v3::Bootstrap& bootstrap) {
  std::map<std::string, Entry> next;
  const auto& listeners = bootstrap.static_resources().listeners();
  for (int i = 0; i < listeners.size() && i < static_cast<int>(config.listeners.size()); ++i) {
    next[keyOf(listeners[i])] = {config::protoHash(listeners[i]), config.listeners[i]};
  }
  listeners_ = std::move(next);
}

}  // namespace sluice::server
