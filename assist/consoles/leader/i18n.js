// Interface texts in zh-CN (default) and English; t(key) picks the chosen language.
import { translator } from '../shared/i18n.js';

const TEXTS = {
  title: ['班长值班台', 'Shift-leader console'],
  logout: ['退出', 'Sign out'],
  login_title: ['请登录', 'Sign in'],
  login_help: ['请输入管理员发给您的访问令牌（token）。', 'Enter the access token your administrator gave you.'],
  login_button: ['登录', 'Sign in'],
  not_authorized: ['无权使用班长值班台：此令牌不是班长、座席管理员、后台或经理的令牌。', 'Not authorized: this token is not a shift leader, seat admin, back-office or manager token.'],
  bad_token: ['令牌无效或已吊销，请重新输入。', 'The token is invalid or revoked; enter it again.'],
  tab_board: ['值班看板', 'Board'], tab_faults: ['系统故障', 'Faults'], tab_report: ['每日报告', 'Daily report'],
  sound_on: ['声音：开', 'Sound: on'], sound_off: ['声音：关', 'Sound: off'],
  connected: ['已连接', 'Live'], connecting: ['正在连接…', 'Connecting…'],
  disconnected: ['连接中断，正在重连：看板可能不是最新的', 'Connection lost, reconnecting: the board may be stale'],
  chip_overdue: ['已超时', 'Overdue'], chip_soon: ['即将到期', 'Due soon'], chip_waiting: ['待确认', 'Unacknowledged'],
  chip_calls: ['通话中', 'Live calls'], chip_faults: ['未恢复故障', 'Open faults'],
  escalations: ['升级事项', 'Escalations'], board_empty: ['目前没有待处理的升级事项。', 'Nothing to handle right now.'],
  live_calls: ['进行中的通话', 'Calls in progress'], no_calls: ['目前没有通话。', 'No calls right now.'],
  calls_more: ['另有 {n} 个通话未列出（按严重程度显示前 {shown} 个）。', '{n} more calls not listed (the {shown} most serious are shown).'],
  active_faults: ['未恢复的系统故障', 'Faults not yet recovered'], no_faults: ['没有未恢复的故障。', 'No open faults.'],
  overdue_by: ['已超时', 'Overdue by'], due_in: ['距时限', 'Due in'], waiting_for: ['已等', 'Waiting'],
  open_for: ['已开启', 'Open for'], then_next: ['下一时限', 'next deadline in'],
  state_overdue: ['已超时', 'OVERDUE'], state_soon: ['即将到期', 'DUE SOON'], state_running: ['计时中', 'Running'],
  state_waiting: ['待确认', 'Unacknowledged'], state_handling: ['处理中', 'In hand'],
  new: ['新', 'NEW'], live_broadcast: ['直播中', 'ON AIR'], unresolvable_badge: ['无法解决', 'Unresolvable'],
  call: ['来电', 'Call'], agent: ['座席', 'Agent'], queue: ['队列', 'Queue'], customer: ['客户', 'Customer'],
  caller: ['来电号码', 'Caller'], category: ['类别', 'Category'], started: ['开始', 'Started'], duration: ['时长', 'Duration'],
  details: ['记录内容', 'Record'], transcript: ['最近对话', 'Last lines'], records: ['座席记录', "Agent's records"],
  told: ['已通知', 'Who was told'], pending_step: ['待触发', 'Due'], nobody: ['无人（通讯录未配置此角色，见页首提示）', 'nobody (no one holds this role in the directory: see the notice at the top)'],
  late: ['迟发', 'late'], at: ['于', 'at'], notes: ['备注', 'Notes'], acked_by: ['已确认', 'Acknowledged by'],
  ack: ['确认收到', 'Acknowledge'], acked: ['已确认', 'Acknowledged'], note: ['加备注', 'Add note'],
  resolve: ['处理完毕', 'Resolve'], unresolved: ['未能解决，上报下一级', 'Not settled: pass it up'],
  open_fault_form: ['填写故障记录表', 'Fill in the fault form'], recover: ['记录恢复', 'Record recovery'],
  unresolvable: ['无法解决/确认', 'Cannot be solved'], go_faults: ['到故障记录', 'Go to the fault'],
  resolution: ['处理结果', 'Resolution'], forwarded_to: ['转交部门/分行（如有）', 'Forwarded to (department or branch)'],
  correct_category: ['更正通话类别（系统识别有误时）', "Correct the call's category (if it was classified wrong)"],
  no_correction: ['不更正', 'No correction'],
  category_corrected: ['已记录类别更正：{name}，培训师会审核', 'Category correction recorded: {name}; trainers will review it'],
  note_text: ['备注内容', 'Note'], save: ['保存', 'Save'], cancel: ['取消', 'Cancel'],
  fault_form: ['系统故障情况记录表', 'System Fault Record Form'],
  fault_form_help: ['填写后立即通知后台值班人员；所有座席会收到维护口径。时限从发生时间起算。', 'Back office is told at once; every agent gets the maintenance wording. Deadlines count from the time it occurred.'],
  occurred_at: ['发生时间', 'Occurred at'], symptoms: ['故障现象', 'Symptoms'], level: ['故障级别', 'Level'],
  system: ['系统', 'System'], reported_by: ['报告人', 'Reported by'], report_id: ['对应座席报告', "Agent's report"],
  level_n: ['{n}级', 'Level {n}'],
  level12: ['一、二级：30分钟内恢复，超1小时报部门领导', 'Levels 1–2: restore in 30 min; past 1 h the department leaders are told'],
  level34: ['三、四级：15分钟内恢复，超30分钟报部门领导', 'Levels 3–4: restore in 15 min; past 30 min the department leaders are told'],
  open_fault: ['登记故障', 'Record the fault'], fault_opened: ['故障已登记：{id}', 'Fault recorded: {id}'],
  recovered_at: ['恢复时间', 'Recovered at'], cause: ['原因', 'Cause'], responsible: ['责任人', 'Responsible'],
  cause_later: ['原因（已查明时填写，也可稍后补记）', 'Cause (if known; it can be recorded later)'],
  responsible_later: ['责任人（可稍后补记）', 'Responsible person (can be recorded later)'],
  not_recorded: ['未记录', 'not recorded'], none: ['无', 'none'],
  status: ['状态', 'Status'], minutes_n: ['历时{n}分钟', '{n} min'],
  edit_cause: ['记录/修改原因和责任人', 'Record or edit cause and responsible'],
  fault_updated: ['已保存原因和责任人', 'Cause and responsible person saved'], nothing_changed: ['没有改动', 'Nothing changed'],
  unlink: ['取消关联', 'Unlink'], relink: ['重新关联', 'Link again'], link: ['关联', 'Link'], link_call: ['关联来电', 'Link a call'],
  call_id: ['来电编号', 'Call id'], link_reason: ['理由（记入审计记录）', 'Reason (kept in the audit trail)'],
  unlink_help: ['这通来电不受此故障影响：不再计入影响客户，也不会再被自动关联到此故障。', 'This call was not affected by this fault: it stops counting and is never linked to it again automatically.'],
  link_help: ['这通来电计入此故障的影响客户；如已关联到其他故障，会从那里移过来。', 'The call counts against this fault; if it counted against another fault, it moves here.'],
  unlinked_calls: ['已取消关联', 'Unlinked'],
  call_unlinked: ['已取消关联：{call}', 'Unlinked: {call}'], call_linked: ['已关联：{call}', 'Linked: {call}'],
  affected: ['影响客户', 'Customers affected'], linked_calls: ['关联来电', 'Linked calls'], all_faults: ['故障记录', 'Fault records'],
  fault_open: ['未恢复', 'Not recovered'], fault_recovered: ['已恢复', 'Recovered'], fault_unresolvable: ['无法解决', 'Unresolvable'],
  elapsed: ['已持续', 'Ongoing for'], cannot_open_faults: ['只有座席管理员和班长可以登记故障。', 'Only seat admins and shift leaders record faults.'],
  report_day: ['日期', 'Day'], day_placeholder: ['年-月-日', 'YYYY-MM-DD'], prev_day: ['前一天', 'Previous day'], next_day: ['后一天', 'Next day'],
  day_format: ['日期请按 2026-12-06 的格式填写', 'Write the day as 2026-12-06'],
  datetime_placeholder: ['年-月-日 时:分', 'YYYY-MM-DD HH:MM'],
  datetime_format: ['时间请按 2026-12-06 09:30 的格式填写（24小时制，中心时间）', "Write the time as 2026-12-06 09:30 (24-hour, the center's clock)"],
  no_fault_records: ['还没有故障记录。', 'No fault records yet.'], refresh: ['刷新预览', 'Refresh preview'], send_now: ['立即发送', 'Send now'],
  report_preview: ['报告预览', 'Preview'], report_auto: ['系统将于每天 {at} 自动发送给部门领导和中心经理。', 'It also goes out by itself every day at {at} to the department leaders and the center manager.'],
  next_auto: ['下次自动发送', 'Next automatic send'], confirm_send: ['现在把这份报告发送给部门领导和中心经理？', 'Send this report to the department leaders and the center manager now?'],
  sent_to: ['已发送给：{names}', 'Sent to: {names}'], sent_nobody: ['已记录发送，但通讯录中没有部门领导或中心经理。', 'Recorded, but the directory has no department leader or center manager.'],
  calls_by_hour: ['各时段来电（按类别）', 'Calls by hour and category'], total_calls: ['来电总数', 'Calls'],
  faults_n: ['系统故障', 'Faults'], escalations_n: ['升级事项', 'Escalations'], met_n: ['按时限处理', 'Deadlines met'],
  report_sent_event: ['每日报告已发送', 'The daily report was sent'],
  call_detail: ['来电详情', 'Call details'], close: ['关闭', 'Close'], ended: ['已结束', 'Ended'], in_progress: ['通话中', 'In progress'],
  speaker_customer: ['客户', 'Customer'], speaker_agent: ['座席', 'Agent'],
  speaker_supervisor: ['主管', 'Supervisor'], speaker_third_party: ['第三方', 'Third party'],
  reason: ['原因', 'Reason'], labels: ['类别', 'Categories'],
  caller_number: ['来电号码', 'Caller number'], channel: ['渠道', 'Channel'], customer_name: ['客户姓名', 'Customer name'],
  customer_id: ['客户号', 'Customer id'], customer_level: ['客户等级', 'Customer level'], language: ['语言', 'Language'],
  kind_fault_report: ['座席报告系统故障', 'Fault reported by an agent'], kind_fault: ['系统故障', 'System fault'],
  'kind_complaint.general': ['一般性投诉', 'General complaint'], 'kind_complaint.urgent': ['紧急/恶性投诉', 'Urgent complaint'],
  'kind_complaint.about_agent': ['客户投诉座席员', 'Complaint about an agent'], 'kind_media.interview': ['媒体采访', 'Media interview'],
  'kind_media.live': ['媒体直播', 'Live broadcast'], kind_major_incident: ['重大恶性事件', 'Major incident'],
  step_report: ['报告', 'Report'], step_declared: ['登记', 'Declared'], step_first_deadline: ['第一时限', 'First deadline'],
  step_second_deadline: ['第二时限', 'Second deadline'], step_back_office: ['后台值班', 'Back office'],
  step_shift_leader: ['班长', 'Shift leader'], step_leaders: ['中心与部门领导', 'Leaders'], step_center_manager: ['中心经理', 'Center manager'],
  step_unresolvable: ['无法解决上报', 'Reported unresolvable'], reminder: ['（提醒）', '(reminder)'],
  role_agent: ['座席员', 'Agent'], role_seat_admin: ['座席管理员', 'Seat admin'], role_shift_leader: ['座席班长', 'Shift leader'],
  role_acting_shift_leader: ['代班班长', 'Acting shift leader'], role_back_office_duty: ['后台值班人员', 'Back-office duty'],
  role_center_manager: ['中心经理', 'Center manager'], role_department_leader: ['部门领导', 'Department leaders'],
  role_ebanking_dept: ['电子银行部', 'E-banking dept'], role_emergency_contact: ['应急联系人', 'Emergency contact'],
  role_it_support: ['信息技术部', 'IT support'],
  event_new: ['新的升级事项', 'New escalation'], event_overdue: ['已超过时限', 'Deadline passed'],
  colon: ['：', ': '], sep: ['、', ', '], comma: ['，', ', '], semi: ['；', '; '], lp: ['（', ' ('], rp: ['）', ')'],
  saved: ['已保存', 'Saved'], failed: ['操作失败', 'Failed'],
  login_role_shift_leader: ['座席班长', 'Shift leader'], login_role_seat_admin: ['座席管理员', 'Seat admin'],
  login_role_back_office: ['后台值班', 'Back office'], login_role_manager: ['经理', 'Manager'], login_role_admin: ['管理员', 'Admin'],
  record_kind_suggestion: ['当场解决，转为建议', 'settled on the call (suggestion)'], record_kind_escalation: ['已上报', 'escalated'],
  record_kind_fault_link: ['关联到故障', 'linked to a fault'],
  unstaffed: ['通讯录中没有人担任：{roles}。这些角色的升级步骤无人接收（卡片上显示“无人”），只记入审计。请管理员按 {doc}一节配置通讯录（路由配置文件的 {contacts}，或 {api}）。',
    'Nobody in the contact directory holds: {roles}. Escalation steps for these roles reach nobody (cards say "nobody"); they are only audited. An admin sets up the directory as {doc} says ({contacts} in the routing file, or {api}).'],
  emergency_contact: ['应急联系人', 'Emergency contact'], emergency_notify: ['一键通知应急联系人', 'Notify the emergency contact'],
  emergency_phoned: ['已电话联系，记录', 'Phoned: record it'], emergency_told: ['已联系应急联系人', 'Emergency contact told'],
  emergency_none: ['通讯录中没有应急联系人（{role}），无法一键通知：见 {doc}。', 'The directory has no emergency contact ({role}): see {doc}.'],
  emergency_sent: ['已通知应急联系人：{names}', 'Emergency contact told: {names}'],
  channel_console: ['值班台', 'console'], channel_sms: ['短信', 'SMS'], channel_webhook: ['即时通讯', 'webhook'],
  channel_email: ['邮件', 'email'], channel_phone: ['电话', 'phone'], no_number: ['无号码', 'no number'],
  report_text_as_sent: ['报告正文（按此原文发送）', 'Report text as sent (in Chinese, as the leaders receive it)'],
  complaints_n: ['投诉', 'Complaints'], media_n: ['媒体来电', 'Media calls'], incidents_n: ['重大恶性事件', 'Major incidents'],
  resolved_n: ['已办结', 'Settled'], overdue_n: ['超过时限', 'Past a deadline'], open_n: ['未办结', 'Still open'],
  faults_recovered_n: ['已恢复 {n}', '{n} recovered'], faults_open_n: ['未恢复 {n}', '{n} open'], faults_unresolvable_n: ['无法解决 {n}', '{n} unresolvable'],
  suggestions_n: ['转为建议 {n}', '{n} settled as suggestions'], met_of_resolved: ['按时限办结 {met}/{resolved}', 'Within deadlines {met}/{resolved}'],
  err_conflict: ['当前状态不允许此操作（可能已被他人处理），请刷新后再试', 'Not possible in its current state (someone may have handled it)'],
  err_not_found: ['找不到该记录', 'Not found'], err_disconnected: ['连接中断，请稍后重试', 'Not connected; try again shortly'],
  err_validation_failed: ['填写有误，请检查标出的项目', 'Please check the marked fields'],
  err_unauthorized: ['无权执行此操作', 'Not allowed for your role'], err_other: ['请稍后重试', 'Please try again'],
  ferr_occurred_at: ['请填写发生时间（不晚于现在，不早于一周前）', ''], ferr_symptoms: ['请填写故障现象', ''],
  ferr_level: ['请选择故障级别（1–4级）', ''], ferr_system: ['请填写系统名称', ''], ferr_reported_by: ['请填写报告人', ''],
  ferr_recovered_at: ['恢复时间不能早于发生时间，也不能晚于现在', ''], ferr_cause: ['请填写原因', ''], ferr_responsible: ['请填写责任人', ''],
};

const texts = translator(TEXTS, 'leader.lang');
export const { getLang, setLang, has, t } = texts;

// What the user reads for a failed command or request: in Chinese, by its error code (the server's own
// message is English); in English, the server's message.
export function errorText(e) {
  if (texts.english()) return e?.message || 'error';
  const key = `err_${e?.code}`;
  return has(key) ? t(key) : t('err_other');
}

// A field's error under a form: in Chinese, a fixed text per field; in English, the server's.
export function fieldError(field, message) {
  const key = `ferr_${field}`;
  return texts.english() || !has(key) ? (texts.english() ? message : t('err_validation_failed')) : t(key);
}

// A step name ("first_deadline", "shift_leader.r1") in words.
export function stepName(name) {
  const [base, rem] = name.split('.r');
  const key = `step_${base}`;
  return (has(key) ? t(key) : base) + (rem ? t('reminder') : '');
}

// A text with some of its {vars} as nodes (a doc path or a config name marked translate="no"): an array of
// strings and nodes, for h().
export function tNodes(key, vars = {}) {
  const pair = TEXTS[key];
  const s = pair ? pair[texts.english() ? 1 : 0] : key;
  return s.split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const m = /^\{(\w+)\}$/.exec(part);
    return m && m[1] in vars ? vars[m[1]] : part;
  });
}

// Names of the routing docs and config that stay as they are in either language (they are what an admin types).
export function code(text) {
  const el = document.createElement('code');
  el.setAttribute('translate', 'no');
  el.textContent = text;
  return el;
}

export const ROUTING_DOC = 'docs/routing.md「The routing file」';

export const applyStatic = texts.applyStatic;
