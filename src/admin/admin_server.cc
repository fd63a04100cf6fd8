#include "admin/admin_server.h"

#include <cstdlib>
#include <exception>

#include "common/utf8.h"
#include "http/http1_parser.h"
#include "http/http1_serializer.h"
#include "log/logger.h"
#include "network/listen_socket.h"

namespace sluice::admin {

using network::kNoThrow;

std::string percentDecode(std::string_view value) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() && hex(value[i + 1]) >= 0 && hex(value[i + 2]) >= 0) {
      out += static_cast<char>(hex(value[i + 1]) * 16 + hex(value[i + 2]));
      i += 2;
    } else {
      out += value[i];
    }
  }
  return out;
}

std::string AdminRequest::param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return "";
}

bool AdminRequest::hasParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (pair.substr(0, pair.find('=')) == name) return true;
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return false;
}

void AdminServer::add(std::string path, std::string help, bool mutating, Handler handler, std::vector<Param> params) {
  handlers_[std::move(path)] = Entry{std::move(help), mutating, std::move(handler), std::move(params)};
}

void AdminServer::addPrefix(std::string prefix, std::string help, Handler handler) {
  prefix_handlers_[std::move(prefix)] = Entry{std::move(help), false, std::move(handler), {}};
}

void AdminServer::addAsync(std::string path, std::string help, AsyncHandler handler, PathFilter takes) {
  async_handlers_[std::move(path)] = {std::move(help), std::move(handler), std::move(takes)};
}

asio::awaitable<AdminResponse> AdminServer::dispatchAsync(const AdminRequest& request) const {
  const AsyncHandler* handler = nullptr;
  for (const auto& [path, entry] : async_handlers_) {
    const bool under = request.path.size() > path.size() && request.path.starts_with(path);
    if ((path.ends_with('/') ? under : request.path == path) && (!entry.takes || entry.takes(request.path))) {
      handler = &entry.handler;
    }
  }
  if (handler == nullptr) co_return dispatch(request);
  std::string failure;
  try {
    co_return co_await (*handler)(request);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "an unknown exception";
  }
  SLUICE_LOG(admin, error, "admin handler {} failed: {}", request.path, failure);
  co_return AdminResponse{500, "text/plain; charset=UTF-8",
                          "admin handler " + request.path + " failed: " + toValidUtf8(failure) + "\n"};
}

std::string AdminServer::helpText() const {
  // A multimap: a filtered async handler may share its prefix with a synchronous one.
  std::multimap<std::string, const Entry*> all;
  const Entry home{"Admin home page", false, nullptr, {}};
  const Entry help{"print out list of admin commands", false, nullptr, {}};
  all.emplace("/", &home);
  all.emplace("/help", &help);
  for (const auto& [path, entry] : handlers_) all.emplace(path, &entry);
  for (const auto& [prefix, entry] : prefix_handlers_) all.emplace(prefix + "*", &entry);
  std::vector<Entry> async_entries;
  async_entries.reserve(async_handlers_.size());
  for (const auto& [path, entry] : async_handlers_) {
    async_entries.push_back(Entry{entry.help, false, nullptr, {}});
    all.emplace(path.ends_with('/') ? path + "*" : path, &async_entries.back());
  }
  std::string out = "admin commands are:\n";
  for (const auto& [path, entry] : all) {
    out += "  " + path + (entry->mutating ? " (POST)" : "") + ": " + entry->help + "\n";
    for (const auto& param : entry->params) out += "      " + param.name + ": " + param.help + "\n";
  }
  return out;
}

std::error_code AdminServer::listen(const network::Tcp::endpoint& endpoint) {
  if (auto ec = network::openListener(acceptor_, endpoint, network::PortSharing::kExclusive)) return ec;
  // Non-blocking for the one synchronous accept() at the descriptor limit.
  std::error_code ignored;
  acceptor_.non_blocking(true, ignored);
  fd_exhausted_ = &store_.counter("listener.admin.downstream_cx_fd_exhausted");
  spare_.reserve();
  asio::co_spawn(io_, acceptLoop(), asio::detached);
  return {};
}

network::Tcp::endpoint AdminServer::localEndpoint() const {
  std::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void AdminServer::close() {
  std::error_code ignored;
  acceptor_.close(ignored);
  backoff_timer_.cancel();
  spare_.release();
}

asio::awaitable<void> AdminServer::acceptLoop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
    if (!acceptor_.is_open()) co_return;
    if (!ec) {
      backoff_.reset();
      spare_.reserve();  // if a worker took its descriptor before
      asio::co_spawn(io_, serveAndReserve(std::move(socket)), asio::detached);
    } else if (!network::isResourceExhaustion(ec)) {
      continue;  // one connection's trouble (ECONNABORTED, ...): take the next
    } else if (!network::connectionWaiting(acceptor_.native_handle())) {
      // At the limit with an empty backlog: wait until a connection comes.
      co_await acceptor_.async_wait(network::Tcp::acceptor::wait_read, kNoThrow);
    } else if (!co_await acceptAtTheLimit(ec)) {
      co_return;
    }
  }
}

asio::awaitable<bool> AdminServer::acceptAtTheLimit(std::error_code ec) {
  fd_exhausted_->inc();
  if (episodes_.failureStartsEpisode()) {
    SLUICE_LOG(admin, warn,
               "admin: accept failed: {}; {}; serving one connection at a time on a reserved descriptor, "
               "further failures are counted in listener.admin.downstream_cx_fd_exhausted",
               ec.message(), network::describeDescriptorUse(ec));
  }
  // The spare's descriptor for this connection (if it is not in use); a
  // worker may take it first, then admin waits like the listeners do.
  spare_.release();
  network::Tcp::socket socket(io_);
  std::error_code accept_ec;
  acceptor_.accept(socket, accept_ec);
  if (!accept_ec) {
    asio::co_spawn(io_, serveAndReserve(std::move(socket)), asio::detached);
    co_return true;
  }
  spare_.reserve();
  if (!network::isResourceExhaustion(accept_ec)) co_return true;  // that connection went away
  backoff_timer_.expires_after(backoff_.next());
  co_await backoff_timer_.async_wait(kNoThrow);  // ends early once the spare is back
  co_return acceptor_.is_open();
}

asio::awaitable<void> AdminServer::serveAndReserve(network::Tcp::socket socket) {
  co_await serve(std::move(socket));
  // serve()'s frame, and the socket in it, are gone: its descriptor is free.
  if (!spare_.held() && spare_.reserve()) backoff_timer_.cancel();
}

AdminResponse AdminServer::dispatch(const AdminRequest& request) const {
  if (request.path == "/" || request.path == "/help") return {200, "text/plain; charset=UTF-8", helpText()};
  const Entry* entry = nullptr;
  if (const auto it = handlers_.find(request.path); it != handlers_.end()) {
    entry = &it->second;
  } else {
    // The longest prefix that holds the path (map order: a prefix sorts before its extensions).
    for (const auto& [prefix, candidate] : prefix_handlers_) {
      if (request.path.size() > prefix.size() && request.path.starts_with(prefix)) entry = &candidate;
    }
  }
  if (entry == nullptr) return {404, "text/plain; charset=UTF-8", "invalid path. " + helpText()};
  if (entry->mutating && request.method != "POST") {
    return {405, "text/plain; charset=UTF-8", "Method " + request.method + " not allowed, POST required.\n"};
  }
  AdminResponse response;
  // A handler that fails answers 500 with the reason; an exception escaping
  // into the detached coroutine would close the connection with no answer.
  try {
    response = entry->handler(request);
  } catch (const std::exception& e) {
    SLUICE_LOG(admin, error, "admin handler {} failed: {}", request.path, e.what());
    return {500, "text/plain; charset=UTF-8",
            "admin handler " + request.path + " failed: " + toValidUtf8(e.what()) + "\n"};
  } catch (...) {
    SLUICE_LOG(admin, error, "admin handler {} failed with an unknown exception", request.path);
    return {500, "text/plain; charset=UTF-8", "admin handler " + request.path + " failed\n"};
  }
  // The last guard for every JSON writer: JSON text must be UTF-8.
  if (response.content_type.starts_with("application/json") && !isValidUtf8(response.body)) {
    response.body = toValidUtf8(response.body);
  }
  return response;
}

asio::awaitable<void> AdminServer::serve(network::Tcp::socket socket) {
  std::string in;
  http::http1::RequestHead head;
  const http::http1::Limits limits;
  char chunk[4096];
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kNoThrow);
    if (ec) co_return;
    in.append(chunk, n);
    const auto result = http::http1::parseRequestHead(in, limits, head);
    if (result.status == http::http1::ParseStatus::Incomplete) continue;
    AdminResponse response;
    if (result.status == http::http1::ParseStatus::Error) {
      response = {result.error_status, "text/plain; charset=UTF-8", std::string(result.detail) + "\n"};
    } else {
      AdminRequest request;
      request.method = head.method;
      const size_t q = head.target.find('?');
      request.path = head.target.substr(0, q);
      if (q != std::string::npos) request.query = head.target.substr(q + 1);
      request.content_type = std::string(head.headers.get("content-type").value_or(""));
      // A body (form values) only with Content-Length; the parser checked its syntax.
      const auto length = head.headers.get("content-length");
      const size_t body_size = length ? std::strtoull(std::string(*length).c_str(), nullptr, 10) : 0;
      if (head.headers.has("transfer-encoding")) {
        response = {411, "text/plain; charset=UTF-8", "admin requests need a Content-Length body\n"};
      } else if (body_size > kMaxAdminBody) {
        response = {413, "text/plain; charset=UTF-8", "admin request body too large\n"};
      } else {
        while (in.size() < result.consumed + body_size) {
          auto [read_ec, more] = co_await socket.async_read_some(asio::buffer(chunk), kNoThrow);
          if (read_ec) co_return;
          in.append(chunk, more);
        }
        request.body = in.substr(result.consumed, body_size);
        response = co_await dispatchAsync(request);
      }
    }
    http::http1::ResponseHead out_head;
    out_head.status = response.status;
    out_head.headers.add("content-type", response.content_type);
    out_head.headers.add("content-length", std::to_string(response.body.size()));
    bool cache_control = false;
    for (const auto& [name, value] : response.headers) {
      out_head.headers.add(name, value);
      cache_control = cache_control || name == "cache-control";
    }
    if (!cache_control) out_head.headers.add("cache-control", "no-cache, max-age=0");
    out_head.headers.add("x-content-type-options", "nosniff");
    out_head.headers.add("connection", "close");
    std::string out;
    http::http1::appendResponseHead(out_head, out);
    out += response.body;
    co_await asio::async_write(socket, asio::buffer(out), kNoThrow);
    std::error_code ignored;
    socket.shutdown(network::Tcp::socket::shutdown_send, ignored);
    co_return;
  }
}

}  // namespace sluice::admin
