// The ADS gRPC service (envoy.service.discovery.v3.AggregatedDiscoveryService,
// state of the world). gRPC's callback API: no thread per stream; its
// reactions run on gRPC's own threads and do only two things: post each
// request to the main io_context (where ControlPlane and the sessions live),
// and write out the responses the main thread queued. Both
// StreamAggregatedResources (SotW) and DeltaAggregatedResources are served,
// and on the same port the LRS service when given LoadReports (lrs_service.h).
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <string>

#include <asio/io_context.hpp>

#include "control/control_plane.h"
#include "control/load_reports.h"

namespace sluice::control {

class AdsServer {
 public:
  AdsServer(asio::io_context& io, ControlPlane& control_plane, LoadReports* loads = nullptr);
  ~AdsServer();

  // Listens on `address` ("127.0.0.1:0"); `port` gets the bound port.
  bool start(const std::string& address, int& port, std::string& error);
  // Cancels the streams and waits for gRPC's threads; the io_context must
  // no longer run the posted work afterwards (or be stopped first).
  void shutdown();

  class Service;

 private:
  asio::io_context& io_;
  ControlPlane& control_plane_;
  LoadReports* loads_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Service> lrs_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace sluice::control
