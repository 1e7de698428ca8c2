// One escalation as a card: what it is, the countdown to its next deadline, the call behind it,
// the agent's record, who was told, notes, and the buttons that act through the websocket.
import { h } from '../shared/dom.js';
import { countdown, formatDuration } from './board.js';
import { code, ROUTING_DOC, stepName, t, tNodes } from './i18n.js';

const HIDDEN = new Set(['call_id', 'agent', 'record_id', 'labels', 'level']);

export function clockText(u, esc, now) {
  const c = countdown(u, esc, now);
  const main = `${t(c.key)} ${formatDuration(c.seconds)}`;
  return c.next != null ? `${main} · ${t('then_next')} ${formatDuration(c.next)}` : main;
}

function kindName(kind) {
  const key = `kind_${kind}`;
  const s = t(key);
  return s === key ? kind : s;
}

export function escalationCard(ctx, esc, u) {
  const id = esc.escalation_id;
  const now = ctx.now();
  const mine = esc.acks.some((a) => a.user === ctx.state.me.user);
  const fresh = ctx.state.fresh.has(id);
  const cls = ['esc', `st-${u.state}`, fresh ? 'fresh' : ''].join(' ');
  return h('article', { class: cls, 'data-testid': `esc-${id}`, 'data-state': u.state, 'data-kind': esc.kind },
    h('header', { class: 'esc-head' },
      h('div', { class: 'esc-title' },
        h('span', { class: 'kind' }, kindName(esc.kind)),
        esc.kind === 'fault' && esc.subject.level ? h('span', { class: 'badge bad' }, t('level_n', { n: esc.subject.level })) : null,
        esc.kind === 'media.live' ? h('span', { class: 'badge live' }, t('live_broadcast')) : null,
        fresh ? h('span', { class: 'badge new' }, t('new')) : null,
        esc.status === 'unresolvable' ? h('span', { class: 'badge bad' }, t('unresolvable_badge')) : null,
        h('span', { class: 'esc-id' }, id)),
      h('div', { class: 'clock-box' },
        h('div', { class: 'state' }, t(`state_${u.state}`)),
        h('div', { class: 'clock', 'data-countdown': id, 'data-testid': `countdown-${id}` }, clockText(u, esc, now)),
        u.step ? h('div', { class: 'clock-step' }, `${stepName(u.step.name)} → ${u.step.roles.map((r) => t(`role_${r}`)).join(t('sep'))}`) : null)),
    callLine(ctx, esc),
    subjectList(ctx, esc),
    told(ctx, esc),
    esc.kind === 'complaint.urgent' ? emergencyBox(ctx, esc) : null,
    plainNotes(esc).length ? h('ul', { class: 'notes', 'data-testid': `notes-${id}` }, plainNotes(esc).map((n) => h('li', {}, h('span', { class: 'muted' }, `${ctx.fmtTime(n.at)} ${n.by}${t('colon')}`), noteText(n)))) : null,
    h('footer', { class: 'esc-actions' },
      h('button', { type: 'button', class: mine ? '' : 'primary', disabled: mine, 'data-testid': `ack-${id}`, onclick: () => ctx.act('escalation.ack', { escalation_id: id }) },
        mine ? `✓ ${t('acked')}` : t('ack')),
      h('button', { type: 'button', 'data-testid': `note-${id}`, onclick: () => ctx.note(esc) }, t('note')),
      esc.kind === 'fault_report' ? h('button', { type: 'button', 'data-testid': `fault-form-${id}`, onclick: () => ctx.faultForm(esc) }, t('open_fault_form')) : null,
      esc.kind === 'fault' && esc.fault_id ? [
        h('button', { type: 'button', 'data-testid': `recover-${id}`, onclick: () => ctx.recover(esc.fault_id) }, t('recover')),
        esc.status === 'open' ? h('button', { type: 'button', onclick: () => ctx.unresolvable(esc.fault_id) }, t('unresolvable')) : null,
      ] : h('button', { type: 'button', 'data-testid': `resolve-${id}`, onclick: () => ctx.resolve(esc) }, t('resolve')),
      esc.kind === 'complaint.about_agent' && u.step ? h('button', { type: 'button', onclick: () => ctx.act('escalation.unresolved', { escalation_id: id }) }, t('unresolved')) : null,
      esc.acks.length ? h('span', { class: 'muted acks' }, `${t('acked_by')}${t('colon')}${esc.acks.map((a) => `${a.user} ${ctx.fmtTime(a.at)}`).join(t('comma'))}`) : null));
}

function callLine(ctx, esc) {
  const callId = esc.subject.call_id;
  if (!callId) return null;
  const info = ctx.callInfo(callId);
  const c = info?.context || {};
  const bits = [
    [t('call'), h('button', { type: 'button', class: 'link', onclick: () => ctx.showCall(callId) }, callId)],
    [t('agent'), esc.subject.agent || info?.agent],
    [t('customer'), c.customer_name], [t('caller'), c.caller_number], [t('queue'), c.queue],
    [t('category'), info ? (info.labels.length ? info.labels : [info.category]).map((l) => ctx.catName(l)).join(' + ') : null],
  ].filter(([, v]) => v);
  const last = info?.transcript?.slice(-2) || [];
  return h('div', { class: 'call-line' },
    h('div', { class: 'kv' }, bits.map(([k, v]) => h('span', {}, h('span', { class: 'muted' }, `${k} `), v))),
    last.length ? h('div', { class: 'tail' }, last.map((ln) => h('div', {}, h('span', { class: 'muted' }, `${t(`speaker_${ln.speaker}`)}${t('colon')}`), ln.text))) : null);
}

function subjectList(ctx, esc) {
  const rows = Object.entries(esc.subject).filter(([k, v]) => !HIDDEN.has(k) && v !== '' && v != null && typeof v !== 'object');
  if (!rows.length) return null;
  return h('dl', { class: 'subject' }, rows.map(([k, v]) => [h('dt', {}, ctx.fieldName(k)), h('dd', {}, String(v))]));
}

function told(ctx, esc) {
  const steps = esc.steps.filter((s) => !s.cancelled && (s.fired_at != null || !s.reminder_of));
  if (!steps.length) return null;
  return h('ul', { class: 'told', 'aria-label': t('told') }, steps.map((s) => {
    if (s.fired_at == null) {
      return h('li', { class: 'pending' }, h('span', { class: 'muted' }, `${t('pending_step')} ${ctx.fmtTime(s.due_at)} · `),
        `${stepName(s.name)} → ${s.roles.map((r) => t(`role_${r}`)).join(t('sep'))}`);
    }
    const who = s.recipients.length ? s.recipients.map((c) => ctx.contactName(c)).join(t('sep')) : t('nobody');
    return h('li', {}, h('span', { class: 'muted' }, `${t('told')} ${ctx.fmtTime(s.fired_at)} · `), `${stepName(s.name)}${t('colon')}`, who,
      s.late ? h('span', { class: 'badge bad' }, t('late')) : null);
  }));
}

// Notes other than the emergency contact's record (that one shows in the emergency box).
const plainNotes = (esc) => (esc.kind === 'complaint.urgent' ? esc.notes.filter((n) => n.action !== 'emergency_contact') : esc.notes);

const channelNames = (channels) => channels.map((ch) => t(`channel_${ch}`)).join(t('sep'));

// A note; the record of an emergency contact told is written from its fields, in the page's language.
function noteText(n) {
  if (n.action !== 'emergency_contact') return n.text;
  return `${t('emergency_told')}${t('colon')}${n.contacts.map((c) => `${c.name}${t('lp')}${c.number || t('no_number')}${t('rp')}· ${channelNames(c.channels)}`).join(t('semi'))}`;
}

// The urgent complaint's emergency contacts (plan §3.2.2): name, number, the channels a click notifies,
// and whether someone already did it.
function emergencyBox(ctx, esc) {
  const id = esc.escalation_id;
  const people = ctx.state.config.emergency_contacts || [];
  const done = esc.notes.filter((n) => n.action === 'emergency_contact');
  if (!people.length) return h('div', { class: 'emergency', 'data-testid': `emergency-${id}` }, h('strong', {}, `${t('emergency_contact')}${t('colon')}`), tNodes('emergency_none', { role: code('emergency_contact'), doc: code(ROUTING_DOC) }));
  const anyChannel = people.some((p) => p.channels.length);
  return h('div', { class: 'emergency', 'data-testid': `emergency-${id}` },
    h('div', { class: 'row' }, h('strong', {}, `${t('emergency_contact')}${t('colon')}`),
      people.map((p) => h('span', { 'data-testid': `emergency-person-${p.id}` }, `${p.name} `,
        p.number ? h('a', { href: `tel:${p.number.replace(/\s+/g, '')}` }, p.number) : h('span', { class: 'muted' }, t('no_number')),
        p.channels.length ? h('span', { class: 'muted' }, `${t('lp')}${channelNames(p.channels)}${t('rp')}`) : null)),
      esc.status === 'open' ? h('button', { type: 'button', class: done.length ? '' : 'primary', 'data-testid': `emergency-notify-${id}`, onclick: () => ctx.emergency(esc) },
        anyChannel ? t('emergency_notify') : t('emergency_phoned')) : null),
    done.map((n) => h('div', { class: 'done', 'data-testid': `emergency-done-${id}` }, `✓ ${ctx.fmtTime(n.at)} ${n.by} · ${noteText(n)}`)));
}
