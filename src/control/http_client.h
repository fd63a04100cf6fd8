// A small asynchronous HTTP/1.1 client for the control plane's own peers:
// etcd's JSON gateway and another sluice-control's status API. One request
// per connection (`Connection: close`), IP literals only (no DNS), on the
// io_context of the caller's coroutine; never on a proxy's request path.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "network/asio_util.h"

namespace sluice::control {

struct HttpReply {
  std::string error;  // connect, write, read or framing failure; "" when a response arrived
  int status = 0;
  std::string body;  // the whole body, unless the request streamed it
};

struct HttpCall {
  network::Tcp::endpoint endpoint;
  std::string method = "GET";
  std::string target = "/";
  std::string body;  // sent with Content-Length (and content-type: application/json) when not empty
  // Connect, write and read until the response head: past this the call
  // fails. For a non-streaming call the whole body must arrive in time too.
  std::chrono::milliseconds timeout{5000};
  // A body past this many bytes fails the call (non-streaming calls; 0: no limit).
  size_t max_body = 0;
  // When set, the body is handed over slice by slice (chunked coding
  // removed) and not kept; returning false ends the call. No timeout once
  // the head is in: a watch stays open until either side closes it.
  std::function<bool(std::string_view)> on_data;
  // When set, filled (once the socket exists) with a function that ends the
  // call from outside, as a failure ("aborted"); the caller clears it when
  // the call returns. For a watch that must be left (a hung member).
  std::function<void()>* abort = nullptr;
};

asio::awaitable<HttpReply> httpCall(HttpCall call);

// "http://127.0.0.1:8080" or "http://[::1]:8080" (an optional trailing
// path is kept in `path`). False when not of that form.
bool parseHttpUrl(std::string_view url, network::Tcp::endpoint& endpoint, std::string& path);

// `text` as one path segment or query value: RFC 3986 unreserved characters
// stay, everything else is %XX.
std::string percentEncode(std::string_view text);

}  // namespace sluice::control
