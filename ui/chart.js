// A line chart in SVG, drawn here (no library): series of [time ms, value]
// over a time window, y from 0 to `max`. Used by the zones page.
const NS = 'http://www.w3.org/2000/svg';

export const PALETTE = ['#2456c7', '#d0611b', '#1f9d55', '#8e44ad', '#c0392b', '#16a2b8', '#7f8c8d', '#b7950b'];

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// `series`: [{ name, color, points: [[t, v], ...] }]; `now` and `windowMs`
// place the x axis; `unit` labels the y axis ticks.
export function lineChart({ title, series, now, windowMs, max = 100, unit = '%', id }) {
  const width = 900;
  const height = 220;
  const left = 44;
  const right = 12;
  const top = 24;
  const bottom = 26;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  if (id) svg.setAttribute('id', id);
  svg.appendChild(el('text', { x: left, y: 15, 'font-weight': 600 }, title));
  const x = (t) => left + plotW * (1 - (now - t) / windowMs);
  const y = (v) => top + plotH * (1 - Math.min(Math.max(v, 0), max) / max);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.appendChild(el('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid' }));
    svg.appendChild(el('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, `${Math.round(v)}${unit}`));
  }
  for (let s = 0; s <= windowMs / 1000; s += Math.max(10, Math.round(windowMs / 6000))) {
    const t = now - s * 1000;
    svg.appendChild(el('text', { x: x(t), y: height - 8, 'text-anchor': 'middle' }, s === 0 ? 'now' : `-${s}s`));
  }
  for (const line of series) {
    const pts = line.points.filter(([t]) => now - t <= windowMs);
    if (pts.length === 0) continue;
    const d = pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const poly = el('polyline', { points: d, fill: 'none', stroke: line.color, 'stroke-width': 2, 'data-series': line.name });
    poly.appendChild(el('title', {}, line.name));
    svg.appendChild(poly);
    const [lt, lv] = pts[pts.length - 1];
    svg.appendChild(el('circle', { cx: x(lt), cy: y(lv), r: 3, fill: line.color }));
  }
  return svg;
}
