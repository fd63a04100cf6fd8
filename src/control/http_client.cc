#include "control/http_client.h"

#include <memory>

#include "control/options.h"
#include "http/http1_body.h"
#include "http/http1_parser.h"
#include "http/http1_serializer.h"

namespace sluice::control {

using network::kNoThrow;
using network::Tcp;

asio::awaitable<HttpReply> httpCall(HttpCall call) {
  HttpReply reply;
  auto executor = co_await asio::this_coro::executor;
  auto socket = std::make_shared<Tcp::socket>(executor);
  asio::steady_timer deadline(executor);
  deadline.expires_after(call.timeout);
  bool timed_out = false;
  if (call.abort != nullptr) {
    *call.abort = [weak = std::weak_ptr<Tcp::socket>(socket)] {
      if (const auto s = weak.lock()) {
        std::error_code ignored;
        s->close(ignored);
      }
    };
  }
  deadline.async_wait([socket, &timed_out](const std::error_code& ec) {
    if (ec) return;
    timed_out = true;
    std::error_code ignored;
    socket->close(ignored);
  });
  const auto failed = [&](std::string_view what, const std::error_code& ec) {
    reply.error = std::string(what) + ": " + (timed_out ? std::string("timed out") : ec.message());
    deadline.cancel();
    return reply;
  };
  const std::string where = call.endpoint.address().to_string() + ":" + std::to_string(call.endpoint.port());
  if (auto [ec] = co_await socket->async_connect(call.endpoint, kNoThrow); ec) co_return failed("connect " + where, ec);

  http::http1::RequestHead head;
  head.method = call.method;
  head.target = call.target;
  head.headers.add("host", where);
  head.headers.add("connection", "close");
  if (!call.body.empty() || call.method == "POST" || call.method == "PUT") {
    head.headers.add("content-type", "application/json");
    head.headers.add("content-length", std::to_string(call.body.size()));
  }
  std::string out;
  http::http1::appendRequestHead(head, out);
  out += call.body;
  if (auto [ec, n] = co_await asio::async_write(*socket, asio::buffer(out), kNoThrow); ec) {
    co_return failed("write to " + where, ec);
  }

  const http::http1::Limits limits;
  std::string in;
  char chunk[16384];
  http::http1::ResponseHead response;
  size_t consumed = 0;
  for (;;) {
    auto [ec, n] = co_await socket->async_read_some(asio::buffer(chunk), kNoThrow);
    if (ec) co_return failed("read from " + where, ec);
    in.append(chunk, n);
    const auto result = http::http1::parseResponseHead(in, limits, response);
    if (result.status == http::http1::ParseStatus::Incomplete) continue;
    if (result.status == http::http1::ParseStatus::Error) {
      reply.error = "bad response from " + where + ": " + std::string(result.detail);
      deadline.cancel();
      co_return reply;
    }
    consumed = result.consumed;
    break;
  }
  reply.status = response.status;
  const auto framing = http::http1::responseFraming(response, call.method, limits);
  if (!framing.ok) {
    reply.error = "bad response from " + where + ": " + std::string(framing.detail);
    deadline.cancel();
    co_return reply;
  }
  if (call.on_data) deadline.cancel();
  http::http1::BodyDecoder decoder(limits);
  decoder.reset(framing.framing);
  in.erase(0, consumed);
  bool done = framing.framing.kind == http::http1::Framing::Kind::None;
  while (!done) {
    size_t used = 0;
    for (;;) {
      const auto step = decoder.decode(std::string_view(in).substr(used));
      if (step.error) {
        reply.error = "bad body from " + where + ": " + std::string(step.detail);
        deadline.cancel();
        co_return reply;
      }
      used += step.consumed;
      if (!step.data.empty()) {
        if (call.on_data) {
          if (!call.on_data(step.data)) {
            deadline.cancel();
            co_return reply;
          }
        } else {
          reply.body.append(step.data);
          if (call.max_body != 0 && reply.body.size() > call.max_body) {
            reply.error = "response from " + where + " larger than " + std::to_string(call.max_body) + " bytes";
            reply.body.clear();
            deadline.cancel();
            co_return reply;
          }
        }
      }
      if (step.done) {
        done = true;
        break;
      }
      if (step.consumed == 0 && step.data.empty()) break;
    }
    in.erase(0, used);
    if (done) break;
    auto [ec, n] = co_await socket->async_read_some(asio::buffer(chunk), kNoThrow);
    if (ec) {
      if (ec == asio::error::eof && framing.framing.kind == http::http1::Framing::Kind::UntilClose) break;
      co_return failed("read from " + where, ec);
    }
    in.append(chunk, n);
  }
  deadline.cancel();
  co_return reply;
}

bool parseHttpUrl(std::string_view url, network::Tcp::endpoint& endpoint, std::string& path) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return false;
  url.remove_prefix(kScheme.size());
  const size_t slash = url.find('/');
  const std::string authority(url.substr(0, slash));
  path = slash == std::string_view::npos ? "" : std::string(url.substr(slash));
  std::string host;
  uint16_t port = 0;
  if (!splitHostPort(authority, host, port) || port == 0) return false;
  std::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return false;
  endpoint = {address, port};
  return true;
}

std::string percentEncode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += c;
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[static_cast<uint8_t>(c) >> 4];
      out += kHex[static_cast<uint8_t>(c) & 15];
    }
  }
  return out;
}

}  // namespace sluice::control
