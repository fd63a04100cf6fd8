#include "stats/render.h"

#include <re2/re2.h>

#include "common/json_escape.h"

#include <charconv>
#include <cmath>
#include <map>

namespace sluice::stats {

namespace {

struct Extractor {
  const char* tag;
  re2::RE2 regex;                // group 1 is removed from the name, group 2 is the value
  std::string_view not_value{};  // a value that does not count as a match
};

const std::vector<std::unique_ptr<Extractor>>& extractors() {
  static const auto* list = [] {
    auto* v = new std::vector<std::unique_ptr<Extractor>>();
    const auto add = [v](const char* tag, const char* regex, std::string_view not_value = {}) {
      v->push_back(std::unique_ptr<Extractor>(new Extractor{tag, re2::RE2(regex), not_value}));
    };
    // In Envoy's order (source/common/config/well_known_names.cc).
    add("envoy_response_code", R"(_rq(_(\d{3}))$)");
    add("envoy_response_code_class", R"(_rq_((\d))xx$)");
    add("envoy_cluster_name", R"(^cluster\.(([^.]+)\.))");
    add("envoy_http_conn_manager_prefix", R"(^listener\..*?\.http\.(([^.]+)\.))");
    add("envoy_http_conn_manager_prefix", R"(^http\.(([^.]+)\.))");
    add("envoy_listener_address",
        R"(^listener\.(((?:(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[a-fA-F_\d]+\])_\d+)|[^.]+)\.))", "admin");
    return v;
  }();
  return *list;
}

std::string escapeLabel(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

bool wanted(const RenderOptions& options, const std::string& name, bool used) {
  if (options.used_only && !used) return false;
  return options.filter == nullptr || re2::RE2::PartialMatch(name, *options.filter);
}

std::vector<Store::HistogramValue> wantedHistograms(const Store& store, const RenderOptions& options) {
  auto all = store.histograms();
  std::vector<Store::HistogramValue> out;
  for (auto& h : all) {
    if (wanted(options, h.name, h.snapshot.count > 0)) out.push_back(std::move(h));
  }
  return out;
}

// Envoy's default Prometheus buckets (ms for the *_time histograms).
constexpr double kPrometheusBuckets[] = {0.5,  1,    5,     10,    25,    50,     100,    250,     500,    1000,
                                         2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};

std::string labels(const std::vector<Tag>& tags, std::string_view extra_name = {}, std::string_view extra = {}) {
  std::string out = "{";
  for (const auto& t : tags) {
    if (out.size() > 1) out += ',';
    out += t.name + "=\"" + escapeLabel(t.value) + "\"";
  }
  if (!extra_name.empty()) {
    if (out.size() > 1) out += ',';
    out += std::string(extra_name) + "=\"" + std::string(extra) + "\"";
  }
  return out + "}";
}

}  // namespace

std::string formatDouble(double value) {
  if (std::isnan(value)) return "nan";
  char buf[64];
  // Plain digits below 1e16 (as fmt's "{}" prints them: 300000, not 3e+05).
  const auto [end, ec] = std::fabs(value) < 1e16 ? std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed)
                                                 : std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, end);
}

TaggedName extractTags(std::string_view name) {
  TaggedName out;
  std::vector<std::pair<size_t, size_t>> removed;  // [begin, end) in `name`
  const re2::StringPiece input(name.data(), name.size());
  for (const auto& e : extractors()) {
    re2::StringPiece groups[3];
    if (!e->regex.Match(input, 0, input.size(), re2::RE2::UNANCHORED, groups, 3)) continue;
    const std::string_view value(groups[2].data(), groups[2].size());
    if (!e->not_value.empty() && value == e->not_value) continue;
    const size_t begin = static_cast<size_t>(groups[1].data() - name.data());
    bool overlaps = false;
    for (const auto& [b, en] : removed) overlaps |= begin < en && b < begin + groups[1].size();
    if (overlaps) continue;
    bool duplicate = false;
    for (const auto& t : out.tags) duplicate |= t.name == e->tag;
    if (duplicate) continue;
    removed.emplace_back(begin, begin + groups[1].size());
    out.tags.push_back(Tag{e->tag, std::string(value)});
  }
  for (size_t i = 0; i < name.size(); ++i) {
    bool skip = false;
    for (const auto& [b, e] : removed) skip |= i >= b && i < e;
    if (!skip) out.name += name[i];
  }
  return out;
}

std::string prometheusName(std::string_view tag_extracted_name) {
  std::string out = "envoy_";
  for (const char c : tag_extracted_name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
    out += ok ? c : '_';
  }
  return out;
}

std::string renderText(const Store& store, const RenderOptions& options) {
  std::string out;
  for (const auto& v : store.values()) {
    if (!wanted(options, v.name, v.used)) continue;
    out += v.name;
    out += ": ";
    out += v.is_gauge ? std::to_string(v.gauge) : std::to_string(v.counter);
    out += '\n';
  }
  for (const auto& h : wantedHistograms(store, options)) {
    out += h.name;
    out += ':';
    if (h.snapshot.count == 0) {
      out += " No recorded values\n";
      continue;
    }
    // Envoy prints (interval,cumulative); sluice keeps no flush interval, so
    // the interval value is nan, as in Envoy before its first flush.
    for (const double q : kSupportedQuantiles) {
      out += " P" + formatDouble(q) + "(nan," + formatDouble(h.snapshot.quantile(q / 100)) + ")";
    }
    out += '\n';
  }
  return out;
}

std::string renderJson(const Store& store, const RenderOptions& options) {
  std::string out = "{\"stats\":[";
  bool first = true;
  for (const auto& v : store.values()) {
    if (!wanted(options, v.name, v.used)) continue;
    if (!first) out += ',';
    first = false;
    out += "{\"name\":\"" + escapeJson(v.name) + "\",\"value\":";
    out += v.is_gauge ? std::to_string(v.gauge) : std::to_string(v.counter);
    out += '}';
  }
  const auto histograms = wantedHistograms(store, options);
  if (!histograms.empty()) {
    if (!first) out += ',';
    out += options.detailed_histograms ? "{\"histograms\":{\"supported_percentiles\":["
                                       : "{\"histograms\":{\"supported_quantiles\":[";
    for (size_t i = 0; i < kSupportedQuantiles.size(); ++i) {
      if (i > 0) out += ',';
      out += formatDouble(kSupportedQuantiles[i]);
    }
    out += options.detailed_histograms ? "],\"details\":[" : "],\"computed_quantiles\":[";
    for (size_t i = 0; i < histograms.size(); ++i) {
      if (i > 0) out += ',';
      const auto& snapshot = histograms[i].snapshot;
      out += "{\"name\":\"" + escapeJson(histograms[i].name) +
             (options.detailed_histograms ? "\",\"percentiles\":[" : "\",\"values\":[");
      for (size_t q = 0; q < kSupportedQuantiles.size(); ++q) {
        if (q > 0) out += ',';
        const double value = snapshot.quantile(kSupportedQuantiles[q] / 100);
        out += "{\"interval\":null,\"cumulative\":" + (std::isnan(value) ? "null" : formatDouble(value)) + "}";
      }
      out += ']';
      if (options.detailed_histograms) {
        // sluice keeps no interval histograms: "intervals" is always empty.
        out += ",\"totals\":[";
        bool first_bucket = true;
        for (size_t b = 0; b < snapshot.buckets.size(); ++b) {
          if (snapshot.buckets[b] == 0) continue;
          if (!first_bucket) out += ',';
          first_bucket = false;
          const uint64_t lower = HistogramBuckets::lower(b);
          out += "{\"lower_bound\":" + std::to_string(lower) +
                 ",\"width\":" + std::to_string(HistogramBuckets::upper(b) - lower + 1) +
                 ",\"count\":" + std::to_string(snapshot.buckets[b]) + "}";
        }
        out += "],\"intervals\":[]";
      }
      out += '}';
    }
    out += "]}}";
  }
  return out + "]}\n";
}

std::string renderPrometheus(const Store& store, const RenderOptions& options) {
  // Grouped by metric name; one # TYPE line per name.
  struct Family {
    std::string type;
    std::vector<std::string> lines;
  };
  std::map<std::string, Family> families;
  for (const auto& v : store.values()) {
    if (!wanted(options, v.name, v.used)) continue;
    const auto tagged = options.default_tags ? extractTags(v.name) : TaggedName{v.name, {}};
    auto& family = families[prometheusName(tagged.name)];
    const std::string type = v.is_gauge ? "gauge" : "counter";
    if (family.type.empty()) family.type = type;
    if (family.type != type) continue;  // a name used by two kinds: keep the first
    family.lines.push_back(labels(tagged.tags) + " " +
                           (v.is_gauge ? std::to_string(v.gauge) : std::to_string(v.counter)));
  }
  for (const auto& h : wantedHistograms(store, options)) {
    const auto tagged = options.default_tags ? extractTags(h.name) : TaggedName{h.name, {}};
    const std::string name = prometheusName(tagged.name);
    auto& family = families[name];
    if (family.type.empty()) family.type = "histogram";
    if (family.type != "histogram") continue;
    for (const double bound : kPrometheusBuckets) {
      family.lines.push_back("_bucket" + labels(tagged.tags, "le", formatDouble(bound)) + " " +
                             std::to_string(h.snapshot.countAtOrBelow(bound)));
    }
    family.lines.push_back("_bucket" + labels(tagged.tags, "le", "+Inf") + " " + std::to_string(h.snapshot.count));
    family.lines.push_back("_sum" + labels(tagged.tags) + " " + std::to_string(h.snapshot.sum));
    family.lines.push_back("_count" + labels(tagged.tags) + " " + std::to_string(h.snapshot.count));
  }
  std::string out;
  for (const auto& [name, family] : families) {
    out += "# TYPE " + name + " " + family.type + "\n";
    for (const auto& line : family.lines) out += name + line + "\n";
  }
  return out;
}

}  // namespace sluice::stats
