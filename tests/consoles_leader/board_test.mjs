// Pure tests of the console's board and chart logic, run by test_board_js.py with `node --test`
// (the modules are copied next to this file as .mjs, so node loads them as ES modules).
import assert from 'node:assert/strict';
import test from 'node:test';
import { countdown, formatDuration, newlyOverdue, nextDeadline, sortBoard, urgency, applyEvent } from './board.mjs';
import { niceMax, stackModel, yTicks } from './chart.mjs';
import { clock, dayTime, fromZonedInput, isoDay, zonedInput } from './zone.mjs';

const step = (name, offset, due_at, extra = {}) => ({ name, roles: ['center_manager'], offset, due_at, fired_at: null, late: false, cancelled: false, recipients: [], reminder_of: null, ...extra });
const esc = (id, opened_at, steps, extra = {}) => ({ escalation_id: id, kind: 'fault', status: 'open', subject: {}, opened_at, steps, acks: [], notes: [], ...extra });
const NOW = 10_000;

test('the next deadline is the earliest step not fired, ignoring reminders and cancelled steps', () => {
  const e = esc('E1', 0, [step('declared', 0, 0, { fired_at: 0 }), step('first_deadline', 900, NOW + 60), step('second_deadline', 1800, NOW + 900),
    step('first_deadline.r1', 600, NOW + 5, { reminder_of: 'first_deadline' }), step('x', 100, NOW + 1, { cancelled: true })]);
  assert.equal(nextDeadline(e).name, 'first_deadline');
  assert.equal(nextDeadline({ ...e, status: 'resolved' }), null);
});

test('urgency: overdue, soon, running, waiting, handling', () => {
  const fired = esc('E1', 0, [step('first_deadline', 900, NOW - 30, { fired_at: NOW - 29 }), step('second_deadline', 1800, NOW + 600)]);
  const overdue = urgency(fired, NOW);
  assert.equal(overdue.state, 'overdue');
  assert.equal(overdue.due, NOW - 30);
  assert.equal(overdue.step.name, 'second_deadline');
  assert.equal(urgency(esc('E2', 0, [step('d', 900, NOW - 1)]), NOW).state, 'overdue', 'time is up before the scheduler fires');
  assert.equal(urgency(esc('E3', 0, [step('d', 900, NOW + 299)]), NOW).state, 'soon');
  const passedUp = esc('E6', 0, [step('back_office', 1800, NOW - 5, { fired_at: NOW - 5 }), step('center_manager', 1800, NOW + 1795)]);
  assert.equal(urgency(passedUp, NOW).state, 'running', 'passed up by hand is not a missed deadline');
  assert.equal(urgency(esc('E4', 0, [step('d', 900, NOW + 301)]), NOW).state, 'running');
  const atOnce = esc('E5', NOW - 40, [step('shift_leader', 0, NOW - 40, { fired_at: NOW - 40 })], { kind: 'media.interview' });
  assert.equal(urgency(atOnce, NOW).state, 'waiting');
  assert.equal(urgency({ ...atOnce, acks: [{ user: 's1', at: NOW }] }, NOW).state, 'handling');
});

test('the board puts what is due first on top and leaves closed escalations off', () => {
  const board = [
    esc('handled', NOW - 900, [], { acks: [{ user: 's1', at: 1 }] }),
    esc('later', NOW - 10, [step('d', 1800, NOW + 1700)]),
    esc('overdue', NOW - 1200, [step('d', 900, NOW - 300, { fired_at: NOW - 299 }), step('e', 1800, NOW + 600)]),
    esc('waiting', NOW - 60, []),
    esc('soon', NOW - 800, [step('d', 900, NOW + 100)]),
    esc('closed', NOW - 5000, [step('d', 900, NOW - 4000)], { status: 'resolved' }),
  ];
  assert.deepEqual(sortBoard(board, NOW).map((x) => x.esc.escalation_id), ['overdue', 'waiting', 'soon', 'later', 'handled']);
});

test('countdown texts and durations', () => {
  assert.equal(formatDuration(75), '01:15');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(-5), '00:00');
  assert.equal(formatDuration(59.9), '00:59');
  const e = esc('E1', 0, [step('a', 900, NOW - 30, { fired_at: NOW - 29 }), step('b', 1800, NOW + 600)]);
  assert.deepEqual(countdown(urgency(e, NOW), e, NOW), { key: 'overdue_by', seconds: 30, next: 600 });
  const r = esc('E2', 0, [step('a', 900, NOW + 90)]);
  assert.deepEqual(countdown(urgency(r, NOW), r, NOW), { key: 'due_in', seconds: 90, next: null });
  const w = esc('E3', NOW - 12, []);
  assert.deepEqual(countdown(urgency(w, NOW), w, NOW), { key: 'waiting_for', seconds: 12, next: null });
});

test('newly overdue escalations are those not overdue before', () => {
  const a = esc('A', 0, [step('d', 900, NOW - 1)]);
  const b = esc('B', 0, [step('d', 900, NOW - 1)]);
  assert.deepEqual(newlyOverdue(new Set(['A']), [a, b], NOW), ['B']);
});

test('events update the board; a resolved escalation leaves it', () => {
  const board = new Map();
  applyEvent(board, { event: 'new', escalation: esc('A', 0, []) });
  assert.equal(board.size, 1);
  applyEvent(board, { event: 'resolved', escalation: esc('A', 0, [], { status: 'resolved' }) });
  assert.equal(board.size, 0);
  applyEvent(board, { event: 'unresolvable', escalation: esc('B', 0, [], { status: 'unresolvable' }) });
  assert.ok(board.has('B'), 'an unresolvable fault stays until it is recovered');
});

test('chart: nice axis tops, whole ticks, bars stacked most serious at the bottom', () => {
  assert.deepEqual([0, 1, 3, 7, 12, 40].map(niceMax), [1, 1, 5, 10, 20, 50]);
  assert.deepEqual(yTicks(1), [0, 1]);
  assert.deepEqual(yTicks(10), [0, 5, 10]);
  const hours = Array.from({ length: 24 }, () => ({}));
  hours[9] = { none: 3, system_outage: 1 };
  hours[10] = { mystery: 2 };
  const m = stackModel(hours, ['system_outage', 'none'], { width: 274, height: 130, left: 10, bottom: 20, top: 10 });
  assert.equal(m.yMax, 5);
  const [outage, none, mystery] = m.bars;
  assert.equal(outage.category, 'system_outage');
  assert.equal(outage.y + outage.h, 110, 'the first category sits on the axis');
  assert.equal(none.y + none.h, outage.y, 'the next is stacked on top');
  assert.equal(outage.h, 20);
  assert.equal(mystery.category, 'mystery', 'categories not in the order still show');
  assert.equal(m.totals[9], 4);
});

test('times on the center\'s clock: shown, and typed back, whatever the machine\'s zone', () => {
  const t = Date.UTC(2026, 11, 6, 16, 5, 7) / 1000; // 2026-12-07 00:05:07 in Shanghai
  assert.equal(clock(t, 'Asia/Shanghai'), '00:05:07');
  assert.equal(isoDay(t, 'Asia/Shanghai'), '2026-12-07');
  assert.equal(dayTime(t, 'Asia/Shanghai', 'zh-CN'), '12月7日 00:05');
  assert.equal(dayTime(t, 'Asia/Shanghai', 'en'), 'Dec 7, 00:05');
  assert.equal(zonedInput(t, 'Asia/Shanghai'), '2026-12-07 00:05');
  assert.equal(fromZonedInput('2026-12-07 00:05', 'Asia/Shanghai'), t - 7);
  assert.equal(fromZonedInput('2026-12-07T00:05', 'Asia/Shanghai'), t - 7);
  assert.ok(Number.isNaN(fromZonedInput('12/07/2026, 12:05 AM', 'Asia/Shanghai')));
  // Across a daylight-saving change (New York, 2026-03-08 03:30 EDT = 07:30 UTC).
  assert.equal(fromZonedInput('2026-03-08 03:30', 'America/New_York'), Date.UTC(2026, 2, 8, 7, 30) / 1000);
});
