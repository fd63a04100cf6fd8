#include "config/supported_fields.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "config/any_util.h"

namespace sluice::config {
namespace {

namespace pb = google::protobuf;

// The table. Keep it grouped by message, in the order a bootstrap reads.
// A field joins when sluice implements it end to end (loaded, validated and
// honoured); the issue that implements it adds it here and to the tests.
constexpr SupportedField kFields[] = {
    // Bootstrap
    {"envoy.config.bootstrap.v3.Bootstrap", "node", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap", "static_resources", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap", "dynamic_resources", "", "LDS and CDS from files or over ADS"},
    {"envoy.config.bootstrap.v3.Bootstrap", "admin", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap", "layered_runtime", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap", "stats_config", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap", "cluster_manager", "", ""},
    {"envoy.config.bootstrap.v3.ClusterManager", "load_stats_config", "",
     "LRS (envoy.service.load_stats.v3): api_type GRPC, transport_api_version V3, one envoy_grpc to a STATIC "
     "cluster; every load_reporting_interval the server asks for, the clusters it names (or all with "
     "send_all_clusters) are reported per locality: requests issued, succeeded, failed (5xx, connect failures, "
     "timeouts, resets), in progress, and those dropped by circuit breaking; stats "
     "cluster_manager.load_reporter.*; reconnects with jittered exponential backoff (0.5s to 30s)"},
    {"envoy.config.bootstrap.v3.Bootstrap.StaticResources", "listeners", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap.StaticResources", "clusters", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap.DynamicResources", "lds_config", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap.DynamicResources", "cds_config", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap.DynamicResources", "ads_config", "",
     "state of the world (GRPC) or incremental (DELTA_GRPC) over gRPC; one stream on a thread of its own, to the "
     "endpoints "
     "of its cluster in turn, reconnecting with jittered exponential backoff (0.5s to 30s); the last accepted "
     "config keeps serving while the control plane is down"},
    {"envoy.config.core.v3.ApiConfigSource", "api_type", "GRPC|DELTA_GRPC",
     "DELTA_GRPC: each resource of a response is accepted or rejected on its own, a reconnect sends "
     "initial_resource_versions"},
    {"envoy.config.core.v3.ApiConfigSource", "transport_api_version", "V3", ""},
    {"envoy.config.core.v3.ApiConfigSource", "grpc_services", "",
     "exactly one, envoy_grpc naming a STATIC cluster of static_resources"},
    {"envoy.config.core.v3.ApiConfigSource", "set_node_on_first_message_only", "",
     "default false: the node goes on every request; true: on the first of each stream"},
    {"envoy.config.core.v3.ApiConfigSource", "rate_limit_settings", "",
     "requests to the server are written at most this fast (a token bucket kept across reconnects); a request "
     "that waits counts control_plane.rate_limit_enforced"},
    {"envoy.config.core.v3.RateLimitSettings", "max_tokens", "", "default 100; at least 1"},
    {"envoy.config.core.v3.RateLimitSettings", "fill_rate", "",
     "tokens per second, default 10; below once a year it is once a year, as in Envoy"},
    {"envoy.config.core.v3.GrpcService", "envoy_grpc", "", ""},
    {"envoy.config.core.v3.GrpcService.EnvoyGrpc", "cluster_name", "", ""},
    {"envoy.config.bootstrap.v3.Admin", "address", "", ""},
    // Node
    {"envoy.config.core.v3.Node", "id", "",
     "overridden by --service-node; reported by /config_dump and /server_info; sent to the ADS server, as are "
     "cluster, locality and metadata (with user_agent_name 'sluice')"},
    {"envoy.config.core.v3.Node", "cluster", "", "overridden by --service-cluster"},
    {"envoy.config.core.v3.Node", "locality", "",
     "zone overridden by --service-zone; reported only (sluice has no zone-aware routing)"},
    {"envoy.config.core.v3.Node", "metadata", "",
     "reported by /config_dump; sent to the ADS server with the key sluice.admin_address added (the bound admin "
     "address, IP:PORT) unless it is set here (sluice-control proxies the node's admin to it)"},
    {"envoy.config.core.v3.Locality", "region", "", ""},
    {"envoy.config.core.v3.Locality", "zone", "", ""},
    {"envoy.config.core.v3.Locality", "sub_zone", "", ""},
    // Config sources
    {"envoy.config.core.v3.ConfigSource", "path_config_source", "", "watched with inotify; replace files by rename"},
    {"envoy.config.core.v3.ConfigSource", "ads", "",
     "over dynamic_resources.ads_config: CDS and LDS (wildcard), EDS (by cluster), RDS (by route_config_name), "
     "RTDS (by layer name)"},
    {"envoy.config.core.v3.ConfigSource", "api_config_source", "",
     "GRPC or DELTA_GRPC to the per-type service (ClusterDiscoveryService.StreamClusters, ...), a stream per "
     "source (EDS, RDS and RTDS: one per distinct api_config_source, carrying every name), same protocol rules "
     "as ADS"},
    {"envoy.config.core.v3.ConfigSource", "resource_api_version", "V3", ""},
    {"envoy.config.core.v3.ConfigSource", "initial_fetch_timeout", "",
     "RDS and EDS: default 15s; 0 waits for ever; a listener (cluster) warms until its routes (endpoints) "
     "arrive or this passes. CDS over gRPC: LDS over gRPC is subscribed to after the first CDS response or "
     "this (Envoy's init order, clusters first); RTDS over gRPC likewise holds CDS back"},
    {"envoy.config.core.v3.PathConfigSource", "path", "", ""},
    {"envoy.config.core.v3.PathConfigSource", "watched_directory", "", ""},
    {"envoy.config.core.v3.WatchedDirectory", "path", "", ""},
    // Runtime
    {"envoy.config.bootstrap.v3.LayeredRuntime", "layers", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer", "name", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer", "static_layer", "",
     "read: weighted cluster keys, route runtime_fraction, access-log filters, "
     "overload.global_downstream_max_connections, envoy.resource_limits.listener.<name>.connection_limit"},
    {"envoy.config.bootstrap.v3.RuntimeLayer", "disk_layer", "",
     "reloaded when symlink_root is replaced by a rename; an unreadable tree keeps its previous values"},
    {"envoy.config.bootstrap.v3.RuntimeLayer", "admin_layer", "", "set by /runtime_modify; one at most"},
    {"envoy.config.bootstrap.v3.RuntimeLayer", "rtds_layer", "",
     "RTDS: the layer holds the Runtime resource `name` from rtds_config (ads or path_config_source), empty until "
     "it arrives; CDS over gRPC waits for RTDS over gRPC (or its initial_fetch_timeout), as in Envoy"},
    {"envoy.config.bootstrap.v3.RuntimeLayer.RtdsLayer", "name", "", "the Runtime resource's name"},
    {"envoy.config.bootstrap.v3.RuntimeLayer.RtdsLayer", "rtds_config", "", ""},
    {"envoy.service.runtime.v3.Runtime", "name", "", ""},
    {"envoy.service.runtime.v3.Runtime", "layer", "", "flattened as a static layer's"},
    {"envoy.config.bootstrap.v3.RuntimeLayer.DiskLayer", "symlink_root", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer.DiskLayer", "subdirectory", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer.DiskLayer", "append_service_cluster", "", ""},
    // Stats
    {"envoy.config.metrics.v3.StatsConfig", "use_all_default_tags", "", ""},
    {"envoy.config.metrics.v3.StatsConfig", "stats_matcher", "", ""},
    {"envoy.config.metrics.v3.StatsMatcher", "reject_all", "", ""},
    {"envoy.config.metrics.v3.StatsMatcher", "exclusion_list", "", ""},
    {"envoy.config.metrics.v3.StatsMatcher", "inclusion_list", "", ""},
    {"envoy.type.matcher.v3.ListStringMatcher", "patterns", "", ""},
    {"envoy.type.matcher.v3.StringMatcher", "exact", "", ""},
    {"envoy.type.matcher.v3.StringMatcher", "prefix", "", ""},
    {"envoy.type.matcher.v3.StringMatcher", "suffix", "", ""},
    {"envoy.type.matcher.v3.StringMatcher", "contains", "", ""},
    {"envoy.type.matcher.v3.StringMatcher", "safe_regex", "", "RE2"},
    {"envoy.type.matcher.v3.StringMatcher", "ignore_case", "", ""},
    {"envoy.type.matcher.v3.RegexMatcher", "regex", "", "RE2 syntax"},
    {"envoy.type.matcher.v3.RegexMatcher", "google_re2", "", "accepted for compatibility; RE2 is the only engine"},
    // Addresses
    {"envoy.config.core.v3.Address", "socket_address", "", ""},
    {"envoy.config.core.v3.SocketAddress", "protocol", "TCP", ""},
    {"envoy.config.core.v3.SocketAddress", "address", "", "an IP literal; a host name only in DNS clusters"},
    {"envoy.config.core.v3.SocketAddress", "port_value", "", ""},
    // Listeners
    {"envoy.config.listener.v3.Listener", "name", "", ""},
    {"envoy.config.listener.v3.Listener", "address", "", ""},
    {"envoy.config.listener.v3.Listener", "filter_chains", "", ""},
    {"envoy.config.listener.v3.Listener", "per_connection_buffer_limit_bytes", "",
     "default 1 MiB; body reads are at most this size (at least 1 KiB)"},
    {"envoy.config.listener.v3.Listener", "listener_filters", "",
     "envoy.filters.listener.tls_inspector only (injected, as in Envoy, when a filter_chain_match needs it)"},
    {"envoy.config.listener.v3.Listener", "listener_filters_timeout", "",
     "default 15s; then the connection closes (downstream_pre_cx_timeout)"},
    {"envoy.config.listener.v3.Listener", "continue_on_listener_filters_timeout", "",
     "after the timeout the connection is matched as not TLS instead of closed"},
    {"envoy.config.listener.v3.ListenerFilter", "name", "", ""},
    {"envoy.config.listener.v3.ListenerFilter", "typed_config", "envoy.filters.listener.tls_inspector",
     "the ClientHello is peeked (at most 64 KiB; larger: closed, tls_inspector.client_hello_too_large) and parsed "
     "by sluice: TLS or not, SNI, ALPN; tls_inspector.* stats"},
    {"envoy.config.listener.v3.FilterChain", "filter_chain_match", "",
     "Envoy's order over what sluice matches: server name (exact, then the longest wildcard, then none), then "
     "transport protocol; no match closes the connection (no_filter_chain_match); two chains with the same match "
     "are refused"},
    {"envoy.config.listener.v3.FilterChainMatch", "server_names", "",
     "SNI, compared ignoring case; '*.example.com' matches any name under example.com (not example.com)"},
    {"envoy.config.listener.v3.FilterChainMatch", "transport_protocol", "tls|raw_buffer",
     "tls: a ClientHello was found; raw_buffer: anything else"},
    {"envoy.config.listener.v3.FilterChain", "filters", "", ""},
    {"envoy.config.listener.v3.FilterChain", "transport_socket", "",
     "envoy.transport_sockets.tls: TLS termination (OpenSSL 3); none: plain TCP"},
    {"envoy.config.listener.v3.FilterChain", "transport_socket_connect_timeout", "",
     "the TLS handshake's limit (default none, as Envoy; the connection manager's idle_timeout bounds it too); "
     "counts listener.<address>.downstream_cx_transport_socket_connect_timeout"},
    {"envoy.config.core.v3.TransportSocket", "name", "", ""},
    {"envoy.config.core.v3.TransportSocket", "typed_config", "envoy.transport_sockets.tls", ""},
// TLS (downstream)
#define TLS "envoy.extensions.transport_sockets.tls.v3."
    {TLS "DownstreamTlsContext", "common_tls_context", "", ""},
    {TLS "DownstreamTlsContext", "require_client_certificate", "",
     "needs validation_context.trusted_ca; a client without a certificate fails the handshake "
     "(ssl.fail_verify_no_cert)"},
    {TLS "CommonTlsContext", "tls_params", "", ""},
    {TLS "CommonTlsContext", "tls_certificates", "",
     "at most one RSA and one ECDSA certificate; OpenSSL picks the one the client's signature algorithms and "
     "ciphers allow"},
    {TLS "CommonTlsContext", "validation_context", "",
     "client certificates: asked for (and verified when sent) once trusted_ca is set"},
    {TLS "CommonTlsContext", "alpn_protocols", "", "http/1.1 only (h2 is refused: HTTP/2 is not implemented)"},
    {TLS "TlsParameters", "tls_minimum_protocol_version", "", "default TLSv1_2 (Envoy's server default)"},
    {TLS "TlsParameters", "tls_maximum_protocol_version", "", "default TLSv1_3"},
    {TLS "TlsParameters", "cipher_suites", "",
     "TLS 1.2 and below; OpenSSL names; BoringSSL's equal-preference groups [A|B] keep their written order. "
     "Default: Envoy's server list"},
    {TLS "TlsParameters", "ecdh_curves", "", "default X25519, P-256"},
    {TLS "TlsCertificate", "certificate_chain", "", "PEM: the leaf, then its chain"},
    {TLS "TlsCertificate", "private_key", "", "PEM; must match the leaf"},
    {TLS "CertificateValidationContext", "trusted_ca", "", "PEM CA certificates"},
    {TLS "CertificateValidationContext", "match_typed_subject_alt_names", "",
     "the client certificate needs a SAN of the type that one matcher matches (ssl.fail_verify_san)"},
    {TLS "SubjectAltNameMatcher", "san_type", "EMAIL|DNS|URI|IP_ADDRESS", ""},
    {TLS "SubjectAltNameMatcher", "matcher", "", ""},
#undef TLS
    {"envoy.config.listener.v3.Filter", "name", "", ""},
    {"envoy.config.listener.v3.Filter", "typed_config", "envoy.filters.network.http_connection_manager", ""},
// HTTP connection manager
#define HCM "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    {HCM, "stat_prefix", "", ""},
    {HCM, "codec_type", "AUTO|HTTP1", "sluice speaks HTTP/1.1 only: AUTO (the default) serves HTTP/1.1"},
    {HCM, "route_config", "", ""},
    {HCM, "rds", "", "from a file (path_config_source) or ADS; the route table swaps without the listener"},
    {"envoy.extensions.filters.network.http_connection_manager.v3.Rds", "config_source", "", ""},
    {"envoy.extensions.filters.network.http_connection_manager.v3.Rds", "route_config_name", "", ""},
    {HCM, "http_filters", "", ""},
    {HCM, "server_name", "", "default 'sluice' (Envoy: 'envoy'); always overwrites the upstream's"},
    {HCM, "use_remote_address", "",
     "appends the peer to x-forwarded-for; an external request gets x-envoy-external-address"},
    {HCM, "xff_num_trusted_hops", "",
     "the trusted client address (x-forwarded-for, Envoy's rules) is what %DOWNSTREAM_REMOTE_ADDRESS%, "
     "hash_policy source_ip and x-envoy-external-address use; internal addresses: Envoy's default set"},
    {HCM, "upgrade_configs", "", "websocket only"},
    {HCM, "strip_matching_host_port", "", ""},
    {HCM, "strip_any_host_port", "", ""},
    {HCM, "max_request_headers_kb", "", "default 60"},
    {HCM, "stream_idle_timeout", "", "default 5m; 0 disables; also WebSocket tunnels and bounds a request head's time"},
    {HCM, "request_headers_timeout", "", "default off; 408 'request header timeout'"},
    {HCM, "request_timeout", "", "default off; 408 'request timeout'"},
    {HCM, "common_http_protocol_options", "", "downstream connections"},
    {HCM, "normalize_path", "", "default false; RFC 3986 dot segments, unreserved escapes decoded, '\\' as '/'"},
    {HCM, "merge_slashes", "", ""},
    {HCM, "path_with_escaped_slashes_action", "", "default KEEP_UNCHANGED; %2F %5C; redirects are 307"},
    {HCM, "http_protocol_options", "", ""},
    {HCM, "access_log", "",
     "one line per stream (local replies and WebSocket tunnels included), queued to a writer thread; "
     "a full queue (4096 lines per worker) drops the line and counts it"},
    {HCM ".UpgradeConfig", "upgrade_type", "websocket", ""},
    {HCM ".UpgradeConfig", "enabled", "", ""},
#undef HCM
    {"envoy.config.core.v3.HttpProtocolOptions", "idle_timeout", "", "default 1h; 0 disables"},
    {"envoy.config.core.v3.HttpProtocolOptions", "max_connection_duration", "",
     "default off; then connection: close on the next response"},
    {"envoy.config.core.v3.HttpProtocolOptions", "max_headers_count", "", "default 100; 431 over it"},
    {"envoy.config.core.v3.HttpProtocolOptions", "max_stream_duration", "",
     "default off; 408 'downstream duration timeout'"},
    {"envoy.config.core.v3.HttpProtocolOptions", "headers_with_underscores_action", "",
     "requests only; REJECT_REQUEST answers 400"},
    {"envoy.config.core.v3.HttpProtocolOptions", "max_requests_per_connection", "",
     "default unlimited; the last response says connection: close"},
    {"envoy.config.core.v3.Http1ProtocolOptions", "accept_http_10", "", "default false: HTTP/1.0 gets 426"},
    {"envoy.config.core.v3.Http1ProtocolOptions", "default_host_for_http_10", "", ""},
    {"envoy.config.core.v3.Http1ProtocolOptions", "allow_chunked_length", "", ""},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter", "name", "", ""},
// Access logs
#define AL "envoy.config.accesslog.v3."
    {AL "AccessLog", "name", "", ""},
    {AL "AccessLog", "filter", "", ""},
    {AL "AccessLog", "typed_config",
     "envoy.access_loggers.file|envoy.access_loggers.stdout|envoy.access_loggers.stderr|envoy.access_loggers.http_grpc",
     ""},
    {AL "AccessLogFilter", "status_code_filter", "", "a stream without a response compares as 0"},
    {AL "AccessLogFilter", "duration_filter", "", "milliseconds from the request head to the end of the stream"},
    {AL "AccessLogFilter", "not_health_check_filter", "",
     "sluice has no health check filter (envoy.filters.http.health_check): every request passes"},
    {AL "AccessLogFilter", "runtime_filter", "", ""},
    {AL "AccessLogFilter", "and_filter", "", ""},
    {AL "AccessLogFilter", "or_filter", "", ""},
    {AL "StatusCodeFilter", "comparison", "", ""},
    {AL "DurationFilter", "comparison", "", ""},
    {AL "ComparisonFilter", "op", "", ""},
    {AL "ComparisonFilter", "value", "", ""},
    {AL "RuntimeFilter", "runtime_key", "", "its runtime value (an integer) replaces the numerator"},
    {AL "RuntimeFilter", "percent_sampled", "", "default 0%"},
    {AL "RuntimeFilter", "use_independent_randomness", "",
     "false: the stream's random value decides, so all logs of a stream agree"},
    {AL "AndFilter", "filters", "", ""},
    {AL "OrFilter", "filters", "", ""},
#undef AL
    {"envoy.config.core.v3.RuntimeUInt32", "default_value", "", ""},
    {"envoy.config.core.v3.RuntimeUInt32", "runtime_key", "", "read from the runtime; absent: default_value"},
    {"envoy.extensions.access_loggers.file.v3.FileAccessLog", "path", "",
     "opened at load (an error if it cannot be); reopened on SIGUSR1"},
    {"envoy.extensions.access_loggers.file.v3.FileAccessLog", "log_format", "", "default: Envoy's default format"},
    {"envoy.extensions.access_loggers.stream.v3.StdoutAccessLog", "log_format", "", "default: Envoy's default format"},
    {"envoy.extensions.access_loggers.stream.v3.StderrAccessLog", "log_format", "", "default: Envoy's default format"},
#define ALS "envoy.extensions.access_loggers.grpc.v3."
    {ALS "HttpGrpcAccessLogConfig", "common_config", "", ""},
    {ALS "HttpGrpcAccessLogConfig", "additional_request_headers_to_log", "", "in request.request_headers"},
    {ALS "HttpGrpcAccessLogConfig", "additional_response_headers_to_log", "", "in response.response_headers"},
    {ALS "CommonGrpcAccessLogConfig", "log_name", "", "in the identifier of each stream's first message"},
    {ALS "CommonGrpcAccessLogConfig", "grpc_service", "",
     "envoy_grpc naming a STATIC cluster of static_resources (its endpoints tried in turn)"},
    {ALS "CommonGrpcAccessLogConfig", "transport_api_version", "", "V3 only"},
    {ALS "CommonGrpcAccessLogConfig", "buffer_flush_interval", "", "default 1 s"},
    {ALS "CommonGrpcAccessLogConfig", "buffer_size_bytes", "",
     "default 16384; entries waiting beyond 4 MiB (stream down) are dropped: access_logs.grpc_access_log.logs_dropped"},
#undef ALS
#define SFS "envoy.config.core.v3.SubstitutionFormatString"
    {SFS, "text_format_source", "", "inline_string or inline_bytes"},
    {SFS, "text_format", "", "deprecated; use text_format_source"},
    {SFS, "json_format", "", "typed: an operator alone keeps its type (numbers, null for no value); nested objects"},
    {SFS, "omit_empty_values", "", ""},
#undef SFS
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter", "typed_config",
     "envoy.filters.http.router", ""},
// Routes
#define RC "envoy.config.route.v3.RouteConfiguration"
    {RC, "name", "", ""},
    {RC, "virtual_hosts", "", ""},
    {RC, "request_headers_to_add", "", "values are literal (no %FORMATTER% substitution yet)"},
    {RC, "request_headers_to_remove", "", ""},
    {RC, "response_headers_to_add", "", ""},
    {RC, "response_headers_to_remove", "", ""},
    {RC, "most_specific_header_mutations_wins", "", ""},
    {RC, "max_direct_response_body_size_bytes", "", "default 4096"},
    {RC, "ignore_port_in_host_matching", "", "virtual hosts match the Host without its port"},
#undef RC
#define VH "envoy.config.route.v3.VirtualHost"
    {VH, "name", "", ""},
    {VH, "domains", "", "exact, *.suffix, prefix.*, *; most specific wins"},
    {VH, "routes", "", ""},
    {VH, "request_headers_to_add", "", ""},
    {VH, "request_headers_to_remove", "", ""},
    {VH, "response_headers_to_add", "", ""},
    {VH, "response_headers_to_remove", "", ""},
    {VH, "retry_policy", "", "for every route of the virtual host without a retry_policy of its own"},
    {VH, "include_request_attempt_count", "", "x-envoy-attempt-count on each upstream request (1 for the first try)"},
    {VH, "include_attempt_count_in_response", "", "x-envoy-attempt-count on the response: the tries it took"},
    {VH, "per_request_buffer_limit_bytes", "",
     "the largest request body buffered so it can be retried (default: the listener's "
     "per_connection_buffer_limit_bytes); a larger body is not retried"},
#undef VH
#define R "envoy.config.route.v3.Route"
    {R, "name", "", ""},
    {R, "match", "", ""},
    {R, "route", "", ""},
    {R, "redirect", "", ""},
    {R, "direct_response", "", ""},
    {R, "request_headers_to_add", "", ""},
    {R, "request_headers_to_remove", "", ""},
    {R, "response_headers_to_add", "", ""},
    {R, "response_headers_to_remove", "", ""},
    {R, "per_request_buffer_limit_bytes", "", "overrides the virtual host's"},
#undef R
#define RM "envoy.config.route.v3.RouteMatch"
    {RM, "prefix", "", ""},
    {RM, "path", "", ""},
    {RM, "safe_regex", "", "RE2, full match of the path without the query"},
    {RM, "path_separated_prefix", "", ""},
    {RM, "case_sensitive", "", "default true"},
    {RM, "headers", "", ""},
    {RM, "query_parameters", "", ""},
    {RM, "runtime_fraction", "", ""},
#undef RM
#define HM "envoy.config.route.v3.HeaderMatcher"
    {HM, "name", "", "cookies are matched through the cookie header"},
    {HM, "string_match", "", ""},
    {HM, "exact_match", "", ""},
    {HM, "safe_regex_match", "", ""},
    {HM, "prefix_match", "", ""},
    {HM, "suffix_match", "", ""},
    {HM, "contains_match", "", ""},
    {HM, "present_match", "", ""},
    {HM, "range_match", "", ""},
    {HM, "invert_match", "", ""},
    {HM, "treat_missing_header_as_empty", "", ""},
#undef HM
    {"envoy.type.v3.Int64Range", "start", "", ""},
    {"envoy.type.v3.Int64Range", "end", "", ""},
    {"envoy.config.route.v3.QueryParameterMatcher", "name", "", ""},
    {"envoy.config.route.v3.QueryParameterMatcher", "string_match", "", ""},
    {"envoy.config.route.v3.QueryParameterMatcher", "present_match", "", ""},
    {"envoy.config.core.v3.RuntimeFractionalPercent", "default_value", "", ""},
    {"envoy.config.core.v3.RuntimeFractionalPercent", "runtime_key", "", ""},
    {"envoy.type.v3.FractionalPercent", "numerator", "", ""},
    {"envoy.type.v3.FractionalPercent", "denominator", "", ""},
#define RA "envoy.config.route.v3.RouteAction"
    {RA, "cluster", "", ""},
    {RA, "weighted_clusters", "", ""},
    {RA, "cluster_header", "", ""},
    {RA, "cluster_not_found_response_code", "", ""},
    {RA, "prefix_rewrite", "", ""},
    {RA, "regex_rewrite", "", ""},
    {RA, "host_rewrite_literal", "", ""},
    {RA, "auto_host_rewrite", "", "the chosen host's ip:port"},
    {RA, "timeout", "", "default 15s; 0 disables"},
    {RA, "idle_timeout", "", "overrides stream_idle_timeout for the route; 0 disables"},
    {RA, "hash_policy", "", ""},
    {RA, "upgrade_configs", "", ""},
    {RA, "retry_policy", "", "overrides the virtual host's (Envoy's rule: the route's wins whole)"},
    {RA ".HashPolicy", "header", "", ""},
    {RA ".HashPolicy", "cookie", "", "hashes an existing cookie; never generates one"},
    {RA ".HashPolicy", "connection_properties", "", ""},
    {RA ".HashPolicy", "query_parameter", "", ""},
    {RA ".HashPolicy", "terminal", "", ""},
    {RA ".HashPolicy.Header", "header_name", "", ""},
    {RA ".HashPolicy.Cookie", "name", "", ""},
    {RA ".HashPolicy.ConnectionProperties", "source_ip", "", ""},
    {RA ".HashPolicy.QueryParameter", "name", "", ""},
    {RA ".UpgradeConfig", "upgrade_type", "websocket", ""},
    {RA ".UpgradeConfig", "enabled", "", ""},
#undef RA
#define RP "envoy.config.route.v3.RetryPolicy"
    {RP, "retry_on", "",
     "5xx, gateway-error, reset, connect-failure, retriable-4xx (409), retriable-status-codes, retriable-headers; "
     "refused-stream is accepted and never matches (an HTTP/2 REFUSED_STREAM; sluice's upstreams are HTTP/1.1). "
     "Any other name (the gRPC conditions, envoy-ratelimited, reset-before-request, "
     "http3-post-connect-failure) is rejected. A try is retried only before any response byte went to the client"},
    {RP, "num_retries", "", "default 1; x-envoy-max-retries overrides it on internal requests"},
    {RP, "per_try_timeout", "",
     "from when the request is sent until the response head; 504 UT if the last try times out; the route's "
     "timeout still bounds every try and back-off; x-envoy-upstream-rq-per-try-timeout-ms overrides it on internal "
     "requests"},
    {RP, "per_try_idle_timeout", "",
     "from when the request is sent until the response head, ends the try as per_try_timeout does (the earlier "
     "of the two applies; a 1xx does not restart it; after the head the stream idle timeout applies)"},
    {RP, "retry_back_off", "",
     "full jitter: the n-th retry (from 0) waits a random [0, min(base_interval * 2^n, max_interval)), on a timer"},
    {RP, "retry_host_predicate", "", "envoy.retry_host_predicates.previous_hosts only"},
    {RP, "host_selection_retry_max_attempts", "",
     "default 1, at most 1000; with previous_hosts, how many picks a retry makes to find a host not tried yet "
     "(the last pick is used even if tried)"},
    {RP, "retriable_status_codes", "", "with retry_on retriable-status-codes"},
    {RP, "retriable_headers", "", "with retry_on retriable-headers: a response head matching any of them"},

    {RP ".RetryBackOff", "base_interval", "", "default 25ms; at least 1ms"},
    {RP ".RetryBackOff", "max_interval", "", "default 10 x base_interval; at least base_interval"},
    {RP ".RetryHostPredicate", "name", "envoy.retry_host_predicates.previous_hosts",
     "by name (its typed_config, PreviousHostsPredicate, is not in sluice's API library and is rejected)"},
#undef RP
    {"envoy.type.matcher.v3.RegexMatchAndSubstitute", "pattern", "", ""},
    {"envoy.type.matcher.v3.RegexMatchAndSubstitute", "substitution", "", ""},
    {"envoy.config.route.v3.WeightedCluster", "clusters", "", ""},
    {"envoy.config.route.v3.WeightedCluster", "total_weight", "", "when set, the weights must add up to it"},
    {"envoy.config.route.v3.WeightedCluster", "runtime_key_prefix", "",
     "runtime <prefix>.<cluster> overrides a weight"},
    {"envoy.config.route.v3.WeightedCluster.ClusterWeight", "name", "", ""},
    {"envoy.config.route.v3.WeightedCluster.ClusterWeight", "weight", "", ""},
#define RD "envoy.config.route.v3.RedirectAction"
    {RD, "https_redirect", "", ""},
    {RD, "scheme_redirect", "", ""},
    {RD, "host_redirect", "", ""},
    {RD, "port_redirect", "", ""},
    {RD, "path_redirect", "", ""},
    {RD, "prefix_rewrite", "", ""},
    {RD, "regex_rewrite", "", ""},
    {RD, "response_code", "", ""},
    {RD, "strip_query", "", ""},
#undef RD
    {"envoy.config.route.v3.DirectResponseAction", "status", "", ""},
    {"envoy.config.route.v3.DirectResponseAction", "body", "", ""},
    {"envoy.config.core.v3.DataSource", "filename", "",
     "read when the config is loaded (at most 1 MiB): TLS certificates, keys and CAs, direct_response bodies, "
     "access-log text_format_source"},
    {"envoy.config.core.v3.DataSource", "inline_string", "", ""},
    {"envoy.config.core.v3.DataSource", "inline_bytes", "", ""},
    {"envoy.config.core.v3.HeaderValueOption", "header", "", ""},
    {"envoy.config.core.v3.HeaderValueOption", "append_action", "", ""},
    {"envoy.config.core.v3.HeaderValueOption", "append", "", "deprecated; use append_action"},
    {"envoy.config.core.v3.HeaderValueOption", "keep_empty_value", "", ""},
    {"envoy.config.core.v3.HeaderValue", "key", "", ""},
    {"envoy.config.core.v3.HeaderValue", "value", "", ""},
    // Clusters
    {"envoy.config.cluster.v3.Cluster", "name", "", ""},
    {"envoy.config.cluster.v3.Cluster", "type", "STATIC|STRICT_DNS|LOGICAL_DNS|EDS", ""},
    {"envoy.config.cluster.v3.Cluster", "connect_timeout", "", "default 5s"},
    {"envoy.config.cluster.v3.Cluster", "lb_policy", "ROUND_ROBIN|LEAST_REQUEST|RANDOM|RING_HASH|MAGLEV", ""},
    {"envoy.config.cluster.v3.Cluster", "load_assignment", "", ""},
    {"envoy.config.cluster.v3.Cluster", "eds_cluster_config", "",
     "endpoints from a file (path_config_source), over ADS or an api_config_source"},
    {"envoy.config.cluster.v3.Cluster.EdsClusterConfig", "eds_config", "", ""},
    {"envoy.config.cluster.v3.Cluster.EdsClusterConfig", "service_name", "", ""},
    {"envoy.config.cluster.v3.Cluster", "per_connection_buffer_limit_bytes", "",
     "default 1 MiB; body reads are at most this size (at least 1 KiB)"},
    {"envoy.config.cluster.v3.Cluster", "dns_refresh_rate", "", "default 5s; resolved on a thread of its own"},
    {"envoy.config.cluster.v3.Cluster", "max_requests_per_connection", "", "deprecated in Envoy, still honoured"},
    {"envoy.config.cluster.v3.Cluster", "health_checks", "",
     "at most one per cluster, HTTP/1.1 or TCP; checks run on the main thread and host health reaches the workers "
     "as new host sets. A host not checked yet counts as failed until its first check passes (Envoy); unlike "
     "Envoy, a cluster does not wait for its first round of checks before it is served, and a host EDS removes "
     "goes at once (Envoy keeps one that still passes as /pending_dynamic_removal unless "
     "ignore_health_on_host_removal, which sluice does not accept)"},
    {"envoy.config.cluster.v3.Cluster", "outlier_detection", "",
     "passive health checking on the main thread; workers count each host's results with atomics on the host and "
     "ejected hosts reach them as new host sets (/failed_outlier_check). Not accepted: max_ejection_time_jitter, "
     "always_eject_one_host, monitors"},
    {"envoy.config.cluster.v3.OutlierDetection", "consecutive_5xx", "",
     "default 5; the N-th 5xx in a row (any worker) ejects at once, posted to the main thread"},
    {"envoy.config.cluster.v3.OutlierDetection", "consecutive_gateway_failure", "",
     "default 5; 502, 503, 504 (and, without the split, connect failures, resets and timeouts)"},
    {"envoy.config.cluster.v3.OutlierDetection", "enforcing_consecutive_5xx", "",
     "default 100; runtime outlier_detection.enforcing_consecutive_5xx"},
    {"envoy.config.cluster.v3.OutlierDetection", "enforcing_consecutive_gateway_failure", "",
     "default 0; runtime outlier_detection.enforcing_consecutive_gateway_failure"},
    {"envoy.config.cluster.v3.OutlierDetection", "split_external_local_origin_errors", "",
     "default false: a connect failure, reset or protocol error counts as 503 and a timeout as 504; true: they count "
     "apart, as local-origin failures"},
    {"envoy.config.cluster.v3.OutlierDetection", "consecutive_local_origin_failure", "",
     "default 5; with split_external_local_origin_errors"},
    {"envoy.config.cluster.v3.OutlierDetection", "enforcing_consecutive_local_origin_failure", "",
     "default 100; runtime outlier_detection.enforcing_consecutive_local_origin_failure"},
    {"envoy.config.cluster.v3.OutlierDetection", "interval", "",
     "default 10s; success rate and failure percentage are judged, and ejected hosts return, at each interval"},
    {"envoy.config.cluster.v3.OutlierDetection", "base_ejection_time", "",
     "default 30s; an ejection lasts base_ejection_time times the host's ejection multiplier (up by one per ejection, "
     "down by one per interval not ejected), returning at the first interval after it"},
    {"envoy.config.cluster.v3.OutlierDetection", "max_ejection_time", "", "default 300s; caps the ejection time"},
    {"envoy.config.cluster.v3.OutlierDetection", "successful_active_health_check_uneject_host", "",
     "default true: with health_checks, a passing active check returns an ejected host at once"},
    {"envoy.config.cluster.v3.OutlierDetection", "max_ejection_percent", "",
     "default 10; no ejection while that share of the cluster's hosts or more is ejected (ejections_overflow counts); "
     "runtime outlier_detection.max_ejection_percent"},
    {"envoy.config.cluster.v3.OutlierDetection", "success_rate_minimum_hosts", "",
     "default 5; hosts with success_rate_request_volume in the interval needed to judge success rates"},
    {"envoy.config.cluster.v3.OutlierDetection", "success_rate_request_volume", "", "default 100"},
    {"envoy.config.cluster.v3.OutlierDetection", "success_rate_stdev_factor", "",
     "default 1900 (1.9 standard deviations below the mean ejects)"},
    {"envoy.config.cluster.v3.OutlierDetection", "enforcing_success_rate", "",
     "default 100; runtime outlier_detection.enforcing_success_rate"},
    {"envoy.config.cluster.v3.OutlierDetection", "enforcing_local_origin_success_rate", "",
     "default 100; with split_external_local_origin_errors; runtime "
     "outlier_detection.enforcing_local_origin_success_rate"},
    {"envoy.config.cluster.v3.OutlierDetection", "failure_percentage_threshold", "",
     "default 85; a host failing this percentage of its requests in an interval is ejected"},
    {"envoy.config.cluster.v3.OutlierDetection", "failure_percentage_minimum_hosts", "",
     "default 5; hosts with failure_percentage_request_volume in the interval needed"},
    {"envoy.config.cluster.v3.OutlierDetection", "failure_percentage_request_volume", "", "default 50"},
    {"envoy.config.cluster.v3.OutlierDetection", "enforcing_failure_percentage", "",
     "default 0; runtime outlier_detection.enforcing_failure_percentage"},
    {"envoy.config.cluster.v3.OutlierDetection", "enforcing_failure_percentage_local_origin", "",
     "default 0; with split_external_local_origin_errors; runtime "
     "outlier_detection.enforcing_failure_percentage_local_origin"},
    {"envoy.config.cluster.v3.Cluster", "circuit_breakers", "",
     "per cluster across every worker (one atomic count per resource); a request over a limit gets 503 UO with "
     "x-envoy-overloaded: true; gauges circuit_breakers.default.cx_open, rq_pending_open, rq_open. Not accepted: "
     "per_host_thresholds, and in thresholds max_connection_pools"},
    {"envoy.config.cluster.v3.CircuitBreakers", "thresholds", "",
     "DEFAULT priority only (sluice routes have no priority)"},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds", "priority", "DEFAULT", ""},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds", "max_connections", "",
     "default 1024; connections of the cluster (open or connecting). Unlike Envoy, which queues a request while "
     "max_pending_requests allows, a request that needs a new connection over the limit gets 503 UO at once "
     "(upstream_cx_overflow)"},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds", "max_pending_requests", "",
     "default 1024; requests waiting for a new connection to connect (upstream_rq_pending_overflow)"},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds", "max_requests", "",
     "default 1024; requests in flight to the cluster (counted, as in Envoy, by upstream_rq_pending_overflow)"},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds", "max_retries", "",
     "default 3; retries in flight to the cluster (a retry holds it from its decision until the next try's end); "
     "a retry over it is not made (upstream_rq_retry_overflow) and the last answer goes to the client"},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds", "retry_budget", "",
     "replaces max_retries: retries in flight at most budget_percent of the requests in flight (active and "
     "pending), and at least min_retry_concurrency"},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds", "track_remaining", "",
     "gauges circuit_breakers.default.remaining_cx, remaining_pending, remaining_rq, remaining_retries"},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget", "budget_percent", "", "default 20%"},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget", "min_retry_concurrency", "", "default 3"},
    {"envoy.config.cluster.v3.Cluster", "common_lb_config", "", ""},
    {"envoy.config.cluster.v3.Cluster.CommonLbConfig", "healthy_panic_threshold", "",
     "default 50%; below it (healthy + degraded hosts, of those not excluded) every host is balanced over and "
     "cluster.<name>.lb_healthy_panic counts; 0 disables panic (no healthy host: 503 UH)"},
    {"envoy.type.v3.Percent", "value", "", ""},
    {"envoy.config.core.v3.HealthCheck", "timeout", "", "the whole check: connect, request and response"},
    {"envoy.config.core.v3.HealthCheck", "interval", "", ""},
    {"envoy.config.core.v3.HealthCheck", "initial_jitter", "", "the first check waits a random [0, initial_jitter)"},
    {"envoy.config.core.v3.HealthCheck", "interval_jitter", "", "adds a random [0, interval_jitter)"},
    {"envoy.config.core.v3.HealthCheck", "interval_jitter_percent", "",
     "adds a random [0, percent of the interval chosen)"},
    {"envoy.config.core.v3.HealthCheck", "unhealthy_threshold", "",
     "counts network failures, timeouts and retriable statuses; any other failing status fails the host at once"},
    {"envoy.config.core.v3.HealthCheck", "healthy_threshold", "",
     "a host's first check passes it at once (Envoy's faster startup)"},
    {"envoy.config.core.v3.HealthCheck", "reuse_connection", "", "default true"},
    {"envoy.config.core.v3.HealthCheck", "no_traffic_interval", "",
     "default 60s, until the cluster makes its first upstream connection"},
    {"envoy.config.core.v3.HealthCheck", "no_traffic_healthy_interval", "", "default no_traffic_interval"},
    {"envoy.config.core.v3.HealthCheck", "unhealthy_interval", "", "default interval"},
    {"envoy.config.core.v3.HealthCheck", "unhealthy_edge_interval", "", "default unhealthy_interval"},
    {"envoy.config.core.v3.HealthCheck", "healthy_edge_interval", "", "default interval"},
    {"envoy.config.core.v3.HealthCheck", "event_log_path", "",
     "deprecated in Envoy, still honoured: HealthCheckEvent as JSON lines (add_healthy_event, "
     "eject_unhealthy_event, health_check_failure_event)"},
    {"envoy.config.core.v3.HealthCheck", "always_log_health_check_failures", "", ""},
    {"envoy.config.core.v3.HealthCheck", "http_health_check", "", "HTTP/1.1 GET, user-agent Envoy/HC"},
    {"envoy.config.core.v3.HealthCheck", "tcp_health_check", "", ""},
    {"envoy.config.core.v3.HealthCheck.HttpHealthCheck", "path", "", ""},
    {"envoy.config.core.v3.HealthCheck.HttpHealthCheck", "host", "", "default: the cluster's name"},
    {"envoy.config.core.v3.HealthCheck.HttpHealthCheck", "expected_statuses", "", "default [200, 201)"},
    {"envoy.config.core.v3.HealthCheck.HttpHealthCheck", "retriable_statuses", "",
     "failures counted against unhealthy_threshold"},
    {"envoy.config.core.v3.HealthCheck.HttpHealthCheck", "request_headers_to_add", "", ""},
    {"envoy.config.core.v3.HealthCheck.HttpHealthCheck", "request_headers_to_remove", "",
     "user-agent, connection or an added header; not host"},
    {"envoy.config.core.v3.HealthCheck.TcpHealthCheck", "send", "", "empty: a connect-only check"},
    {"envoy.config.core.v3.HealthCheck.TcpHealthCheck", "receive", "",
     "every payload, in order, somewhere in the bytes received"},
    {"envoy.config.core.v3.HealthCheck.Payload", "text", "", "hex"},
    {"envoy.config.cluster.v3.Cluster", "typed_extension_protocol_options",
     "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
     "only on the cluster of ads_config's grpc_service (HTTP/2 there; the data plane speaks HTTP/1.1 only)"},
    {"envoy.config.cluster.v3.Cluster", "http2_protocol_options", "",
     "deprecated in Envoy; only on the cluster of ads_config's grpc_service, empty"},
    {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "explicit_http_config", "", ""},
    {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig", "http2_protocol_options", "",
     "empty (gRPC's own HTTP/2 settings)"},
    {"envoy.config.endpoint.v3.ClusterLoadAssignment", "cluster_name", "", ""},
    {"envoy.config.endpoint.v3.ClusterLoadAssignment", "endpoints", "", ""},
    {"envoy.config.endpoint.v3.LocalityLbEndpoints", "locality", "", ""},
    {"envoy.config.endpoint.v3.LocalityLbEndpoints", "lb_endpoints", "", ""},
    {"envoy.config.endpoint.v3.LocalityLbEndpoints", "load_balancing_weight", "",
     "ignored, as Envoy ignores it without locality_weighted_lb_config (which sluice does not support)"},
    {"envoy.config.endpoint.v3.LbEndpoint", "endpoint", "", ""},
    {"envoy.config.endpoint.v3.LbEndpoint", "load_balancing_weight", "", "default 1"},
    {"envoy.config.endpoint.v3.LbEndpoint", "health_status", "",
     "UNHEALTHY and TIMEOUT: /failed_eds_health; DRAINING: /eds_status_draining (excluded); DEGRADED: "
     "/degraded_eds_health, taking load only when too few hosts are healthy (Envoy's split, overprovisioning "
     "1.4); UNKNOWN and HEALTHY: healthy. Carried by the stable host across updates"},
    {"envoy.config.endpoint.v3.Endpoint", "address", "", ""},
};

constexpr SupportedExtension kExtensions[] = {
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
     "envoy.filters.network.http_connection_manager", "listener filter chains (network filter)"},
    {"envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector", "envoy.filters.listener.tls_inspector",
     "listener_filters of a listener"},
    {"envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", "envoy.transport_sockets.tls",
     "transport_socket of a listener's filter chain"},
    {"envoy.extensions.filters.http.router.v3.Router", "envoy.filters.http.router",
     "HTTP filters of the connection manager (must be last)"},
    {"envoy.extensions.access_loggers.file.v3.FileAccessLog", "envoy.access_loggers.file",
     "access_log of the connection manager"},
    {"envoy.extensions.access_loggers.stream.v3.StdoutAccessLog", "envoy.access_loggers.stdout",
     "access_log of the connection manager"},
    {"envoy.extensions.access_loggers.stream.v3.StderrAccessLog", "envoy.access_loggers.stderr",
     "access_log of the connection manager"},
    {"envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig", "envoy.access_loggers.http_grpc",
     "access_log of the connection manager (gRPC access-log service)"},
    {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
     "typed_extension_protocol_options of the cluster of ads_config's grpc_service (its key is this name)"},
};

struct Index {
  std::map<std::pair<std::string_view, std::string_view>, const SupportedField*> fields;
  std::map<std::string_view, const SupportedExtension*> extensions;  // by type
};

const Index& index() {
  static const Index built = [] {
    Index i;
    for (const auto& f : kFields) i.fields[{f.message, f.field}] = &f;
    for (const auto& e : kExtensions) i.extensions[e.type] = &e;
    return i;
  }();
  return built;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool enumValueAllowed(std::string_view allowed, std::string_view name, bool ignore_case = false) {
  if (allowed.empty()) return true;
  size_t start = 0;
  while (start <= allowed.size()) {
    const size_t bar = allowed.find('|', start);
    const auto token = allowed.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    if (ignore_case ? equalsIgnoringCase(token, name) : token == name) return true;
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return false;
}

std::string listOf(std::string_view allowed) {
  std::string out(allowed);
  std::replace(out.begin(), out.end(), '|', ',');
  std::string spaced;
  for (char c : out) {
    spaced += c;
    if (c == ',') spaced += ' ';
  }
  return spaced;
}

void checkEnum(const pb::Message& msg, const pb::FieldDescriptor* field, const SupportedField& entry,
               const std::string& path, ErrorList& errors) {
  const pb::Reflection* r = msg.GetReflection();
  auto check = [&](int number, const std::string& at) {
    const auto* value = field->enum_type()->FindValueByNumber(number);
    const std::string name = value ? value->name() : std::to_string(number);
    if (!enumValueAllowed(entry.enum_values, name)) {
      errors.add(at, name + " is not supported by sluice (supported: " + listOf(entry.enum_values) + ")");
    }
  };
  if (field->is_repeated()) {
    for (int i = 0; i < r->FieldSize(msg, field); ++i)
      check(r->GetRepeatedEnumValue(msg, field, i), indexPath(path, i));
  } else {
    check(r->GetEnumValue(msg, field), path);
  }
}

void checkMessage(const pb::Message& msg, const std::string& path, ErrorList& errors);

// `entry` is the table row of the Any field; its values name the extensions allowed there.
// The extension of a typed config, or null (with an error) when it is not
// supported here; its payload is gated too.
const SupportedExtension* checkAny(const pb::Message& any_msg, const SupportedField& entry, const std::string& path,
                                   ErrorList& errors) {
  const auto& any = static_cast<const pb::Any&>(any_msg);
  const auto type = typeNameOfUrl(any.type_url());
  const auto found = index().extensions.find(type);
  if (found == index().extensions.end()) {
    errors.add(path, "typed config '" + std::string(type) + "' is not supported by sluice");
    return nullptr;
  }
  if (!enumValueAllowed(entry.enum_values, found->second->name)) {
    errors.add(path, "typed config '" + std::string(type) + "' (" + std::string(found->second->name) +
                         ") is not supported by sluice here (supported: " + listOf(entry.enum_values) + ")");
    return nullptr;
  }
  std::string error;
  auto payload = unpackAny(any, &error);
  if (!payload) {
    errors.add(path, error);
    return nullptr;
  }
  checkMessage(*payload, path, errors);
  return found->second;
}

// A map of typed configs keyed by extension name (typed_extension_protocol_options):
// each value is gated as an Any, and its key must be its extension's name.
// Other maps (of strings, Structs) are leaves.
void checkAnyMap(const pb::Message& msg, const pb::FieldDescriptor* field, const SupportedField& entry,
                 const std::string& path, ErrorList& errors) {
  const auto* value_field = field->message_type()->map_value();
  if (value_field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE ||
      value_field->message_type()->full_name() != "google.protobuf.Any") {
    return;
  }
  const auto* key_field = field->message_type()->map_key();
  const pb::Reflection* r = msg.GetReflection();
  for (int i = 0; i < r->FieldSize(msg, field); ++i) {
    const auto& map_entry = r->GetRepeatedMessage(msg, field, i);
    const std::string key = map_entry.GetReflection()->GetString(map_entry, key_field);
    const auto& any = static_cast<const pb::Any&>(map_entry.GetReflection()->GetMessage(map_entry, value_field));
    const std::string entry_path = path + "[\"" + key + "\"]";
    const SupportedExtension* extension = checkAny(any, entry, entry_path, errors);
    if (extension != nullptr && extension->name != key) {
      errors.add(entry_path,
                 "the key must be the name of its typed config's extension ('" + std::string(extension->name) + "')");
    }
  }
}

void checkMessage(const pb::Message& msg, const std::string& path, ErrorList& errors) {
  const pb::Reflection* r = msg.GetReflection();
  std::vector<const pb::FieldDescriptor*> set_fields;
  r->ListFields(msg, &set_fields);
  const std::string& type = msg.GetDescriptor()->full_name();
  for (const auto* field : set_fields) {
    const std::string field_path = childPath(path, field->name());
    const auto it = index().fields.find({type, field->name()});
    if (it == index().fields.end()) {
      errors.add(field_path, "is not supported by sluice");
      continue;
    }
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
      checkEnum(msg, field, *it->second, field_path, errors);
      continue;
    }
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING && !field->is_repeated() &&
        !enumValueAllowed(it->second->enum_values, r->GetString(msg, field), true)) {
      errors.add(field_path, "'" + r->GetString(msg, field) +
                                 "' is not supported by sluice (supported: " + listOf(it->second->enum_values) + ")");
      continue;
    }
    if (field->is_map()) {
      checkAnyMap(msg, field, *it->second, field_path, errors);
      continue;
    }
    if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string& sub_type = field->message_type()->full_name();
    const bool is_any = sub_type == "google.protobuf.Any";
    // Other well-known types (durations, wrappers, Struct) are leaves.
    if (!is_any && sub_type.rfind("google.protobuf.", 0) == 0) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < r->FieldSize(msg, field); ++i) {
        const auto& element = r->GetRepeatedMessage(msg, field, i);
        is_any ? (void)checkAny(element, *it->second, indexPath(field_path, i), errors)
               : checkMessage(element, indexPath(field_path, i), errors);
      }
    } else {
      const auto& sub = r->GetMessage(msg, field);
      is_any ? (void)checkAny(sub, *it->second, field_path, errors) : checkMessage(sub, field_path, errors);
    }
  }
}

}  // namespace

std::span<const SupportedField> supportedFields() { return kFields; }
std::span<const SupportedExtension> supportedExtensions() { return kExtensions; }

void checkSupported(const google::protobuf::Message& message, std::string_view path, ErrorList& errors) {
  checkMessage(message, std::string(path), errors);
}

std::string supportedSubsetMarkdown() {
  std::string out =
      "# Supported configuration\n\n"
      "<!-- Generated by `sluice-config-doc` from src/config/supported_fields.cc. Do not edit by hand;\n"
      "     a test fails when this file and the table differ. -->\n\n"
      "sluice reads Envoy's v3 bootstrap (YAML or JSON). This page lists every field and typed\n"
      "extension it implements. Any other field that is set is rejected by name, e.g.\n"
      "`static_resources.clusters[0].preconnect_policy: is not supported by sluice`, so nothing in a\n"
      "config is ever silently ignored. Fields are also checked against the protoc-gen-validate\n"
      "rules carried in Envoy's protos and against the semantic rules in docs/ARCHITECTURE.md.\n\n"
      "## Typed extensions\n\n"
      "| type | Envoy name | where |\n| --- | --- | --- |\n";
  for (const auto& e : kExtensions) {
    out += "| `" + std::string(e.type) + "` | `" + std::string(e.name) + "` | " + std::string(e.where) + " |\n";
  }
  out += "\n## Fields\n";
  std::string_view current;
  for (const auto& f : kFields) {
    if (f.message != current) {
      current = f.message;
      out += "\n### `" + std::string(f.message) + "`\n\n| field | values | notes |\n| --- | --- | --- |\n";
    }
    out += "| `" + std::string(f.field) + "` | " + (f.enum_values.empty() ? "" : listOf(f.enum_values)) + " | " +
           std::string(f.note) + " |\n";
  }
  return out;
}

}  // namespace sluice::config
