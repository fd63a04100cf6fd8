// Fuzzes the configuration path of `sluice --mode validate`: the input is a
// bootstrap as YAML or JSON text (what `-c file.yaml` or `--config-yaml`
// holds), read into the proto by reflection and put through the three
// validation layers (PGV rules, the supported-subset gate, semantics).
// Invalid input must come back as errors with a message, never a crash, a
// hang or a leak.
#include <cstdint>
#include <string>
#include <string_view>

#include "config/bootstrap_loader.h"
#include "fuzz_util.h"
#include "proto_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  sluice::config::ErrorList errors;
  if (sluice::config::readBootstrap({"", text}, bootstrap, errors)) {
    FUZZ_CHECK(errors.empty());
    sluice::config::validateBootstrap(bootstrap, errors);
  } else {
    FUZZ_CHECK(!errors.empty());
  }
  for (const auto& e : errors.errors()) FUZZ_CHECK(!e.message.empty());
  sluice::fuzz::verbose(errors.empty() ? "valid\n" : errors.toString());
  return 0;
}
