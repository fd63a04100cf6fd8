// The byte side of an ADS stream, apart from the protocol: a transport opens
// one bidi stream at a time (StreamAggregatedResources, or
// DeltaAggregatedResources), reconnecting after a failure as it sees fit, and
// reports what happens on it. AdsClient and DeltaAdsClient (ads_client.h,
// delta_ads_client.h) hold the protocol state and run on the main thread; the
// gRPC transport (grpc_transport.h) runs on threads of its own and posts its
// events to the main thread, so every AdsStreamEvents call is on the main
// thread. Tests drive the clients with a fake transport.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envoy/service/discovery/v3/discovery.pb.h"

namespace sluice::config::xds {

// When a response was read off the stream (the transport's reader thread):
// the start of its propagation to the workers.
using ReceivedAt = std::chrono::steady_clock::time_point;

// Called on the main thread. `stream` numbers the streams of a transport
// (1, 2, ...): an event of a stream that has since closed is stale.
template <typename Response>
class AdsStreamEventsOf {
 public:
  virtual ~AdsStreamEventsOf() = default;
  virtual void onStreamOpen(uint64_t stream, const std::string& peer) = 0;
  virtual void onResponse(uint64_t stream, Response response, ReceivedAt received) = 0;
  virtual void onStreamClosed(uint64_t stream, const std::string& reason) = 0;
};

// Resource names to put in a request, shared and immutable: a state-of-the-
// world client asks for every name in every request (10,000 EDS clusters:
// 10,000 names per ACK), so the main thread hands over a pointer and the
// transport's writer thread copies them into the message.
using SharedNames = std::shared_ptr<const std::vector<std::string>>;

// `Request`/`Response`: DiscoveryRequest/DiscoveryResponse for the state of
// the world (StreamAggregatedResources), their Delta* forms for the
// incremental protocol (DeltaAggregatedResources).
template <typename Request, typename Response>
class AdsTransportOf {
 public:
  virtual ~AdsTransportOf() = default;
  // Starts connecting; events go to `events` (which outlives the transport's run).
  virtual void start(AdsStreamEventsOf<Response>& events) = 0;
  // Queues `request` on `stream`, with `names` (may be null) appended to its
  // resource_names (DiscoveryRequest only); dropped if that stream is no
  // longer open (the client sends its whole state again on the next one).
  // Never blocks.
  virtual void send(uint64_t stream, Request request, SharedNames names) = 0;
  // Closes the stream and stops reconnecting; no event is delivered after it.
  virtual void stop() = 0;
};

using AdsStreamEvents = AdsStreamEventsOf<envoy::service::discovery::v3::DiscoveryResponse>;
using AdsTransport =
    AdsTransportOf<envoy::service::discovery::v3::DiscoveryRequest, envoy::service::discovery::v3::DiscoveryResponse>;
using DeltaAdsStreamEvents = AdsStreamEventsOf<envoy::service::discovery::v3::DeltaDiscoveryResponse>;
using DeltaAdsTransport = AdsTransportOf<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                                         envoy::service::discovery::v3::DeltaDiscoveryResponse>;

}  // namespace sluice::config::xds
