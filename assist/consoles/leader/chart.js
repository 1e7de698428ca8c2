// Calls by category over the day as a hand-made SVG stacked bar chart (one bar per hour).
const NS = 'http://www.w3.org/2000/svg';

export const COLORS = {
  major_incident: '#7f1d1d', 'media.live': '#c2410c', 'media.interview': '#d97706', 'complaint.urgent': '#dc2626',
  'complaint.about_agent': '#be185d', system_outage: '#6d28d9', 'complaint.general': '#2563eb', none: '#a3adb9',
};
const SPARE = ['#0f766e', '#4d7c0f', '#9333ea', '#0369a1'];

export const colorOf = (category, i = 0) => COLORS[category] || SPARE[i % SPARE.length];

// A "nice" top for the y axis: 1, 2, 5 × 10^n at or above `max` (at least 1).
export function niceMax(max) {
  if (max <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

// Rectangles for 24 hourly buckets ({category: n}), stacked in `order` (most serious at the bottom).
export function stackModel(hours, order, { width = 720, height = 220, left = 34, bottom = 22, top = 8 } = {}) {
  const totals = hours.map((b) => Object.values(b).reduce((a, n) => a + n, 0));
  const yMax = niceMax(Math.max(0, ...totals));
  const plotH = height - bottom - top;
  const slot = (width - left) / hours.length;
  const barW = Math.max(2, slot * 0.7);
  const known = new Set(order);
  const extra = [...new Set(hours.flatMap((b) => Object.keys(b)))].filter((c) => !known.has(c)).sort();
  const cats = [...order, ...extra];
  const bars = [];
  hours.forEach((bucket, hour) => {
    let y = height - bottom;
    for (const category of cats) {
      const n = bucket[category] || 0;
      if (!n) continue;
      const hgt = (n / yMax) * plotH;
      y -= hgt;
      bars.push({ hour, category, n, x: left + hour * slot + (slot - barW) / 2, y, w: barW, h: hgt });
    }
  });
  return { bars, yMax, totals, width, height, left, bottom, top, slot, categories: cats };
}

// Whole-number grid lines: 0, the middle when it is whole, the top.
export function yTicks(yMax) {
  return yMax % 2 === 0 ? [0, yMax / 2, yMax] : [0, yMax];
}

function el(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

export function barChart(hours, order, nameOf, opts = {}) {
  const m = stackModel(hours, order, opts);
  const svg = el('svg', { viewBox: `0 0 ${m.width} ${m.height}`, class: 'chart', role: 'img', 'data-testid': 'report-chart' });
  const base = m.height - m.bottom;
  for (const v of yTicks(m.yMax)) {
    const y = base - (v / m.yMax) * (base - m.top);
    svg.append(el('line', { x1: m.left, x2: m.width, y1: y, y2: y, class: 'grid' }));
    svg.append(el('text', { x: m.left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, String(v)));
  }
  for (let hour = 0; hour < 24; hour += 3) {
    svg.append(el('text', { x: m.left + hour * m.slot + m.slot / 2, y: m.height - 6, 'text-anchor': 'middle', class: 'axis' }, (opts.hourLabel || ((x) => `${x}:00`))(hour)));
  }
  m.bars.forEach((b) => {
    const rect = el('rect', { x: b.x, y: b.y, width: b.w, height: Math.max(b.h, 0.5), fill: colorOf(b.category, m.categories.indexOf(b.category)), rx: 2,
      'data-hour': b.hour, 'data-category': b.category, 'data-n': b.n });
    rect.append(el('title', {}, `${String(b.hour).padStart(2, '0')}:00  ${nameOf(b.category)}  ${b.n}`));
    svg.append(rect);
  });
  return svg;
}
