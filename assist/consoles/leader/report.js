// The daily report: preview (text, figures, calls by hour and category), and send now.
import { h } from '../shared/dom.js';
import { barChart, colorOf } from './chart.js';
import { getLang, t } from './i18n.js';

export function reportView(ctx, r) {
  const order = ctx.state.config.priority;
  const legend = Object.entries(r.totals);
  const hourLabel = (hr) => (getLang() === 'en' ? `${hr}:00` : `${hr}时`);
  return h('div', { class: 'report' },
    h('div', { class: 'card' },
      h('div', { class: 'item-head' }, h('h2', {}, `${t('report_preview')} · ${r.day}`),
        h('span', { class: 'hint' }, t('report_auto', { at: r.report_at }))),
      h('div', { class: 'tiles' },
        tile(t('total_calls'), r.calls), tile(t('faults_n'), r.faults.length), tile(t('escalations_n'), r.escalations),
        tile(t('met_n'), `${r.deadlines_met}/${r.escalations}`)),
      h('pre', { class: 'report-text', 'data-testid': 'report-text' }, r.text),
      r.next_report_at ? h('p', { class: 'hint' }, `${t('next_auto')}：${ctx.fmtDateTime(r.next_report_at)}`) : null),
    h('div', { class: 'card' },
      h('h2', {}, t('calls_by_hour')),
      barChart(r.hours, order, (c) => ctx.catName(c), { hourLabel }),
      h('ul', { class: 'legend' }, legend.map(([c, n], i) => h('li', {}, h('span', { class: 'swatch', style: `background:${colorOf(c, i)}` }), `${ctx.catName(c)} ${n}`)))));
}

function tile(label, value) {
  return h('div', { class: 'tile' }, h('div', { class: 'tile-n' }, String(value)), h('div', { class: 'muted' }, label));
}
