// The header additions and removals of one level of a route table (route,
// virtual host or route configuration), for requests or for responses.
// Applied as Envoy's HeaderParser does: removals first; then each addition's
// condition is evaluated against the headers as they are after the removals;
// then overwrites; then appends. Values are literal. Immutable once built;
// apply() runs on the worker that owns the header map.
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"
#include "envoy/config/core/v3/base.pb.h"
#include "http/header_map.h"

namespace sluice::router {

// pgv's max_items for headers_to_add; apply() relies on it.
inline constexpr size_t kMaxHeadersToAdd = 1000;

class HeaderMutations {
 public:
  enum class AppendAction { kAppendIfExistsOrAdd, kAddIfAbsent, kOverwriteIfExistsOrAdd, kOverwriteIfExists };

  HeaderMutations() = default;
  // `to_add_path` / `to_remove_path` name the fields (e.g.
  // `virtual_hosts[0].request_headers_to_add`). Entries in error are left out.
  static HeaderMutations build(
      const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& to_add,
      const google::protobuf::RepeatedPtrField<std::string>& to_remove, std::string_view to_add_path,
      std::string_view to_remove_path, config::ErrorList& errors);

  void apply(http::HeaderMap& headers) const;
  bool empty() const { return additions_.empty() && removals_.empty(); }

 private:
  struct Addition {
    std::string name;  // lowercase
    std::string value;
    AppendAction action;
    bool keep_empty_value;
  };

  std::vector<std::string> removals_;
  std::vector<Addition> additions_;
};

}  // namespace sluice::router
