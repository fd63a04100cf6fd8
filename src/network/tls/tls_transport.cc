#include "network/tls/tls_transport.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>

namespace sluice::network::tls {
namespace {

// Envoy's curve names for the groups OpenSSL negotiates (static strings: the
// stats key on their address).
const char* curveName(int nid) {
  switch (nid) {
    case NID_X25519:
      return "X25519";
    case NID_X9_62_prime256v1:
      return "P-256";
    case NID_secp384r1:
      return "P-384";
    case NID_secp521r1:
      return "P-521";
    case NID_X448:
      return "X448";
    default:
      return nullptr;
  }
}

}  // namespace

TlsTransport::TlsTransport(Tcp::socket socket, std::shared_ptr<const TlsServerContext> context)
    : socket_(std::move(socket)), context_(std::move(context)), ssl_(SSL_new(context_->native())) {
  std::error_code ignored;
  socket_.set_option(Tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored);
  SSL_set_fd(ssl_, socket_.native_handle());
  SSL_set_app_data(ssl_, &verify_failure_);
  SSL_set_accept_state(ssl_);
}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

asio::awaitable<HandshakeResult> TlsTransport::handshake() {
  auto& stats = context_->stats();
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl_);
    if (rc == 1) {
      countHandshake();
      co_return HandshakeResult::kDone;
    }
    const int error = SSL_get_error(ssl_, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      const auto [ec] = co_await socket_.async_wait(
          error == SSL_ERROR_WANT_READ ? Tcp::socket::wait_read : Tcp::socket::wait_write, kNoThrow);
      if (ec) co_return HandshakeResult::kClosed;  // closed by a timeout or a drain
      continue;
    }
    // The peer went away, or the handshake failed: Envoy counts both.
    stats.connection_error.inc();
    if (verify_failure_ == VerifyFailure::kSan) {
      stats.fail_verify_san.inc();
    } else if (verify_failure_ == VerifyFailure::kError) {
      stats.fail_verify_error.inc();
    } else if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
      stats.fail_verify_no_cert.inc();
    }
    ERR_clear_error();
    co_return error == SSL_ERROR_SYSCALL || error == SSL_ERROR_ZERO_RETURN ? HandshakeResult::kClosed
                                                                           : HandshakeResult::kFailed;
  }
}

void TlsTransport::countHandshake() {
  auto& stats = context_->stats();
  stats.handshake.inc();
  stats.countVersion(SSL_get_version(ssl_));
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_)) stats.countCipher(SSL_CIPHER_get_name(cipher));
  if (const char* curve = curveName(SSL_get_negotiated_group(ssl_) & ~TLSEXT_nid_unknown)) stats.countCurve(curve);
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr) stats.no_certificate.inc();
}

SessionInfo TlsTransport::sessionInfo() const {
  SessionInfo info;
  info.version = SSL_get_version(ssl_);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_)) info.cipher = SSL_CIPHER_get_name(cipher);
  if (const char* sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name)) info.server_name = sni;
  const unsigned char* alpn = nullptr;
  unsigned alpn_length = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_length);
  if (alpn != nullptr) info.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr) return info;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    X509_NAME_print_ex(bio, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    if (length > 0) info.peer_subject.assign(data, static_cast<size_t>(length));
    BIO_free(bio);
  }
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(peer, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type != GEN_URI) continue;
      if (!info.peer_uri_san.empty()) info.peer_uri_san += ',';
      info.peer_uri_san.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.uniformResourceIdentifier)),
                               static_cast<size_t>(ASN1_STRING_length(name->d.uniformResourceIdentifier)));
    }
    GENERAL_NAMES_free(names);
  }
  return info;
}

ReadStatus TlsTransport::tryRead(IoBuffer& buffer, size_t limit) {
  char* room = buffer.writePointer();  // first: it may compact, which grows writable()
  size_t n = 0;
  ERR_clear_error();
  if (SSL_read_ex(ssl_, room, std::min(buffer.writable(), limit), &n) == 1) {
    read_wants_socket_ = false;
    buffer.commit(n);
    return ReadStatus::Data;
  }
  switch (SSL_get_error(ssl_, 0)) {
    case SSL_ERROR_WANT_READ:
      read_wants_socket_ = true;
      return ReadStatus::WouldBlock;
    case SSL_ERROR_WANT_WRITE:  // a key update's answer waits for room: the next write sends it
      read_wants_socket_ = true;
      return ReadStatus::WouldBlock;
    case SSL_ERROR_ZERO_RETURN:  // close_notify, or an end without one (SSL_OP_IGNORE_UNEXPECTED_EOF)
      return ReadStatus::Closed;
    default:
      ERR_clear_error();
      return ReadStatus::Failed;
  }
}

asio::awaitable<Transport::WaitResult> TlsTransport::readable() {
  if (holdsBytes()) co_return WaitResult{};
  co_return co_await socket_.async_wait(Tcp::socket::wait_read, kNoThrow);
}

void TlsTransport::waitReadable(WaitHandler handler) {
  if (holdsBytes()) {
    asio::post(socket_.get_executor(), [handler = std::move(handler)] { handler(std::error_code()); });
    return;
  }
  read_wants_socket_ = true;
  socket_.async_wait(Tcp::socket::wait_read, std::move(handler));
}

asio::awaitable<Transport::WriteResult> TlsTransport::write(std::string_view data) {
  if (data.empty()) co_return WriteResult{std::error_code(), 0};
  for (;;) {
    size_t n = 0;
    ERR_clear_error();
    if (SSL_write_ex(ssl_, data.data(), data.size(), &n) == 1) co_return WriteResult{std::error_code(), data.size()};
    const int error = SSL_get_error(ssl_, 0);
    if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
      const auto [ec] = co_await socket_.async_wait(
          error == SSL_ERROR_WANT_WRITE ? Tcp::socket::wait_write : Tcp::socket::wait_read, kNoThrow);
      if (ec) co_return WriteResult{ec, 0};
      continue;
    }
    ERR_clear_error();
    co_return WriteResult{asio::error::connection_reset, 0};
  }
}

asio::awaitable<Transport::WriteResult> TlsTransport::writev(std::span<const asio::const_buffer> parts) {
  scratch_.clear();
  for (const auto& part : parts) scratch_.append(static_cast<const char*>(part.data()), part.size());
  const auto result = co_await write(scratch_);
  co_return result;
}

void TlsTransport::asyncWrite(std::string_view data, WriteHandler handler) {
  asio::co_spawn(socket_.get_executor(), write(data),
                 [handler = std::move(handler)](std::exception_ptr, WriteResult result) {
                   handler(std::get<0>(result), std::get<1>(result));
                 });
}

void TlsTransport::cancel() {
  std::error_code ignored;
  socket_.cancel(ignored);
}

void TlsTransport::sendCloseNotify() {
  if (close_notify_sent_ || !socket_.is_open()) return;
  close_notify_sent_ = true;
  ERR_clear_error();
  if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
  ERR_clear_error();
}

void TlsTransport::shutdownSend() {
  sendCloseNotify();
  std::error_code ignored;
  socket_.shutdown(Tcp::socket::shutdown_send, ignored);
}

void TlsTransport::shutdown() {
  sendCloseNotify();
  std::error_code ignored;
  socket_.shutdown(Tcp::socket::shutdown_both, ignored);
}

void TlsTransport::close() {
  std::error_code ignored;
  socket_.close(ignored);
}

void TlsTransport::abort() {
  std::error_code ignored;
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
}

Tcp::endpoint TlsTransport::peerAddress() const {
  std::error_code ignored;
  return socket_.remote_endpoint(ignored);
}

Tcp::endpoint TlsTransport::localAddress() const {
  std::error_code ignored;
  return socket_.local_endpoint(ignored);
}

}  // namespace sluice::network::tls
