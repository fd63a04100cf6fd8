// The byte side of an ADS stream, apart from the protocol: a transport opens
// one bidi StreamAggregatedResources stream at a time (reconnecting after a
// failure, as it sees fit) and reports what happens on it. AdsClient
// (ads_client.h) holds the protocol state and runs on the main thread; the
// gRPC transport (grpc_transport.h) runs on threads of its own and posts its
// events to the main thread, so every AdsStreamEvents call is on the main
// thread. Tests drive AdsClient with a fake transport.
#pragma once

#include <cstdint>
#include <string>

#include "envoy/service/discovery/v3/discovery.pb.h"

namespace sluice::config::xds {

// Called on the main thread. `stream` numbers the streams of a transport
// (1, 2, ...): an event of a stream that has since closed is stale.
class AdsStreamEvents {
 public:
  virtual ~AdsStreamEvents() = default;
  virtual void onStreamOpen(uint64_t stream, const std::string& peer) = 0;
  virtual void onResponse(uint64_t stream, envoy::service::discovery::v3::DiscoveryResponse response) = 0;
  virtual void onStreamClosed(uint64_t stream, const std::string& reason) = 0;
};

class AdsTransport {
 public:
  virtual ~AdsTransport() = default;
  // Starts connecting; events go to `events` (which outlives the transport's run).
  virtual void start(AdsStreamEvents& events) = 0;
  // Queues `request` on `stream`; dropped if that stream is no longer open
  // (the client sends its whole state again on the next one). Never blocks.
  virtual void send(uint64_t stream, envoy::service::discovery::v3::DiscoveryRequest request) = 0;
  // Closes the stream and stops reconnecting; no event is delivered after it.
  virtual void stop() = 0;
};

}  // namespace sluice::config::xds
