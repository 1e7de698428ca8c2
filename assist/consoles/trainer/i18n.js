// Interface texts in zh-CN (default) and English; t(key) picks the chosen language.
const TEXTS = {
  title: ['话术包培训台', 'Trainer console'],
  logout: ['退出', 'Sign out'],
  login_title: ['请登录', 'Sign in'],
  login_help: ['请输入管理员发给您的访问令牌（token）。', 'Enter the access token your administrator gave you.'],
  login_button: ['登录', 'Sign in'],
  not_authorized: ['无权使用培训台：此令牌不是培训师（trainer）令牌。', 'Not authorized: this token is not a trainer token.'],
  bad_token: ['令牌无效或已吊销，请重新输入。', 'The token is invalid or revoked; enter it again.'],
  categories: ['类别', 'Categories'],
  more: ['更多', 'More'],
  forbidden: ['禁语', 'Forbidden phrases'],
  samples: ['样例', 'Samples'],
  feedback: ['反馈', 'Feedback'],
  review: ['检查与发布', 'Check & publish'],
  versions: ['版本', 'Versions'],
  audit: ['操作记录', 'Audit trail'],
  files: ['文件（高级）', 'Files (advanced)'],
  try_title: ['试一试', 'Try it'],
  try_help: ['每行一句：“客户：…”“坐席：…”“备注：…”。结果随输入更新。', 'One line each: "C: …", "A: …", "N: …" (customer, agent, note). Results follow your typing.'],
  save_sample: ['保存为样例', 'Save as sample'],
  published: ['已发布版本', 'Published'],
  in_force: ['正在使用', 'In force'],
  draft: ['草稿', 'Draft'],
  no_draft: ['没有草稿：修改任何内容会自动创建草稿。', 'No draft: any change creates one.'],
  new_draft: ['新建草稿', 'New draft'],
  open_drafts: ['打开的草稿', 'Open drafts'],
  status_editing: ['编辑中', 'Editing'],
  status_submitted: ['待审批', 'Waiting for approval'],
  status_published: ['已发布', 'Published'],
  status_discarded: ['已放弃', 'Discarded'],
  rules: ['识别规则', 'Classification rules'],
  rules_help: ['通话中出现“关键词”即算命中；出现“排除词”的那句不算。', 'A rule fires when a keyword appears; a line with an exclusion word does not count.'],
  keywords: ['关键词（任一出现即命中，用逗号或换行分隔）', 'Keywords (any one matches; comma or new line between)'],
  all_groups: ['组合关键词（每组各出现一个才命中）', 'Combined keywords (one word from each group)'],
  group: ['第 {n} 组', 'Group {n}'],
  exclusions: ['排除词', 'Exclusion words'],
  scope: ['在哪里找', 'Where to look'],
  scope_customer: ['客户说的话', 'Customer'], scope_agent: ['坐席说的话', 'Agent'],
  scope_note: ['备注', 'Notes'], scope_context: ['来电信息', 'Call context'],
  advanced_words: ['另有 {n} 个高级写法（在文件中编辑）', '{n} advanced entries (edit in the file)'],
  save: ['保存', 'Save'],
  add_rule: ['添加规则', 'Add a rule'],
  new_rule_id: ['新规则的名称（小写英文、数字、下划线）', 'New rule name (lower case, digits, _)'],
  delete: ['删除', 'Delete'],
  talking_points: ['话术', 'Talking points'],
  talking_help: ['坐席对客户说的话。{{ customer_name }} 等会用来电信息填入。', 'What the agent says. {{ customer_name }} etc. are filled from the call.'],
  preview_with: ['预览使用的来电信息', 'Preview with call context'],
  add_point: ['添加话术', 'Add a talking point'],
  steps: ['处理步骤（每行一步，不对客户说）', 'Steps (one per line; not said to the customer)'],
  checklist: ['记录清单', 'Checklist'],
  field_id: ['字段', 'Field'], field_label: ['名称', 'Label'], field_kind: ['类型', 'Kind'],
  field_required: ['必填', 'Required'], field_options: ['选项', 'Options'],
  add_field: ['添加字段', 'Add a field'],
  route: ['通知谁（按顺序）', 'Who is told (in order)'],
  title_f: ['名称', 'Title'], alternative: ['应改说', 'Say instead'], phrases: ['禁用说法', 'Forbidden wording'],
  run_samples: ['运行样例', 'Run samples'],
  samples_help: ['用带标注的样例通话检查草稿：与已发布版本比较。', 'Checks the draft on labelled calls, compared with the published pack.'],
  accuracy: ['准确率', 'Accuracy'], precision: ['精确率', 'Precision'], recall: ['召回率', 'Recall'],
  parts_title: ['规则、模型与综合判断（精确率 / 召回率）', 'Rules, model and combined (precision / recall)'],
  parts_help: ['“交叉验证”列最可信：每条样例由没见过它的模型判断。其他列的模型是用这些样例训练的，只能说明拟合程度。',
    'The cross-validated columns are the honest ones: each sample is judged by a model that never saw it. The other model columns were trained on these samples and only show the fit.'],
  cv_summary: ['交叉验证（5折）：综合判断宏F1 {f1}，模型单独 {model}，共 {n} 条样例', 'Cross-validation (5 folds): combined macro-F1 {f1}, model alone {model}, {n} samples'],
  part_rules: ['仅规则', 'Rules alone'], part_model: ['仅模型（拟合）', 'Model alone (fit)'], part_combined: ['综合（拟合）', 'Combined (fit)'],
  part_cv_model: ['仅模型·交叉验证', 'Model alone · cross-validated'], part_cv_combined: ['综合·交叉验证', 'Combined · cross-validated'],
  macro_f1: ['宏F1', 'Macro-F1'],
  decided_rules: ['由规则判断', 'Decided by the rules'], decided_model: ['由模型判断（规则未命中）', 'Decided by the model (no rule fired)'],
  'decided_rules+model': ['规则判断，模型补充或否决了类别', 'Rules, with a category the model added or overruled'],
  by_model: ['模型', 'model'],
  changed: ['结果有变化的样例', 'Samples whose result changed'],
  fixed: ['变好', 'fixed'], broken: ['变差', 'broken'], neutral: ['变化', 'changed'],
  misses: ['仍然判断错误的样例', 'Samples still wrong'],
  gold: ['标注', 'Label'], before: ['发布版', 'Published'], after: ['草稿', 'Draft'],
  samples_pass: ['样例通过', 'Samples pass'], samples_fail: ['样例未通过', 'Samples do not pass'],
  validate: ['检查', 'Validate'], valid: ['检查通过，没有问题。', 'Valid: no problems.'],
  problems: ['需要修改的问题', 'Problems to fix'],
  submit: ['提交审批', 'Submit for approval'], approve: ['批准', 'Approve'], publish: ['发布', 'Publish'],
  discard: ['放弃草稿', 'Discard draft'], rebase: ['更新到最新发布版', 'Update from published'],
  approvals: ['审批：{n}/{m}', 'Approvals: {n}/{m}'],
  flow_draft: ['草稿', 'Draft'], flow_check: ['检查+样例', 'Check + samples'], flow_submit: ['提交', 'Submit'],
  flow_approve: ['另一位培训师批准', 'Second trainer approves'], flow_publish: ['发布到坐席', 'Publish to agents'],
  blockers: ['发布前还需要：', 'Before publishing:'], ready: ['可以发布。', 'Ready to publish.'],
  changes: ['改了什么', 'What changed'], show_diff: ['查看文件差异', 'Show file diff'],
  rollback: ['回滚到此版本', 'Roll back to this'], export: ['导出', 'Export'], import: ['导入文件', 'Import files'],
  confirm_rollback: ['确定把版本 v{v} 重新发布给所有坐席吗？', 'Publish v{v} again to every agent?'],
  confirm_publish: ['确定发布？正在通话的坐席会立即看到新内容。', 'Publish? Agents on calls see it at once.'],
  confirm_discard: ['确定放弃这个草稿？', 'Discard this draft?'],
  when: ['时间', 'When'], who: ['谁', 'Who'], what: ['做了什么', 'What'], by: ['发布人', 'By'],
  version: ['版本', 'Version'], label: ['标签', 'Label'],
  saved: ['已保存到草稿 #{id}', 'Saved to draft #{id}'], published_ok: ['已发布 {v}，坐席已收到更新', 'Published {v}; agents are updated'],
  file: ['文件', 'File'], save_file: ['保存文件', 'Save file'],
  files_help: ['直接编辑文件（YAML）。保存后会立即检查。', 'Edit the files (YAML) directly; they are checked on save.'],
  category_is: ['类别', 'Category'], evidence: ['依据', 'Evidence'], warnings: ['禁语提醒', 'Forbidden phrases'],
  none_yet: ['（暂无）', '(none yet)'], running: ['正在运行…', 'Running…'],
  readonly_published: ['正在查看已发布版本。修改会自动创建草稿。', 'Viewing the published pack. A change creates a draft.'],
  description: ['说明', 'Description'],
  action_draft_create: ['新建草稿', 'created a draft'], action_draft_edit: ['修改草稿', 'edited a draft'],
  action_draft_submit: ['提交审批', 'submitted'], action_draft_approve: ['批准', 'approved'],
  action_pack_publish: ['发布', 'published'], action_pack_rollback: ['回滚', 'rolled back'],
  action_draft_discard: ['放弃草稿', 'discarded'], action_draft_rebase: ['更新草稿', 'updated from published'],
  sample_saved: ['已加入样例', 'Added to samples'],
};

let lang = localStorage.getItem('trainer.lang') || 'zh-CN';

export function getLang() { return lang; }

export function setLang(value) {
  lang = value;
  localStorage.setItem('trainer.lang', value);
  document.documentElement.lang = value;
}

export function t(key, vars = {}) {
  const pair = TEXTS[key];
  let s = pair ? pair[lang === 'en' ? 1 : 0] : key;
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

export function applyStatic(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
}
