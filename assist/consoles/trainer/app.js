// The trainer console: sign-in, navigation, the draft in hand, and the try-it box.
import { api, ApiError, debounce, token } from './api.js';
import { h } from '../shared/dom.js';
import { categoryView, forbiddenView, synonymsView } from './editor.js';
import { feedbackView } from './feedback.js';
import { applyStatic, getLang, has, setLang, t } from './i18n.js';
import { serverText } from './messages.js';
import { auditView, filesView, reviewView, samplesCard, versionsView } from './review.js';

const $ = (id) => document.getElementById(id);
const state = { me: null, published: null, draft: null, section: { kind: 'category', id: null }, saving: 0, saveState: null };

const ctx = {
  state,
  view: () => state.draft || state.published,
  contexts: () => state.published?.contexts || [],
  toast,
  run,
  reload,
  edit,
  putFiles,
  ensureDraft,
  catName: (id) => catName(id),
  zone: () => state.me?.timezone,
};

function toast(message, bad = false) {
  const el = $('toast');
  el.textContent = message;
  el.className = bad ? 'toast bad' : 'toast';
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, bad ? 7000 : 3500);
}

// Run an API call; refusals become a readable message (or the sign-in screen).
async function run(fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403) && e.code !== 'unauthorized') return denied(t('bad_token'));
    const more = e.details?.blockers?.map(serverText) || e.details?.problems?.map((p) => p.text) || [];
    const message = serverText(e.message);
    toast([message, ...more.slice(0, 3).filter((m) => !message.includes(m))].join('\n'), true);
    return null;
  }
}

function denied(message) {
  $('app').hidden = true;
  $('login').hidden = false;
  $('logout').hidden = true;
  $('login-error').textContent = message;
  return null;
}

async function signIn() {
  try {
    state.me = await api('GET', '/me');
  } catch (e) {
    token.clear();
    return denied(e instanceof ApiError && e.status === 403 ? t('not_authorized') : t('bad_token'));
  }
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  showWho();
  const drafts = await api('GET', '/drafts');
  await reload(drafts.drafts[0]?.id ?? null);
  return state.me;
}

function showWho() {
  if (!state.me) return;
  const role = has(`role_${state.me.role}_user`) ? t(`role_${state.me.role}_user`) : state.me.role;
  $('who').textContent = `${state.me.user} · ${role}`;
}

async function reload(draftId) {
  state.published = await api('GET', '/current');
  state.draft = draftId ? await api('GET', `/drafts/${draftId}`) : null;
  if (state.draft && !['editing', 'submitted'].includes(state.draft.status)) state.draft = null;
  render();
  tryIt();
}

async function ensureDraft() {
  if (!state.draft) state.draft = await api('POST', '/drafts', {});
  return state.draft;
}

// An edit answers at once: the form keeps what the trainer typed and the status card says 正在保存… until the
// server has the draft; then the page is drawn again from the saved draft (or says the save failed).
async function saving(send) {
  state.saving += 1;
  showSaveState('saving');
  const res = await run(async () => send(await ensureDraft()));
  state.saving -= 1;
  if (res) afterSave(res);
  else showSaveState(state.saving ? 'saving' : 'save_failed');
}

function edit(edits) {
  return saving((draft) => api('PATCH', `/drafts/${draft.id}`, { edits }));
}

function putFiles(files) {
  return saving((draft) => api('PUT', `/drafts/${draft.id}/files`, { files }));
}

function showSaveState(kind) {
  state.saveState = kind;
  const el = $('save-state');
  if (!el) return;
  el.hidden = !kind;
  el.className = `badge ${kind === 'saving' ? 'warn' : kind === 'save_failed' ? 'bad' : 'ok'}`;
  el.dataset.state = kind || '';
  el.textContent = kind ? t(kind) : '';
  const none = $('no-draft');
  if (none) none.textContent = t(kind === 'saving' ? 'creating_draft' : 'no_draft');
}

function afterSave(draft) {
  state.draft = draft;
  state.saveState = state.saving ? 'saving' : 'saved_short';
  toast(draft.problems.length ? `${t('saved', { id: draft.id })} · ${t('problems')}: ${draft.problems.length}` : t('saved', { id: draft.id }),
    draft.problems.length > 0);
  render();
  tryIt();
}

function names() {
  const pack = ctx.view().structured['pack.yaml'] || {};
  return { priority: pack.priority || [], names: pack.categories || {} };
}

// What the calls and the pack's texts are written in (the try box's words are the caller's, not the UI's).
const packLang = () => (ctx.view()?.structured?.['pack.yaml']?.languages || ['zh-CN'])[0];

const catName = (id) => { const n = names().names[id] || {}; return n[getLang()] || n['zh-CN'] || id; };

function render() {
  applyStatic();
  showWho();
  langButton();
  const { priority } = names();
  if (!state.section.id && state.section.kind === 'category') state.section.id = priority[0];
  const navButton = (kind, id, label) => h('li', {}, h('button', {
    type: 'button', class: state.section.kind === kind && state.section.id === id ? 'on' : '', 'data-testid': `nav-${id}`,
    onclick: () => { state.section = { kind, id }; render(); },
  }, label));
  $('nav-categories').replaceChildren(...priority.map((c) => navButton('category', c, catName(c))));
  $('nav-more').replaceChildren(...['forbidden', 'synonyms', 'samples', 'feedback', 'review', 'versions', 'audit', 'files'].map((k) => navButton(k, k, t(k))));
  $('status').replaceChildren(statusCard());
  $('sample-label').replaceChildren(...priority.map((c) => h('option', { value: c }, catName(c))));
  const main = $('main');
  const s = state.section;
  const head = h('div', { class: 'hint' }, state.draft ? '' : t('readonly_published'));
  const views = {
    category: () => [h('h2', {}, `${catName(s.id)} · `, h('code', { translate: 'no' }, s.id)), categoryView(ctx, s.id)],
    forbidden: () => forbiddenView(ctx),
    synonyms: () => synonymsView(ctx),
    samples: () => samplesCard(ctx),
    feedback: () => feedbackView(ctx),
    review: () => reviewView(ctx),
    versions: () => versionsView(ctx),
    audit: () => auditView(ctx),
    files: () => filesView(ctx),
  };
  main.replaceChildren(head, ...[views[s.kind]()].flat());
}

function statusCard() {
  const p = state.published;
  const d = state.draft;
  return h('div', {},
    h('p', {}, `${t('published')}: `, h('strong', { 'data-testid': 'published-version' }, `v${p.version}`), ' ',
      p.in_force === `v${p.version}` ? h('span', { class: 'badge ok' }, t('in_force')) : null),
    d ? h('p', {}, `${t('draft')} #${d.id} `, h('span', { class: 'badge info', 'data-testid': 'draft-status' }, t(`status_${d.status}`)),
      d.problems.length ? h('span', { class: 'badge bad' }, ` ${d.problems.length}`) : null)
      : h('p', { class: 'hint', id: 'no-draft' }, t(state.saving ? 'creating_draft' : 'no_draft')),
    h('p', {}, h('span', { id: 'save-state', 'data-testid': 'save-state', hidden: !state.saveState, 'data-state': state.saveState || '',
      class: `badge ${state.saveState === 'saving' ? 'warn' : state.saveState === 'save_failed' ? 'bad' : 'ok'}` }, state.saveState ? t(state.saveState) : '')),
    h('div', { class: 'row' },
      d ? h('button', { type: 'button', class: 'primary', 'data-testid': 'go-review', onclick: () => { state.section = { kind: 'review', id: 'review' }; render(); } }, t('review')) : null,
      h('button', { type: 'button', 'data-testid': 'new-draft', onclick: async () => { const r = await run(() => api('POST', '/drafts', {})); if (r) await reload(r.id); } }, t('new_draft'))),
    openDrafts());
}

function openDrafts() {
  const sel = h('select', { 'data-testid': 'draft-pick', 'aria-label': t('open_drafts') }, h('option', { value: '' }, `${t('open_drafts')}…`));
  api('GET', '/drafts').then(({ drafts }) => {
    for (const d of drafts) sel.append(h('option', { value: d.id, selected: state.draft?.id === d.id }, `#${d.id} ${d.author} · ${t(`status_${d.status}`)}`));
    if (state.draft) sel.value = String(state.draft.id);
  }).catch(() => {});
  sel.addEventListener('change', () => sel.value && reload(Number(sel.value)));
  return h('div', { class: 'row' }, sel);
}

// "客户：…" / "座席：…" (or 坐席：…) / "主管：…" / "第三方：…" / "备注：…" (or C:/A:/S:/T:/N:) lines -> a call as `assist classify` reads it.
const SPEAKER_OF = { 座席: 'agent', 坐席: 'agent', agent: 'agent', a: 'agent', 主管: 'supervisor', supervisor: 'supervisor', s: 'supervisor',
  第三方: 'third_party', third_party: 'third_party', t: 'third_party' };
export function parseCall(text) {
  const call = { id: 'try', context: {}, notes: [], transcript: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const m = line.match(/^(客户|座席|坐席|主管|第三方|备注|customer|agent|supervisor|third_party|note|c|a|s|t|n)\s*[:：]\s*(.*)$/i);
    const who = (m ? m[1] : '客户').toLowerCase();
    const body = m ? m[2] : line;
    if (['备注', 'note', 'n'].includes(who)) call.notes.push(body);
    else call.transcript.push({ speaker: SPEAKER_OF[who] || 'customer', text: body });
  }
  return call;
}

let tryCounter = 0;
async function tryIt() {
  const text = $('try-input').value;
  const out = $('try-result');
  if (!text.trim() || !state.published) { out.replaceChildren(); return; }
  const mine = ++tryCounter;
  const path = state.draft ? `/drafts/${state.draft.id}/try` : '/try';
  try {
    const r = await api('POST', path, { call: parseCall(text) });
    if (mine !== tryCounter) return;
    $('sample-label').value = r.category;  // the sample's label starts at what the pack says; change it if wrong
    out.replaceChildren(...[
      h('div', { class: 'hint' }, t('category_is'), state.draft ? ` (${t('draft')} #${state.draft.id})` : ` (v${state.published.version})`),
      h('div', { class: 'category', 'data-testid': 'try-category', 'data-category': r.category }, catName(r.category)),
      r.labels.length > 1 ? h('div', {}, r.labels.map(catName).join(' + ')) : null,
      r.decided_by && r.decided_by !== 'none' ? h('div', { class: 'hint', 'data-testid': 'try-decided-by', 'data-by': r.decided_by }, t(`decided_${r.decided_by}`)) : null,
      r.overruled && r.overruled.length ? h('div', { class: 'hint', 'data-testid': 'try-overruled' }, t('overruled'), r.overruled.map((o, i) => [i ? '; ' : '', h('span', { 'data-category': o.category }, catName(o.category)), ' (', h('mark', { lang: packLang() }, o.words.join(' ')), ')'])) : null,
      r.evidence.length ? [h('h4', {}, t('evidence')), h('ul', { class: 'evidence' }, r.evidence.slice(0, 8).map((e) => h('li', {}, e.rule === 'model' ? t('by_model') : h('code', { translate: 'no' }, e.rule), ': ', h('mark', { lang: packLang() }, e.words.join(' '))))) ] : null,
      r.warnings.length ? [h('h4', {}, t('warnings')), h('ul', { class: 'warnings' }, r.warnings.map((w) => h('li', { lang: packLang() }, `“${w.phrase}” → ${w.alternative}`)))] : null,
    ].flat().filter(Boolean));
  } catch (e) {
    if (mine === tryCounter) out.replaceChildren(h('p', { class: 'error' }, serverText(e.message)));
  }
}

async function saveSample() {
  const text = $('try-input').value;
  if (!text.trim()) return;
  const draft = state.draft || state.published;
  const call = parseCall(text);
  const existing = draft.files['samples.jsonl'] || '';
  call.id = `trainer-${Date.now()}`;
  call.labels = [$('sample-label').value];
  const line = JSON.stringify(call);
  await putFiles({ 'samples.jsonl': `${existing}${existing && !existing.endsWith('\n') ? '\n' : ''}${line}\n` });
  toast(t('sample_saved'));
}

// The switch names the other language in that language (lang= says so to the reader and the language test).
function langButton() {
  const other = getLang() === 'en' ? 'zh-CN' : 'en';
  $('lang').textContent = other === 'en' ? 'English' : '中文';
  $('lang').lang = other;
}

function boot() {
  setLang(getLang());
  applyStatic();
  $('lang').addEventListener('click', () => { setLang(getLang() === 'en' ? 'zh-CN' : 'en'); if (state.me) render(); else applyStatic(); langButton(); });
  $('logout').addEventListener('click', () => { token.clear(); location.reload(); });
  $('login-form').addEventListener('submit', (ev) => { ev.preventDefault(); token.set($('token').value.trim()); signIn(); });
  $('try-input').addEventListener('input', debounce(tryIt, 300));
  $('save-sample').addEventListener('click', saveSample);
  langButton();
  if (token.get()) signIn(); else denied('');
}

boot();
