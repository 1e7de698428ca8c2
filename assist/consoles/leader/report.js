// The daily report: preview (figures, the text as sent, calls by hour and category), and send now.
// Every figure, the text and the chart come from the one answer of /api/leader/report, which the server
// builds from one `report_figures` value: the page only lays them out.
import { h } from '../shared/dom.js';
import { barChart, colorOf } from './chart.js';
import { getLang, t } from './i18n.js';

export function reportView(ctx, r) {
  const order = ctx.state.config.priority;
  const legend = Object.entries(r.totals);
  const hourLabel = (hr) => (getLang() === 'en' ? `${hr}:00` : `${hr}时`);
  const st = r.faults_by_state;
  const byKind = (counts) => Object.entries(counts).map(([k, n]) => `${ctx.catName(k)} ${n}`).join(' · ');
  return h('div', { class: 'report' },
    h('div', { class: 'card' },
      h('div', { class: 'item-head' }, h('h2', {}, `${t('report_preview')} · ${ctx.fmtDay(r.day)}`),
        h('span', { class: 'hint' }, t('report_auto', { at: r.report_at }))),
      h('div', { class: 'tiles', 'data-testid': 'report-tiles' },
        tile('calls', t('total_calls'), r.calls),
        tile('faults', t('faults_n'), r.fault_list.length, [t('faults_recovered_n', { n: st.recovered }),
          t('faults_open_n', { n: st.open }), t('faults_unresolvable_n', { n: st.unresolvable })].join(' · ')),
        tile('complaints', t('complaints_n'), r.complaints,
          [byKind(r.complaints_by_kind), r.suggestions ? t('suggestions_n', { n: r.suggestions }) : ''].filter(Boolean).join(' · ')),
        tile('media', t('media_n'), r.media, byKind(r.media_by_kind)),
        tile('incidents', t('incidents_n'), r.major_incidents.length),
        tile('escalations', t('escalations_n'), r.escalations,
          `${t('resolved_n')} ${r.escalations_resolved} · ${t('open_n')} ${r.escalations_open}`),
        tile('met', t('met_n'), `${r.deadlines_met}/${r.escalations_resolved}`, t('met_of_resolved', { met: r.deadlines_met, resolved: r.escalations_resolved })),
        tile('overdue', t('overdue_n'), r.escalations_overdue)),
      r.fault_list.length ? faultTable(ctx, r.fault_list) : null,
      h('h3', {}, t('report_text_as_sent')),
      h('pre', { class: 'report-text', lang: 'zh-CN', 'data-testid': 'report-text' }, r.text),
      r.next_report_at ? h('p', { class: 'hint' }, `${t('next_auto')}${t('colon')}${ctx.fmtDateTime(r.next_report_at)}`) : null),
    h('div', { class: 'card' },
      h('h2', {}, t('calls_by_hour')),
      barChart(r.hours, order, (c) => ctx.catName(c), { hourLabel }),
      h('ul', { class: 'legend', 'data-testid': 'report-legend' }, legend.map(([c, n], i) => h('li', { 'data-category': c },
        h('span', { class: 'swatch', style: `background:${colorOf(c, i)}` }), `${ctx.catName(c)} ${n}`)))));
}

// The day's faults from the same figures as the text: times, customers affected, cause and responsible person.
function faultTable(ctx, faults) {
  const dash = (v) => (v ? v : h('span', { class: 'muted' }, t('not_recorded')));
  return [h('h3', {}, t('faults_n')),
    h('table', { class: 'report-faults', 'data-testid': 'report-faults' },
      h('thead', {}, h('tr', {}, [t('system'), t('status'), t('occurred_at'), t('recovered_at'), t('affected'), t('cause'), t('responsible')]
        .map((x) => h('th', {}, x)))),
      h('tbody', {}, faults.map((f) => h('tr', {},
        h('td', {}, `${f.system} · ${t('level_n', { n: f.level })}`), h('td', {}, t(`fault_${f.state}`)),
        h('td', {}, ctx.fmtTime(f.occurred_at)),
        h('td', {}, f.state === 'recovered' ? `${ctx.fmtTime(f.recovered_at)}${t('lp')}${t('minutes_n', { n: f.minutes })}${t('rp')}` : ''),
        h('td', { class: 'num' }, String(f.affected)), h('td', {}, dash(f.cause)), h('td', {}, dash(f.responsible)))))),
  ];
}

function tile(id, label, value, detail = '') {
  return h('div', { class: 'tile', 'data-testid': `tile-${id}` }, h('div', { class: 'tile-n' }, String(value)),
    h('div', { class: 'muted' }, label), detail ? h('div', { class: 'tile-detail small' }, detail) : null);
}
