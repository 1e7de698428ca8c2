// Agreement per category over time, as a hand-made SVG heat map: one row per category, one column per
// day; a cell's colour is the share of that day's calls of that category nobody corrected (green = the
// floor agrees, red = it does not), its number the corrections. A column on the right sums the period.
// `chartModel` is pure (tested under node); `agreementChart` draws it.
const NS = 'http://www.w3.org/2000/svg';

// Red (0 %) → amber (50 %) → green (100 %), as rgb().
export function heat(agreement) {
  if (agreement === null || agreement === undefined) return '#f1f3f5';
  const a = Math.max(0, Math.min(1, agreement));
  const stops = [[0, [192, 57, 43]], [0.5, [230, 162, 60]], [1, [31, 138, 76]]];
  const [lo, hi] = a <= 0.5 ? [stops[0], stops[1]] : [stops[1], stops[2]];
  const f = (a - lo[0]) / (hi[0] - lo[0]);
  const c = lo[1].map((v, i) => Math.round(v + (hi[1][i] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export const pct = (x) => (x === null || x === undefined ? '–' : `${Math.round(x * 100)}%`);

// data: the /api/feedback/agreement answer; only categories with calls in the period get a row.
export function chartModel(data, { label = 120, total = 110, top = 26, row = 24, maxWidth = 760 } = {}) {
  const days = data.days || [];
  const seen = new Set((data.cells || []).map((c) => c.category));
  const rows = (data.categories || []).filter((c) => seen.has(c));
  const cellW = Math.max(8, Math.min(28, Math.floor((maxWidth - label - total) / Math.max(1, days.length))));
  const width = label + cellW * days.length + total;
  const height = top + row * rows.length + 4;
  const col = new Map(days.map((d, i) => [d, i]));
  const rowOf = new Map(rows.map((c, i) => [c, i]));
  const cells = (data.cells || []).filter((c) => col.has(c.day) && rowOf.has(c.category)).map((c) => ({
    ...c, x: label + col.get(c.day) * cellW, y: top + rowOf.get(c.category) * row, w: cellW - 1, h: row - 2,
    fill: heat(c.agreement),
  }));
  const step = Math.max(1, Math.ceil(days.length / Math.floor((cellW * days.length) / 44 || 1)));
  const last = days.length - 1;
  const ticks = days.map((d, i) => ({ day: d, x: label + i * cellW + cellW / 2, text: d.slice(5) }))
    .filter((_, i) => i % step === 0 ? last - i >= step || i === last : i === last);
  const totals = new Map((data.totals || []).map((t) => [t.category, t]));
  return {
    width, height, cellW, label, total, top, row, cells, ticks,
    rows: rows.map((c, i) => ({ category: c, y: top + i * row, total: totals.get(c) || null })),
  };
}

function el(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// names(category) -> display name; tip(cell, name) -> tooltip text.
export function agreementChart(data, names, tip) {
  const m = chartModel(data);
  const svg = el('svg', { viewBox: `0 0 ${m.width} ${m.height}`, width: m.width, height: m.height, class: 'agreement',
    role: 'img', 'data-testid': 'agreement-chart' });
  for (const t of m.ticks) svg.append(el('text', { x: t.x, y: m.top - 8, 'text-anchor': 'middle', class: 'axis' }, t.text));
  for (const r of m.rows) {
    svg.append(el('text', { x: m.label - 6, y: r.y + m.row / 2 + 3, 'text-anchor': 'end', class: 'axis' }, names(r.category)));
    const t = r.total;
    if (t) {
      svg.append(el('text', { x: m.width - m.total + 8, y: r.y + m.row / 2 + 3, class: 'axis total', 'data-category': r.category },
        `${pct(t.agreement)} · ${t.corrections}/${t.calls}`));
    }
  }
  for (const c of m.cells) {
    const g = el('g', { 'data-day': c.day, 'data-category': c.category, 'data-corrections': c.corrections });
    const rect = el('rect', { x: c.x, y: c.y, width: c.w, height: c.h, fill: c.fill, rx: 2 });
    rect.append(el('title', {}, tip(c, names(c.category))));
    g.append(rect);
    if (c.corrections && m.cellW >= 14) {
      g.append(el('text', { x: c.x + c.w / 2, y: c.y + c.h / 2 + 4, 'text-anchor': 'middle', class: 'count' }, String(c.corrections)));
    }
    svg.append(g);
  }
  return svg;
}
