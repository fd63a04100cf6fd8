#include "router/header_mutation.h"

#include <bitset>
#include <cassert>

#include "router/request.h"

namespace sluice::router {

using config::childPath;
using config::indexPath;

namespace {

// Envoy's HeaderUtility::isModifiableHeader / isRemovableHeader: pseudo-headers
// and Host are off limits to route-level mutations.
bool isMutableHeader(std::string_view name) {
  return (name.empty() || name.front() != ':') && !http::equalsIgnoreCase(name, "host");
}

}  // namespace

HeaderMutations HeaderMutations::build(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& to_add,
    const google::protobuf::RepeatedPtrField<std::string>& to_remove, std::string_view to_add_path,
    std::string_view to_remove_path, config::ErrorList& errors) {
  using Proto = envoy::config::core::v3::HeaderValueOption;
  HeaderMutations out;
  if (static_cast<size_t>(to_add.size()) > kMaxHeadersToAdd) {
    errors.add(std::string(to_add_path), "at most " + std::to_string(kMaxHeadersToAdd) + " entries are allowed");
  }
  for (int i = 0; i < to_add.size() && static_cast<size_t>(i) < kMaxHeadersToAdd; ++i) {
    const Proto& option = to_add.Get(i);
    const std::string path = indexPath(to_add_path, i);
    const auto& header = option.header();
    if (header.key().empty() || !isMutableHeader(header.key())) {
      errors.add(childPath(childPath(path, "header"), "key"),
                 "'" + header.key() + "': pseudo-headers and host may not be modified");
      continue;
    }
    assert(header.raw_value().empty());  // the supported-subset gate rejects raw_value
    Addition addition{toLower(header.key()), header.value(), AppendAction::kAppendIfExistsOrAdd,
                      option.keep_empty_value()};
    switch (option.append_action()) {
      case Proto::APPEND_IF_EXISTS_OR_ADD:
        addition.action = AppendAction::kAppendIfExistsOrAdd;
        break;
      case Proto::ADD_IF_ABSENT:
        addition.action = AppendAction::kAddIfAbsent;
        break;
      case Proto::OVERWRITE_IF_EXISTS_OR_ADD:
        addition.action = AppendAction::kOverwriteIfExistsOrAdd;
        break;
      case Proto::OVERWRITE_IF_EXISTS:
        addition.action = AppendAction::kOverwriteIfExists;
        break;
      default:
        errors.add(childPath(path, "append_action"), "unknown append action");
        continue;
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    if (option.has_append()) {
      if (option.append_action() != Proto::APPEND_IF_EXISTS_OR_ADD) {
        errors.add(childPath(path, "append"), "append and append_action may not both be set");
        continue;
      }
      addition.action =
          option.append().value() ? AppendAction::kAppendIfExistsOrAdd : AppendAction::kOverwriteIfExistsOrAdd;
    }
#pragma GCC diagnostic pop
    out.additions_.push_back(std::move(addition));
  }
  for (int i = 0; i < to_remove.size(); ++i) {
    const std::string& name = to_remove.Get(i);
    if (name.empty() || !isMutableHeader(name)) {
      errors.add(indexPath(to_remove_path, i), "'" + name + "': pseudo-headers and host may not be removed");
      continue;
    }
    out.removals_.push_back(toLower(name));
  }
  return out;
}

void HeaderMutations::apply(http::HeaderMap& headers) const {
  for (const auto& name : removals_) headers.remove(name);
  if (additions_.empty()) return;

  // Decide every addition against the same headers before changing any.
  std::bitset<kMaxHeadersToAdd> overwrite;
  std::bitset<kMaxHeadersToAdd> append;
  for (size_t i = 0; i < additions_.size(); ++i) {
    const Addition& a = additions_[i];
    if (a.value.empty() && !a.keep_empty_value) continue;
    switch (a.action) {
      case AppendAction::kAppendIfExistsOrAdd:
        append.set(i);
        break;
      case AppendAction::kAddIfAbsent:
        if (!headers.has(a.name)) append.set(i);
        break;
      case AppendAction::kOverwriteIfExists:
        if (headers.has(a.name)) overwrite.set(i);
        break;
      case AppendAction::kOverwriteIfExistsOrAdd:
        overwrite.set(i);
        break;
    }
  }
  for (size_t i = 0; i < additions_.size(); ++i) {
    if (overwrite.test(i)) headers.set(additions_[i].name, additions_[i].value);
  }
  for (size_t i = 0; i < additions_.size(); ++i) {
    if (append.test(i)) headers.add(additions_[i].name, additions_[i].value);
  }
}

}  // namespace sluice::router
