// The shift-leader console: sign-in, the live board (websocket), faults, live calls and the daily report.
import { api, ApiError, token } from './api.js';
import { h } from '../shared/dom.js';
import { beep, setSound, soundOn, unlock } from './beep.js';
import { applyEvent, formatDuration, newlyOverdue, sortBoard } from './board.js';
import { byLeaderOrder, callDetail, updateCalls } from './calls.js';
import { clockText, escalationCard } from './cards.js';
import { ask, show } from './dialog.js';
import { faultForm, faultItem } from './faults.js';
import { applyStatic, code, errorText, getLang, has, ROUTING_DOC, setLang, t, tNodes } from './i18n.js';
import { reportView } from './report.js';
import { LeaderSocket } from './socket.js';
import { clock, dayTime, fromZonedInput, isoDay, zonedInput } from './zone.js';

const $ = (id) => document.getElementById(id);
const FRESH_FOR = 120; // seconds a new escalation stays highlighted, unless someone acknowledges it
const CALL_INFO_TTL = 20000;
const CALLS_SHOWN = 200; // rows of the live-call list drawn: the most serious (the chip counts them all)
const CALLS_EVERY = 250; // ms: pushes arriving faster are drawn together

const state = {
  me: null, config: null, skew: 0, sock: null, conn: 'connecting', tab: 'board', loaded: false,
  board: new Map(), overdue: new Set(), fresh: new Map(), order: '',
  calls: new Map(), faults: [], callCache: new Map(), faultPrefill: null, report: null,
};

const ctx = {
  state,
  now: () => Date.now() / 1000 + state.skew,
  // Times on the center's clock (config.timezone), whatever zone the browser is in.
  fmtTime: (ts) => (ts == null ? '' : clock(ts, state.config.timezone)),
  fmtDateTime: (ts) => (ts == null ? '' : dayTime(ts, state.config.timezone, getLang())),
  fmtDay: (iso) => { const [y, m, d] = iso.split('-').map(Number); return getLang() === 'en' ? iso : `${y}年${m}月${d}日`; },
  zonedInput: (ts) => zonedInput(ts, state.config.timezone),
  fromZonedInput: (value) => fromZonedInput(value, state.config.timezone),
  catName: (id) => { const n = state.config.categories[id]; return n ? (n[getLang()] || n['zh-CN'] || id) : id; },
  fieldName: (id) => { const n = state.config.fields[id]; if (n) return n[getLang()] || n['zh-CN'] || id; return has(id) ? t(id) : id; },
  contactName: (id) => state.config.contacts[id]?.name || id,
  callInfo,
  showCall,
  act,
  toast,
  note: async (esc) => {
    const v = await ask(t('note'), [{ name: 'text', label: t('note_text'), type: 'textarea', required: true }]);
    if (v?.text) await act('escalation.note', { escalation_id: esc.escalation_id, text: v.text });
  },
  resolve: async (esc) => {
    const fields = [{ name: 'resolution', label: t('resolution'), type: 'textarea' }];
    if (esc.kind.startsWith('complaint.')) fields.push({ name: 'forwarded_to', label: t('forwarded_to') });
    // The call's category, when the classifier had it wrong: it becomes feedback for the trainers.
    if (esc.subject.call_id) {
      fields.push({ name: 'category', label: t('correct_category'), type: 'select', options: [
        { value: '', label: t('no_correction') },
        ...state.config.priority.map((c) => ({ value: c, label: ctx.catName(c) }))] });
    }
    const v = await ask(t('resolve'), fields, t('resolve'));
    if (!v) return;
    const res = await act('escalation.resolve', { escalation_id: esc.escalation_id, resolution: v.resolution,
      forwarded_to: v.forwarded_to || '', ...(v.category ? { category: v.category } : {}) });
    if (res?.feedback) toast(t('category_corrected', { name: ctx.catName(res.feedback.category) }));
  },
  faultForm: (esc) => {
    state.faultPrefill = { report_id: esc.escalation_id, reported_by: esc.subject.agent, symptoms: esc.subject.reason || '', occurred_at: esc.opened_at };
    setTab('faults');
  },
  // 记录恢复: the recovery time, and the cause and responsible person if already known (they may come later).
  recover: async (faultId) => {
    const f = faultById(faultId);
    const v = await ask(t('recover'), [
      { name: 'recovered_at', label: `${t('recovered_at')}${t('lp')}${t('datetime_placeholder')}${t('rp')}`, value: ctx.zonedInput(ctx.now()), required: true },
      { name: 'cause', label: t('cause_later'), type: 'textarea', value: f?.cause || '' },
      { name: 'responsible', label: t('responsible_later'), value: f?.responsible || '' }]);
    if (!v) return;
    const at = ctx.fromZonedInput(v.recovered_at);
    if (!Number.isFinite(at)) { toast(t('datetime_format'), true); return; }
    const res = await act('fault.recover', { fault_id: faultId, recovered_at: at, cause: v.cause, responsible: v.responsible });
    if (res) { faultReplied(res.fault); faultsChanged(); }
  },
  unresolvable: async (faultId) => {
    const f = faultById(faultId);
    const v = await ask(t('unresolvable'), [{ name: 'cause', label: t('cause'), type: 'textarea', required: true, value: f?.cause || '' },
      { name: 'responsible', label: t('responsible'), required: true, value: f?.responsible || '' }]);
    if (v && await act('fault.unresolvable', { fault_id: faultId, cause: v.cause, responsible: v.responsible })) faultsChanged();
  },
  // Record or correct the cause and responsible person, whatever the fault's status (fault.update): only
  // what changed is sent; an unresolvable fault keeps both.
  editCause: async (f) => {
    const keep = f.status === 'unresolvable';
    const v = await ask(t('edit_cause'), [
      { name: 'cause', label: t('cause'), type: 'textarea', required: keep, value: f.cause || '' },
      { name: 'responsible', label: t('responsible'), required: keep, value: f.responsible || '' }]);
    if (!v) return;
    const changed = Object.fromEntries(['cause', 'responsible'].filter((k) => v[k] !== (f[k] || '')).map((k) => [k, v[k]]));
    if (!Object.keys(changed).length) { toast(t('nothing_changed')); return; }
    const res = await act('fault.update', { fault_id: f.fault_id, ...changed });
    if (res) { faultReplied(res.fault); toast(t('fault_updated')); }
  },
  // A call that was not affected: it stops counting and is never linked to this fault again automatically.
  unlink: async (f, callId) => {
    const v = await ask(`${t('unlink')} · ${callId}`, [{ name: 'reason', label: t('link_reason'), type: 'textarea', required: true }],
      t('unlink'), t('unlink_help'));
    if (!v) return;
    const res = await act('fault.unlink', { fault_id: f.fault_id, call_id: callId, reason: v.reason });
    if (res) { faultReplied(res.fault); toast(t('call_unlinked', { call: callId })); }
  },
  // Count a call against this fault (one it was unlinked from, or any call: it moves from another fault).
  link: async (f, callId) => {
    const fields = [{ name: 'reason', label: t('link_reason'), type: 'textarea', required: true }];
    if (!callId) fields.unshift({ name: 'call_id', label: t('call_id'), required: true, list: 'live-call-ids' });
    const v = await ask(callId ? `${t('relink')} · ${callId}` : t('link_call'), fields, t('link'), t('link_help'));
    if (!v) return;
    const call = callId || v.call_id;
    const res = await act('fault.link', { fault_id: f.fault_id, call_id: call, reason: v.reason });
    if (res) { faultReplied(res.fault); toast(t('call_linked', { call })); }
  },
  faultsChanged: () => faultsChanged(true),
  // Tell the urgent complaint's emergency contacts through their channels; the server records it on the escalation.
  emergency: async (esc) => {
    try {
      const res = await api('POST', `/escalations/${encodeURIComponent(esc.escalation_id)}/emergency`);
      applyEvent(state.board, { escalation: res.escalation });
      renderBoard();
      const last = res.escalation.notes.filter((n) => n.action === 'emergency_contact').pop();
      if (last) toast(t('emergency_sent', { names: last.contacts.map((c) => c.name).join(t('sep')) }));
    } catch (e) { toast(`${t('failed')}${t('colon')}${errorText(e)}`, true); }
  },
};

function toast(message, bad = false) {
  const el = $('toast');
  el.textContent = message;
  el.className = bad ? 'toast bad' : 'toast';
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, bad ? 7000 : 4000);
}

// A websocket command; its escalation (if any) goes on the board at once. Errors become a toast.
async function act(type, fields, onError) {
  try {
    const res = await state.sock.call(type, fields);
    if (res.escalation) { applyEvent(state.board, { escalation: res.escalation }); renderBoard(); }
    return res;
  } catch (e) {
    onError?.(e);
    toast(`${t('failed')}${t('colon')}${errorText(e)}`, true);
    return null;
  }
}

// -- sign-in --------------------------------------------------------------------------------------

function denied(message) {
  state.sock?.close();
  $('app').hidden = true;
  $('login').hidden = false;
  $('logout').hidden = true;
  $('login-error').textContent = message;
}

async function signIn() {
  try {
    state.me = await api('GET', '/me');
    state.config = await api('GET', '/config');
  } catch (e) {
    token.clear();
    return denied(e instanceof ApiError && e.status === 403 ? t('not_authorized') : t('bad_token'));
  }
  state.skew = state.config.now - Date.now() / 1000;
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  // ?ws= may only point at this page's own host: the console sends the leader's token to it.
  const asked = new URLSearchParams(location.search).get('ws');
  const url = asked && sameHost(asked) ? asked : state.config.ws_url;
  state.sock = new LeaderSocket(url, token.get(), getLang(), { onState, onSnapshot, onEvent, onCalls });
  state.sock.connect();
  setInterval(tick, 1000);
  renderAll();
}

function onState(s) {
  if (s === 'denied') { token.clear(); denied(t('bad_token')); return; }
  state.conn = s;
  renderConn();
  if (s === 'up') faultsChanged(false);
}

function onSnapshot(escalations) {
  state.board = new Map(escalations.map((e) => [e.escalation_id, e]));
  const now = ctx.now();
  state.overdue = new Set(sortBoard(escalations, now).filter((x) => x.u.state === 'overdue').map((x) => x.esc.escalation_id));
  state.loaded = true;
  renderBoard();
}

function onEvent(ev) {
  if (ev.type === 'fault.event') { faultReplied(ev.fault); return; }
  if (ev.event === 'notify') {
    // The board already shows its own escalations; a notification about anything else is worth a toast.
    if (!state.board.has(ev.escalation_id)) toast(ev.text);
    if (/\.r\d+$/.test(ev.step || '')) beep('reminder');
    return;
  }
  // The leader who sent it already reads whom it went to: the push must not replace that toast.
  if (ev.event === 'report') { if (ev.by !== state.me.user) toast(t('report_sent_event')); return; }
  const esc = ev.escalation;
  applyEvent(state.board, ev);
  if (!esc) return;
  if (ev.event === 'new') {
    state.fresh.set(esc.escalation_id, ctx.now());
    beep('new');
  }
  if (esc.subject.call_id) state.callCache.delete(esc.subject.call_id);
  if (esc.kind === 'fault' || esc.kind === 'fault_report') faultsChanged(false);
  renderBoard();
}

// -- the board ------------------------------------------------------------------------------------

function sorted() {
  return sortBoard([...state.board.values()], ctx.now());
}

// Cards are rebuilt only when what they show changed (the escalation, its state, its call's details, the
// language); the others are kept and only moved into order, so a busy board stays cheap to refresh.
const cards = new Map(); // id -> { key, el }

function cardKey(esc, u) {
  const info = esc.subject.call_id ? state.callCache.get(esc.subject.call_id) : null;
  return JSON.stringify([esc, u.state, u.step?.name, state.fresh.has(esc.escalation_id), info?.at, getLang()]);
}

function renderBoard() {
  if (!state.config) return;
  const list = sorted();
  state.order = signature(list);
  const board = $('board');
  if (!list.length) {
    cards.clear();
    board.replaceChildren(h('p', { class: 'empty', 'data-testid': 'board-empty' }, t('board_empty')));
    renderChips(list);
    return;
  }
  board.querySelector('[data-testid=board-empty]')?.remove();
  const keep = new Set();
  let prev = null;
  for (const { esc, u } of list) {
    const id = esc.escalation_id;
    keep.add(id);
    const key = cardKey(esc, u);
    let entry = cards.get(id);
    if (!entry || entry.key !== key) {
      const el = escalationCard(ctx, esc, u);
      if (entry) entry.el.replaceWith(el);
      entry = { key, el };
      cards.set(id, entry);
    }
    const want = prev ? prev.nextSibling : board.firstChild;
    if (want !== entry.el) board.insertBefore(entry.el, want);
    prev = entry.el;
  }
  for (const [id, entry] of cards) if (!keep.has(id)) { entry.el.remove(); cards.delete(id); }
  renderChips(list);
}

const signature = (list) => list.map(({ esc, u }) => `${esc.escalation_id}:${u.state}:${state.fresh.has(esc.escalation_id)}`).join('|');

function tick() {
  const now = ctx.now();
  for (const [id, at] of state.fresh) {
    const esc = state.board.get(id);
    if (!esc || esc.acks.length || now - at > FRESH_FOR) state.fresh.delete(id);
  }
  const list = sorted();
  const newly = newlyOverdue(state.overdue, list.map((x) => x.esc), now);
  if (newly.length && state.loaded) beep('overdue');
  state.overdue = new Set(list.filter((x) => x.u.state === 'overdue').map((x) => x.esc.escalation_id));
  if (signature(list) !== state.order) { renderBoard(); } else {
    for (const { esc, u } of list) {
      const el = document.querySelector(`[data-countdown="${esc.escalation_id}"]`);
      if (el) el.textContent = clockText(u, esc, now);
    }
    renderChips(list);
  }
  document.querySelectorAll('[data-since]').forEach((el) => {
    const since = Number(el.dataset.since);
    if (since) el.textContent = formatDuration(now - since);
  });
}

function renderChips(list) {
  const count = (st) => list.filter((x) => x.u.state === st).length;
  const openFaults = state.faults.filter((f) => f.status !== 'recovered').length;
  const chip = (key, n, cls, testid) => h('span', { class: `chip ${n ? cls : 'zero'}`, 'data-testid': testid }, h('b', {}, String(n)), t(key));
  $('chips').replaceChildren(
    chip('chip_overdue', count('overdue'), 'bad', 'chip-overdue'), chip('chip_soon', count('soon'), 'warn', 'chip-soon'),
    chip('chip_waiting', count('waiting'), 'warn', 'chip-waiting'), chip('chip_faults', openFaults, 'bad', 'chip-faults'),
    chip('chip_calls', state.calls.size, 'info', 'chip-calls'));
  const alarm = count('overdue') + count('waiting');
  document.title = `${alarm ? `(${alarm}) ` : ''}${t('title')}`;
}

function renderConn() {
  const el = $('conn');
  el.className = `conn ${state.conn}`;
  el.textContent = t({ up: 'connected', down: 'disconnected', connecting: 'connecting' }[state.conn] || 'connecting');
  $('banner').hidden = state.conn !== 'down';
  $('banner').textContent = t('disconnected');
}

// -- calls ----------------------------------------------------------------------------------------

// The live-call list arrives by push (LeaderSocket.syncCalls, calls.delta): a page or a delta is applied
// at once and drawn at most every CALLS_EVERY ms, however many calls change.
function onCalls({ reset, rows, gone }) {
  if (reset) state.calls = new Map();
  for (const row of rows) state.calls.set(row.call_id, row);
  for (const id of gone) state.calls.delete(id);
  if (!onCalls.timer) onCalls.timer = setTimeout(() => { onCalls.timer = null; renderCalls(); }, CALLS_EVERY);
}

function renderCalls(fresh = false) {
  if (!state.config) return;
  const shown = [...state.calls.values()].sort(byLeaderOrder(state.config.priority)).slice(0, CALLS_SHOWN);
  updateCalls(ctx, $('calls'), shown, fresh, state.calls.size - shown.length);
  $('live-call-ids').replaceChildren(...shown.map((c) => h('option', { value: c.call_id })));
  renderChips(sorted());
}

function callInfo(callId) {
  const hit = state.callCache.get(callId);
  if (hit && (hit.loading || Date.now() - hit.at < CALL_INFO_TTL)) return hit.data;
  state.callCache.set(callId, { loading: true, data: hit?.data || null, at: Date.now() });
  api('GET', `/calls/${encodeURIComponent(callId)}`)
    .then((data) => { state.callCache.set(callId, { data, at: Date.now() }); renderBoard(); })
    .catch(() => state.callCache.set(callId, { data: null, at: Date.now() }));
  return hit?.data || null;
}

async function showCall(callId) {
  try {
    show(`${t('call_detail')} · ${callId}`, ...callDetail(ctx, await api('GET', `/calls/${encodeURIComponent(callId)}`)).flat().filter(Boolean));
  } catch (e) {
    toast(errorText(e), true);
  }
}

// The roles nobody in the directory holds: their escalation steps reach nobody, and the leader must know.
function renderUnstaffed() {
  const roles = state.config?.unstaffed || [];
  $('unstaffed').hidden = !roles.length;
  $('unstaffed').replaceChildren(...(roles.length ? tNodes('unstaffed', { roles: roles.map((r) => t(`role_${r}`)).join(t('sep')),
    doc: code(ROUTING_DOC), contacts: code('[[contacts]]'), api: code('PUT /api/directory') }) : []));
}

// -- faults ---------------------------------------------------------------------------------------

async function faultsChanged(resetForm) {
  if (resetForm) { state.faultPrefill = null; renderFaultForm(); }
  try {
    state.faults = (await state.sock.call('fault.list', { status: 'all' })).faults;
  } catch { return; }
  renderFaults();
}

function faultById(id) {
  return state.faults.find((f) => f.fault_id === id) || null;
}

// A fault as the server now has it (a command's reply, or a fault.event push from any leader or the
// linker): it replaces the one shown, and its escalation's card shows the same cause and responsible person.
function faultReplied(fault) {
  if (!fault) return;
  const i = state.faults.findIndex((f) => f.fault_id === fault.fault_id);
  if (i >= 0) state.faults[i] = fault; else state.faults.unshift(fault);
  const esc = state.board.get(fault.escalation_id);
  if (esc && (esc.subject.cause !== fault.cause || esc.subject.responsible !== fault.responsible)) {
    state.board.set(esc.escalation_id, { ...esc, subject: { ...esc.subject, cause: fault.cause, responsible: fault.responsible } });
    renderBoard();
  }
  renderFaults();
}

function renderFaults() {
  const open = state.faults.filter((f) => f.status !== 'recovered');
  $('faults-mini').replaceChildren(...(open.length ? open.map((f) => faultItem(ctx, f, true)) : [h('p', { class: 'hint' }, t('no_faults'))]));
  const ordered = [...open, ...state.faults.filter((f) => f.status === 'recovered')];
  $('faults-all').replaceChildren(...(ordered.length ? ordered.map((f) => faultItem(ctx, f)) : [h('p', { class: 'hint' }, t('no_fault_records'))]));
  renderChips(sorted());
}

function renderFaultForm() {
  $('fault-form-slot').replaceChildren(faultForm(ctx, state.faultPrefill || {}));
}

// -- report ---------------------------------------------------------------------------------------

function today() {
  return isoDay(ctx.now(), state.config.timezone);
}

// The day field is text (YYYY-MM-DD): the browser's date picker shows its own locale's format.
function shiftDay(n) {
  const [y, m, d] = ($('report-day').value || today()).split('-').map(Number);
  const next = new Date(Date.UTC(y, m - 1, d + n));
  $('report-day').value = next.toISOString().slice(0, 10);
  loadReport();
}

async function loadReport() {
  const day = $('report-day').value.trim() || today();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) { toast(t('day_format'), true); return; }
  $('report-day').value = day;
  try {
    state.report = await api('GET', `/report?day=${day}`);
    $('report').replaceChildren(reportView(ctx, state.report));
  } catch (e) { toast(errorText(e), true); }
}

async function sendReport() {
  const day = $('report-day').value || today();
  const ok = await ask(t('send_now'), [], t('send_now'), t('confirm_send'));
  if (!ok) return;
  try {
    const r = await api('POST', '/report/send', { day });
    toast(r.recipients.length ? t('sent_to', { names: r.recipients.map((x) => x.name).join(t('sep')) }) : t('sent_nobody'));
    loadReport();
  } catch (e) { toast(errorText(e), true); }
}

// -- layout ---------------------------------------------------------------------------------------

function setTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('on', b.dataset.tab === tab);
  for (const name of ['board', 'faults', 'report']) $(`view-${name}`).hidden = name !== tab;
  if (tab === 'faults') { renderFaultForm(); faultsChanged(false); }
  if (tab === 'report') loadReport();
}

function renderAll() {
  applyStatic();
  // The switch names the other language in that language, and says so (lang=), so it is read right.
  $('lang').textContent = getLang() === 'en' ? '中文' : 'English';
  $('lang').setAttribute('lang', getLang() === 'en' ? 'zh-CN' : 'en');
  $('report-day').placeholder = t('day_placeholder');
  $('sound').textContent = t(soundOn() ? 'sound_on' : 'sound_off');
  if (!state.config) return;
  // who is signed in, with the role in words of the page's language (the id stays as it is)
  $('who').replaceChildren(h('span', { translate: 'no' }, state.me.user), ` · ${t(`login_role_${state.me.role}`)}`);
  renderConn();
  renderBoard();
  renderFaults();
  renderCalls(true);
  setTab(state.tab);
  renderUnstaffed();
}

function boot() {
  setLang(getLang());
  applyStatic();
  $('lang').addEventListener('click', () => { setLang(getLang() === 'en' ? 'zh-CN' : 'en'); renderAll(); });
  $('sound').addEventListener('click', () => { setSound(!soundOn()); if (soundOn()) beep('new'); renderAll(); });
  $('logout').addEventListener('click', () => { token.clear(); location.reload(); });
  $('login-form').addEventListener('submit', (ev) => { ev.preventDefault(); unlock(); token.set($('token').value.trim()); signIn(); });
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => setTab(b.dataset.tab));
  $('report-refresh').addEventListener('click', loadReport);
  $('report-prev').addEventListener('click', () => shiftDay(-1));
  $('report-next').addEventListener('click', () => shiftDay(1));
  $('report-day').addEventListener('change', loadReport);
  $('report-send').addEventListener('click', sendReport);
  document.addEventListener('click', unlock, { once: true });
  renderAll();
  if (token.get()) signIn(); else denied('');
}

boot();

function sameHost(wsUrl) {
  try {
    const u = new URL(wsUrl);
    return (u.protocol === 'ws:' || u.protocol === 'wss:') && u.hostname === location.hostname;
  } catch {
    return false;
  }
}
