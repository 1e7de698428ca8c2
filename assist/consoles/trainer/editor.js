// Forms for one category (rules, talking points, steps, checklist, route) and for forbidden phrases.
// Each form sends structured edits {file, path, op, value}; the server changes only that part of the file.
import { api, debounce } from './api.js';
import { h } from '../shared/dom.js';
import { getLang, has, t } from './i18n.js';

const SCOPES = ['customer', 'agent', 'supervisor', 'third_party', 'note', 'context'];
const KINDS = ['text', 'phone', 'account', 'datetime', 'number', 'choice'];
const ROLES = ['agent', 'seat_admin', 'shift_leader', 'acting_shift_leader', 'back_office_duty', 'center_manager',
  'department_leader', 'it_support', 'ebanking_dept', 'provincial_dept', 'branch', 'emergency_contact', 'trainer'];

// Words as text (comma, 、 or new line between) and back; numbers stay numbers, advanced entries are kept.
export function wordsText(list) {
  return (list || []).filter((w) => typeof w !== 'object').join('，');
}
export function parseWords(text, original = []) {
  const advanced = (original || []).filter((w) => w && typeof w === 'object');
  const numbers = new Set((original || []).filter((w) => typeof w === 'number').map(String));
  const words = text.split(/[,，、\n]+/).map((w) => w.trim()).filter(Boolean)
    .map((w) => (numbers.has(w) ? Number(w) : w));
  return [...advanced, ...words];
}
const id = (text) => h('code', { translate: 'no' }, text);
const langName = (lang) => (has(`lang_${lang}`) ? t(`lang_${lang}`) : lang);
// A pack's free text (a rule's description) is in whatever language its author wrote: say which, so that a
// reader (and the language test) knows it is the pack's words, not the console's.
const textLang = (text) => (/[\u4e00-\u9fff]/.test(text) ? 'zh-CN' : 'en');
const roleName = (role) => (has(`role_${role}`) ? t(`role_${role}`) : role);
const fieldName = (key) => (has(`ctx_${key}`) ? t(`ctx_${key}`) : key);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const words = (value, attrs = {}) => h('textarea', { rows: 3, ...attrs, value: wordsText(value) });

export function categoryView(ctx, cat) {
  const data = ctx.view().structured;
  const rules = data['rules.yaml']?.categories?.[cat];
  const script = data['scripts.yaml']?.categories?.[cat] || {};
  const box = h('div', {});
  if (cat !== 'none') box.append(rulesCard(ctx, cat, rules));
  box.append(talkingCard(ctx, cat, script.talking_points || []));
  box.append(stepsCard(ctx, cat, script.steps || {}));
  box.append(checklistCard(ctx, cat, script.checklist || []));
  box.append(routeCard(ctx, cat, script.route || []));
  return box;
}

function rulesCard(ctx, cat, target) {
  const card = h('section', { class: 'card', 'data-testid': 'rules' }, h('h2', {}, t('rules')), h('p', { class: 'hint' }, t('rules_help')));
  if (target?.description) card.append(h('p', { class: 'hint', lang: textLang(target.description) }, target.description));
  (target?.rules || []).forEach((rule, i) => card.append(ruleItem(ctx, cat, rule, i)));
  const idInput = h('input', { placeholder: t('new_rule_id'), 'data-testid': 'new-rule-id' });
  card.append(h('div', { class: 'row' }, idInput, h('button', {
    type: 'button',
    onclick: () => {
      const id = idInput.value.trim();
      if (!id) return;
      const rule = { id, any: ['…'], in: ['customer', 'note'] };
      ctx.edit(target?.rules ? [{ file: 'rules.yaml', path: ['categories', cat, 'rules'], op: 'append', value: rule }]
        : [{ file: 'rules.yaml', path: ['categories', cat], op: 'set', value: { rules: [rule] } }]);
    },
  }, t('add_rule'))));
  return card;
}

function ruleItem(ctx, cat, rule, i) {
  const path = ['categories', cat, 'rules', i];
  const anyBox = rule.any ? words(rule.any, { 'data-testid': `keywords-${rule.id}` }) : null;
  const groups = (rule.all || []).map((g) => words(g));
  const unless = words(rule.unless || [], { rows: 2 });
  const scope = new Set(rule.in || []);
  const checks = SCOPES.map((s) => h('input', { type: 'checkbox', value: s, checked: scope.has(s) }));
  const advanced = (rule.any || []).filter((w) => typeof w === 'object').length;
  const save = () => {
    const edits = [];
    const put = (key, value, old) => {
      if (!same(value, old)) edits.push({ file: 'rules.yaml', path: [...path, key], op: 'set', value });
    };
    if (anyBox) put('any', parseWords(anyBox.value, rule.any), rule.any);
    if (rule.all) put('all', groups.map((g, n) => parseWords(g.value, rule.all[n])), rule.all);
    const newUnless = parseWords(unless.value, rule.unless);
    if (rule.unless || newUnless.length) put('unless', newUnless, rule.unless);
    put('in', checks.filter((c) => c.checked).map((c) => c.value), rule.in);
    if (edits.length) ctx.edit(edits);
  };
  return h('div', { class: 'item', 'data-testid': `rule-${rule.id}` },
    h('div', { class: 'item-head' }, h('h4', {}, id(rule.id)),
      h('button', { type: 'button', class: 'danger', onclick: () => ctx.edit([{ file: 'rules.yaml', path, op: 'delete' }]) }, t('delete'))),
    rule.description ? h('p', { class: 'hint', lang: textLang(rule.description) }, rule.description) : null,
    anyBox ? [h('label', {}, t('keywords')), anyBox] : null,
    advanced ? h('p', { class: 'hint' }, t('advanced_words', { n: advanced })) : null,
    groups.length ? [h('label', {}, t('all_groups')), ...groups.flatMap((g, n) => [h('div', { class: 'hint' }, t('group', { n: n + 1 })), g])] : null,
    h('label', {}, t('exclusions')), unless,
    h('label', {}, t('scope')),
    h('div', { class: 'scope' }, SCOPES.map((s, n) => h('label', {}, checks[n], t(`scope_${s}`)))),
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: save, 'data-testid': `save-rule-${rule.id}` }, t('save'))));
}

function talkingCard(ctx, cat, points) {
  const langs = ctx.view().structured['pack.yaml']?.languages || ['zh-CN', 'en'];
  const contexts = ctx.contexts();
  // The call context to preview with: the example call or a sample's; its fields by name, the values as data.
  const pick = h('select', { 'data-testid': 'preview-context' }, contexts.map((c, n) => h('option', { value: n },
    c.id === 'default' ? t('context_default') : `${t('sample_id')} ${c.id}`)));
  const fields = h('p', { class: 'hint context-fields', 'data-testid': 'preview-context-fields' });
  const showFields = () => fields.replaceChildren(...Object.entries(contexts[Number(pick.value)]?.context || {})
    .filter(([k]) => k !== 'call_id').flatMap(([k, v], n) => [n ? ' · ' : '', `${fieldName(k)} `, id(String(v))]));
  showFields();
  const previews = [];
  const card = h('section', { class: 'card', 'data-testid': 'talking-points' }, h('h2', {}, t('talking_points')),
    h('p', { class: 'hint' }, t('talking_help'), ' ', id('{{ customer_name }}'), ' ', t('talking_help_2')), h('label', {}, t('preview_with')), pick, fields);
  points.forEach((tp, i) => {
    const fields = langs.map((lang) => {
      const area = h('textarea', { rows: 2, value: tp[lang] || '', 'data-testid': `tp-${tp.id}-${lang}` });
      // What the sidebar would show, with the call's data in it (a customer's name): content, not the console's words.
      const out = h('div', { class: 'preview', lang, translate: 'no', 'data-testid': `tp-${tp.id}-${lang}-preview` });
      const render = async () => {
        const res = await api('POST', '/preview', { template: area.value, context: contexts[Number(pick.value)]?.context });
        out.className = res.error ? 'preview error' : 'preview';
        out.lang = res.error ? 'en' : lang;
        out.textContent = res.error || res.text || '—';
      };
      previews.push(render);
      area.addEventListener('input', debounce(render, 250));
      return { lang, area, out };
    });
    const save = () => {
      const edits = fields.filter((f) => f.area.value !== (tp[f.lang] || ''))
        .map((f) => ({ file: 'scripts.yaml', path: ['categories', cat, 'talking_points', i, f.lang], op: 'set', value: f.area.value }));
      if (edits.length) ctx.edit(edits);
    };
    card.append(h('div', { class: 'item', 'data-testid': `tp-${tp.id}` },
      h('div', { class: 'item-head' }, h('h4', {}, id(tp.id)),
        h('button', { type: 'button', class: 'danger', onclick: () => ctx.edit([{ file: 'scripts.yaml', path: ['categories', cat, 'talking_points', i], op: 'delete' }]) }, t('delete'))),
      fields.map((f) => [h('label', {}, langName(f.lang)), f.area, f.out]),
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: save, 'data-testid': `save-tp-${tp.id}` }, t('save')))));
  });
  const newId = h('input', { placeholder: t('new_id') });
  card.append(h('div', { class: 'row' }, newId, h('button', {
    type: 'button',
    onclick: () => newId.value.trim() && ctx.edit([{ file: 'scripts.yaml', path: ['categories', cat, 'talking_points'], op: 'append', value: Object.fromEntries([['id', newId.value.trim()], ...langs.map((l) => [l, '…'])]) }]),
  }, t('add_point'))));
  pick.addEventListener('change', () => { showFields(); previews.forEach((p) => p()); });
  queueMicrotask(() => previews.forEach((p) => p()));
  return card;
}

function stepsCard(ctx, cat, steps) {
  const langs = Object.keys(steps).length ? Object.keys(steps) : ['zh-CN', 'en'];
  const areas = langs.map((lang) => ({ lang, area: h('textarea', { rows: 3, value: (steps[lang] || []).join('\n'), 'data-testid': `steps-${lang}` }) }));
  const save = () => {
    const value = Object.fromEntries(areas.map((a) => [a.lang, a.area.value.split('\n').map((s) => s.trim()).filter(Boolean)]));
    if (!same(value, steps)) ctx.edit([{ file: 'scripts.yaml', path: ['categories', cat, 'steps'], op: 'set', value }]);
  };
  return h('section', { class: 'card', 'data-testid': 'steps' }, h('h2', {}, t('steps')),
    areas.map((a) => [h('label', {}, langName(a.lang)), a.area]),
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: save, 'data-testid': 'save-steps' }, t('save'))));
}

function checklistCard(ctx, cat, fields) {
  const rows = fields.map((f) => ({
    f,
    zh: h('input', { value: f.label?.['zh-CN'] || '' }),
    en: h('input', { value: f.label?.en || '' }),
    kind: h('select', {}, KINDS.map((k) => h('option', { value: k, selected: k === f.kind }, t(`kind_${k}`)))),
    req: h('input', { type: 'checkbox', checked: f.required }),
    opts: h('input', { value: (f.options || []).join(', ') }),
  }));
  const collect = () => rows.map((r) => {
    const out = { ...r.f, label: { ...r.f.label, 'zh-CN': r.zh.value, en: r.en.value }, kind: r.kind.value, required: r.req.checked };
    const opts = r.opts.value.split(/[,，]/).map((s) => s.trim()).filter(Boolean);
    if (r.kind.value === 'choice' || opts.length) out.options = opts; else delete out.options;
    if (!r.en.value) delete out.label.en;
    return out;
  });
  const save = () => {
    const value = collect();
    const edits = value.map((v, i) => (same(v, fields[i]) ? null
      : { file: 'scripts.yaml', path: ['categories', cat, 'checklist', i], op: 'set', value: v })).filter(Boolean);
    if (edits.length) ctx.edit(edits);
  };
  const newId = h('input', { placeholder: t('new_id') });
  return h('section', { class: 'card', 'data-testid': 'checklist' }, h('h2', {}, t('checklist')),
    h('table', {}, h('tr', {}, ['field_id', 'field_label', '', 'field_kind', 'field_required', 'field_options', ''].map((k) => h('th', {}, k ? t(k) : ''))),
      rows.map((r, i) => h('tr', { 'data-testid': `field-${r.f.id}` }, h('td', {}, id(r.f.id)), h('td', {}, r.zh), h('td', {}, r.en), h('td', {}, r.kind), h('td', {}, r.req), h('td', {}, r.opts),
        h('td', {}, h('button', { type: 'button', class: 'danger', onclick: () => ctx.edit([{ file: 'scripts.yaml', path: ['categories', cat, 'checklist', i], op: 'delete' }]) }, '×'))))),
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: save, 'data-testid': 'save-checklist' }, t('save')), newId,
      h('button', {
        type: 'button',
        onclick: () => newId.value.trim() && ctx.edit([{ file: 'scripts.yaml', path: ['categories', cat, 'checklist'], op: 'append', value: { id: newId.value.trim(), label: { 'zh-CN': newId.value.trim() }, kind: 'text', required: false } }]),
      }, t('add_field'))));
}

function routeCard(ctx, cat, route) {
  const area = h('input', { value: route.join(', '), 'data-testid': 'route-input', 'aria-label': t('route') });
  const now = h('p', { 'data-testid': 'route-names' });
  const showNow = () => now.replaceChildren(t('route_now'), area.value.split(/[,，\s]+/).filter(Boolean).map(roleName).join(' → '));
  area.addEventListener('input', showNow);
  showNow();
  const hint = h('p', { class: 'hint' }, t('route_help'), ' ', ROLES.flatMap((r, n) => [n ? ' · ' : '', `${roleName(r)} `, id(r)]));
  const save = () => {
    const value = area.value.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean);
    if (!same(value, route)) ctx.edit([{ file: 'scripts.yaml', path: ['categories', cat, 'route'], op: 'set', value }]);
  };
  return h('section', { class: 'card', 'data-testid': 'route' }, h('h2', {}, t('route')), now, area, hint,
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: save, 'data-testid': 'save-route' }, t('save'))));
}

const text = (v) => (typeof v === 'string' ? v : v?.[getLang()] || v?.['zh-CN'] || '');

export function forbiddenView(ctx) {
  const rules = ctx.view().structured['forbidden.yaml']?.rules || [];
  const card = h('section', { class: 'card' }, h('h2', {}, t('forbidden')));
  rules.forEach((rule, i) => {
    const alt = typeof rule.alternative === 'string' ? { 'zh-CN': rule.alternative } : { ...rule.alternative };
    const altZh = h('textarea', { rows: 2, value: alt['zh-CN'] || '' });
    const altEn = h('textarea', { rows: 2, value: alt.en || '' });
    const phrases = rule.phrases ? words(rule.phrases) : null;
    const unless = rule.unless ? words(rule.unless, { rows: 2 }) : null;
    const save = () => {
      const path = ['rules', i];
      const edits = [];
      const value = { ...alt, 'zh-CN': altZh.value };
      if (altEn.value) value.en = altEn.value; else delete value.en;
      const altValue = typeof rule.alternative === 'string' && !value.en ? value['zh-CN'] : value;
      if (!same(altValue, rule.alternative)) edits.push({ file: 'forbidden.yaml', path: [...path, 'alternative'], op: 'set', value: altValue });
      if (phrases) {
        const p = parseWords(phrases.value, rule.phrases);
        if (!same(p, rule.phrases)) edits.push({ file: 'forbidden.yaml', path: [...path, 'phrases'], op: 'set', value: p });
      }
      if (unless) {
        const u = parseWords(unless.value, rule.unless);
        if (!same(u, rule.unless)) edits.push({ file: 'forbidden.yaml', path: [...path, 'unless'], op: 'set', value: u });
      }
      if (edits.length) ctx.edit(edits);
    };
    card.append(h('div', { class: 'item', 'data-testid': `forbidden-${rule.id}` }, h('h4', {}, `${text(rule.title)} · `, id(rule.id)),
      h('label', {}, `${t('alternative')}${t('paren', { x: langName('zh-CN') })}`), altZh, h('label', {}, `${t('alternative')}${t('paren', { x: langName('en') })}`), altEn,
      phrases ? [h('label', {}, t('phrases')), phrases] : null,
      unless ? [h('label', {}, t('exclusions')), unless] : null,
      rule.pairs ? h('p', { class: 'hint' }, t('advanced_words', { n: rule.pairs.length })) : null,
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: save }, t('save')))));
  });
  return card;
}

// synonyms.txt: one group of words that mean the same per line (网银 = 网上银行); a rule keyword or forbidden
// phrase then matches every word of its group. Plain text like the file, saved whole; its problems shown here.
export function synonymsView(ctx) {
  const view = ctx.view();
  const area = h('textarea', { class: 'code', rows: 14, spellcheck: 'false', lang: 'zh-CN', 'data-testid': 'synonyms-text',
    'aria-label': t('synonyms'), value: view.files['synonyms.txt'] || '' });
  const problems = (view.problems || []).filter((p) => p.file === 'synonyms.txt');
  return h('section', { class: 'card', 'data-testid': 'synonyms' }, h('h2', {}, t('synonyms')),
    h('p', { class: 'hint' }, t('synonyms_help'), ' ', h('code', { lang: 'zh-CN', translate: 'no' }, '网银 = 网上银行 = 网上银行系统')), area,
    problems.length ? h('ul', { class: 'problems error', 'data-testid': 'synonyms-problems' },
      problems.map((p) => h('li', {}, h('code', {}, `${p.file}${p.line ? `:${p.line}` : ''}`), ' ', p.message))) : null,
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', 'data-testid': 'save-synonyms',
      onclick: () => ctx.putFiles({ 'synonyms.txt': area.value }) }, t('save'))));
}
