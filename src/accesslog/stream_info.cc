#include "accesslog/stream_info.h"

namespace sluice::accesslog {

void appendResponseFlags(uint32_t flags, std::string& out) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kFailedLocalHealthCheck, "LH"},
      {kNoHealthyUpstream, "UH"},
      {kUpstreamRequestTimeout, "UT"},
      {kLocalReset, "LR"},
      {kUpstreamRemoteReset, "UR"},
      {kUpstreamConnectionFailure, "UF"},
      {kUpstreamConnectionTermination, "UC"},
      {kUpstreamOverflow, "UO"},
      {kNoRouteFound, "NR"},
      {kDelayInjected, "DI"},
      {kFaultInjected, "FI"},
      {kRateLimited, "RL"},
      {kDownstreamConnectionTermination, "DC"},
      {kUpstreamRetryLimitExceeded, "URX"},
      {kUpstreamProtocolError, "UPE"},
      {kNoClusterFound, "NC"},
      {kStreamIdleTimeout, "SI"},
      {kDownstreamProtocolError, "DPE"},
      {kDurationTimeout, "DT"},
  };
  bool first = true;
  for (const auto& [flag, name] : kNames) {
    if ((flags & flag) == 0) continue;
    if (!first) out += ',';
    out += name;
    first = false;
  }
  if (first) out += '-';
}

std::string responseFlagsText(uint32_t flags) {
  std::string out;
  appendResponseFlags(flags, out);
  return out;
}

}  // namespace sluice::accesslog
