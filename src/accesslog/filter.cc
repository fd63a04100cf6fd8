#include "accesslog/filter.h"

#include <cassert>
#include <chrono>
#include <string>
#include <vector>

namespace sluice::accesslog {
namespace {

using envoy::config::accesslog::v3::AccessLogFilter;
using envoy::config::accesslog::v3::ComparisonFilter;

// ComparisonFilter: `value` (its runtime key overrides the default) compared
// with what the subclass measures.
class Comparison : public Filter {
 public:
  explicit Comparison(const ComparisonFilter& config)
      : op_(config.op()), default_value_(config.value().default_value()), runtime_key_(config.value().runtime_key()) {}

 protected:
  bool compare(uint64_t measured, const runtime::Snapshot& runtime) const {
    const uint64_t value = runtime_key_.empty() ? default_value_ : runtime.getInteger(runtime_key_, default_value_);
    switch (op_) {
      case ComparisonFilter::GE:
        return measured >= value;
      case ComparisonFilter::LE:
        return measured <= value;
      default:
        return measured == value;
    }
  }

 private:
  ComparisonFilter::Op op_;
  uint64_t default_value_;
  std::string runtime_key_;
};

class StatusCode final : public Comparison {
 public:
  using Comparison::Comparison;
  // No response (0) compares as 0, as in Envoy.
  bool evaluate(const FilterContext& c) const override {
    return compare(static_cast<uint64_t>(std::max(c.info.response_code, 0)), c.runtime);
  }
};

class Duration final : public Comparison {
 public:
  using Comparison::Comparison;
  bool evaluate(const FilterContext& c) const override {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(c.now - c.info.start).count();
    return compare(static_cast<uint64_t>(std::max<int64_t>(ms, 0)), c.runtime);
  }
};

// sluice has no health checking yet, so no request is a health check.
class NotHealthCheck final : public Filter {
 public:
  bool evaluate(const FilterContext&) const override { return true; }
};

class Runtime final : public Filter {
 public:
  Runtime(std::string key, uint64_t numerator, uint64_t denominator, bool independent)
      : key_(std::move(key)), numerator_(numerator), denominator_(denominator), independent_(independent) {}
  bool evaluate(const FilterContext& c) const override {
    // The runtime value, when set, replaces the numerator (Envoy reads a
    // FractionalPercent or an integer there; sluice's runtime holds integers).
    const uint64_t numerator = c.runtime.getInteger(key_, numerator_);
    const uint64_t random = independent_ ? c.independent_random : c.stream_random;
    return random % denominator_ < numerator;
  }

 private:
  std::string key_;
  uint64_t numerator_;
  uint64_t denominator_;
  bool independent_;
};

class Combined final : public Filter {
 public:
  Combined(bool all, std::vector<std::unique_ptr<const Filter>> filters) : all_(all), filters_(std::move(filters)) {}
  bool evaluate(const FilterContext& c) const override {
    for (const auto& f : filters_) {
      if (f->evaluate(c) != all_) return !all_;
    }
    return all_;
  }

 private:
  bool all_;  // and: every filter; or: any
  std::vector<std::unique_ptr<const Filter>> filters_;
};

std::unique_ptr<const Filter> combined(bool all, const google::protobuf::RepeatedPtrField<AccessLogFilter>& configs,
                                       const std::string& path, config::ErrorList& errors) {
  std::vector<std::unique_ptr<const Filter>> filters;
  bool ok = true;
  for (int i = 0; i < configs.size(); ++i) {
    auto f = Filter::build(configs[i], config::indexPath(path, static_cast<size_t>(i)), errors);
    if (!f) ok = false;
    filters.push_back(std::move(f));
  }
  if (!ok) return nullptr;
  return std::make_unique<Combined>(all, std::move(filters));
}

}  // namespace

std::unique_ptr<const Filter> Filter::build(const AccessLogFilter& config, std::string_view path,
                                            config::ErrorList& errors) {
  switch (config.filter_specifier_case()) {
    case AccessLogFilter::kStatusCodeFilter:
      return std::make_unique<StatusCode>(config.status_code_filter().comparison());
    case AccessLogFilter::kDurationFilter:
      return std::make_unique<Duration>(config.duration_filter().comparison());
    case AccessLogFilter::kNotHealthCheckFilter:
      return std::make_unique<NotHealthCheck>();
    case AccessLogFilter::kRuntimeFilter: {
      const auto& rf = config.runtime_filter();
      uint64_t denominator = 100;
      switch (rf.percent_sampled().denominator()) {
        case envoy::type::v3::FractionalPercent::TEN_THOUSAND:
          denominator = 10'000;
          break;
        case envoy::type::v3::FractionalPercent::MILLION:
          denominator = 1'000'000;
          break;
        default:
          break;
      }
      return std::make_unique<Runtime>(rf.runtime_key(), rf.percent_sampled().numerator(), denominator,
                                       rf.use_independent_randomness());
    }
    case AccessLogFilter::kAndFilter:
      return combined(true, config.and_filter().filters(),
                      config::childPath(config::childPath(path, "and_filter"), "filters"), errors);
    case AccessLogFilter::kOrFilter:
      return combined(false, config.or_filter().filters(),
                      config::childPath(config::childPath(path, "or_filter"), "filters"), errors);
    case AccessLogFilter::FILTER_SPECIFIER_NOT_SET:
      errors.add(std::string(path),
                 "one of status_code_filter, duration_filter, not_health_check_filter, runtime_filter, and_filter or "
                 "or_filter is required");
      return nullptr;
    default:
      // The supported-subset gate (config/supported_fields.cc) rejects every other filter.
      assert(false && "rejected by the gate");
      return nullptr;
  }
}

}  // namespace sluice::accesslog
