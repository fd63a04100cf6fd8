// TlsStats: a TLS listener's listener.<address>.ssl.* stats, Envoy's names.
// Shared by every filter chain of the listener address (the registry keeps
// one per address). The fixed counters are created on the main thread when a
// config is compiled; versions.<v>, ciphers.<c> and curves.<c> are created on
// their first handshake (one store lock per name, never again: later
// handshakes find the counter in a lock-free slot table). Any thread.
#pragma once

#include <array>
#include <atomic>
#include <string>
#include <string_view>

#include "stats/stats.h"

namespace sluice::network::tls {

class TlsStats {
 public:
  TlsStats(stats::Store& store, const std::string& listener_prefix);  // "listener.<address>."

  stats::Counter& handshake;            // completed handshakes
  stats::Counter& connection_error;     // handshakes that failed
  stats::Counter& no_certificate;       // completed handshakes without a client certificate
  stats::Counter& fail_verify_no_cert;  // a required client certificate was not sent
  stats::Counter& fail_verify_error;    // the client certificate failed the CA verification
  stats::Counter& fail_verify_san;      // ... or the subject alt name match

  // ssl.<group>.<name> for a static name of OpenSSL's (its address is the
  // key: SSL_get_version, SSL_CIPHER_get_name and the curve names below are
  // static strings).
  void countVersion(const char* name) { named(name, "versions.").inc(); }
  void countCipher(const char* name) { named(name, "ciphers.").inc(); }
  void countCurve(const char* name) { named(name, "curves.").inc(); }

 private:
  stats::Counter& named(const char* name, std::string_view group);

  struct Slot {
    std::atomic<const char*> key{nullptr};
    std::atomic<stats::Counter*> counter{nullptr};
  };
  stats::Store& store_;
  const std::string prefix_;  // "listener.<address>.ssl."
  // Open addressing; more distinct names than slots (not possible with
  // OpenSSL's tables) fall back to the store's lookup.
  std::array<Slot, 128> slots_;
};

}  // namespace sluice::network::tls
