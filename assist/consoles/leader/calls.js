// The supervisor's overview: every call in progress with its current category, and one call's details.
import { h } from '../shared/dom.js';
import { formatDuration } from './board.js';
import { t } from './i18n.js';
import { colorOf } from './chart.js';

// A call's key is `<agent>/<the softphone's call id>` (docs/protocol.md): the table shows the softphone's id,
// which is what the agent and the phone system call it, beside the agent.
export function phoneCallId(c) {
  const prefix = `${encodeURIComponent(c.agent || '')}/`;
  return c.agent && c.call_id.startsWith(prefix) ? c.call_id.slice(prefix.length) : c.call_id;
}

function callRow(ctx, c, now) {
  return h('tr', { 'data-testid': `call-${c.call_id}`, 'data-category': c.category, onclick: () => ctx.showCall(c.call_id), class: c.escalations.length ? 'escalated' : '' },
    h('td', {}, h('span', { class: 'cat', style: `--c:${colorOf(c.category)}` }, ctx.catName(c.category)),
      c.labels.length > 1 ? h('span', { class: 'muted small' }, ` +${c.labels.length - 1}`) : null,
      c.escalations.length ? h('span', { class: 'badge warn small' }, '↑') : null,
      c.fault_id ? h('span', { class: 'badge bad small' }, t('faults_n')) : null),
    h('td', {}, phoneCallId(c)),
    h('td', {}, c.agent),
    h('td', {}, c.queue || c.customer || ''),
    h('td', { class: 'num', 'data-since': c.started_at ?? '' }, c.started_at ? formatDuration(now - c.started_at) : ''));
}

// The leader's order: the most serious category first (the pack's priority), then the longest running.
export function byLeaderOrder(priority) {
  const rank = new Map(priority.map((c, i) => [c, i]));
  const r = (c) => (rank.has(c.category) ? rank.get(c.category) : rank.size);
  const s = (c) => (c.started_at == null ? Infinity : c.started_at);
  return (a, b) => (r(a) - r(b)) || (s(a) === s(b) ? 0 : s(a) < s(b) ? -1 : 1) || (a.call_id < b.call_id ? -1 : a.call_id > b.call_id ? 1 : 0);
}

// The live-calls table, updated in place: a row is rebuilt only when what it shows changed, rows are moved
// into order, and the durations tick by themselves (data-since). `fresh` rebuilds all (a language switch).
// `more`: live calls not listed (the table shows the most serious ones).
export function updateCalls(ctx, slot, calls, fresh = false, more = 0) {
  if (!calls.length) {
    slot.replaceChildren(h('p', { class: 'hint', 'data-testid': 'no-calls' }, t('no_calls')));
    return;
  }
  let table = slot.querySelector('table[data-testid=live-calls]');
  if (!table || fresh) {
    table = h('table', { class: 'calls', 'data-testid': 'live-calls' },
      h('thead', {}, h('tr', {}, [t('category'), t('call'), t('agent'), t('queue'), t('duration')].map((x) => h('th', {}, x)))),
      h('tbody'));
    slot.replaceChildren(table, h('p', { class: 'hint small', 'data-testid': 'calls-more', hidden: true }));
  }
  const note = slot.querySelector('[data-testid=calls-more]');
  if (note) {
    note.hidden = !more;
    note.textContent = more ? t('calls_more', { n: more, shown: calls.length }) : '';
  }
  const body = table.tBodies[0];
  const rows = new Map([...body.rows].map((r) => [r.dataset.id, r]));
  const now = ctx.now();
  let prev = null;
  for (const c of calls) {
    const key = JSON.stringify([c.category, c.labels, c.escalations, c.fault_id, c.agent, c.queue, c.customer, c.started_at]);
    let row = rows.get(c.call_id);
    if (!row || row.dataset.key !== key) {
      const made = callRow(ctx, c, now);
      made.dataset.id = c.call_id;
      made.dataset.key = key;
      if (row) row.replaceWith(made);
      row = made;
    }
    rows.delete(c.call_id);
    const want = prev ? prev.nextSibling : body.firstChild;
    if (want !== row) body.insertBefore(row, want);
    prev = row;
  }
  for (const gone of rows.values()) gone.remove();
}

export function callDetail(ctx, c) {
  const ctxRows = Object.entries(c.context || {}).filter(([, v]) => typeof v !== 'object');
  return [
    h('div', { class: 'kv' },
      h('span', {}, h('span', { class: 'muted' }, `${t('agent')} `), c.agent),
      h('span', {}, h('span', { class: 'muted' }, `${t('category')} `), (c.labels.length ? c.labels : [c.category]).map((l) => ctx.catName(l)).join(' + ')),
      h('span', {}, c.live ? t('in_progress') : t('ended')),
      c.started_at ? h('span', {}, h('span', { class: 'muted' }, `${t('started')} `), ctx.fmtTime(c.started_at)) : null),
    ctxRows.length ? h('dl', { class: 'subject' }, ctxRows.map(([k, v]) => [h('dt', {}, ctx.fieldName(k)), h('dd', {}, String(v))])) : null,
    // The agent's note line by line, as it was written (one line per element, not run together).
    c.notes.length ? h('div', { 'data-testid': 'call-notes' }, h('span', { class: 'muted' }, `${t('notes')}${t('colon')}`), c.notes.map((n) => h('div', {}, n))) : null,
    c.transcript.length ? [h('h3', {}, t('transcript')), h('div', { class: 'tail' }, c.transcript.map((ln) => h('div', {}, h('span', { class: 'muted' }, `${t(`speaker_${ln.speaker}`)}${t('colon')}`), ln.text)))] : null,
    c.records.length ? [h('h3', {}, t('records')), c.records.map((r) => h('div', { class: 'record' },
      h('div', { class: 'muted' }, `${ctx.catName(r.form)} · ${t(`record_kind_${r.kind}`)} · ${r.submitted_by} ${ctx.fmtTime(r.at)}`),
      h('dl', { class: 'subject' }, Object.entries(r.fields).map(([k, v]) => [h('dt', {}, ctx.fieldName(k)), h('dd', {}, String(v))]))))] : null,
  ];
}
