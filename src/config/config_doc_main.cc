// sluice-config-doc: prints docs/CONFIG.md, generated from the supported-subset
// table. `sluice-config-doc > docs/CONFIG.md` refreshes the committed copy.
#include <iostream>

#include "config/supported_fields.h"

int main() {
  std::cout << sluice::config::supportedSubsetMarkdown();
  return 0;
}
