#include "control/lrs_service.h"

#include <mutex>
#include <optional>

#include <asio/post.hpp>

namespace sluice::control {

namespace {

using envoy::service::load_stats::v3::LoadStatsRequest;
using envoy::service::load_stats::v3::LoadStatsResponse;

// What the main thread and gRPC's threads share for one stream. The server
// writes one response per stream (the first request's answer), so there is
// no write queue: a second response would wait for the first to be written.
struct LrsLink {
  std::recursive_mutex mutex;  // gRPC may run a reaction inline in StartWrite
  grpc::ServerBidiReactor<LoadStatsRequest, LoadStatsResponse>* reactor = nullptr;  // null once done
  std::optional<LoadStatsResponse> writing;
  bool reads_done = false;
  bool finished = false;
  uint64_t id = 0;  // main thread's
};

class LrsStream final : public grpc::ServerBidiReactor<LoadStatsRequest, LoadStatsResponse> {
 public:
  LrsStream(asio::io_context& io, LoadReports& loads) : io_(io), loads_(loads), link_(std::make_shared<LrsLink>()) {
    link_->reactor = this;
    asio::post(io_, [&loads, link = link_] { link->id = loads.openStream(); });
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard lock(link_->mutex);
      link_->reads_done = true;
      finishIfDone();
      return;
    }
    asio::post(io_, [&loads = loads_, link = link_, request = std::move(request_)] {
      auto response = loads.onRequest(link->id, request);
      if (!response) return;
      std::lock_guard lock(link->mutex);
      if (link->reactor == nullptr || link->finished || link->reads_done || link->writing) return;
      link->writing = std::move(*response);
      link->reactor->StartWrite(&*link->writing);
    });
    request_.Clear();
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(link_->mutex);
    link_->writing.reset();
    if (!ok) link_->reads_done = true;
    finishIfDone();
  }

  void OnDone() override {
    {
      std::lock_guard lock(link_->mutex);
      link_->reactor = nullptr;
    }
    asio::post(io_, [&loads = loads_, link = link_] { loads.closeStream(link->id); });
    delete this;
  }

 private:
  // Holds link_->mutex.
  void finishIfDone() {
    if (link_->finished || !link_->reads_done || link_->writing) return;
    link_->finished = true;
    Finish(grpc::Status::OK);
  }

  asio::io_context& io_;
  LoadReports& loads_;
  std::shared_ptr<LrsLink> link_;
  LoadStatsRequest request_;
};

}  // namespace

grpc::ServerBidiReactor<LoadStatsRequest, LoadStatsResponse>* LrsService::StreamLoadStats(
    grpc::CallbackServerContext* /*context*/) {
  return new LrsStream(io_, loads_);
}

}  // namespace sluice::control
