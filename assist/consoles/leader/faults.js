// The System Fault Record Form (《系统故障情况记录表》) and the fault records: recovery, cause and
// responsible person, linked calls. Everything acts through the websocket's fault.* commands.
import { h } from '../shared/dom.js';
import { formatDuration } from './board.js';
import { fieldError, t } from './i18n.js';

const SYSTEMS = ['手机银行', '网上银行', '电话银行', '核心系统', '信用卡系统', '自助终端'];

export function faultForm(ctx, prefill = {}) {
  const errors = {};
  const field = (name, control) => {
    errors[name] = h('div', { class: 'field-error', 'data-testid': `err-${name}` });
    return h('div', { class: 'field' }, h('label', { for: `f-${name}` }, t(name)), control, errors[name]);
  };
  const occurred = h('input', { id: 'f-occurred_at', type: 'text', inputmode: 'numeric', placeholder: t('datetime_placeholder'), value: ctx.zonedInput(prefill.occurred_at || ctx.now()), 'data-testid': 'f-occurred_at' });
  const system = h('input', { id: 'f-system', list: 'systems', value: prefill.system || '', 'data-testid': 'f-system' });
  const symptoms = h('textarea', { id: 'f-symptoms', rows: 3, 'data-testid': 'f-symptoms' });
  symptoms.value = prefill.symptoms || '';
  const reporter = h('input', { id: 'f-reported_by', value: prefill.reported_by || ctx.state.me.user, 'data-testid': 'f-reported_by' });
  const levels = h('div', { class: 'levels', role: 'radiogroup' }, [1, 2, 3, 4].map((n) => h('label', { class: 'level' },
    h('input', { type: 'radio', name: 'level', value: n, 'data-testid': `f-level-${n}` }), t('level_n', { n }))));
  const form = h('form', { class: 'card fault-form', 'data-testid': 'fault-form' },
    h('h2', {}, t('fault_form')),
    h('p', { class: 'hint' }, t('fault_form_help')),
    prefill.report_id ? h('p', { class: 'badge info' }, `${t('report_id')}${t('colon')}${prefill.report_id}`) : null,
    h('datalist', { id: 'systems' }, SYSTEMS.map((s) => h('option', { value: s }))),
    h('div', { class: 'grid2' }, field('occurred_at', occurred), field('system', system)),
    field('symptoms', symptoms),
    field('level', levels),
    h('p', { class: 'hint' }, t('level12'), h('br'), t('level34')),
    field('reported_by', reporter),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'f-submit', disabled: !ctx.state.config.can_open_faults }, t('open_fault')),
      ctx.state.config.can_open_faults ? null : h('span', { class: 'hint' }, t('cannot_open_faults'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const e of Object.values(errors)) e.textContent = '';
    const level = form.querySelector('input[name=level]:checked');
    const when = ctx.fromZonedInput(occurred.value); // on the center's clock
    if (!Number.isFinite(when)) { errors.occurred_at.textContent = t('datetime_format'); return; }
    const res = await ctx.act('fault.open', {
      occurred_at: when, symptoms: symptoms.value.trim(), system: system.value.trim(),
      level: level ? Number(level.value) : 0, reported_by: reporter.value.trim(), report_id: prefill.report_id || '',
    }, (err) => { for (const [k, msg] of Object.entries(err.details?.fields || {})) if (errors[k]) errors[k].textContent = fieldError(k, msg); });
    if (res) {
      ctx.toast(t('fault_opened', { id: res.fault.fault_id }));
      ctx.faultsChanged({});
    }
  });
  return form;
}

function statusBadge(f) {
  const cls = { open: 'bad', unresolvable: 'warn', recovered: 'ok' }[f.status];
  return h('span', { class: `badge ${cls}` }, t(`fault_${f.status}`));
}

export function faultItem(ctx, f, compact = false) {
  const now = ctx.now();
  const ongoing = f.status !== 'recovered';
  const id = f.fault_id;
  const canLink = ctx.state.config.can_open_faults;
  return h('div', { class: `fault ${ongoing ? 'ongoing' : ''}`, 'data-testid': `fault-${id}` },
    h('div', { class: 'item-head' },
      h('strong', {}, `${f.system} · ${t('level_n', { n: f.level })}`), statusBadge(f)),
    h('div', { class: 'kv' },
      h('span', {}, h('span', { class: 'muted' }, `${t('occurred_at')} `), ctx.fmtTime(f.occurred_at)),
      ongoing ? h('span', { class: 'strong' }, h('span', { class: 'muted' }, `${t('elapsed')} `), h('b', { 'data-since': f.occurred_at }, formatDuration(now - f.occurred_at)))
        : h('span', {}, h('span', { class: 'muted' }, `${t('recovered_at')} `), ctx.fmtTime(f.recovered_at)),
      h('span', {}, h('span', { class: 'muted' }, `${t('affected')} `), h('strong', { 'data-testid': `affected-${id}` }, String(f.affected_calls)))),
    compact ? null : [
      h('p', { class: 'symptoms' }, f.symptoms),
      h('div', { class: 'kv' }, h('span', { class: 'muted' }, `${t('reported_by')} ${f.reported_by} · `, h('span', { translate: 'no' }, id))),
      blame(ctx, f),
      linkedCalls(ctx, f, canLink),
    ],
    h('div', { class: 'row' },
      ongoing && canLink ? [
        h('button', { type: 'button', class: 'primary', 'data-testid': `f-recover-${id}`, onclick: () => ctx.recover(id) }, t('recover')),
        f.status === 'open' ? h('button', { type: 'button', 'data-testid': `f-unresolvable-${id}`, onclick: () => ctx.unresolvable(id) }, t('unresolvable')) : null] : null,
      !compact && ctx.state.config.can_edit_faults ? h('button', { type: 'button', 'data-testid': `f-edit-${id}`, onclick: () => ctx.editCause(f) }, t('edit_cause')) : null,
      !compact && canLink ? h('button', { type: 'button', 'data-testid': `f-link-${id}`, onclick: () => ctx.link(f) }, t('link_call')) : null));
}

// The form's cause (原因) and responsible person (责任人): recorded on recovery, on "unresolvable", or later.
function blame(ctx, f) {
  const value = (v, key) => (v ? h('dd', { 'data-testid': `${key}-${f.fault_id}` }, v)
    : h('dd', { class: 'muted', 'data-testid': `${key}-${f.fault_id}` }, t('not_recorded')));
  return h('dl', { class: 'subject' }, h('dt', {}, t('cause')), value(f.cause, 'cause'),
    h('dt', {}, t('responsible')), value(f.responsible, 'responsible'));
}

// The calls counted against the fault (each opens its details; a leader unlinks one with a reason), and the
// calls a leader unlinked (never linked again automatically; a leader may link one again).
function linkedCalls(ctx, f, canLink) {
  const id = f.fault_id;
  const callButton = (c) => h('button', { type: 'button', class: 'link', translate: 'no', onclick: () => ctx.showCall(c) }, c);
  return [
    h('div', { class: 'linked', 'data-testid': `linked-${id}` }, h('span', { class: 'muted' }, `${t('linked_calls')}${t('colon')}`),
      f.calls.length ? f.calls.map((c) => h('span', { class: 'call-chip', 'data-testid': `linked-${id}-${c}` }, callButton(c),
        canLink ? h('button', { type: 'button', class: 'link small', 'data-testid': `f-unlink-${id}-${c}`, onclick: () => ctx.unlink(f, c) }, t('unlink')) : null))
        : h('span', { class: 'muted' }, t('none'))),
    f.unlinked.length ? h('div', { class: 'linked', 'data-testid': `unlinked-${id}` }, h('span', { class: 'muted' }, `${t('unlinked_calls')}${t('colon')}`),
      f.unlinked.map((c) => h('span', { class: 'call-chip off', 'data-testid': `unlinked-${id}-${c}` }, callButton(c),
        canLink ? h('button', { type: 'button', class: 'link small', 'data-testid': `f-relink-${id}-${c}`, onclick: () => ctx.link(f, c) }, t('relink')) : null))) : null,
  ];
}
