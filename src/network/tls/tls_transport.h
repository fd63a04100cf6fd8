// TlsTransport: a Transport that terminates TLS on an accepted TCP socket.
//
// OpenSSL runs on the descriptor itself (a socket BIO, non-blocking), driven
// by asio readiness: an operation that returns WANT_READ / WANT_WRITE waits
// for the socket and is retried. Against memory BIOs this saves a copy of
// every record and keeps the one-read-per-wake-up shape of TcpTransport
// (read_ahead: one recv takes what the kernel has, several records); the
// descriptor stays with asio's socket, which owns, cancels and closes it.
//
// readable() completes at once while OpenSSL holds bytes it has not handed
// out (decrypted or a whole record buffered) and waits for the socket once
// a read said WANT_READ (what is buffered then is an incomplete record).
// Writes coalesce a writev into one record batch (a scratch string kept by
// the transport).
//
// Owned by one downstream connection; its worker's io_context only.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "network/tls/tls_context.h"
#include "network/transport.h"

namespace sluice::network::tls {

// The negotiated session as access logs print it (per connection).
struct SessionInfo {
  std::string version;       // TLSv1.3
  std::string cipher;        // TLS_AES_128_GCM_SHA256
  std::string server_name;   // SNI, or empty
  std::string peer_subject;  // RFC 2253 subject of the client certificate
  std::string peer_uri_san;  // the client certificate's URI SANs, comma separated
  std::string alpn;          // the negotiated protocol, or empty
};

enum class HandshakeResult : uint8_t { kDone, kFailed, kClosed };

class TlsTransport final : public Transport {
 public:
  TlsTransport(Tcp::socket socket, std::shared_ptr<const TlsServerContext> context);
  ~TlsTransport() override;

  // The server side of the handshake; counts ssl.* on the context's stats.
  // close() (a timeout) ends it with kClosed.
  asio::awaitable<HandshakeResult> handshake();
  SessionInfo sessionInfo() const;

  ReadStatus tryRead(IoBuffer& buffer, size_t limit) override;
  asio::awaitable<WaitResult> readable() override;
  void waitReadable(WaitHandler handler) override;
  asio::awaitable<WriteResult> write(std::string_view data) override;
  asio::awaitable<WriteResult> writev(std::span<const asio::const_buffer> parts) override;
  void asyncWrite(std::string_view data, WriteHandler handler) override;
  void cancel() override;
  void shutdownSend() override;
  void shutdown() override;
  void close() override;
  void abort() override;
  bool isOpen() const override { return socket_.is_open(); }
  Tcp::endpoint peerAddress() const override;
  Tcp::endpoint localAddress() const override;

 private:
  // OpenSSL holds bytes a read would return without the socket.
  bool holdsBytes() const { return SSL_pending(ssl_) > 0 || (!read_wants_socket_ && SSL_has_pending(ssl_) == 1); }
  void countHandshake();
  // Sends close_notify once (best effort: a full socket buffer drops it).
  void sendCloseNotify();

  Tcp::socket socket_;
  std::shared_ptr<const TlsServerContext> context_;
  SSL* ssl_;
  VerifyFailure verify_failure_ = VerifyFailure::kNone;  // SSL_get_app_data
  bool read_wants_socket_ = false;
  bool close_notify_sent_ = false;
  std::string scratch_;  // writev's parts, joined
};

}  // namespace sluice::network::tls
