#include "control/etcd_client.h"

#include "control/http_client.h"
#include "control/options.h"

namespace sluice::control {

using nlohmann::json;

bool parseEtcdSpec(std::string_view spec, EtcdSpec& out, std::string& error) {
  constexpr std::string_view kScheme = "etcd://";
  const auto bad = [&](const std::string& why) {
    error = "--registry " + std::string(spec) + ": " + why + " (expected etcd://HOST:PORT[,HOST:PORT...]/PREFIX)";
    return false;
  };
  if (!spec.starts_with(kScheme)) return bad("not an etcd:// URL");
  std::string_view rest = spec.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("no /PREFIX");
  std::string prefix(rest.substr(slash));
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (prefix == "/") return bad("the prefix is empty");
  std::string_view members = rest.substr(0, slash);
  EtcdSpec result;
  result.prefix = prefix;
  while (!members.empty()) {
    const size_t comma = members.find(',');
    const std::string member(members.substr(0, comma));
    std::string host;
    uint16_t port = 0;
    if (!splitHostPort(member, host, port) || port == 0) return bad("'" + member + "' is not IP:PORT");
    result.endpoints.emplace_back(asio::ip::make_address(host), port);
    members = comma == std::string_view::npos ? std::string_view() : members.substr(comma + 1);
  }
  if (result.endpoints.empty()) return bad("no member");
  out = std::move(result);
  return true;
}

std::string EtcdClient::memberName(size_t index) const {
  const auto& e = endpoints_[index];
  return e.address().to_string() + ":" + std::to_string(e.port());
}

namespace {
std::string replyError(const HttpReply& reply) {
  if (!reply.error.empty()) return reply.error;
  const json body = json::parse(reply.body, nullptr, false);
  std::string message = body.is_object() ? body.value("message", body.value("error", std::string())) : "";
  if (message.empty()) message = reply.body.substr(0, 200);
  return "HTTP " + std::to_string(reply.status) + ": " + message;
}
}  // namespace

asio::awaitable<EtcdClient::Reply> EtcdClient::call(const std::string& path, const json& body) {
  Reply out;
  for (size_t tried = 0; tried < endpoints_.size(); ++tried) {
    HttpCall call;
    call.endpoint = endpoints_[current_];
    call.method = "POST";
    call.target = path;
    call.body = body.dump();
    call.timeout = timeout_;
    const HttpReply reply = co_await httpCall(std::move(call));
    if (reply.error.empty() && reply.status == 200) {
      out.body = json::parse(reply.body, nullptr, false);
      if (!out.body.is_discarded()) {
        out.error.clear();
        co_return out;
      }
      out.error = currentMember() + ": the response is not JSON";
    } else {
      out.error = currentMember() + ": " + replyError(reply);
    }
    next();
  }
  co_return out;
}

asio::awaitable<std::string> EtcdClient::probe(const std::string& path, const json& body) {
  HttpCall call;
  call.endpoint = endpoints_[watched_];
  call.method = "POST";
  call.target = path;
  call.body = body.dump();
  call.timeout = timeout_;
  const HttpReply reply = co_await httpCall(std::move(call));
  if (reply.error.empty() && reply.status == 200) co_return "";
  co_return replyError(reply);
}

asio::awaitable<std::string> EtcdClient::watch(const json& create_request, std::function<bool(const json&)> on_message,
                                               std::function<void()>* abort) {
  std::string pending;
  std::string error;
  bool stopped = false;
  HttpCall call;
  watched_ = current_;
  call.endpoint = endpoints_[watched_];
  call.method = "POST";
  call.target = "/v3/watch";
  call.body = create_request.dump();
  call.abort = abort;
  call.timeout = timeout_;  // until the head; none after
  // The gateway writes one JSON message per line.
  call.on_data = [&](std::string_view data) {
    pending.append(data);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      const json message = json::parse(std::string_view(pending).substr(start, nl - start), nullptr, false);
      if (message.is_discarded()) {
        error = "a watch message that is not JSON";
        return false;
      }
      if (!on_message(message)) {
        stopped = true;
        return false;
      }
    }
    pending.erase(0, start);
    return true;
  };
  const HttpReply reply = co_await httpCall(std::move(call));
  if (stopped) co_return "";
  if (!error.empty()) co_return error;
  if (!reply.error.empty() || reply.status != 200) co_return replyError(reply);
  co_return "the member ended the watch";
}

}  // namespace sluice::control
