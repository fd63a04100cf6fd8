// Stats output for the admin endpoints: Envoy's /stats text and JSON and
// /stats/prometheus, with Envoy's default tag extraction for Prometheus.
// Main thread (reads a Store).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stats/stats.h"

namespace re2 {
class RE2;
}

namespace sluice::stats {

struct Tag {
  std::string name;  // Prometheus label name, e.g. envoy_cluster_name
  std::string value;
};
struct TaggedName {
  std::string name;  // the stat name with the tag values removed
  std::vector<Tag> tags;
};
// Envoy's default tag extractors that apply to sluice's stats:
// envoy.response_code, envoy.response_code_class, envoy.cluster_name,
// envoy.http_conn_manager_prefix, envoy.listener_address.
TaggedName extractTags(std::string_view name);
// envoy_ + the tag-extracted name, with characters Prometheus refuses as '_'.
std::string prometheusName(std::string_view tag_extracted_name);

struct RenderOptions {
  const re2::RE2* filter = nullptr;  // partial match on the full stat name
  bool used_only = false;
  bool default_tags = true;  // stats_config.use_all_default_tags (Prometheus)
  // JSON: ?histogram_buckets=detailed, Envoy's "details" form with every
  // non-empty bucket (lower_bound, width, count) besides the percentiles.
  bool detailed_histograms = false;
};

std::string renderText(const Store& store, const RenderOptions& options);
std::string renderJson(const Store& store, const RenderOptions& options);
std::string renderPrometheus(const Store& store, const RenderOptions& options);

// A double as Envoy prints it: shortest form, "nan" for NaN.
std::string formatDouble(double value);

}  // namespace sluice::stats
