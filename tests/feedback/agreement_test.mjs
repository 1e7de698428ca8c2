// node --test: the trainer console's agreement chart model (assist/consoles/trainer/agreement.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartModel, heat, pct } from './agreement.mjs';

const data = {
  days: ['2026-03-08', '2026-03-09', '2026-03-10'],
  categories: ['major_incident', 'system_outage', 'complaint.general', 'none'],
  cells: [
    { day: '2026-03-09', category: 'system_outage', calls: 2, corrections: 1, agreement: 0.5 },
    { day: '2026-03-10', category: 'none', calls: 4, corrections: 0, agreement: 1 },
  ],
  totals: [{ category: 'system_outage', calls: 2, corrections: 1, agreement: 0.5 },
    { category: 'none', calls: 4, corrections: 0, agreement: 1 }],
};

test('rows only for categories with calls, in the pack order; cells placed by day and row', () => {
  const m = chartModel(data, { label: 100, total: 100, top: 20, row: 20, maxWidth: 500 });
  assert.deepEqual(m.rows.map((r) => r.category), ['system_outage', 'none']);
  assert.equal(m.cellW, 28);
  const [outage, none] = m.cells;
  assert.equal(outage.x, 100 + 28);
  assert.equal(outage.y, 20);
  assert.equal(none.x, 100 + 2 * 28);
  assert.equal(none.y, 40);
  assert.equal(m.rows[0].total.corrections, 1);
  assert.equal(m.width, 100 + 3 * 28 + 100);
});

test('colour runs red to amber to green; no data is grey', () => {
  assert.equal(heat(0), 'rgb(192,57,43)');
  assert.equal(heat(0.5), 'rgb(230,162,60)');
  assert.equal(heat(1), 'rgb(31,138,76)');
  assert.equal(heat(null), '#f1f3f5');
  assert.equal(pct(0.666), '67%');
  assert.equal(pct(null), '–');
});

test('day labels thin out on long periods and never crowd the last day', () => {
  const days = Array.from({ length: 90 }, (_, i) => `2026-01-${String(i).padStart(2, '0')}`);
  const m = chartModel({ days, categories: ['none'], cells: [], totals: [] });
  assert.ok(m.ticks.length < 30);
  assert.equal(m.ticks.at(-1).day, days.at(-1));
  const gaps = m.ticks.slice(1).map((t, i) => t.x - m.ticks[i].x);
  assert.ok(Math.min(...gaps) >= 30, String(gaps));
});
