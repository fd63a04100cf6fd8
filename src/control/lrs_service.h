// The LRS gRPC service (envoy.service.load_stats.v3.LoadReportingService),
// served beside ADS on --xds-listen. Like the ADS streams (ads_server.h):
// gRPC's callback API, reactions on gRPC's threads that only post each
// request to the main io_context, where LoadReports lives, and write the
// response it gives.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <memory>

#include <asio/io_context.hpp>

#include "control/load_reports.h"
#include "envoy/service/load_stats/v3/lrs.grpc.pb.h"

namespace sluice::control {

class LrsService final : public envoy::service::load_stats::v3::LoadReportingService::CallbackService {
 public:
  LrsService(asio::io_context& io, LoadReports& loads) : io_(io), loads_(loads) {}

  grpc::ServerBidiReactor<envoy::service::load_stats::v3::LoadStatsRequest,
                          envoy::service::load_stats::v3::LoadStatsResponse>*
  StreamLoadStats(grpc::CallbackServerContext* context) override;

 private:
  asio::io_context& io_;
  LoadReports& loads_;
};

}  // namespace sluice::control
