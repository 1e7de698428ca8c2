// One modal form for every question the console asks (note, resolution, recovery time, cause…),
// so live re-rendering of the board never swallows what the leader is typing.
import { h } from '../shared/dom.js';
import { t } from './i18n.js';

// fields: [{name, label, type: 'text'|'textarea'|'datetime-local'|'number'|'select', value, required,
//           options (select): [{value, label}], list (a datalist's id)}]
export function ask(title, fields, submit = t('save'), intro = '') {
  const dlg = document.getElementById('dialog');
  return new Promise((resolve) => {
    const inputs = fields.map((f) => {
      const attrs = { name: f.name, id: `dlg-${f.name}`, required: !!f.required, value: f.value ?? '', list: f.list, 'data-testid': `dlg-${f.name}` };
      if (f.type === 'select') return h('select', attrs, (f.options || []).map((o) => h('option', { value: o.value }, o.label)));
      return f.type === 'textarea' ? h('textarea', { ...attrs, rows: 3 }) : h('input', { ...attrs, type: f.type || 'text' });
    });
    const form = h('form', { method: 'dialog', class: 'dlg-form' },
      h('h2', {}, title),
      intro ? h('p', { class: 'hint' }, intro) : null,
      fields.map((f, i) => [h('label', { for: `dlg-${f.name}` }, f.label), inputs[i]]),
      h('div', { class: 'row end' },
        h('button', { type: 'button', 'data-testid': 'dlg-cancel', onclick: () => { dlg.close(); resolve(null); } }, t('cancel')),
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'dlg-submit' }, submit)));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const out = {};
      fields.forEach((f, i) => { out[f.name] = inputs[i].value.trim(); });
      dlg.close();
      resolve(out);
    });
    dlg.replaceChildren(form);
    dlg.onclose = () => resolve(null);
    dlg.showModal();
    inputs[0]?.focus();
  });
}

// Show read-only content (a call's details) in the same dialog.
export function show(title, ...content) {
  const dlg = document.getElementById('dialog');
  dlg.replaceChildren(h('div', { class: 'dlg-form' }, h('h2', {}, title), ...content,
    h('div', { class: 'row end' }, h('button', { type: 'button', onclick: () => dlg.close(), 'data-testid': 'dlg-close' }, t('close')))));
  dlg.onclose = null;
  dlg.showModal();
}
