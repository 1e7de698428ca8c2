// 反馈 Feedback: the queue of agents' and leaders' corrections, one item with its call, accept (it becomes a
// labelled sample in your draft) or reject with a reason, and the agreement per category over time.
// API: /api/feedback/… (docs/trainer.md). The texts live here, beside the view.
import { ApiError, token } from './api.js';
import { h } from '../shared/dom.js';
import { agreementChart, pct } from './agreement.js';
import { getLang } from './i18n.js';
import { centerTime } from '../shared/time.js';

const TEXTS = {
  feedback_title: ['反馈队列', 'Feedback queue'],
  feedback_help: ['座席和班长认为识别不对的通话。打开一条，看通话内容，接受（加入草稿的样例）或不采纳。',
    'Calls agents and shift leaders say were classified wrong. Open one, read the call, accept it (it becomes a sample in your draft) or reject it.'],
  open_n: ['待处理 {n} 条', '{n} open'],
  show: ['显示', 'Show'],
  st_open: ['待处理', 'Open'], st_accepted: ['已接受', 'Accepted'], st_rejected: ['未采纳', 'Rejected'], st_all: ['全部', 'All'],
  kind_category: ['类别更正', 'Category correction'], kind_warning: ['提醒有误', 'Wrong warning'],
  src_agent: ['座席', 'agent'], src_leader: ['班长', 'shift leader'],
  empty: ['没有反馈。', 'No feedback.'],
  when: ['时间', 'When'], from: ['来自', 'From'], call: ['通话', 'Call'], kind: ['类型', 'Kind'],
  said: ['识别 → 更正', 'Said → corrected'],
  predicted: ['系统识别为', 'Classified as'], corrected: ['应为', 'Should be'],
  warned_rule: ['提醒规则', 'Warning rule'], warned_line: ['被提醒的座席原话', 'The agent line that was warned'],
  comment: ['说明', 'Comment'], pack_version: ['话术包版本', 'Pack version'], escalation: ['升级事项', 'Escalation'],
  call_text: ['通话内容（号码等已脱敏）', 'The call (numbers and names masked)'],
  context: ['来电信息', 'Call context'], notes: ['备注', 'Notes'], transcript: ['通话记录', 'Transcript'],
  customer: ['客户', 'Customer'], agent: ['座席', 'Agent'], supervisor: ['主管', 'Supervisor'], third_party: ['第三方', 'Third party'],
  label: ['加入样例时的类别（可修改）', 'Label of the sample (you may change it)'],
  note: ['备注（可选）', 'Note (optional)'],
  accept: ['接受并加入样例', 'Accept as a sample'],
  accept_line: ['接受后，这句座席原话会作为“不是禁语”的句子加入草稿。', 'Accepting adds this agent line to your draft as “not forbidden”.'],
  reason: ['不采纳的原因（必填）', 'Why not (required)'],
  reject: ['不采纳', 'Reject'],
  decided: ['{who} 于 {when} {what}', '{what} by {who} at {when}'],
  accepted_into: ['已加入草稿 #{draft}，样例 {sample}', 'Added to draft #{draft} as sample {sample}'],
  open_draft: ['打开该草稿', 'Open that draft'],
  pick_one: ['在左侧选择一条反馈。', 'Pick an item on the left.'],
  added: ['已加入草稿 #{draft} 的样例（{sample}）', 'Added to draft #{draft} ({sample})'],
  rejected_ok: ['已标记为不采纳', 'Rejected'],
  agreement_title: ['各类别的一致率（按天）', 'Agreement per category, by day'],
  agreement_help: ['格子颜色：当天该类别的通话中没有被更正的比例（绿=一致，红=常被更正）；数字：更正的通话数。右侧：整段时间的一致率 · 更正数/通话数。',
    'Colour: the share of that day\'s calls of the category nobody corrected (green = agreed, red = often corrected); number: corrected calls. Right: the whole period, agreement · corrections/calls.'],
  days: ['最近', 'Last'], days_n: ['{n} 天', '{n} days'],
  tip: ['{day} {name}：一致率 {pct}（{calls} 通，更正 {k}）', '{day} {name}: {pct} agreement ({calls} calls, {k} corrected)'],
  no_calls: ['这段时间没有通话。', 'No calls in this period.'],
};

export function ft(key, vars = {}) {
  const pair = TEXTS[key];
  let s = pair ? pair[getLang() === 'en' ? 1 : 0] : key;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

// The feedback API; errors are the console's ApiError (status, code, message, details).
export async function fapi(method, path, body) {
  const headers = { Authorization: `Bearer ${token.get() || ''}` };
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/api/feedback${path}`, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

let zone;
const time = (s) => (s ? centerTime(s, zone) : '');

function catNames(ctx) {
  const pack = ctx.view()?.structured?.['pack.yaml'] || {};
  const names = pack.categories || {};
  return (id) => { const n = names[id] || {}; return n[getLang()] || n['zh-CN'] || id; };
}

function categories(ctx) {
  return (ctx.view()?.structured?.['pack.yaml'] || {}).priority || [];
}

export function feedbackView(ctx) {
  zone = ctx.zone();
  const st = ctx.state.feedbackTab || (ctx.state.feedbackTab = { status: 'open', selected: null, days: 30 });
  const name = catNames(ctx);
  const list = h('div', { 'data-testid': 'feedback-queue' }, ft('pick_one'));
  const detail = h('section', { class: 'card', 'data-testid': 'feedback-detail' }, h('p', { class: 'hint' }, ft('pick_one')));
  const count = h('span', { class: 'badge info', 'data-testid': 'feedback-open' });
  const filter = h('select', { 'data-testid': 'feedback-status', 'aria-label': ft('show') },
    ['open', 'accepted', 'rejected', 'all'].map((s) => h('option', { value: s, selected: st.status === s }, ft(`st_${s}`))));
  filter.addEventListener('change', () => { st.status = filter.value; loadQueue(); });

  async function loadQueue() {
    const res = await ctx.run(() => fapi('GET', `/items?status=${st.status}`));
    if (!res) return;
    count.textContent = ft('open_n', { n: res.open });
    if (!res.items.length) { list.replaceChildren(h('p', { class: 'hint' }, ft('empty'))); return; }
    list.replaceChildren(h('table', {},
      h('tr', {}, ['when', 'kind', 'from', 'said'].map((k) => h('th', {}, ft(k)))),
      res.items.map((i) => h('tr', {
        class: `fb-row${st.selected === i.id ? ' on' : ''}`, 'data-testid': `fb-item-${i.id}`, 'data-call': i.call_id, tabindex: 0,
        onclick: () => select(i.id),
        onkeydown: (ev) => { if (ev.key === 'Enter') select(i.id); },
      },
      h('td', {}, time(i.created_at)),
      h('td', {}, h('span', { class: `badge ${i.kind === 'category' ? 'info' : 'warn'}` }, ft(`kind_${i.kind}`)),
        i.status !== 'open' ? [' ', h('span', { class: `badge ${i.status === 'accepted' ? 'ok' : 'bad'}` }, ft(`st_${i.status}`))] : null),
      h('td', {}, `${i.user} (${ft(`src_${i.source}`)})`, h('div', { class: 'hint' }, i.call_id)),
      h('td', {}, i.kind === 'category'
        ? [i.predicted.map(name).join(' + '), ' → ', h('strong', {}, name(i.corrected))]
        : [h('code', {}, i.rule), ' ', h('span', { class: 'hint' }, `“${i.line_text || ''}”`)])))));
  }

  async function select(id) {
    st.selected = id;
    list.querySelectorAll('.fb-row').forEach((r) => r.classList.toggle('on', r.dataset.testid === `fb-item-${id}`));
    const item = await ctx.run(() => fapi('GET', `/items/${encodeURIComponent(id)}`));
    if (item && st.selected === id) detail.replaceChildren(...itemView(ctx, item, name, loadQueue));
  }

  const days = h('select', { 'data-testid': 'agreement-days', 'aria-label': ft('days') },
    [7, 30, 90].map((n) => h('option', { value: n, selected: st.days === n }, ft('days_n', { n }))));
  const chart = h('div', { class: 'chart-box' });
  days.addEventListener('change', () => { st.days = Number(days.value); loadChart(); });
  async function loadChart() {
    const data = await ctx.run(() => fapi('GET', `/agreement?days=${st.days}`));
    if (!data) return;
    chart.replaceChildren(data.cells.length ? agreementChart(data, name, (c, n) => ft('tip', {
      day: c.day, name: n, pct: pct(c.agreement), calls: c.calls, k: c.corrections,
    })) : h('p', { class: 'hint' }, ft('no_calls')));
  }

  loadQueue().then(() => { if (st.selected) select(st.selected); });
  loadChart();
  return h('div', { 'data-testid': 'feedback-view' },
    h('section', { class: 'card' }, h('h2', {}, ft('feedback_title'), ' ', count), h('p', { class: 'hint' }, ft('feedback_help')),
      h('div', { class: 'row' }, h('span', {}, ft('show')), filter), list),
    detail,
    h('section', { class: 'card' }, h('h2', {}, ft('agreement_title')), h('p', { class: 'hint' }, ft('agreement_help')),
      h('div', { class: 'row' }, h('span', {}, ft('days')), days), chart));
}

function itemView(ctx, item, name, reloadQueue) {
  const meta = h('table', { class: 'meta' },
    h('tr', {}, h('th', {}, ft('kind')), h('td', {}, h('span', { class: 'badge info' }, ft(`kind_${item.kind}`)), ' ',
      h('span', { class: `badge ${item.status === 'open' ? '' : item.status === 'accepted' ? 'ok' : 'bad'}`, 'data-testid': 'fb-status' }, ft(`st_${item.status}`)),
      ' ', h('code', {}, item.id))),
    h('tr', {}, h('th', {}, ft('from')), h('td', {}, `${item.user} (${ft(`src_${item.source}`)}) · ${time(item.created_at)}`)),
    h('tr', {}, h('th', {}, ft('call')), h('td', {}, item.call_id, ` · ${ft('pack_version')} ${item.pack_version}`,
      item.escalation_id ? ` · ${ft('escalation')} ${item.escalation_id}` : '')),
    h('tr', {}, h('th', {}, ft('predicted')), h('td', { 'data-testid': 'fb-predicted' }, item.predicted.map(name).join(' + '))),
    item.kind === 'category'
      ? h('tr', {}, h('th', {}, ft('corrected')), h('td', { 'data-testid': 'fb-corrected', 'data-category': item.corrected }, h('strong', {}, name(item.corrected))))
      : [h('tr', {}, h('th', {}, ft('warned_rule')), h('td', {}, h('code', {}, item.rule), item.phrase ? ` “${item.phrase}”` : '')),
        h('tr', {}, h('th', {}, ft('warned_line')), h('td', { 'data-testid': 'fb-line' }, item.line_text || ''))],
    item.comment ? h('tr', {}, h('th', {}, ft('comment')), h('td', {}, item.comment)) : null);
  const c = item.call;
  const callBox = h('div', { class: 'fb-call', 'data-testid': 'fb-call' },
    h('h4', {}, ft('call_text')),
    Object.keys(c.context).length ? [h('div', { class: 'hint' }, ft('context')),
      h('ul', {}, Object.entries(c.context).map(([k, v]) => h('li', {}, h('code', {}, k), ' ', typeof v === 'object' ? JSON.stringify(v) : String(v))))] : null,
    c.notes.length ? [h('div', { class: 'hint' }, ft('notes')), h('ul', {}, c.notes.map((n) => h('li', {}, n)))] : null,
    h('div', { class: 'hint' }, ft('transcript')),
    h('ol', { class: 'transcript', start: 0 }, c.transcript.map((t, i) => h('li', {
      class: `${t.speaker}${item.kind === 'warning' && i === item.line_index ? ' warned' : ''}`,
    }, h('b', {}, `${ft(t.speaker)}：`), t.text))));
  return [h('h2', {}, ft(`kind_${item.kind}`)), meta, callBox, decision(ctx, item, name, reloadQueue)];
}

function decision(ctx, item, name, reloadQueue) {
  if (item.status !== 'open') {
    const what = ft(`st_${item.status}`);
    return h('div', { class: 'fb-decided', 'data-testid': 'fb-decided' },
      h('p', {}, ft('decided', { who: item.decided_by, when: time(item.decided_at), what })),
      item.reason ? h('p', {}, item.reason) : null,
      item.status === 'accepted' ? h('p', {}, ft('accepted_into', { draft: item.draft_id, sample: item.sample_id }),
        item.labels.length ? ` · ${item.labels.map(name).join(' + ')}` : '', ' ',
        h('button', { type: 'button', class: 'link', onclick: () => ctx.reload(item.draft_id) }, ft('open_draft'))) : null);
  }
  const draftId = ctx.state.draft?.status === 'editing' ? ctx.state.draft.id : undefined;
  const label = h('select', { 'data-testid': 'fb-label', id: 'fb-label' },
    categories(ctx).map((cat) => h('option', { value: cat, selected: cat === item.corrected }, `${name(cat)} · ${cat}`)));
  const note = h('input', { type: 'text', id: 'fb-note', 'data-testid': 'fb-note', maxlength: 500 });
  const reason = h('input', { type: 'text', id: 'fb-reason', 'data-testid': 'fb-reason', maxlength: 500 });
  const accept = h('button', { type: 'button', class: 'primary', 'data-testid': 'fb-accept', onclick: async () => {
    const body = { note: note.value.trim(), draft_id: draftId };
    if (item.kind === 'category') body.labels = [label.value];
    const res = await ctx.run(() => fapi('POST', `/items/${encodeURIComponent(item.id)}/accept`, body));
    if (!res) return;
    ctx.toast(ft('added', { draft: res.draft.id, sample: res.sample_id }));
    await ctx.reload(res.draft.id);
  } }, ft('accept'));
  const reject = h('button', { type: 'button', class: 'danger', 'data-testid': 'fb-reject', onclick: async () => {
    const res = await ctx.run(() => fapi('POST', `/items/${encodeURIComponent(item.id)}/reject`, { reason: reason.value }));
    if (!res) return;
    ctx.toast(ft('rejected_ok'));
    await reloadQueue();
    ctx.state.feedbackTab.selected = item.id;
    const root = document.querySelector('[data-testid="feedback-detail"]');
    root?.replaceChildren(...itemView(ctx, res.item, name, reloadQueue));
  } }, ft('reject'));
  return h('div', { class: 'fb-decide' },
    item.kind === 'category' ? [h('label', { for: 'fb-label' }, ft('label')), label] : h('p', { class: 'hint' }, ft('accept_line')),
    h('label', { for: 'fb-note' }, ft('note')), note,
    h('div', { class: 'row' }, accept),
    h('label', { for: 'fb-reason' }, ft('reason')), reason,
    h('div', { class: 'row' }, reject));
}
