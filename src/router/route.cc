#include "router/route.h"

#include <cassert>

// Fields sluice does not implement never reach this file: the supported-subset
// gate (config/supported_fields.cc) rejects them, by path, before any compile.

namespace sluice::router {

using config::childPath;

namespace {

const HeaderMutations* orNone(const HeaderMutations* level) {
  static const HeaderMutations kNone;
  return level != nullptr ? level : &kNone;
}

}  // namespace

std::unique_ptr<const Route> Route::build(const envoy::config::route::v3::Route& config, const Enclosing& enclosing,
                                          std::string_view path, config::ErrorList& errors) {
  using Proto = envoy::config::route::v3::Route;
  const size_t errors_before = errors.size();

  std::optional<RouteMatcher> match;
  if (config.has_match()) {
    match = RouteMatcher::build(config.match(), childPath(path, "match"), errors);
  } else {
    errors.add(childPath(path, "match"), "is required");
  }

  std::optional<Action> action;
  switch (config.action_case()) {
    case Proto::kRoute:
      if (auto forward = RouteAction::build(config.route(), childPath(path, "route"), errors, enclosing.retry_policy)) {
        action.emplace(std::in_place_type<RouteAction>, std::move(*forward));
      }
      break;
    case Proto::kRedirect:
      if (auto redirect = RedirectAction::build(config.redirect(), childPath(path, "redirect"), errors)) {
        action.emplace(std::in_place_type<RedirectAction>, std::move(*redirect));
      }
      break;
    case Proto::kDirectResponse:
      if (auto direct = DirectResponse::build(config.direct_response(), enclosing.max_direct_response_body_bytes,
                                              childPath(path, "direct_response"), errors)) {
        action.emplace(std::in_place_type<DirectResponse>, std::move(*direct));
      }
      break;
    case Proto::kFilterAction:
    case Proto::kNonForwardingAction:
      assert(false && "rejected by the gate");
      [[fallthrough]];
    case Proto::ACTION_NOT_SET:
      errors.add(std::string(path), "one of route, redirect or direct_response is required");
      break;
  }

  auto request_mutations = HeaderMutations::build(config.request_headers_to_add(), config.request_headers_to_remove(),
                                                  childPath(path, "request_headers_to_add"),
                                                  childPath(path, "request_headers_to_remove"), errors);
  auto response_mutations = HeaderMutations::build(
      config.response_headers_to_add(), config.response_headers_to_remove(), childPath(path, "response_headers_to_add"),
      childPath(path, "response_headers_to_remove"), errors);

  if (errors.size() != errors_before || !match || !action) return nullptr;

  std::unique_ptr<Route> route(new Route(config.name(), std::move(*match), std::move(*action)));
  route->virtual_host_ = enclosing.virtual_host;
  route->per_request_buffer_limit_ = config.has_per_request_buffer_limit_bytes()
                                         ? std::optional(config.per_request_buffer_limit_bytes().value())
                                         : enclosing.per_request_buffer_limit_bytes;
  route->request_mutations_ = std::move(request_mutations);
  route->response_mutations_ = std::move(response_mutations);
  const Chain request{&route->request_mutations_, orNone(enclosing.virtual_host_request),
                      orNone(enclosing.config_request)};
  const Chain response{&route->response_mutations_, orNone(enclosing.virtual_host_response),
                       orNone(enclosing.config_response)};
  route->request_chain_ = request;
  route->response_chain_ = response;
  if (enclosing.most_specific_header_mutations_wins) {
    // Least specific first, so the route's own overwrites land last.
    std::swap(route->request_chain_[0], route->request_chain_[2]);
    std::swap(route->response_chain_[0], route->response_chain_[2]);
  }
  return route;
}

std::optional<std::string> Route::rewritePath(std::string_view path) const {
  const RouteAction* action = forward();
  if (action == nullptr || !action->pathRewrite()) return std::nullopt;
  return action->pathRewrite()->apply(path, match_.pathMatcher().matchedLength(path));
}

std::string Route::redirectLocation(const RequestView& request) const {
  const RedirectAction& action = std::get<RedirectAction>(action_);
  if (!action.pathRewrite()) return action.location(request, request.path);
  const std::string rewritten =
      action.pathRewrite()->apply(request.path, match_.pathMatcher().matchedLength(request.path));
  return action.location(request, rewritten);
}

void Route::applyRequestHeaderMutations(http::HeaderMap& headers) const {
  for (const HeaderMutations* level : request_chain_) level->apply(headers);
}

void Route::applyResponseHeaderMutations(http::HeaderMap& headers) const {
  for (const HeaderMutations* level : response_chain_) level->apply(headers);
}

}  // namespace sluice::router
