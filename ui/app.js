// sluice-control's web UI: hash routes over the control plane's JSON API
// (/v1/...), polled once a second while a page is shown. No framework, no
// CDN: these files are everything (served at /ui/ by sluice-control).
import { lineChart, PALETTE } from './chart.js';

const POLL_MS = 1000;

// ---- helpers ---------------------------------------------------------------

// An element: h('td', { class: 'num' }, 'text', childNode, ...). Text is set
// as text (never as HTML): node ids and metadata come from the network.
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function replace(container, ...children) {
  container.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// fetch() of the API: JSON answers parsed, text kept; an HTTP error or a
// JSON {"error"} becomes an ApiError carrying the control plane's words.
async function api(path, { method = 'GET', body } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, init);
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  let data = text;
  if (type.startsWith('application/json')) {
    try { data = JSON.parse(text); } catch { /* keep the text */ }
  }
  if (!res.ok) {
    const why = typeof data === 'object' && data !== null
      ? (data.error ?? (Array.isArray(data.errors) ? data.errors.join('; ') : JSON.stringify(data)))
      : text.trim();
    throw new ApiError(res.status, `${method} ${path}: HTTP ${res.status}: ${why}`);
  }
  return data;
}

const enc = encodeURIComponent;

function badge(text, kind) {
  return h('span', { class: `badge ${kind ?? ''}` }, text);
}

function healthBadge(health) {
  const kind = { healthy: 'ok', degraded: 'warn', unhealthy: 'bad', draining: 'warn' }[health] ?? '';
  return badge(health ?? 'unknown', kind);
}

function syncBadge(state) {
  const kind = { SYNCED: 'ok', STALE: 'warn', NACKED: 'bad', 'NOT SENT': '' }[state] ?? '';
  return badge(state ?? '-', kind);
}

function short(version) {
  if (version === undefined || version === null || version === '') return '-';
  const s = String(version);
  return s.length > 12 ? `${s.slice(0, 12)}…` : s;
}

function fmtNumber(n, digits = 1) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function setStatus(text, error = false) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.classList.toggle('error', error);
}

// ---- pages -----------------------------------------------------------------
// Each page: mount(view, arg) draws what stays (forms, headings) and returns
// { refresh() }, called at once and then every POLL_MS while it is shown.

const pages = {};

// Services and their instances per zone, with health (GET /v1/registry).
pages.services = (view) => {
  const meta = h('p', { class: 'muted' });
  const body = h('div');
  replace(view, h('h1', {}, 'Services'), meta, body);
  return {
    async refresh() {
      const r = await api('/v1/registry');
      const registry = r.registry ?? {};
      replace(meta, `registry ${r.source ?? ''} · version ${short(r.version)} · accepted ${r.accepted_at ?? '-'}`,
        r.last_error ? h('span', { class: 'error' }, ` · last update rejected: ${r.last_error}`) : null,
        r.store ? ` · store ${r.store.state}` : null);
      const zones = registry.zones ?? [];
      const services = registry.services ?? [];
      if (services.length === 0) {
        replace(body, h('p', { class: 'muted' }, 'No services in the registry.'));
        return;
      }
      replace(body, services.map((svc) => {
        const instances = svc.instances ?? [];
        const byZone = new Map(zones.map((z) => [z, []]));
        for (const i of instances) {
          if (!byZone.has(i.zone)) byZone.set(i.zone, []);
          byZone.get(i.zone).push(i);
        }
        const row = (zone, i) => h('tr', { 'data-zone': zone, 'data-instance': `${i.address}:${i.port}` },
          h('td', {}, zone),
          h('td', { class: 'mono' }, `${i.address}:${i.port}`),
          h('td', { class: 'num' }, i.weight ?? 1),
          h('td', {}, healthBadge(i.health ?? 'healthy')),
          h('td', { class: 'mono muted' }, Object.entries(i.metadata ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')));
        const empty = (zone) => h('tr', { 'data-zone': zone }, h('td', {}, zone),
          h('td', { class: 'muted', colspan: 4 }, 'no instances'));
        const rows = [...byZone.entries()].flatMap(([zone, list]) => (list.length === 0
          ? [empty(zone)] : list.map((i) => row(zone, i))));
        return h('section', { class: 'panel', 'data-service': svc.name },
          h('h2', {}, svc.name, ' ', badge(svc.protocol ?? 'http1'), ' ',
            h('span', { class: 'muted' }, `${instances.length} instance${instances.length === 1 ? '' : 's'}`)),
          h('table', {},
            h('thead', {}, h('tr', {}, ['zone', 'instance', 'weight', 'health', 'metadata'].map((c) => h('th', {}, c)))),
            h('tbody', {}, rows)));
      }));
    },
  };
};

// A drift figure, whatever shape /v1/nodes gives it (another field set is
// being added there): a state word if it has one, else its fields.
function driftCell(node) {
  const d = node.drift;
  if (d === undefined || d === null) return h('td', { class: 'muted' }, '-');
  if (typeof d !== 'object') return h('td', {}, String(d));
  const state = d.state ?? (d.behind === true ? 'BEHIND' : d.behind === false ? 'IN SYNC' : undefined);
  const kind = /behind|drift|stale/i.test(state ?? '') ? 'bad' : state ? 'ok' : '';
  const rest = Object.entries(d).filter(([k]) => k !== 'state')
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ');
  return h('td', {}, state ? badge(state, kind) : null, ' ', h('span', { class: 'mono muted' }, rest));
}

// Every connected proxy: sync state per type, versions, drift (GET /v1/nodes).
pages.proxies = (view) => {
  const body = h('div');
  replace(view, h('h1', {}, 'Proxies'), body);
  return {
    async refresh() {
      const { nodes = [] } = await api('/v1/nodes');
      if (nodes.length === 0) {
        replace(body, h('p', { class: 'muted' }, 'No proxy is connected.'));
        return;
      }
      const types = [...new Set(nodes.flatMap((n) => Object.keys(n.types ?? {})))];
      const drift = nodes.some((n) => n.drift !== undefined);
      replace(body, h('section', { class: 'panel' }, h('table', { id: 'proxies' },
        h('thead', {}, h('tr', {}, ['node', 'cluster', 'zone', 'kind', 'stream', 'connected since'].map((c) => h('th', {}, c)),
          types.map((t) => h('th', {}, t)), drift ? h('th', {}, 'drift') : null)),
        h('tbody', {}, nodes.map((n) => h('tr', { 'data-node': n.id },
          h('td', {}, h('a', { href: `#/proxy/${enc(n.id)}` }, n.id)),
          h('td', {}, n.cluster), h('td', {}, n.zone || '-'),
          h('td', {}, `${n.kind} (${n.user_agent_name || '?'})`,
            n.admin_address ? h('div', { class: 'mono muted' }, `admin ${n.admin_address}`) : null),
          h('td', { class: 'muted' }, `${n.protocol} #${n.stream}`),
          h('td', { class: 'muted' }, n.connected_since),
          types.map((t) => {
            const s = n.types?.[t] ?? {};
            return h('td', { 'data-type': t, title: s.error ?? '' }, syncBadge(s.state),
              h('div', { class: 'mono muted' }, `sent ${short(s.sent_version)} · acked ${short(s.acked_version)}`),
              s.error ? h('div', { class: 'error' }, s.error) : null);
          }),
          drift ? driftCell(n) : null))))));
    },
  };
};

// One proxy: its streams, and its admin fetched through sluice-control
// (/v1/nodes/{id}/admin/...): config dump, stats, clusters, log level.
pages.proxy = (view, id) => {
  const streams = h('div');
  const levelResult = h('span', { class: 'muted', id: 'log-level-result' });
  const levelSelect = h('select', { id: 'log-level' },
    ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'].map((l) => h('option', { value: l }, l)));
  levelSelect.value = 'info';
  const levels = h('pre', { id: 'log-levels' });
  const dump = h('pre', { id: 'config-dump' }, 'loading…');
  const stats = h('pre', { id: 'stats' }, 'loading…');
  const statsFilter = h('input', { id: 'stats-filter', placeholder: 'filter (substring)', class: 'wide' });
  const clusters = h('pre', { id: 'clusters' }, 'loading…');
  let statsText = '';
  const showStats = () => {
    const f = statsFilter.value.trim();
    stats.textContent = f ? statsText.split('\n').filter((l) => l.includes(f)).join('\n') : statsText;
  };
  statsFilter.addEventListener('input', showStats);
  const admin = `/v1/nodes/${enc(id)}/admin`;
  const loadLevels = async () => {
    try { levels.textContent = await api(`${admin}/logging`); } catch (e) { levels.textContent = e.message; }
  };
  const setLevel = async (event) => {
    event.preventDefault();
    levelResult.textContent = 'setting…';
    try {
      await api(`${admin}/logging?level=${enc(levelSelect.value)}`, { method: 'POST' });
      levelResult.textContent = `log level set to ${levelSelect.value}`;
      levelResult.className = '';
    } catch (e) {
      levelResult.textContent = e.message;
      levelResult.className = 'error';
    }
    await loadLevels();
  };
  const loadDump = async () => {
    try { dump.textContent = JSON.stringify(await api(`${admin}/config_dump`), null, 2); } catch (e) { dump.textContent = e.message; }
  };
  replace(view,
    h('h1', {}, 'Proxy ', h('span', { class: 'mono', id: 'proxy-id' }, id)),
    h('p', {}, h('a', { href: `#/snapshot/${enc(id)}` }, 'what sluice-control would send it now'), ' · ',
      h('a', { href: '#/proxies' }, 'all proxies')),
    h('section', { class: 'panel' }, h('h2', {}, 'xDS streams'), streams),
    h('section', { class: 'panel' }, h('h2', {}, 'Log level'),
      h('form', { class: 'inline', id: 'log-level-form', onsubmit: setLevel },
        h('label', { for: 'log-level' }, 'every component to'), levelSelect, h('button', { type: 'submit' }, 'Set'), levelResult),
      h('details', {}, h('summary', {}, 'current levels'), levels)),
    h('section', { class: 'panel' }, h('h2', {}, 'Stats'), h('div', { class: 'controls' }, statsFilter), stats),
    h('section', { class: 'panel' }, h('h2', {}, 'Clusters'), clusters),
    h('section', { class: 'panel' }, h('h2', {}, 'Config dump'),
      h('div', { class: 'controls' }, h('button', { class: 'secondary', onclick: loadDump }, 'Reload')), dump));
  loadDump();
  loadLevels();
  return {
    async refresh() {
      const node = await api(`/v1/nodes/${enc(id)}`).catch((e) => ({ error: e.message }));
      if (node.error) {
        replace(streams, h('p', { class: 'error' }, node.error));
      } else {
        replace(streams, h('table', {}, h('thead', {}, h('tr', {}, ['stream', 'type', 'state', 'sent', 'acked', 'current', 'names'].map((c) => h('th', {}, c)))),
          h('tbody', {}, node.streams.flatMap((s) => Object.entries(s.types).map(([t, v]) => h('tr', { 'data-type': t },
            h('td', { class: 'muted' }, `${s.protocol} #${s.stream}`), h('td', {}, t), h('td', {}, syncBadge(v.state), v.error ? h('div', { class: 'error' }, v.error) : null),
            h('td', { class: 'mono' }, short(v.sent_version)), h('td', { class: 'mono' }, short(v.acked_version)),
            h('td', { class: 'mono' }, short(v.current_version)), h('td', { class: 'mono muted' }, (v.names ?? []).join(', '))))))));
      }
      const [s, c] = await Promise.all([api(`${admin}/stats`).catch((e) => e.message), api(`${admin}/clusters`).catch((e) => e.message)]);
      statsText = String(s);
      showStats();
      clusters.textContent = String(c);
    },
  };
};

// What the control plane would send a node now, and this replica against
// another one (GET /v1/snapshot/{id}, GET /v1/diff?peer=URL).
pages.snapshot = (view, initial) => {
  const nodeSelect = h('select', { id: 'snapshot-node' });
  const snapshot = h('div', { id: 'snapshot' });
  const peer = h('input', { id: 'peer-url', class: 'wide', placeholder: 'http://127.0.0.1:9001 (the peer replica\'s --http-listen)' });
  const diff = h('div', { id: 'diff' });
  let chosen = initial ?? '';
  const showSnapshot = async () => {
    if (!chosen) { replace(snapshot, h('p', { class: 'muted' }, 'No node chosen.')); return; }
    try {
      const s = await api(`/v1/snapshot/${enc(chosen)}`);
      const types = Object.entries(s).filter(([, v]) => v && typeof v === 'object' && Array.isArray(v.resources));
      replace(snapshot, h('p', { class: 'muted' }, `node ${s.node} · ${s.node_kind} · cluster ${s.node_cluster}`),
        (s.skipped ?? []).length ? h('p', { class: 'error' }, `skipped: ${JSON.stringify(s.skipped)}`) : null,
        types.map(([type, v]) => h('details', { 'data-type': type },
          h('summary', {}, h('b', {}, type), ` · version ${short(v.version)} · ${v.resources.length} resources: `,
            h('span', { class: 'mono muted' }, v.resources.map((r) => r.name).join(', '))),
          v.resources.map((r) => h('div', {}, h('div', { class: 'mono' }, `${r.name} @ ${r.version}`),
            h('pre', {}, JSON.stringify(r.resource, null, 2)))))));
    } catch (e) {
      replace(snapshot, h('p', { class: 'error' }, e.message));
    }
  };
  nodeSelect.addEventListener('change', () => { chosen = nodeSelect.value; showSnapshot(); });
  const runDiff = async (event) => {
    event.preventDefault();
    replace(diff, h('p', { class: 'muted' }, 'comparing…'));
    try {
      const d = await api(`/v1/diff?peer=${enc(peer.value.trim())}`);
      replace(diff, h('p', {}, d.equal ? badge('EQUAL', 'ok') : badge('DIFFERENT', 'bad'), ` this replica against ${d.peer}`),
        d.nodes.length === 0 ? h('p', { class: 'muted' }, 'No node is connected here to compare.') : h('table', {},
          h('thead', {}, h('tr', {}, h('th', {}, 'node'), h('th', {}, 'result'), h('th', {}, 'differences'))),
          h('tbody', {}, d.nodes.map((n) => h('tr', { 'data-node': n.node },
            h('td', {}, n.node), h('td', {}, n.error ? badge('ERROR', 'bad') : n.equal ? badge('equal', 'ok') : badge('differ', 'bad')),
            h('td', { class: 'mono' }, n.error ?? Object.entries(n.types ?? {}).filter(([, t]) => !t.equal)
              .map(([type, t]) => `${type}: ${t.differ.map((x) => `${x.name} ${short(x.version)} vs ${short(x.peer_version)}`).join(', ')}`).join('; ')))))));
    } catch (e) {
      replace(diff, h('p', { class: 'error' }, e.message));
    }
  };
  replace(view, h('h1', {}, 'Snapshot & diff'),
    h('section', { class: 'panel' }, h('h2', {}, 'What a node gets now'),
      h('div', { class: 'controls' }, h('label', { for: 'snapshot-node' }, 'node'), nodeSelect,
        h('button', { class: 'secondary', onclick: showSnapshot }, 'Refresh')), snapshot),
    h('section', { class: 'panel' }, h('h2', {}, 'Compare with another replica'),
      h('form', { class: 'inline', id: 'diff-form', onsubmit: runDiff }, peer, h('button', { type: 'submit' }, 'Compare')), diff));
  return {
    async refresh() {
      const { nodes = [] } = await api('/v1/nodes');
      const ids = [...new Set(nodes.map((n) => n.id))];
      if (chosen && !ids.includes(chosen)) ids.unshift(chosen);
      const current = [...nodeSelect.options].map((o) => o.value);
      if (JSON.stringify(current) !== JSON.stringify(ids)) {
        replace(nodeSelect, ids.map((i) => h('option', { value: i }, i)));
      }
      if (!chosen && ids.length) { chosen = ids[0]; showSnapshot(); }
      nodeSelect.value = chosen;
      if (!snapshot.hasChildNodes()) showSnapshot();
    },
  };
};

// Zone weights, the drain controls and the live chart of each zone's share
// of traffic and error rate (GET /v1/zones, POST /v1/zones/{zone}/...).
const WINDOW_MS = 5 * 60 * 1000;
const history = new Map(); // zone -> [{ t, share, errors, weight }]; kept across page changes

function zoneErrorRate(zone) {
  let total = 0;
  let errors = 0;
  for (const l of zone.load ?? []) {
    total += l.upstream_rq_total ?? 0;
    errors += l.upstream_rq_error ?? 0;
  }
  return total > 0 ? (100 * errors) / total : 0;
}

function recordZones(zones, now) {
  const rps = zones.reduce((a, z) => a + (z.reported_rps ?? 0), 0);
  const weights = zones.reduce((a, z) => a + (z.weight ?? 0), 0);
  const fromLoad = rps > 0;
  for (const z of zones) {
    const share = fromLoad ? (100 * (z.reported_rps ?? 0)) / rps : weights > 0 ? (100 * (z.weight ?? 0)) / weights : 0;
    if (!history.has(z.zone)) history.set(z.zone, []);
    const list = history.get(z.zone);
    list.push({ t: now, share, errors: zoneErrorRate(z), weight: z.weight ?? 0 });
    while (list.length && now - list[0].t > WINDOW_MS) list.shift();
  }
  return fromLoad;
}

// The guard's verdict on a zone's drain: its state, reason and figures.
function guardText(guard) {
  if (guard === undefined || guard === null) return '-';
  if (typeof guard !== 'object') return String(guard);
  const figures = [];
  if (typeof guard.load_factor === 'number' && guard.load_factor > 0) figures.push(`load ×${guard.load_factor.toFixed(2)}`);
  if (typeof guard.error_rate === 'number' && guard.requests) figures.push(`errors ${(100 * guard.error_rate).toFixed(1)}% of ${guard.requests}`);
  return [guard.state, guard.reason, figures.join(', ')].filter((x) => x).join(' · ') || '-';
}

pages.zones = (view) => {
  const table = h('div');
  const result = h('p', { id: 'zone-result', class: 'muted' });
  const charts = h('div', { id: 'zone-charts' });
  const zoneSelect = h('select', { id: 'drain-zone' });
  const to = h('input', { id: 'drain-to', type: 'number', min: 0, max: 100, value: 0 });
  const step = h('input', { id: 'drain-step', type: 'number', min: 1, max: 100, value: 1 });
  const every = h('input', { id: 'drain-every', value: '2s', size: 6 });
  const force = h('input', { id: 'drain-force', type: 'checkbox' });
  const act = async (zone, action, body) => {
    result.textContent = `${action} ${zone}…`;
    result.className = 'muted';
    try {
      const r = await api(`/v1/zones/${enc(zone)}/${action}`, { method: 'POST', body: body ?? {} });
      const state = r && typeof r === 'object' ? r.state ?? r.message : undefined;
      result.textContent = `${action} ${zone}: ${state ?? 'accepted'}${r?.weight !== undefined ? ` (weight ${r.weight}${r.target !== undefined ? ` → ${r.target}` : ''})` : ''}`;
      result.className = '';
    } catch (e) {
      result.textContent = e.message;
      result.className = 'error';
    }
  };
  const drain = (event) => {
    event.preventDefault();
    act(zoneSelect.value, 'drain', { to: Number(to.value), step: Number(step.value), every: every.value.trim(), force: force.checked });
  };
  replace(view, h('h1', {}, 'Zones'),
    h('section', { class: 'panel' }, table),
    h('section', { class: 'panel' }, h('h2', {}, 'Drain'),
      h('form', { class: 'inline', id: 'drain-form', onsubmit: drain },
        h('label', { for: 'drain-zone' }, 'zone'), zoneSelect,
        h('label', { for: 'drain-to' }, 'to'), to, '%',
        h('label', { for: 'drain-step' }, 'step'), step, 'points',
        h('label', { for: 'drain-every' }, 'every'), every,
        h('button', { type: 'submit', id: 'drain-start' }, 'Drain'),
        h('button', { type: 'button', class: 'secondary', id: 'drain-undrain', onclick: () => act(zoneSelect.value, 'undrain', { step: Number(step.value), every: every.value.trim() }) }, 'Undrain'),
        h('label', {}, force, ' force (override the guard; logged)'),
        h('button', { type: 'button', class: 'secondary', id: 'drain-resume', onclick: () => act(zoneSelect.value, 'resume', force.checked ? { force: true } : {}) }, 'Resume'),
        h('button', { type: 'button', class: 'danger', id: 'drain-abort', onclick: () => act(zoneSelect.value, 'abort') }, 'Abort')),
      result),
    h('section', { class: 'panel' }, h('h2', {}, 'Traffic'), charts));
  return {
    async refresh() {
      const data = await api('/v1/zones');
      const zones = data.zones ?? [];
      const now = Date.now();
      const fromLoad = recordZones(zones, now);
      const names = zones.map((z) => z.zone);
      if (JSON.stringify([...zoneSelect.options].map((o) => o.value)) !== JSON.stringify(names)) {
        const keep = zoneSelect.value;
        replace(zoneSelect, names.map((n) => h('option', { value: n }, n)));
        if (names.includes(keep)) zoneSelect.value = keep;
      }
      const cols = ['zone', 'weight', 'target', 'state', 'step', 'every', 'next step', 'guard', 'instances', 'rps', 'errors'];
      replace(table, h('table', { id: 'zones' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c)))),
        h('tbody', {}, zones.map((z) => h('tr', { 'data-zone': z.zone },
          h('td', {}, z.zone),
          h('td', { class: 'num', 'data-field': 'weight', title: z.registry_weight !== undefined ? `registry: ${z.registry_weight}` : '' }, z.weight),
          h('td', { class: 'num' }, z.target ?? '-'),
          h('td', { 'data-field': 'state' }, badge(z.state ?? 'idle', { draining: 'warn', paused: 'bad', aborted: 'bad', done: 'ok' }[z.state])),
          h('td', { class: 'num' }, z.step ?? '-'),
          h('td', {}, z.every ?? '-'),
          h('td', { class: 'muted' }, z.next_step_at || '-'),
          h('td', { class: 'mono', 'data-field': 'guard' }, guardText(z.guard)),
          h('td', { class: 'num' }, `${z.healthy_instances}/${z.instances}`),
          h('td', { class: 'num' }, fmtNumber(z.reported_rps)),
          h('td', { class: 'num' }, `${fmtNumber(zoneErrorRate(z))}%`))))));
      const series = (key) => [...history.entries()].map(([zone, list], i) => ({
        name: zone, color: PALETTE[i % PALETTE.length], points: list.map((p) => [p.t, p[key]]),
      }));
      const legend = h('div', { class: 'legend' }, [...history.keys()].map((zone, i) => h('span', { style: `--c: ${PALETTE[i % PALETTE.length]}` }, zone)));
      // The window grows with the history kept: a minute at first, five at most.
      const oldest = Math.min(now, ...[...history.values()].map((l) => l[0]?.t ?? now));
      const windowMs = Math.min(WINDOW_MS, Math.max(60_000, now - oldest));
      replace(charts, legend,
        lineChart({ id: 'share-chart', title: `share of traffic per zone (${fromLoad ? 'from load reports' : 'from weights: no load reported'})`, series: series('share'), now, windowMs }),
        lineChart({ id: 'error-chart', title: 'error rate per zone (load reports)', series: series('errors'), now, windowMs }));
    },
  };
};

// ---- routing and polling ----------------------------------------------------

let current = null;
let timer = null;
let generation = 0;

async function tick(gen) {
  if (gen !== generation || current === null) return;
  try {
    await current.refresh();
    if (gen === generation) setStatus(`updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    if (gen === generation) setStatus(e.message, true);
  }
  if (gen === generation) timer = setTimeout(() => tick(gen), POLL_MS);
}

function route() {
  const [, page = 'services', ...rest] = (location.hash || '#/services').split('/');
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  const make = pages[page] ?? pages.services;
  for (const a of document.querySelectorAll('header nav a')) {
    a.classList.toggle('active', a.dataset.page === page || (page === 'proxy' && a.dataset.page === 'proxies'));
  }
  clearTimeout(timer);
  generation += 1;
  const view = document.getElementById('view');
  current = make(view, arg);
  tick(generation);
}

window.addEventListener('hashchange', route);
route();
