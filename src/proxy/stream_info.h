// The stream record lives with the access logs that read it
// (accesslog/stream_info.h); the data path names it as its own.
#pragma once

#include "accesslog/stream_info.h"

namespace sluice::proxy {

using accesslog::responseFlagsText;
using accesslog::StreamInfo;
using enum accesslog::ResponseFlag;

}  // namespace sluice::proxy
