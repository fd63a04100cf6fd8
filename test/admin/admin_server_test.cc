// The admin server's guards around every handler: one that throws answers 500
// with the reason (not a closed connection with no byte), and a JSON answer is
// always UTF-8. Real sockets on 127.0.0.1, the server's io_context on this thread.
#include "admin/admin_server.h"

#include <gtest/gtest.h>

#include <asio/connect.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "admin/admin_json.h"
#include "common/json_escape.h"
#include "common/utf8.h"

namespace sluice::admin {
namespace {

using asio::ip::tcp;

// Sends one GET for `path` to a fresh AdminServer with `handlers` and returns
// the whole answer (head and body).
std::string get(const std::string& path, const std::function<void(AdminServer&)>& handlers) {
  asio::io_context io;
  stats::Store store(1);
  AdminServer server(io, store);
  handlers(server);
  EXPECT_FALSE(server.listen({asio::ip::make_address("127.0.0.1"), 0}));
  const auto port = server.localEndpoint().port();
  std::string answer;
  std::thread client([&] {
    asio::io_context client_io;
    tcp::socket socket(client_io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::string request = "GET " + path + " HTTP/1.1\r\nhost: x\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    std::error_code ec;
    asio::read(socket, asio::dynamic_buffer(answer), ec);  // until the server closes
    asio::post(io, [&] {
      server.close();
      io.stop();
    });
  });
  io.run();
  client.join();
  return answer;
}

std::string body(const std::string& answer) { return answer.substr(answer.find("\r\n\r\n") + 4); }

TEST(AdminServer, AnswersAHandlerThatThrowsWith500AndTheReason) {
  const std::string answer = get("/boom", [](AdminServer& server) {
    server.add("/boom", "throws", false,
               [](const AdminRequest&) -> AdminResponse { throw std::runtime_error("the handler broke"); });
  });
  EXPECT_EQ(answer.rfind("HTTP/1.1 500 ", 0), 0u) << answer;
  EXPECT_EQ(body(answer), "admin handler /boom failed: the handler broke\n");
}

TEST(AdminServer, NeverSendsAJsonAnswerThatIsNotUtf8) {
  const std::string answer = get("/json", [](AdminServer& server) {
    server.add("/json", "bad bytes", false, [](const AdminRequest&) {
      return AdminResponse{200, "application/json", "{\"k\": \"\xff\xfe\xc3\"}\n"};
    });
  });
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0u) << answer;
  EXPECT_EQ(body(answer), "{\"k\": \"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}\n");
}

// addPrefix: every path under the prefix, the longest prefix first; an exact
// path wins; the bare prefix is not under it.
TEST(AdminServer, PrefixHandlersTakeThePathsUnderThem) {
  const auto handlers = [](AdminServer& server) {
    server.addPrefix("/v1/nodes/", "node", [](const AdminRequest& r) {
      return AdminResponse{200, "text/plain", "node " + r.path};
    });
    server.addPrefix("/v1/nodes/x/", "deeper", [](const AdminRequest&) {
      return AdminResponse{200, "text/plain", "deeper"};
    });
    server.add("/v1/nodes/exact", "exact", false, [](const AdminRequest&) {
      return AdminResponse{200, "text/plain", "exact"};
    });
  };
  EXPECT_EQ(body(get("/v1/nodes/edge-1", handlers)), "node /v1/nodes/edge-1");
  EXPECT_EQ(body(get("/v1/nodes/x/y", handlers)), "deeper");
  EXPECT_EQ(body(get("/v1/nodes/exact", handlers)), "exact");
  EXPECT_EQ(get("/v1/nodes/", handlers).rfind("HTTP/1.1 404 ", 0), 0u);
  EXPECT_NE(body(get("/help", handlers)).find("  /v1/nodes/*: node\n"), std::string::npos);
}

TEST(AdminServer, AsyncHandlersWaitOnATimerAndComeFirst) {
  const auto handlers = [](AdminServer& server) {
    server.add("/v1/diff", "sync", false, [](const AdminRequest&) { return AdminResponse{200, "text/plain", "sync"}; });
    server.addAsync("/v1/diff", "async", [](const AdminRequest& r) -> asio::awaitable<AdminResponse> {
      asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(5));
      co_await timer.async_wait(asio::use_awaitable);
      co_return AdminResponse{200, "text/plain", "waited " + r.method + " " + r.path};
    });
    server.addAsync("/v1/services/", "writes", [](const AdminRequest&) -> asio::awaitable<AdminResponse> {
      throw std::runtime_error("store gone");
      co_return AdminResponse{};
    });
  };
  EXPECT_EQ(body(get("/v1/diff", handlers)), "waited GET /v1/diff");
  const std::string failed = get("/v1/services/echo", handlers);
  EXPECT_EQ(failed.rfind("HTTP/1.1 500 ", 0), 0u) << failed;
  EXPECT_NE(body(failed).find("store gone"), std::string::npos);
  EXPECT_EQ(get("/v1/services/", handlers).rfind("HTTP/1.1 404 ", 0), 0u);
  const std::string help = body(get("/help", handlers));
  EXPECT_NE(help.find("  /v1/services/*: writes\n"), std::string::npos) << help;
}

TEST(AdminServer, AFilteredAsyncHandlerLeavesTheOtherPathsToTheSyncOnes) {
  const auto handlers = [](AdminServer& server) {
    server.addPrefix("/v1/nodes/", "one node", [](const AdminRequest& r) {
      return AdminResponse{200, "text/plain", "sync " + r.path};
    });
    server.addAsync(
        "/v1/nodes/", "its admin",
        [](const AdminRequest& r) -> asio::awaitable<AdminResponse> {
          co_return AdminResponse{200, "text/plain", "async " + r.path};
        },
        [](std::string_view path) { return path.find("/admin/") != std::string_view::npos; });
  };
  EXPECT_EQ(body(get("/v1/nodes/a", handlers)), "sync /v1/nodes/a");
  EXPECT_EQ(body(get("/v1/nodes/a/admin/stats", handlers)), "async /v1/nodes/a/admin/stats");
  const std::string help = body(get("/help", handlers));
  EXPECT_NE(help.find("  /v1/nodes/*: one node\n"), std::string::npos) << help;
  EXPECT_NE(help.find("  /v1/nodes/*: its admin\n"), std::string::npos) << help;
}

TEST(AdminServer, AHandlersHeadersAreSentAndItsCacheControlReplacesTheDefault) {
  const auto handlers = [](AdminServer& server) {
    server.add("/plain", "", false, [](const AdminRequest&) { return AdminResponse{200, "text/plain", "x"}; });
    server.add("/cached", "", false, [](const AdminRequest&) {
      return AdminResponse{200, "text/plain", "x", {{"cache-control", "no-cache"}, {"location", "/there"}}};
    });
  };
  EXPECT_NE(get("/plain", handlers).find("cache-control: no-cache, max-age=0\r\n"), std::string::npos);
  const std::string cached = get("/cached", handlers);
  EXPECT_NE(cached.find("cache-control: no-cache\r\n"), std::string::npos) << cached;
  EXPECT_EQ(cached.find("max-age=0"), std::string::npos) << cached;
  EXPECT_NE(cached.find("location: /there\r\n"), std::string::npos) << cached;
}

TEST(AdminJson, PrintsStringsThatAreNotUtf8InsteadOfThrowing) {
  const std::string out = dumpJson(nlohmann::json{{"\xff", "\xc3"}});
  EXPECT_TRUE(isValidUtf8(out)) << out;
  EXPECT_EQ(nlohmann::json::parse(out).begin().key(), "\xef\xbf\xbd");
}

TEST(JsonEscape, ReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(escapeJson("a\xff\xed\xa0\x80z é"), "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz é");
}

TEST(Utf8, AcceptsValidAndRepairsInvalidSequences) {
  EXPECT_TRUE(isValidUtf8("plain é € \xf0\x9f\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_EQ(toValidUtf8("a\xc3z"), "a\xef\xbf\xbdz");
}

}  // namespace
}  // namespace sluice::admin
