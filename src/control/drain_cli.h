// sluice-control drain | undrain | abort | resume | status: the operator's
// commands, as calls to a running control plane's REST API (--control).
// Exit status 0 when the control plane did it, 1 otherwise (with its error).
#pragma once

#include "control/options.h"

namespace sluice::control {

int runDrainCommand(const CliOptions& options);

}  // namespace sluice::control
