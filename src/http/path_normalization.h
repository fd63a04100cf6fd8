// Request path normalisation, as Envoy's connection manager does it before
// routing (normalize_path, merge_slashes, path_with_escaped_slashes_action):
// what the route table matches is what the upstream receives, so a proxy and
// its backends cannot disagree about which path was asked for.
//
// Pure functions that rewrite the request-target in place; every step only
// shrinks or keeps the path, so none allocates. Only the path is touched: the
// query (from the first '?') is kept byte for byte. Any thread.
#pragma once

#include <string>
#include <string_view>

namespace sluice::http {

// HttpConnectionManager.PathWithEscapedSlashesAction. Envoy's
// IMPLEMENTATION_SPECIFIC_DEFAULT is KeepUnchanged.
enum class EscapedSlashesAction { KeepUnchanged, RejectRequest, UnescapeAndRedirect, UnescapeAndForward };

struct PathNormalizationOptions {
  bool normalize_path = false;  // Envoy's default (the field is unset)
  bool merge_slashes = false;
  EscapedSlashesAction escaped_slashes = EscapedSlashesAction::KeepUnchanged;
};

enum class PathVerdict {
  Forward,   // route (and forward) the possibly rewritten target
  Reject,    // 400, details path_normalization_failed
  Redirect,  // 307 to the rewritten target (which the caller sends as Location)
};

// Applies, in Envoy's order: the escaped-slash action, then normalize_path,
// then merge_slashes. Targets that are not origin-form ("*", authority-form)
// are left alone.
PathVerdict normalizeRequestPath(std::string& target, const PathNormalizationOptions& options);

// The steps, each on the path part of an origin-form target.

// Whether the path contains %2F, %2f, %5C or %5c.
bool hasEscapedSlashes(std::string_view target);
// %2F and %2f become '/', %5C and %5c become '\'.
void unescapeSlashes(std::string& target);
// RFC 3986 normalisation as Envoy does it (its copy of Chromium's URL
// canonicaliser): percent-encoded unreserved characters (ALPHA DIGIT - . _ ~)
// are decoded, '\' is a '/', and "." and ".." segments are removed (RFC 3986
// 5.2.4; ".." at the root stays at the root). Other escapes and characters
// are kept as they are; there is no case normalisation.
void canonicalizePath(std::string& target);
// Runs of '/' become one.
void mergeSlashes(std::string& target);

}  // namespace sluice::http
