// Check & publish (validate, samples with progress, diff, submit/approve/publish), versions, audit, files.
import { api, upload } from './api.js';
import { h } from '../shared/dom.js';
import { centerTime } from '../shared/time.js';
import { t } from './i18n.js';
import { serverText } from './messages.js';

const pct = (x) => `${(x * 100).toFixed(1)}%`;
const f1 = (c) => (2 * c.true_pos + c.false_pos + c.false_neg ? (2 * c.true_pos) / (2 * c.true_pos + c.false_pos + c.false_neg) : 1);
const id = (text) => h('code', { translate: 'no' }, text);

export function flowSteps(draft, policy) {
  const done = (k) => ({ draft: !!draft, check: draft && !draft.problems.length,
    submit: draft && ['submitted', 'published'].includes(draft.status),
    approve: draft && draft.approvals.length >= policy.approvals_required,
    publish: draft && draft.status === 'published' })[k];
  const keys = ['draft', 'check', 'submit', 'approve', 'publish'];
  const now = keys.find((k) => !done(k));
  return h('div', { class: 'steps' }, keys.map((k) => h('span', { class: `step ${done(k) ? 'done' : k === now ? 'now' : ''}` }, t(`flow_${k}`))));
}

export function reviewView(ctx) {
  const draft = ctx.state.draft;
  const box = h('div', {});
  if (!draft) {
    box.append(h('section', { class: 'card' }, h('h2', {}, t('review')), h('p', {}, t('no_draft'))));
    return box;
  }
  const me = ctx.state.me.user;
  const policy = ctx.state.me.policy;
  const canApprove = draft.status === 'submitted' && !draft.editors.includes(me) && !draft.approvals.includes(me);
  const problems = draft.problems.length
    ? h('div', {}, h('h4', { class: 'error' }, t('problems')), h('ul', { class: 'problems', 'data-testid': 'problems' },
      draft.problems.map((p) => h('li', {}, h('code', {}, `${p.file || ''}${p.line ? `:${p.line}` : ''}`), ' ', p.field ? `${p.field}: ` : '', p.message))))
    : h('p', { class: 'ok', 'data-testid': 'valid' }, t('valid'));
  const blockers = h('div', { 'data-testid': 'blockers' });
  const action = (name, cls = '', confirmKey = null) => h('button', {
    type: 'button', class: cls, 'data-testid': `action-${name}`,
    onclick: async () => {
      if (confirmKey && !window.confirm(t(confirmKey))) return;
      const res = await ctx.run(() => api('POST', `/drafts/${draft.id}/${name}`));
      if (!res) return;
      if (name === 'publish') ctx.toast(t('published_ok', { v: res.pack_version }));
      if (name === 'submit' || name === 'approve') ctx.toast(t(name === 'submit' ? 'submitted_ok' : 'approved_ok'));
      await ctx.reload(name === 'publish' || name === 'discard' ? null : res.id);
    },
  }, t(name));
  box.append(h('section', { class: 'card' },
    h('h2', {}, `${t('draft')} #${draft.id}`), flowSteps(draft, policy),
    h('p', {}, h('span', { class: 'badge info' }, t(`status_${draft.status}`)), ' ',
      h('span', { class: 'badge', 'data-testid': 'approvals' }, t('approvals', { n: draft.approvals.length, m: policy.approvals_required })),
      ' ', draft.approvals.length ? `✔ ${draft.approvals.join(', ')}` : ''),
    problems, blockers,
    h('div', { class: 'row' },
      h('button', { type: 'button', onclick: () => ctx.reload(draft.id) }, t('validate')),
      draft.status === 'editing' && policy.approvals_required > 0 ? action('submit', 'primary') : null,
      canApprove ? action('approve', 'primary') : null,
      action('publish', draft.approvals.length >= policy.approvals_required ? 'primary' : '', 'confirm_publish'),
      action('rebase'), action('discard', 'danger', 'confirm_discard'))));
  api('GET', `/drafts/${draft.id}/readiness`).then((r) => {
    blockers.replaceChildren(r.ready ? h('p', { class: 'ok' }, t('ready'))
      : h('div', {}, h('h4', {}, t('blockers')), h('ul', {}, r.blockers.map((b) => h('li', {}, serverText(b))))));
  }).catch(() => {});
  box.append(samplesCard(ctx), diffCard(ctx, draft));
  return box;
}

export function samplesCard(ctx) {
  const out = h('div', { 'data-testid': 'samples-result' });
  const bar = h('div', { class: 'progress', hidden: true }, h('div', { style: 'width:0%' }));
  const run = async () => {
    if (!ctx.state.draft) await ctx.ensureDraft();
    let job = await ctx.run(() => api('POST', `/drafts/${ctx.state.draft.id}/samples`));
    if (!job) return;
    bar.hidden = false;
    out.replaceChildren(t('running'));
    while (job.state === 'running') {
      bar.firstChild.style.width = job.total ? `${(100 * job.done) / job.total}%` : '5%';
      await new Promise((r) => setTimeout(r, 250));
      job = await api('GET', `/jobs/${job.job}`);
    }
    bar.firstChild.style.width = '100%';
    out.replaceChildren(job.error ? h('p', { class: 'error' }, serverText(job.error)) : sampleResult(ctx, job.result));
  };
  return h('section', { class: 'card' }, h('h2', {}, t('samples')), h('p', { class: 'hint' }, t('samples_help')),
    h('button', { type: 'button', class: 'primary', onclick: run, 'data-testid': 'run-samples' }, t('run_samples')), bar, out);
}

// The headline is macro-F1 over the categories (a category that fires on the wrong calls lowers it), with the
// primary-category accuracy beside it, named as what it is; per category precision, recall, F1 and the counts.
function sampleResult(ctx, r) {
  const names = (ids) => ids.map(ctx.catName).join('、');
  const scored = r.categories.filter((c) => c.true_pos + c.false_pos + c.false_neg);
  const macro = scored.length ? scored.reduce((a, c) => a + f1(c), 0) / scored.length : 1;
  const change = (c) => h('tr', {}, h('td', {}, id(c.id)), h('td', {}, names(c.gold)), h('td', {}, names(c.before)), h('td', {}, names(c.after)),
    h('td', {}, h('span', { class: `badge ${c.fixed ? 'ok' : c.broken ? 'bad' : ''}` }, t(c.fixed ? 'fixed' : c.broken ? 'broken' : 'neutral'))));
  return h('div', {},
    h('p', {}, h('span', { class: `badge ${r.passed ? 'ok' : 'bad'}` }, t(r.passed ? 'samples_pass' : 'samples_fail')), ' ',
      h('span', { 'data-testid': 'headline' }, t('headline', { f1: pct(macro), acc: pct(r.accuracy), before: pct(r.published_accuracy), n: r.total }))),
    r.gate.length ? h('ul', { class: 'error' }, r.gate.map((g) => h('li', {}, serverText(g)))) : null,
    h('table', { 'data-testid': 'per-category' }, h('tr', {}, [t('category_is'), t('precision'), t('recall'), t('f1'), t('counts')].map((k) => h('th', {}, k))),
      r.categories.map((c) => h('tr', { 'data-category': c.category }, h('td', {}, ctx.catName(c.category)),
        h('td', {}, pct(c.precision)), h('td', {}, pct(c.recall)),
        h('td', {}, h('span', { class: `badge ${c.false_pos + c.false_neg ? 'warn' : 'ok'}` }, pct(f1(c)))),
        h('td', { class: 'num' }, `${c.true_pos}/${c.false_pos}/${c.false_neg}`)))),
    partsTable(ctx, r.parts || {}),
    h('h4', {}, `${t('changed')} (${r.changed.length})`),
    r.changed.length ? h('table', { 'data-testid': 'changed' }, h('tr', {}, ['sample_id', 'gold', 'before', 'after', ''].map((k) => h('th', {}, k ? t(k) : ''))), r.changed.map(change)) : h('p', { class: 'hint' }, t('none_yet')),
    h('details', {}, h('summary', {}, `${t('misses')} (${r.misses.length})`),
      h('table', { 'data-testid': 'misses' }, h('tr', {}, ['sample_id', 'gold', 'after'].map((k) => h('th', {}, t(k)))),
        r.misses.map((m) => h('tr', {}, h('td', {}, id(m.id)), h('td', {}, names(m.gold)), h('td', {}, names(m.predicted)))))));
}

// Rules alone, model alone and combined, side by side; the cross-validated columns are the honest ones
// (each sample scored by a model that never saw it), the others are fits to the samples themselves.
const PARTS = ['rules', 'model', 'combined', 'cv_model', 'cv_combined'];

function partsTable(ctx, parts) {
  const shown = PARTS.filter((p) => parts[p]);
  if (!shown.length) return null;
  const cats = parts[shown[0]].categories.map((c) => c.category);
  const cell = (p, cat) => {
    const c = parts[p].categories.find((x) => x.category === cat);
    return h('td', { 'data-part': p }, c ? `${pct(c.precision)} / ${pct(c.recall)}` : '–');
  };
  return h('div', { class: 'parts', 'data-testid': 'parts' },
    h('h4', {}, t('parts_title')),
    parts.cv_combined ? h('p', { 'data-testid': 'cv-summary' },
      t('cv_summary', { f1: pct(parts.cv_combined.macro_f1), model: pct(parts.cv_model.macro_f1), n: parts.cv_combined.total })) : null,
    h('p', { class: 'hint' }, t('parts_help')),
    h('table', {},
      h('tr', {}, h('th', {}, t('category_is')), shown.map((p) => h('th', {}, t(`part_${p}`)))),
      cats.map((cat) => h('tr', {}, h('td', {}, ctx.catName(cat)), shown.map((p) => cell(p, cat)))),
      h('tr', {}, h('th', {}, t('macro_f1')), shown.map((p) => h('th', {}, pct(parts[p].macro_f1))))));
}

function diffCard(ctx, draft) {
  const box = h('section', { class: 'card' }, h('h2', {}, t('changes')));
  api('GET', `/drafts/${draft.id}/diff`).then((d) => {
    if (!d.files.length) { box.append(h('p', { class: 'hint' }, t('none_yet'))); return; }
    for (const f of d.files) {
      box.append(h('h4', {}, id(f.file), ` (${t(`file_${f.status}`)})`),
        h('ul', {}, f.items.slice(0, 50).map((i) => h('li', {}, id(`${i.path.join(' › ')}: `),
          i.added ? [...i.added.map((w) => h('span', { class: 'ok', translate: 'no' }, ` +${typeof w === 'object' ? JSON.stringify(w) : w}`)),
            ...i.removed.map((w) => h('span', { class: 'error', translate: 'no' }, ` −${typeof w === 'object' ? JSON.stringify(w) : w}`))] : t(`change_${i.change}`)))),
        h('details', {}, h('summary', {}, t('show_diff')), h('pre', { class: 'diff', translate: 'no' }, f.unified.split('\n').map((l) => h('span', { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : '' }, `${l}\n`)))));
    }
  }).catch(() => {});
  return box;
}

// Who published a version: a trainer's user id, or the service itself when it imported the pack folder at
// start (`disk:<path>`; the path is the server's business, not the trainer's).
const publisher = (by) => (by.startsWith('disk:') ? t('from_disk') : by);

// A pack's own label (pack.yaml `version`) stays the same across the console's publishes: number the releases
// of each label so every row reads differently, with the first characters of its content digest.
function labels(versions) {
  const seen = {};
  const out = {};
  for (const v of [...versions].sort((a, b) => a.version - b.version)) {
    seen[v.label] = (seen[v.label] || 0) + 1;
    out[v.version] = t('label_of', { label: v.label, n: seen[v.label] });
  }
  return out;
}

export function versionsView(ctx) {
  const card = h('section', { class: 'card' }, h('h2', {}, t('versions')));
  api('GET', '/versions').then(({ versions }) => {
    const label = labels(versions);
    card.append(h('table', { 'data-testid': 'versions' }, h('tr', {}, ['version', 'label', 'content', 'by', 'when', '', ''].map((k) => h('th', {}, k ? t(k) : ''))),
      versions.map((v) => h('tr', { 'data-version': v.version }, h('td', {}, `v${v.version}`), h('td', { 'data-testid': 'version-label' }, label[v.version]),
        h('td', {}, id(v.digest.slice(0, 8))),
        h('td', { 'data-testid': 'version-by' }, publisher(v.created_by)), h('td', { class: 'num', 'data-testid': 'version-when' }, centerTime(v.created_at, ctx.zone())),
        h('td', {}, v.in_force ? h('span', { class: 'badge ok' }, t('in_force')) : h('button', {
          type: 'button', 'data-testid': `rollback-${v.version}`,
          onclick: async () => {
            if (!window.confirm(t('confirm_rollback', { v: v.version }))) return;
            const res = await ctx.run(() => api('POST', `/versions/${v.version}/rollback`));
            if (res) { ctx.toast(t('published_ok', { v: res.pack_version })); await ctx.reload(ctx.state.draft?.id); }
          },
        }, t('rollback'))),
        h('td', {}, h('button', { type: 'button', class: 'link', 'data-testid': `export-${v.version}`, onclick: () => download(`/export?version=${v.version}`, `pack-v${v.version}.zip`) }, t('export')))))));
  }).catch((e) => ctx.toast(e.message, true));
  return card;
}

export async function download(path, name) {
  const blob = await api('GET', path);
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a); a.click(); a.remove();
}

export function auditView(ctx) {
  const card = h('section', { class: 'card' }, h('h2', {}, t('audit')));
  api('GET', '/audit').then(({ audit }) => {
    card.append(h('table', { 'data-testid': 'audit' }, h('tr', {}, ['when', 'who', 'what', ''].map((k) => h('th', {}, k ? t(k) : ''))),
      audit.map((a) => h('tr', {}, h('td', { class: 'num' }, centerTime(a.at, ctx.zone())), h('td', {}, publisher(a.user)),
        h('td', {}, t(`action_${a.action.replace('.', '_')}`), a.draft_id ? ` #${a.draft_id}` : '', a.version ? ` v${a.version}` : ''),
        h('td', { translate: 'no' }, (a.detail.changes || []).slice(0, 5).join('；'), a.detail.restored ? `← v${a.detail.restored}` : '',
          a.detail.approved_by?.length ? ` ✔ ${a.detail.approved_by.join(', ')}` : '')))));
  }).catch((e) => ctx.toast(e.message, true));
  return card;
}

export function filesView(ctx) {
  const files = ctx.view().files;
  const names = Object.keys(files).sort();
  const pick = h('select', { 'data-testid': 'file-pick', translate: 'no' }, names.map((n) => h('option', { value: n }, n)));
  const area = h('textarea', { class: 'code', rows: 28, spellcheck: 'false', 'data-testid': 'file-text' });
  const show = () => { area.value = files[pick.value] || ''; };
  pick.addEventListener('change', show);
  show();
  const input = h('input', { type: 'file', multiple: true, accept: '.yaml,.jsonl,.txt,.zip' });
  input.addEventListener('change', async () => {
    const res = await ctx.run(() => upload([...input.files]));
    if (res) await ctx.reload(res.id);
  });
  return h('section', { class: 'card' }, h('h2', {}, t('files')), h('p', { class: 'hint' }, t('files_help')),
    h('div', { class: 'row' }, pick,
      h('button', { type: 'button', class: 'primary', 'data-testid': 'save-file', onclick: () => ctx.putFiles({ [pick.value]: area.value }) }, t('save_file')),
      h('button', { type: 'button', onclick: () => download(ctx.state.draft ? `/export?draft=${ctx.state.draft.id}` : '/export', 'pack.zip') }, t('export'))),
    area, h('label', {}, t('import')), input);
}
