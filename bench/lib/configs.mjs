// Configurations of the benchmark's processes. The three proxies are set up
// alike: one worker, keep-alive to the upstream (reused by any request), no
// access log, X-Forwarded-For added, the same timeouts (connect 1 s, response
// 15 s, idle tunnel 300 s), WebSocket upgrades on /ws.

// The path prefix of the static bodies served by the backend.
export const BODY_20 = 'hello, from backend\n';  // 20 bytes

// What both nginx configs start with: one worker in the foreground, files
// under `prefix`, no access log; the `http {` block is left open.
function nginxPreamble(prefix) {
  return `
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 16000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
`;
}

// nginx as the backend: one worker, a 20-byte body on /, static files on
// /16k and /1m, keep-alive without a request limit.
export function backendNginx({ prefix, port }) {
  return `${nginxPreamble(prefix)}  default_type text/plain;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  open_file_cache max=16;
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    location = / { return 200 "${BODY_20.replace('\n', '\\n')}"; }
    location / { root ${prefix}/www; }
  }
}
`;
}

// `clusterExtra`: one line of YAML added to every cluster (a flow mapping,
// e.g. "outlier_detection: {}"), to measure what a cluster feature costs.
export function sluiceYaml({ port, backendPort, wsPort, clusterExtra = '' }) {
  const cluster = (name, p) => `
  - name: ${name}
    type: STATIC
    connect_timeout: 1s${clusterExtra ? `\n    ${clusterExtra}` : ''}
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } }`;
  return `
static_resources:
  listeners:
  - name: bench
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          stream_idle_timeout: 300s
          use_remote_address: true  # append X-Forwarded-For, as HAProxy and nginx are told to
          upgrade_configs: [{ upgrade_type: websocket }]
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/ws" }
                route: { cluster: ws, timeout: 15s }
              - match: { prefix: "/" }
                route: { cluster: backend, timeout: 15s }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:${cluster('backend', backendPort)}${cluster('ws', wsPort)}
`;
}

// HAProxy: one thread. http-reuse always is what the other two do (any idle
// upstream connection serves any request; sluice resends a bodiless request
// that finds its pooled connection closed). maxconn: 2 sockets per proxied
// connection must fit the 20,000 open-file limit.
export function haproxyCfg({ port, backendPort, wsPort }) {
  return `
global
  nbthread 1
  maxconn 9000
defaults
  mode http
  option http-keep-alive
  option forwardfor
  http-reuse always
  timeout connect 1s
  timeout client 300s
  timeout server 15s
  timeout http-keep-alive 300s
  timeout tunnel 300s
frontend bench
  bind 127.0.0.1:${port}
  use_backend ws if { path_beg /ws }
  default_backend backend
backend backend
  server b1 127.0.0.1:${backendPort}
backend ws
  server w1 127.0.0.1:${wsPort}
`;
}

// nginx as a proxy: one worker, upstream keep-alive, buffering to memory only
// (no temp files, so it streams like the others once its buffers are full).
export function nginxProxyConf({ prefix, port, backendPort, wsPort }) {
  return `${nginxPreamble(prefix)}  keepalive_requests 100000000;
  keepalive_timeout 300s;
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 1024;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  upstream ws { server 127.0.0.1:${wsPort}; }
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    proxy_connect_timeout 1s;
    proxy_read_timeout 15s;
    proxy_send_timeout 15s;
    proxy_max_temp_file_size 0;
    # proxy_set_header is not inherited by a location that sets its own: set in each.
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
    location /ws {
      proxy_pass http://ws;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 300s;
      proxy_send_timeout 300s;
    }
  }
}
`;
}
