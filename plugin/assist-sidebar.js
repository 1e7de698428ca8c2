// <assist-sidebar>: what the agent sees during a call. Framework-free custom element, shadow DOM, no build step.
//
//   <script type="module" src="https://assist.example/plugin/assist-sidebar.js"></script>
//   <assist-sidebar server="wss://assist.example/ws" token="…" lang="zh-CN"></assist-sidebar>
//
//   const sb = document.querySelector("assist-sidebar");
//   await sb.startCall("c-42", { queue: "retail", customer_name: "李女士" });
//   sb.addTranscript("customer", "手机银行一直提示系统繁忙", true);
//   sb.setNote("客户转账失败");
//   sb.endCall("resolved");
//
// Attributes: server (websocket URL), token, lang ("zh-CN" default, or "en").
// Property: tokenProvider — a function returning a token (or a promise of one), used instead of `token`
// on every (re)connection.
// Methods (each returns the server's result as a promise): startCall(callId, context), setNote(text),
// addTranscript(speaker, text, final), endCall(disposition), escalate(kind, reason), submitRecord(form, fields),
// feedbackOptions(), correctCategory(category, comment), reportWarning(index, rule, comment).
// Events (bubbling, composed): assist-update (detail: the assist.update push), assist-warning (detail: the
// assist.warning push), assist-state (detail: {state, …}), assist-ended (detail: {call_id}), assist-escalation
// (detail: the call.escalation push: an escalation of the call filed or changed, by anyone),
// assist-feedback (detail: the stored feedback, as the service acknowledged it).

import { AssistClient, AssistError } from "./assist-client.js";
import {
  FEEDBACK_STYLE, FEEDBACK_TEXTS, feedbackError, feedbackKey, newFeedbackState, renderCategoryFeedback,
  renderWarningFeedback, warningKey,
} from "./assist-feedback.js";

export { AssistClient };

const I18N = {
  "zh-CN": {
    title: "座席助手",
    switchLang: "EN",
    switchLangLabel: "Switch to English",
    state_idle: "未连接",
    state_connecting: "正在连接…",
    state_open: "已连接",
    state_reconnecting: "连接中断，正在重连…",
    state_auth_failed: "登录凭证无效，请重新登录",
    state_closed: "已断开",
    waiting: "等待来电…",
    call: "通话",
    live: "进行中",
    ended: "通话已结束",
    category: "来电类别",
    reason: "识别依据",
    reasonModel: "模型判断依据",
    byModel: "模型",
    source_customer: "客户",
    source_agent: "座席",
    source_note: "备注",
    source_context: "来电信息",
    alsoApplies: "同时涉及",
    talkingPoints: "推荐话术",
    noTalkingPoints: "暂无专用话术，按常规业务流程办理。",
    copy: "复制",
    copied: "已复制",
    copyFailed: "复制失败",
    copyLabel: "复制这条话术",
    steps: "处理步骤",
    checklist: "记录要点",
    required: "必填",
    submitRecord: "提交记录",
    submitting: "正在提交…",
    submitted: "记录已提交",
    notAvailable: "此功能暂未开放（服务端尚未支持），请按原流程处理。",
    failed: "提交失败：",
    forbidden: "本通禁用语",
    forbiddenHint: "以下说法不得对客户讲：",
    insteadSay: "请改用",
    warningTitle: "禁用语提醒",
    faultTitle: "已确认系统故障",
    faultSay: "请按维护口径答复：",
    youSaid: "您刚才说了",
    dismiss: "知道了",
    moreWarnings: (n) => `本通已提醒 ${n} 次`,
    escalate: "上报",
    escalateTitle: "上报班长 / 相关人员",
    escalateKind: "上报类型",
    escalateReason: "上报原因",
    escalateReasonPlaceholder: "简要说明情况，例如：客户要求今天答复",
    escalateSend: "确认上报",
    cancel: "取消",
    escalated: "已上报",
    notify: "需通知",
    kind_fault: "系统故障",
    kind_complaint: "一般性投诉",
    "kind_complaint.urgent": "紧急/恶性投诉",
    "kind_complaint.about_agent": "投诉座席员",
    kind_media: "媒体采访",
    "kind_media.live": "媒体直播",
    kind_incident: "重大恶性事件",
    yes: "是",
    no: "否",
    choose: "请选择",
    pack: "话术包",
    noCall: "当前没有通话",
    role_agent: "座席员",
    role_seat_admin: "座席管理员",
    role_shift_leader: "座席班长",
    role_acting_shift_leader: "代班班长",
    role_back_office_duty: "后台值班人员",
    role_center_manager: "中心经理",
    role_department_leader: "部门领导",
    role_emergency_contact: "应急联系人",
    role_it_support: "信息技术部",
    role_ebanking_dept: "电子银行部",
    lineNo: (n) => `第${n}句`,
    morePoints: (name, n) => `${name}的话术（${n} 条）`,
    missing: (n, names) => `还差 ${n} 项：${names}`,
    complete: "必填项已填齐，可以提交",
    submittedShort: "已提交",
    listSep: "、",
    now: "现在",
    datePlaceholder: "例如 2026-05-01 10:30",
    dateHelp: "年-月-日 时:分（中心时间）",
    escalatedAs: (kind) => `已上报：${kind}`,
    esc_waiting: "待确认",
    esc_acked: "已确认，处理中",
    esc_resolved: "已办结",
    esc_unresolvable: "无法解决，已报上级",
    showWarning: "查看禁用语提醒",
  },
  en: {
    title: "Agent assist",
    switchLang: "中文",
    switchLangLabel: "切换到中文",
    state_idle: "Not connected",
    state_connecting: "Connecting…",
    state_open: "Connected",
    state_reconnecting: "Connection lost, reconnecting…",
    state_auth_failed: "Invalid token: please sign in again",
    state_closed: "Disconnected",
    waiting: "Waiting for a call…",
    call: "Call",
    live: "live",
    ended: "Call ended",
    category: "Call type",
    reason: "Because of",
    reasonModel: "The model's reasons",
    byModel: "model",
    source_customer: "customer",
    source_agent: "agent",
    source_note: "note",
    source_context: "call info",
    alsoApplies: "Also",
    talkingPoints: "What to say",
    noTalkingPoints: "No special script: handle as an ordinary request.",
    copy: "Copy",
    copied: "Copied",
    copyFailed: "Copy failed",
    copyLabel: "Copy this line",
    steps: "What to do",
    checklist: "What to record",
    required: "required",
    submitRecord: "Submit record",
    submitting: "Submitting…",
    submitted: "Record submitted",
    notAvailable: "Not available yet (the service does not support it); follow the usual procedure.",
    failed: "Failed: ",
    forbidden: "Never say on this call",
    forbiddenHint: "Never say these to the customer:",
    insteadSay: "Say instead",
    warningTitle: "Forbidden phrase",
    faultTitle: "Declared system fault",
    faultSay: "Answer with the maintenance wording:",
    youSaid: "You just said",
    dismiss: "Got it",
    moreWarnings: (n) => `${n} warnings on this call`,
    escalate: "Escalate",
    escalateTitle: "Escalate to the shift leader / the people concerned",
    escalateKind: "Kind",
    escalateReason: "Reason",
    escalateReasonPlaceholder: "In a few words, e.g. the customer wants an answer today",
    escalateSend: "Escalate",
    cancel: "Cancel",
    escalated: "Escalated",
    notify: "Notify",
    kind_fault: "System fault",
    kind_complaint: "General complaint",
    "kind_complaint.urgent": "Urgent complaint",
    "kind_complaint.about_agent": "Complaint about the agent",
    kind_media: "Media interview",
    "kind_media.live": "Live broadcast",
    kind_incident: "Major incident",
    yes: "Yes",
    no: "No",
    choose: "Choose…",
    pack: "Script pack",
    noCall: "No call in progress",
    role_agent: "Agent",
    role_seat_admin: "Seat administrator",
    role_shift_leader: "Shift leader",
    role_acting_shift_leader: "Acting shift leader",
    role_back_office_duty: "Back-office duty",
    role_center_manager: "Center manager",
    role_department_leader: "Department leaders",
    role_emergency_contact: "Emergency contact",
    role_it_support: "IT department",
    role_ebanking_dept: "E-banking department",
    lineNo: (n) => `line ${n}`,
    morePoints: (name, n) => `More for ${name} (${n})`,
    missing: (n, names) => `${n} still missing: ${names}`,
    complete: "All required fields filled: ready to submit",
    submittedShort: "Submitted",
    listSep: ", ",
    now: "Now",
    datePlaceholder: "e.g. 2026-05-01 10:30",
    dateHelp: "YYYY-MM-DD HH:MM (the center's time)",
    escalatedAs: (kind) => `Escalated: ${kind}`,
    esc_waiting: "waiting to be acknowledged",
    esc_acked: "acknowledged, in hand",
    esc_resolved: "resolved",
    esc_unresolvable: "cannot be resolved: reported up",
    showWarning: "Show the forbidden-phrase warning",
  },
};

for (const l of Object.keys(FEEDBACK_TEXTS)) Object.assign(I18N[l], FEEDBACK_TEXTS[l]);

export const LANGS = Object.keys(I18N);

const ESCALATION_KINDS = ["fault", "complaint", "complaint.urgent", "complaint.about_agent", "media", "media.live", "incident"];

/** The sidebar's name for an escalation kind as the service stores it (docs/protocol.md §6). */
const FILED_KIND = { fault_report: "fault", "complaint.general": "complaint", "media.interview": "media",
                     major_incident: "incident" };

function kindFor(category) {
  const kinds = { system_outage: "fault", "complaint.general": "complaint", "complaint.urgent": "complaint.urgent",
                  "complaint.about_agent": "complaint.about_agent", "media.interview": "media",
                  "media.live": "media.live", major_incident: "incident" };
  return kinds[category] || "complaint";
}

/** Whether `category`'s form requires checklist field `f` (a field shared by several forms may be required
 * in one only; a service without `required_in` only says whether the first requires it). */
function requiredIn(f, category) {
  return Array.isArray(f.required_in) ? f.required_in.includes(category) : !!f.required;
}

/** The center's time zone when the host does not say (the routing file's default, docs/routing.md). */
const DEFAULT_TIMEZONE = "Asia/Shanghai";

// A date/time field: typed as 2026-05-01 10:30 (or 2026/5/1 10:30, 2026年5月1日 10:30, 2026-05-01T10:30, or
// 10:30 for today),
// read by the service as the center's local time. Not <input type=datetime-local>: that one shows the
// browser's locale (mm/dd/yyyy, AM/PM) whatever the sidebar's language.
const DATE_PATTERN = "\\s*(\\d{4}[\\-\\/.年]\\d{1,2}[\\-\\/.月]\\d{1,2}日?((\\s*|T)\\d{1,2}[:：]\\d{2})?|\\d{1,2}[:：]\\d{2})\\s*";

/** A typed date/time as the service reads it: `YYYY-MM-DD HH:MM`, `YYYY-MM-DD` or `HH:MM`; else unchanged. */
export function normaliseDateTime(text) {
  const v = String(text).trim();
  const pad = (n) => String(n).padStart(2, "0");
  let m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:(?:\s*|T)(\d{1,2})[:：](\d{2}))?$/.exec(v);
  if (m) return `${m[1]}-${pad(m[2])}-${pad(m[3])}` + (m[4] != null ? ` ${pad(m[4])}:${m[5]}` : "");
  m = /^(\d{1,2})[:：](\d{2})$/.exec(v);
  return m ? `${pad(m[1])}:${m[2]}` : v;
}

/** Now, in `timeZone`, as `YYYY-MM-DD HH:MM` (the browser's own zone if that one is unknown). */
export function nowIn(timeZone, date = new Date()) {
  const opts = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  let fmt;
  try { fmt = new Intl.DateTimeFormat("en-CA", { ...opts, timeZone }); } catch { fmt = new Intl.DateTimeFormat("en-CA", opts); }
  const p = Object.fromEntries(fmt.formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** The agent's line with each forbidden phrase marked where it was said; null when the spans do not fit it. */
function markedLine(h, line, hits) {
  if (typeof line !== "string") return null;
  const spans = [];
  for (const x of hits) {
    const [a, b] = Array.isArray(x.span) ? x.span : [];
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a < b && b <= line.length)) return null;
    spans.push([a, b]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  const out = [];
  let at = 0;
  for (const [a, b] of spans) {
    const start = Math.max(a, at);
    if (b <= start) continue;
    if (start > at) out.push(line.slice(at, start));
    out.push(h("mark", {}, line.slice(start, b)));
    at = b;
  }
  if (at < line.length) out.push(line.slice(at));
  return out;
}

const SEVERITY = {
  major_incident: "sev-critical",
  "media.live": "sev-media",
  "media.interview": "sev-media",
  "complaint.urgent": "sev-high",
  "complaint.about_agent": "sev-elevated",
  system_outage: "sev-outage",
  "complaint.general": "sev-info",
  none: "sev-none",
};

const STYLE = `
:host {
  display: block;
  min-width: 0;
  color: #1d2939;
  background: #f5f7fa;
  font: 14px/1.55 system-ui, -apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
        "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif;
  -webkit-font-smoothing: antialiased;
  --accent: #1d4ed8;
  --line: #e4e7ec;
  --muted: #667085;
  --danger: #b42318;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.root { display: flex; flex-direction: column; gap: 8px; padding: 0 10px 14px; min-width: 0; }
.root.ended .live-only { opacity: .6; }
/* Only the header and, once the warning has scrolled away, a one-line reminder of it stay pinned: the pinned
   strip is short, and focused fields scroll clear of it (scroll-margin-top: --pinned is its height). */
.sticky { position: sticky; top: 0; z-index: 2; background: #f5f7fa; margin: 0 -10px; padding: 6px 10px;
          display: flex; flex-direction: column; gap: 6px; border-bottom: 1px solid var(--line); }
input, select, textarea, button, summary, .alert { scroll-margin-top: calc(var(--pinned, 44px) + 8px); }
.pin { display: flex; align-items: center; gap: 6px; width: 100%; text-align: left; border: 2px solid #d92d20;
       background: #fef3f2; color: #912018; font-size: 13px; font-weight: 600; padding: 2px 8px; min-height: 30px; }
.pin:hover { background: #fee4e2; }
.pin[hidden] { display: none; }
.pin span { flex: 1 1 auto; min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
header { display: flex; align-items: center; gap: 8px; min-width: 0; }
header h1 { font-size: 15px; margin: 0; font-weight: 650; letter-spacing: .02em; flex: 0 0 auto; }
.conn { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; color: var(--muted);
        min-width: 0; flex: 1 1 auto; overflow: hidden; }
.conn span { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.conn::before { content: ""; flex: 0 0 8px; width: 8px; height: 8px; border-radius: 50%; background: #98a2b3; }
.conn[data-state="open"]::before { background: #12b76a; }
.conn[data-state="connecting"]::before, .conn[data-state="reconnecting"]::before { background: #f79009; }
.conn[data-state="reconnecting"] { color: #b54708; font-weight: 600; }
.conn[data-state="auth_failed"]::before { background: var(--danger); }
.conn[data-state="auth_failed"] { color: var(--danger); font-weight: 600; }
button { font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid #d0d5dd; background: #fff;
         color: #344054; padding: 4px 10px; min-height: 30px; }
button:hover { background: #f2f4f7; }
button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible {
  outline: 3px solid #84adff; outline-offset: 1px; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; font-weight: 600; }
button.primary:hover { background: #1e40af; }
button.primary:disabled { background: #98a2b3; border-color: #98a2b3; cursor: default; }
button.small { font-size: 12px; padding: 2px 8px; min-height: 26px; white-space: nowrap; flex: 0 0 auto; }
.lang { flex: 0 0 auto; font-size: 12px; min-height: 26px; padding: 2px 8px; }

.alert:empty { display: none; }
.notices:empty { display: none; }
.notice { border: 1px solid #f79009; background: #fffaeb; border-radius: 8px; padding: 6px 10px; margin-top: 6px; }
.notice strong { color: #b54708; }
.notice p { margin: 4px 0; }
.notice ul { margin: 0; padding: 0; list-style: none; }
.notice li { display: flex; gap: 8px; align-items: center; justify-content: space-between; }
.warning { border: 2px solid #d92d20; background: #fef3f2; border-radius: 8px; padding: 6px 8px;
           box-shadow: 0 2px 8px rgba(217, 45, 32, .18); animation: pulse 1.2s ease-out 2; }
@keyframes pulse { 0% { box-shadow: 0 0 0 0 rgba(217, 45, 32, .55); }
                   100% { box-shadow: 0 0 0 10px rgba(217, 45, 32, 0); } }
@media (prefers-reduced-motion: reduce) { .warning { animation: none; } }
.warning-head { display: flex; align-items: center; gap: 8px; }
.warning-head strong { color: var(--danger); font-size: 14px; flex: 1 1 auto; min-width: 0; }
.warning-head strong::before { content: "⚠ "; }
.warning p { margin: 2px 0 0; overflow-wrap: anywhere; }
.warning .said { font-size: 13px; }
.warning .said mark { background: #fecdca; color: #7a271a; padding: 0 2px; border-radius: 3px;
                      text-decoration: line-through; text-decoration-thickness: 2px; }
.warning .instead { display: flow-root; margin-top: 4px; background: #fff;
                    border: 1px solid #fda29b; border-radius: 6px; padding: 4px 8px; font-size: 13px; }
.warning .instead p { margin: 0; overflow-wrap: anywhere; }
.warning .instead button { float: right; margin: 0 0 2px 8px; }
.warning .instead b { display: block; color: #027a48; font-size: 12px; }
.warning .foot { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; margin-top: 4px; }
.warning .foot .feedback { margin-top: 0; }
.warning .count { font-size: 12px; color: #912018; margin: 0; }

.callline { font-size: 12px; color: var(--muted); display: flex; gap: 6px; flex-wrap: wrap; min-width: 0; }
.callline .id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.callline .ended-tag { color: #344054; font-weight: 600; }

.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 7px 10px; min-width: 0; }
.card h2, .card summary { font-size: 13px; font-weight: 650; color: #344054; margin: 0 0 4px; }
.empty { color: var(--muted); margin: 0; }

.category { display: flex; flex-direction: column; gap: 6px; }
.badge.alert-new { animation: pulse 1.2s ease-out 2; } /* a category new on the call (assist.update alert) */
.badge-row { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; min-width: 0; }
.badge { display: inline-block; font-weight: 700; font-size: 14px; color: #fff; border-radius: 999px;
         padding: 2px 11px; background: #475467; max-width: 100%; overflow-wrap: anywhere; }
.chip { display: inline-block; font-size: 12px; border-radius: 999px; padding: 0 7px; border: 1px solid;
        max-width: 100%; overflow-wrap: anywhere; }
.sev-critical { background: #7a271a; } .chip.sev-critical { color: #7a271a; border-color: #7a271a; background: #fff; }
.sev-media { background: #6941c6; } .chip.sev-media { color: #6941c6; border-color: #6941c6; background: #fff; }
.sev-high { background: #c01048; } .chip.sev-high { color: #c01048; border-color: #c01048; background: #fff; }
.sev-elevated { background: #c4320a; } .chip.sev-elevated { color: #c4320a; border-color: #c4320a; background: #fff; }
.sev-outage { background: #b54708; } .chip.sev-outage { color: #b54708; border-color: #b54708; background: #fff; }
.sev-info { background: #175cd3; } .chip.sev-info { color: #175cd3; border-color: #175cd3; background: #fff; }
.sev-none { background: #475467; } .chip.sev-none { color: #475467; border-color: #98a2b3; background: #fff; }
.badge-row > .feedback, .reason > .feedback { margin-left: auto; }
.badge-row > .feedback:has(.fb-pick), .reason > .feedback:has(.fb-pick) { flex-basis: 100%; margin-left: 0; }
.reason { margin: 0; font-size: 13px; color: #475467; overflow-wrap: anywhere; display: flex; flex-wrap: wrap;
          gap: 4px 6px; align-items: baseline; }
.reason q.by-model { border-style: dashed; background: #f9fafb; }
.reason q { quotes: none; color: #1d2939; font-weight: 600; background: #f2f4f7; border: 1px solid #e4e7ec;
            border-radius: 4px; padding: 0 4px; font-size: 12px; line-height: 1.45; }

ol.points { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
/* The copy button floats at a point's top right: the text wraps under it, not in a narrow column beside it. */
ol.points li { display: flow-root; padding: 4px 8px; border-radius: 6px;
               background: #f8fafc; border: 1px solid #eef2f6; }
details.more { margin-top: 6px; }
details.more > summary, details.form-group > summary { cursor: pointer; font-size: 13px; color: #344054;
                                                        overflow-wrap: anywhere; }
details.more[open] > summary { margin-bottom: 6px; }
ol.points li p { margin: 0; overflow-wrap: anywhere; font-size: 14.5px; line-height: 1.45; }
ol.points li .copy { float: right; margin: 0 0 2px 8px; }
ol.steps { margin: 0; padding-left: 20px; } ol.steps li { overflow-wrap: anywhere; }
ol.steps li + li { margin-top: 2px; }

form { display: flex; flex-direction: column; gap: 8px; min-width: 0; }
details.form-group + details.form-group { margin-top: 8px; border-top: 1px dashed var(--line); padding-top: 8px; }
details.form-group > summary { font-weight: 600; }
details.form-group > summary .todo { display: block; font-weight: 400; color: var(--danger); font-size: 12px; }
details.form-group > summary .todo.done { color: #027a48; }
details.form-group[open] > summary { margin-bottom: 8px; }
.date-row { display: flex; gap: 6px; align-items: center; min-width: 0; }
.date-row input { flex: 1 1 auto; }
.hint { font-size: 12px; color: var(--muted); }
.escalate .filed { font-weight: 650; }
.escalate .filed .esc-state { font-weight: 400; }
fieldset { border: 0; padding: 0; margin: 0; min-width: 0; display: flex; flex-direction: column; gap: 8px; }
legend { font-size: 12px; color: var(--muted); padding: 0; margin-bottom: 4px; }
label { display: flex; flex-direction: column; gap: 2px; font-size: 13px; color: #344054; min-width: 0; }
label .req { color: var(--danger); font-size: 12px; margin-left: 4px; }
input, select, textarea { font: inherit; font-size: 14px; width: 100%; min-width: 0; padding: 5px 8px;
                          border: 1px solid #d0d5dd; border-radius: 6px; background: #fff; color: inherit; }
textarea { resize: vertical; min-height: 56px; }
input:user-invalid, select:user-invalid, textarea:user-invalid { border-color: #f04438; }
.actions { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.status { font-size: 13px; margin: 0; overflow-wrap: anywhere; }
.status.ok { color: #027a48; } .status.err { color: var(--danger); } .status.na { color: #b54708; }

details.card > summary { cursor: pointer; margin: 0; list-style-position: inside; }
details.card[open] > summary { margin-bottom: 6px; }
.forbidden-list { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 8px; }
.forbidden-list li { border-left: 3px solid #fda29b; padding-left: 8px; overflow-wrap: anywhere; }
.forbidden-list li.hit { border-left-color: #d92d20; background: #fef3f2; }
.forbidden-list .ex { color: #912018; font-size: 13px; }
.forbidden-list .alt { color: #027a48; font-size: 13px; }

.route { font-size: 12px; color: var(--muted); margin: 6px 0 0; overflow-wrap: anywhere; }
footer { font-size: 11px; color: #98a2b3; text-align: right; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

// -- tiny DOM helper: text only (never innerHTML with server data) ---------------------------------------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch { /* fall through to the old way */ }
  }
  const ta = h("textarea", { style: "position:fixed;left:-9999px;top:0", readonly: true });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch { ok = false; }
  ta.remove();
  return ok;
}

export class AssistSidebar extends HTMLElement {
  static get observedAttributes() { return ["server", "token", "lang"]; }

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.client = null;
    this.tokenProvider = null;
    this.connState = { state: "idle" };
    this.update = null; // the latest assist.update of the current call
    this.callId = null;
    this.ended = false;
    this.warnings = []; // this call's warnings, newest last
    this.dismissed = 0; // warnings already acknowledged
    this.notices = new Map(); // fault_id -> the declared fault's assist.notice (every call, until recovered)
    this.values = {}; // checklist values by field id (kept across updates)
    this.formStatus = {}; // category -> {cls, text}
    this.escalation = { open: false, status: null, kind: null, reason: "" };
    this.filed = new Map(); // escalation_id -> the call's escalation as call.escalation told (whoever filed it)
    this.lines = new Map(); // transcript index -> the text this sidebar sent (to show a warning in its sentence)
    this.formOpen = {}; // category -> the agent opened that checklist form
    this.moreOpen = new Set(); // categories whose further talking points the agent opened
    this.fb = newFeedbackState(); // feedback given on the current call (assist-feedback.js)
    this._onScroll = () => {
      if (this._pinFrame) return;
      this._pinFrame = requestAnimationFrame(() => { this._pinFrame = 0; this._updatePin(); });
    };
    this._fbCats = null; // {lang, list}: the pack's categories to pick from, in the sidebar's language
    this._cache = {};
    this._built = false;
  }

  get lang() {
    const l = this.getAttribute("lang");
    return l && I18N[l] ? l : "zh-CN";
  }

  set lang(value) { this.setAttribute("lang", value); }

  /** The center's time zone (attribute `timezone`), for the "now" of date fields. */
  get timezone() {
    return this.getAttribute("timezone") || DEFAULT_TIMEZONE;
  }

  t(key, ...args) {
    const v = I18N[this.lang][key] ?? I18N["zh-CN"][key] ?? key;
    return typeof v === "function" ? v(...args) : v;
  }

  connectedCallback() {
    if (!this._built) this._build();
    this._ensureClient();
    this._render();
    // the pinned reminder follows the scrolling of whatever scrolls the sidebar (page, iframe or a panel)
    document.addEventListener("scroll", this._onScroll, { capture: true, passive: true });
    window.addEventListener("resize", this._onScroll, { passive: true });
  }

  disconnectedCallback() {
    document.removeEventListener("scroll", this._onScroll, { capture: true });
    window.removeEventListener("resize", this._onScroll);
    // Keep the connection while the element is only being moved in the page.
    queueMicrotask(() => {
      if (!this.isConnected && this.client) {
        this.client.close();
        this.client = null;
      }
    });
  }

  attributeChangedCallback(name, oldValue, value) {
    if (oldValue === value) return;
    if (name === "lang") {
      if (this.client) this.client.setLang(this.lang);
      this._cache = {};
      if (this._built) this._render();
    } else if (this.client && (name === "server" || name === "token")) {
      // a new server or token: start over, the current call is resumed on the new connection
      const call = this.client.call;
      this.client.close();
      this.client = null;
      this._ensureClient();
      if (this.client && call) this.client.call = call;
    } else {
      this._ensureClient();
    }
  }

  // -- the client ----------------------------------------------------------------------------------

  _ensureClient() {
    if (this.client || !this.isConnected) return this.client;
    const server = this.getAttribute("server");
    const token = this.tokenProvider || this.getAttribute("token");
    if (!server || !token) return null;
    const client = new AssistClient({ url: server, token, lang: this.lang });
    client.addEventListener("state", (e) => {
      this.connState = e.detail;
      this._renderConn();
      this._emit("assist-state", e.detail);
    });
    client.addEventListener("assist.update", (e) => this._onUpdate(e.detail));
    client.addEventListener("assist.warning", (e) => this._onWarning(e.detail));
    client.addEventListener("assist.notice", (e) => {
      const n = e.detail;
      if (n.notice !== "fault") return;
      if (n.active) this.notices.set(n.fault_id, n);
      else this.notices.delete(n.fault_id);
      this._renderNotices();
    });
    client.addEventListener("call.escalation", (e) => this._onEscalation(e.detail));
    client.addEventListener("call.ended", (e) => {
      if (e.detail.call_id !== this.callId) return;
      this.ended = true;
      this._render();
      this._emit("assist-ended", e.detail);
    });
    client.addEventListener("resumed", (e) => { if (e.detail.update) this._onUpdate(e.detail.update); });
    this.client = client;
    client.connect();
    return client;
  }

  _need() {
    const c = this._ensureClient();
    if (!c) throw new Error("assist-sidebar: set the server and token attributes (or tokenProvider) first");
    return c;
  }

  _emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  // -- public API ----------------------------------------------------------------------------------

  async startCall(callId, context = {}) {
    const client = this._need();
    this.callId = String(callId);
    this.update = null;
    this.ended = false;
    this.warnings = [];
    this.dismissed = 0;
    this.values = {};
    this.formStatus = {};
    this.escalation = { open: false, status: null, kind: null, reason: "" };
    this.filed = new Map();
    this.lines = new Map();
    this.formOpen = {};
    this.moreOpen = new Set();
    this.fb = newFeedbackState();
    this._cache = {};
    this._render();
    const reply = await client.startCall(this.callId, context);
    if (reply.update) this._onUpdate(reply.update);
    return reply;
  }

  async setNote(text) {
    const reply = await this._need().note(text);
    return reply;
  }

  async addTranscript(speaker, text, final = true) {
    const callId = this.callId;
    const reply = await this._need().transcript(speaker, text, final);
    if (callId === this.callId && reply.index != null) this.lines.set(reply.index, String(text));
    // The reply lists every forbidden phrase of the line; the assist.warning push that follows names the
    // same warning again (its first phrase per rule): both are merged by line, rule and span.
    for (const w of reply.warnings || []) {
      if (w.held) continue; // the pack's firing controls held it back: listed, not shown again (docs/protocol.md)
      this._onWarning({ type: "assist.warning", call_id: this.callId, index: reply.index, ...w });
    }
    return reply;
  }

  async endCall(disposition = "") {
    const reply = await this._need().endCall(disposition);
    if (reply.call_id === this.callId || !reply.call_id) {
      this.ended = true;
      this._render();
    }
    return reply;
  }

  /** The escalation kind the current call type calls for (what the 上报 form pre-selects). */
  escalationKind() {
    return kindFor(this.update && this.update.category);
  }

  /** File an escalation for the current call; `kind` defaults to the one its type calls for. The sidebar
   * shows 已上报 (or the failure) whether the agent tapped 上报 or the softphone called this. */
  async escalate(kind, reason = "") {
    const callId = this.callId;
    const k = kind || this.escalationKind();
    let reply;
    try {
      reply = await this._need().escalate(k, reason);
    } catch (err) {
      if (callId === this.callId) {
        this.escalation = { ...this.escalation, status: this._errorStatus(err) };
        this._renderEscalate();
      }
      throw err;
    }
    if (callId === this.callId) {
      const id = reply && reply.escalation_id;
      this.escalation = { open: false, kind: k, reason: "",
                          status: { cls: "ok", key: "escalatedAs", kind: k, id, extra: this._wording(reply) } };
      if (id && reply.escalation && !this.filed.has(id)) this._onEscalation({ call_id: callId, escalation: reply.escalation });
      this._renderEscalate();
      this._emit("assist-escalated", { call_id: callId, kind: k, reply });
    }
    return reply;
  }

  async submitRecord(form, fields) {
    return this._need().submitRecord(form, fields);
  }

  // -- feedback (assist-feedback.js; docs/protocol.md §7) -----------------------------------------------

  /** The pack's categories to pick from, and the feedback already given on the current call. */
  async feedbackOptions() {
    if (!this.callId) throw new AssistError("no_call", "no call");
    const lang = this.lang;
    const reply = await this._need().request("feedback.get", { call_id: this.callId });
    this._fbCats = { lang, list: reply.categories || [] };
    if (reply.category) {
      const c = reply.category;
      const name = (this._fbCats.list.find((x) => x.id === c.category) || {}).name || c.category;
      this.fb.category = { feedback_id: c.feedback_id, category: c.category, name, status: c.status };
    }
    for (const w of reply.warnings || []) {
      this.fb.warnings.set(warningKey(w.index, w.rule), { feedback_id: w.feedback_id, status: w.status });
    }
    return reply;
  }

  /** "The category is wrong: it is `category`." Sent again, it changes the correction. */
  async correctCategory(category, comment = "") {
    if (!this.callId) throw new AssistError("no_call", "no call");
    const callId = this.callId;
    const reply = await this._need().request("feedback.category", { call_id: callId, category, comment });
    const f = reply.feedback;
    if (callId === this.callId) {
      this.fb.category = { feedback_id: f.feedback_id, category: f.category, name: f.category_name, status: f.status };
      this._renderFeedback();
    }
    this._emit("assist-feedback", f);
    return reply;
  }

  /** "This warning is wrong": the warning given for transcript line `index` by rule `rule`. */
  async reportWarning(index, rule, comment = "") {
    if (!this.callId) throw new AssistError("no_call", "no call");
    const callId = this.callId;
    const reply = await this._need().request("feedback.warning", { call_id: callId, index, rule, comment });
    const f = reply.feedback;
    if (callId === this.callId) {
      this.fb.warnings.set(warningKey(index, rule), { feedback_id: f.feedback_id, status: f.status });
      this._renderFeedback();
    }
    this._emit("assist-feedback", f);
    return reply;
  }

  fbCategories() {
    return this._fbCats && this._fbCats.lang === this.lang ? this._fbCats.list : null;
  }

  async _openPicker() {
    const fb = this.fb;
    fb.picking = true;
    fb.error = null;
    this._renderFeedback();
    if (!this.fbCategories()) {
      try {
        await this.feedbackOptions();
      } catch (err) {
        fb.error = feedbackError(err);
      }
      if (fb !== this.fb) return;
      this._renderFeedback();
    }
    this.shadowRoot.querySelector(".fb-pick button:not([disabled])")?.focus();
  }

  async _sendCategory(category) {
    const fb = this.fb;
    fb.busy = true;
    fb.error = null;
    this._renderFeedback();
    try {
      await this.correctCategory(category);
      fb.picking = false;
    } catch (err) {
      fb.error = feedbackError(err);
    }
    fb.busy = false;
    if (fb !== this.fb) return;
    this._renderFeedback();
    this.shadowRoot.querySelector(".feedback .fb-change, .feedback .sent")?.focus?.();
  }

  async _sendWarning(index, rule) {
    const fb = this.fb;
    const key = warningKey(index, rule);
    fb.warnings.set(key, { busy: true });
    this._renderFeedback();
    try {
      await this.reportWarning(index, rule);
    } catch (err) {
      fb.warnings.set(key, { error: feedbackError(err) });
    }
    if (fb === this.fb) this._renderFeedback();
  }

  _renderFeedback() {
    if (!this._built) return;
    this._renderCategory();
    this._renderWarning(false);
  }

  // -- incoming --------------------------------------------------------------------------------------

  _onUpdate(update) {
    if (!update || update.call_id !== this.callId) return;
    this.update = update;
    this._render();
    this._emit("assist-update", update);
  }

  /** An escalation of this call, filed or changed by anyone (call.escalation, or this sidebar's own reply). */
  _onEscalation(msg) {
    const e = msg && msg.escalation;
    if (!e || msg.call_id !== this.callId || !e.escalation_id) return;
    const acked = e.acked_by || (e.acks || []).map((a) => a.user);
    this.filed.set(e.escalation_id, { id: e.escalation_id, kind: FILED_KIND[e.kind] || e.kind, status: e.status,
                                      acked: acked.length > 0 });
    this._renderEscalate();
    if (msg.type === "call.escalation") this._emit("assist-escalation", msg);
  }

  _onWarning(w) {
    if (!w || w.call_id !== this.callId) return;
    const key = `${w.index}|${w.rule}|${(w.span || []).join(",")}`;
    if (this.warnings.some((x) => x._key === key)) return;
    const warning = { ...w, _key: key };
    this.warnings.push(warning);
    this._renderWarning(true);
    this._renderForbidden();
    const { _key, ...detail } = warning;
    this._emit("assist-warning", detail);
  }

  // -- rendering -------------------------------------------------------------------------------------

  _build() {
    const root = this.shadowRoot;
    root.replaceChildren();
    root.append(h("style", {}, STYLE + FEEDBACK_STYLE));
    this.$ = {};
    this.$.root = h("div", { class: "root", part: "root" });
    this.$.title = h("h1");
    this.$.conn = h("div", { class: "conn", part: "connection" }, h("span"));
    this.$.lang = h("button", { class: "lang", type: "button", onclick: () => this._toggleLang() });
    this.$.alert = h("div", { class: "alert", role: "alert", "aria-live": "assertive", "aria-atomic": "true",
                              part: "warning" });
    this.$.notices = h("section", { class: "notices", role: "status", "aria-live": "polite", part: "notices" });
    this.$.pin = h("button", { type: "button", class: "pin", part: "warning-pin", hidden: true,
                               onclick: () => this.$.alert.scrollIntoView({ block: "start" }) }, h("span"));
    this.$.sticky = h("div", { class: "sticky" }, h("header", {}, this.$.title, this.$.conn, this.$.lang), this.$.pin);
    this.$.callline = h("div", { class: "callline", "aria-live": "polite" });
    this.$.category = h("section", { class: "card category live-only", "aria-live": "polite", part: "category" });
    this.$.points = h("section", { class: "card live-only", part: "talking-points" });
    this.$.steps = h("section", { class: "card live-only", part: "steps" });
    this.$.checklist = h("section", { class: "card", part: "checklist" });
    this.$.forbidden = h("details", { class: "card live-only", part: "forbidden" });
    this.$.escalate = h("section", { class: "card escalate", part: "escalate" });
    this.$.footer = h("footer");
    this.$.copyStatus = h("div", { class: "sr", "aria-live": "polite" });
    // What the agent needs first comes first (one 768 px screen at 320 px wide): the warning, the call type,
    // what to say, 上报; then the steps, what is still to record (collapsed), the call's forbidden phrases.
    // The call's id and whether it is live come after 上报 (an ended call also greys its live-only cards).
    this.$.root.append(this.$.sticky, this.$.alert, this.$.notices, this.$.category, this.$.points,
                       this.$.escalate, this.$.callline, this.$.steps, this.$.checklist, this.$.forbidden,
                       this.$.footer, this.$.copyStatus);
    root.append(this.$.root);
    // a field reached with the keyboard from below would sit under the pinned header: bring it clear of it
    root.addEventListener("focusin", (ev) => {
      const target = ev.composedPath()[0];
      if (!(target instanceof HTMLElement) || this.$.sticky.contains(target)) return;
      if (target.getBoundingClientRect().top < this.$.sticky.getBoundingClientRect().bottom) {
        target.scrollIntoView({ block: "start" });
      }
    });
    new ResizeObserver(() => {
      this.$.root.style.setProperty("--pinned", `${Math.ceil(this.$.sticky.getBoundingClientRect().height)}px`);
    }).observe(this.$.sticky);
    this._built = true;
  }

  _toggleLang() {
    const next = this.lang === "zh-CN" ? "en" : "zh-CN";
    this.setAttribute("lang", next);
  }

  _changed(section, value) {
    const key = JSON.stringify([this.lang, value]);
    if (this._cache[section] === key) return false;
    this._cache[section] = key;
    return true;
  }

  _render() {
    if (!this._built) return;
    this.$.title.textContent = this.t("title");
    this.$.lang.textContent = this.t("switchLang");
    this.$.lang.setAttribute("aria-label", this.t("switchLangLabel"));
    this.$.lang.setAttribute("lang", this.lang === "zh-CN" ? "en" : "zh-CN"); // names the other language in it
    this.$.root.setAttribute("lang", this.lang);
    this.$.root.classList.toggle("ended", this.ended);
    this._renderConn();
    this._renderWarning(false);
    this._renderNotices();
    this._renderCallLine();
    this._renderCategory();
    this._renderPoints();
    this._renderSteps();
    this._renderChecklist();
    this._renderForbidden();
    this._renderEscalate();
    this._updatePin();
    const u = this.update;
    this.$.footer.textContent = u && u.pack_version ? `${this.t("pack")} ${u.pack_version}` : "";
  }

  _renderConn() {
    if (!this._built) return;
    const s = this.connState.state || "idle";
    this.$.conn.dataset.state = s;
    const text = this.t(`state_${s}`);
    this.$.conn.firstChild.textContent = text;
    this.$.conn.title = this.connState.message || text;
  }

  _renderCallLine() {
    const el = this.$.callline;
    if (!this._changed("callline", [this.callId, this.ended])) return;
    el.replaceChildren();
    if (!this.callId) return;
    el.append(h("span", {}, this.t("call")), h("span", { class: "id", translate: "no" }, this.callId),
              this.ended ? h("span", { class: "ended-tag" }, "· " + this.t("ended")) : h("span", {}, "· " + this.t("live")));
  }

  _renderCategory() {
    const u = this.update;
    if (!this._changed("category", [this.callId, u && [u.category, u.labels, u.label_names, u.evidence, u.category_name],
                                    feedbackKey(this.fb), this.fbCategories()])) return;
    const el = this.$.category;
    el.replaceChildren();
    if (!this.callId) {
      el.append(h("p", { class: "empty" }, this.t("waiting")));
      return;
    }
    if (!u) {
      el.append(h("p", { class: "empty" }, "…"));
      return;
    }
    const row = h("div", { class: "badge-row" },
      h("span", { class: "sr" }, this.t("category") + this._colon()),
      h("span", { class: `badge ${SEVERITY[u.category] || "sev-none"}${u.alert ? " alert-new" : ""}`, part: "badge",
                  "data-category": u.category, "data-alert": u.alert ? "true" : "false" },
        u.category_name || u.category));
    const others = (u.labels || []).slice(1);
    if (others.length) {
      row.append(h("span", { class: "sr" }, this.t("alsoApplies")));
      others.forEach((label, i) => {
        row.append(h("span", { class: `chip ${SEVERITY[label] || "sev-none"}`, "data-category": label },
                     (u.label_names || [])[i + 1] || label));
      });
    }
    el.append(row);
    // "wrong type?" ends the reason line when there is one (it has room there; the badge row has not, in English)
    const feedback = renderCategoryFeedback(this, h);
    const evidence = (u.evidence || []).filter((e) => (u.labels || []).includes(e.category));
    if (evidence.length) {
      // the words that made the call this category, each with where it was heard (as a tooltip)
      // words the learned model weighed (rule "model") are marked as the model's, not a trainer's rule
      const words = new Map();
      for (const e of evidence) {
        let where = this.t(`source_${e.source}`);
        if (e.source === "customer" || e.source === "agent") where += " " + this.t("lineNo", (e.index ?? 0) + 1);
        else if (e.source === "context" && e.field) where += ` ${e.field}`;
        const model = e.rule === "model";
        if (model) where += ` · ${this.t("byModel")}`;
        for (const w of e.words || []) if (!words.has(w) && words.size < 5) words.set(w, { where, model });
      }
      const allModel = [...words.values()].every((x) => x.model);
      const p = h("div", { class: "reason", part: "reason", "data-by": allModel ? "model" : "rules" },
                  h("span", {}, this.t(allModel ? "reasonModel" : "reason") + (this.lang === "en" ? ":" : "：")));
      for (const [w, { where, model }] of words) {
        p.append(h("q", { title: where, class: model ? "by-model" : "", lang: "zh-CN" }, w, h("span", { class: "sr" }, ` (${where})`)));
      }
      p.append(feedback);
      el.append(p);
    } else {
      row.append(feedback);
    }
  }

  _renderPoints() {
    const u = this.update;
    const tps = (u && u.talking_points) || [];
    if (!this._changed("points", [!!u, tps, u && u.category, this._labelNames()])) return;
    const el = this.$.points;
    el.replaceChildren(h("h2", {}, this.t("talkingPoints")));
    el.hidden = !u;
    if (!tps.length) {
      el.append(h("p", { class: "empty" }, this.t("noTalkingPoints")));
      return;
    }
    // The call type's own points first; those of the other types it also touches fold under one line each.
    const own = tps.filter((tp) => tp.category === u.category);
    const first = own.length ? own : tps;
    el.append(this._pointList(first));
    if (!own.length) return;
    const names = this._labelNames();
    const rest = new Map();
    for (const tp of tps) {
      if (tp.category === u.category) continue;
      if (!rest.has(tp.category)) rest.set(tp.category, []);
      rest.get(tp.category).push(tp);
    }
    for (const [category, list] of rest) {
      const more = h("details", { class: "more", "data-category": category, open: this.moreOpen.has(category) },
                     h("summary", {}, this.t("morePoints", names[category] || category, list.length)),
                     this._pointList(list));
      more.addEventListener("toggle", () => {
        if (more.open) this.moreOpen.add(category);
        else this.moreOpen.delete(category);
      });
      el.append(more);
    }
  }

  _pointList(tps) {
    const ol = h("ol", { class: "points" });
    for (const tp of tps) {
      const btn = h("button", { type: "button", class: "small copy", "aria-label": `${this.t("copyLabel")}${this._colon()}${tp.text}` },
                    this.t("copy"));
      btn.addEventListener("click", () => this._copy(btn, tp.text));
      ol.append(h("li", { "data-id": tp.id, "data-category": tp.category }, btn, h("p", {}, tp.text)));
    }
    return ol;
  }

  async _copy(btn, text) {
    const ok = await copyText(text);
    btn.textContent = ok ? this.t("copied") : this.t("copyFailed");
    this.$.copyStatus.textContent = ok ? this.t("copied") : this.t("copyFailed");
    clearTimeout(btn._timer);
    btn._timer = setTimeout(() => { btn.textContent = this.t("copy"); }, 1500);
  }

  _renderSteps() {
    const u = this.update;
    const steps = (u && u.steps) || [];
    if (!this._changed("steps", steps)) return;
    const el = this.$.steps;
    el.replaceChildren(h("h2", {}, this.t("steps")), h("ol", { class: "steps" }, steps.map((s) => h("li", {}, s.text))));
    el.hidden = !steps.length;
  }

  _renderChecklist() {
    const u = this.update;
    const fields = (u && u.checklist) || [];
    const names = this._labelNames();
    if (!this._changed("checklist", [fields, names, this.formStatus, u && u.labels])) return;
    const el = this.$.checklist;
    el.replaceChildren(h("h2", {}, this.t("checklist")));
    el.hidden = !fields.length;
    // One form per category of the call (`forms` names every category asking for a field, so a shared field
    // such as the customer's name appears in each form, kept in step). Each form is folded to one line that
    // says what is still missing; a tap opens it.
    const order = [...(u?.labels || [])];
    for (const f of fields) for (const c of f.forms || [f.category]) if (!order.includes(c)) order.push(c);
    for (const category of order) {
      const list = fields.filter((f) => (f.forms || [f.category]).includes(category));
      if (!list.length) continue;
      const form = h("form", { "data-form": category, novalidate: false });
      const fs = h("fieldset", {});
      for (const f of list) fs.append(this._field(category, f));
      const status = this.formStatus[category];
      const submit = h("button", { type: "submit", class: "primary" }, this.t("submitRecord"));
      const statusEl = h("p", { class: `status ${status ? status.cls : ""}`, role: "status" }, status ? this._statusText(status) : "");
      form.append(fs, h("div", { class: "actions" }, submit), statusEl);
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        this._submitForm(category, submit, statusEl);
      });
      const group = h("details", { class: "form-group", "data-form": category, open: !!this.formOpen[category] },
                      h("summary", {}, h("span", { class: "name" }, names[category] || category),
                        h("span", { class: "todo" })),
                      form);
      group.addEventListener("toggle", () => { this.formOpen[category] = group.open; });
      el.append(group);
    }
    this._refreshTodo();
  }

  /** The fields of `category`'s form still empty, required first (what its folded line lists). */
  _missing(category) {
    const list = ((this.update && this.update.checklist) || [])
      .filter((f) => (f.forms || [f.category]).includes(category) && requiredIn(f, category));
    return list.filter((f) => (this.values[f.id] ?? "") === "");
  }

  _refreshTodo() {
    for (const group of this.$.checklist.querySelectorAll("details.form-group")) {
      const category = group.dataset.form;
      const todo = group.querySelector(":scope > summary .todo");
      const status = this.formStatus[category];
      const missing = this._missing(category);
      let text;
      if (status && status.cls === "ok") text = `✓ ${this.t("submittedShort")}${status.extra || ""}`;
      else if (missing.length) text = this.t("missing", missing.length, missing.map((f) => f.label || f.id).join(this.t("listSep")));
      else text = this.t("complete");
      todo.textContent = text;
      todo.classList.toggle("done", !missing.length || !!(status && status.cls === "ok"));
      group.dataset.missing = String(missing.length);
    }
  }

  _field(category, f) {
    const id = `f-${category}-${f.id}`.replace(/[^A-Za-z0-9_-]/g, "_");
    const value = this.values[f.id] ?? "";
    const required = requiredIn(f, category);
    const common = { id, name: f.id, required, "data-kind": f.kind };
    let input;
    let control = null;
    switch (f.kind) {
      case "phone":
        input = h("input", { ...common, type: "tel", inputmode: "tel", autocomplete: "off", pattern: "[0-9+\\(\\)\\- ]{3,24}" });
        break;
      case "account":
        input = h("input", { ...common, type: "text", inputmode: "numeric", autocomplete: "off", pattern: "[0-9 \\-]{6,40}" });
        break;
      case "datetime": {
        input = h("input", { ...common, type: "text", autocomplete: "off", pattern: DATE_PATTERN,
                             placeholder: this.t("datePlaceholder"), title: this.t("dateHelp") });
        const now = h("button", { type: "button", class: "small now" }, this.t("now"));
        now.addEventListener("click", () => {
          input.value = nowIn(this.timezone);
          input.dispatchEvent(new Event("input"));
        });
        input.addEventListener("change", () => {
          const v = normaliseDateTime(input.value);
          if (v !== input.value) {
            input.value = v;
            input.dispatchEvent(new Event("input"));
          }
        });
        control = h("span", { class: "date-row" }, input, now);
        break;
      }
      case "number":
        input = h("input", { ...common, type: "number", step: "any", min: "0", inputmode: "decimal" });
        break;
      case "choice":
        input = h("select", common, h("option", { value: "" }, this.t("choose")),
                  (f.options || []).map((o) => h("option", { value: o }, this.t(o) === o ? o : this.t(o))));
        break;
      default:
        input = h("input", { ...common, type: "text", autocomplete: "off" });
    }
    input.value = value;
    input.addEventListener("input", () => {
      this.values[f.id] = input.value;
      // a field several forms of this call ask for: keep its copies in step
      for (const other of this.shadowRoot.querySelectorAll(`[name="${CSS.escape(f.id)}"]`)) {
        if (other !== input) other.value = input.value;
      }
      this._refreshTodo();
    });
    return h("label", { for: id },
      h("span", {}, f.label || f.id, required ? h("span", { class: "req" }, `*${this.t("required")}`) : null),
      control || input);
  }

  async _submitForm(category, button, statusEl) {
    const u = this.update;
    if (!u) return;
    // A field shared by several categories of the call is listed once (under the first); `forms` names
    // every category whose form has it, so each form sends exactly its own fields.
    const fields = {};
    for (const f of u.checklist || []) {
      if (!(f.forms || [f.category]).includes(category)) continue;
      const v = this.values[f.id];
      if (v == null || v === "") continue;
      fields[f.id] = f.kind === "number" ? Number(v) : f.kind === "datetime" ? normaliseDateTime(v) : v;
    }
    button.disabled = true;
    statusEl.className = "status";
    statusEl.textContent = this.t("submitting");
    let status;
    try {
      const reply = await this.submitRecord(category, fields);
      status = { cls: "ok", key: "submitted", extra: this._wording(reply) };
    } catch (err) {
      const problems = (err && err.code === "validation_failed" && err.reply?.error?.details?.fields) || null;
      status = this._errorStatus(err, problems);
    }
    button.disabled = false;
    this.formStatus = { ...this.formStatus, [category]: status };
    statusEl.className = `status ${status.cls}`;
    statusEl.textContent = this._statusText(status);
    this._cache.checklist = JSON.stringify([this.lang, [u.checklist || [], this._labelNames(), this.formStatus, u.labels]]);
    this._refreshTodo();
  }

  _wording(reply) {
    const parts = [];
    if (reply && reply.record_id != null) parts.push(` #${reply.record_id}`);
    const wording = (reply && reply.wording) || [];
    if (wording.length) parts.push(`${this._colon()}${wording.join(" ")}`);
    return parts.join("");
  }

  _labelNames() {
    const u = this.update;
    const names = {};
    (u?.labels || []).forEach((l, i) => { names[l] = (u.label_names || [])[i] || l; });
    return names;
  }

  _errorStatus(err, problems = null) {
    if (err && err.code === "unknown_command") return { cls: "na", key: "notAvailable" };
    let extra = (err && (err.message || err.code)) || "";
    if (problems) {
      const label = (id) => ((this.update?.checklist || []).find((f) => f.id === id) || {}).label || id;
      extra = Object.entries(problems).map(([k, v]) => `${label(k)}: ${v}`).join("; ");
    }
    return { cls: "err", key: "failed", extra };
  }

  _statusText(status) {
    const head = status.kind ? this.t(status.key, this.t(`kind_${status.kind}`)) : this.t(status.key);
    return head + (status.extra || "");
  }

  _colon() {
    return this.lang === "en" ? ": " : "：";
  }

  _renderForbidden() {
    const u = this.update;
    const list = (u && u.forbidden_phrases) || [];
    const hits = new Set(this.warnings.map((w) => w.rule));
    if (!this._changed("forbidden", [list, [...hits]])) return;
    const el = this.$.forbidden;
    const open = el.open;
    el.replaceChildren(h("summary", {}, this.lang === "en" ? `${this.t("forbidden")} (${list.length})`
                                                               : `${this.t("forbidden")}（${list.length}）`));
    el.hidden = !list.length;
    const ul = h("ul", { class: "forbidden-list" });
    for (const p of list) {
      const examples = Array.isArray(p.examples) ? p.examples : [];
      ul.append(h("li", { class: hits.has(p.rule) ? "hit" : "", "data-rule": p.rule },
        h("strong", {}, p.title || p.rule),
        examples.length ? h("div", { class: "ex" }, "✗ ", examples.slice(0, 3).join(" / ")) : null,
        p.alternative ? h("div", { class: "alt" }, "✓ ", p.alternative) : null));
    }
    el.append(h("p", { class: "empty" }, this.t("forbiddenHint")), ul);
    el.open = open;
  }

  _renderNotices() {
    if (!this._built) return;
    const list = [...this.notices.values()];
    if (!this._changed("notices", list)) return;
    const el = this.$.notices;
    el.replaceChildren(...list.map((n) => h("div", { class: "notice", "data-fault": n.fault_id },
      h("strong", {}, `${this.t("faultTitle")}${this._colon()}${n.system || ""}${n.level ? ` (${n.level})` : ""}`),
      h("p", {}, this.t("faultSay")),
      h("ul", {}, (n.talking_points || []).map((tp) => {
        const btn = h("button", { type: "button", class: "small" }, this.t("copy"));
        btn.addEventListener("click", () => this._copy(btn, tp));
        return h("li", {}, h("span", {}, tp), btn);
      })))));
  }

  _renderWarning(isNew) {
    const el = this.$.alert;
    const pending = this.warnings.slice(this.dismissed);
    if (!pending.length) {
      if (el.childNodes.length) el.replaceChildren();
      this._pinned = null;
      this._updatePin();
      return;
    }
    const w = pending[pending.length - 1];
    // one agent line may hold several forbidden phrases of a rule: show them together, in the sentence said
    const sameLine = pending.filter((x) => x.index === w.index && x.rule === w.rule);
    const rule = ((this.update && this.update.forbidden_phrases) || []).find((p) => p.rule === w.rule);
    // the rule's wording in the current language when the update has it (the language may have changed)
    const alternative = (rule && rule.alternative) || w.alternative;
    const events = this._warningEvents();
    const line = this.lines.get(w.index);
    const key = [pending.map((x) => x._key), events, alternative, rule && rule.title, line ?? null,
                 this.fb.warnings.get(warningKey(w.index, w.rule)) || null];
    if (!this._changed("warning", key) && !isNew) return;
    const title = this.t("warningTitle") + (rule && rule.title ? this._colon() + rule.title : "");
    this._pinned = { title, alternative };
    const copyBtn = h("button", { type: "button", class: "small", "aria-label": `${this.t("copy")}${this._colon()}${alternative}` },
                      this.t("copy"));
    copyBtn.addEventListener("click", () => this._copy(copyBtn, alternative));
    const dismiss = h("button", { type: "button", class: "small" }, this.t("dismiss"));
    dismiss.addEventListener("click", () => {
      this.dismissed = this.warnings.length;
      this._renderWarning(false);
    });
    const said = markedLine(h, line, sameLine) || sameLine.map((x, i) => [i ? " " : null, h("mark", {}, x.phrase)]);
    const box = h("div", { class: "warning", "data-rule": w.rule, "data-index": w.index },
      h("div", { class: "warning-head" }, h("strong", {}, title), dismiss),
      h("p", { class: "said" }, this.t("youSaid") + this._colon(), h("span", { lang: "zh-CN" }, said)),
      alternative
        ? h("div", { class: "instead" }, copyBtn, h("b", {}, this.t("insteadSay")), h("p", {}, alternative))
        : null,
      h("div", { class: "foot" }, renderWarningFeedback(this, h, w),
        events > 1 ? h("p", { class: "count" }, this.t("moreWarnings", events)) : null));
    el.replaceChildren(box);
    this._updatePin();
  }

  /** How many warnings this call gave: one per agent line and rule, however many phrases of the rule the line
   * held and whether the reply, the push or both told the sidebar (the service warns once per line and rule). */
  _warningEvents() {
    return new Set(this.warnings.map((w) => warningKey(w.index, w.rule))).size;
  }

  /** The one-line reminder in the pinned header: shown while a warning is up but scrolled out of sight. */
  _updatePin() {
    if (!this._built) return;
    const pin = this.$.pin;
    const p = this._pinned;
    const box = p && this.$.alert.firstElementChild;
    let show = false;
    if (box) {
      const stickyBottom = this.$.sticky.getBoundingClientRect().bottom;
      show = box.getBoundingClientRect().bottom <= stickyBottom + 1;
    }
    if (show) {
      const text = `⚠ ${p.title}` + (p.alternative ? ` · ${this.t("insteadSay")}${this._colon()}${p.alternative}` : "");
      if (pin.firstChild.textContent !== text) pin.firstChild.textContent = text;
      pin.setAttribute("aria-label", this.t("showWarning"));
    }
    if (pin.hidden === show) pin.hidden = !show;
  }

  _renderEscalate() {
    const u = this.update;
    const esc = this.escalation;
    const filed = [...this.filed.values()];
    if (!this._changed("escalate", [this.callId, this.ended, u && u.route, u && u.category, esc.open, esc.status,
                                    filed])) return;
    const el = this.$.escalate;
    el.replaceChildren();
    el.hidden = !this.callId;
    if (!this.callId) return;
    const route = (u && u.route) || [];
    const routeLine = route.length
      ? h("p", { class: "route" }, this.t("notify") + this._colon(),
          route.map((r) => this.t(`role_${r}`) === `role_${r}` ? r : this.t(`role_${r}`)).join(" → "))
      : null;
    // Every escalation of the call, whoever filed it, with where it stands; this sidebar's own result only
    // when it is not one of them (a failure, or an outage report counted against a declared fault).
    const own = esc.status && !(esc.status.id && this.filed.has(esc.status.id))
      ? h("p", { class: `status ${esc.status.cls}${esc.status.kind ? " filed" : ""}`, role: "status",
                 "data-kind": esc.status.kind || null }, this._statusText(esc.status))
      : null;
    const status = [own, ...filed.map((f) => {
      const state = f.status === "resolved" ? "resolved" : f.status === "unresolvable" ? "unresolvable"
        : f.acked ? "acked" : "waiting";
      const kind = this.t(`kind_${f.kind}`) === `kind_${f.kind}` ? f.kind : this.t(`kind_${f.kind}`);
      return h("p", { class: "status ok filed", role: "status", "data-kind": f.kind, "data-state": state,
                      "data-escalation": f.id },
               this.t("escalatedAs", kind), h("span", { class: "esc-state" }, ` · ${this.t(`esc_${state}`)}`));
    })];
    if (!esc.open) {
      const btn = h("button", { type: "button", class: "primary escalate-open", "aria-expanded": "false" }, this.t("escalate"));
      btn.addEventListener("click", () => {
        this.escalation = { ...esc, open: true, kind: esc.kind || this.escalationKind() };
        this._renderEscalate();
        this.shadowRoot.querySelector("#esc-reason")?.focus();
      });
      // who is told shows in the form a tap opens: the first screen keeps room for what the agent needs first
      el.append(h("div", { class: "actions" }, btn), ...status.filter(Boolean));
      return;
    }
    const kind = h("select", { id: "esc-kind", name: "kind" },
      ESCALATION_KINDS.map((k) => h("option", { value: k, selected: k === (esc.kind || "other") }, this.t(`kind_${k}`))));
    const reason = h("textarea", { id: "esc-reason", name: "reason", required: true, rows: "2",
                                   placeholder: this.t("escalateReasonPlaceholder") });
    reason.value = esc.reason || "";
    const send = h("button", { type: "submit", class: "primary" }, this.t("escalateSend"));
    const cancel = h("button", { type: "button" }, this.t("cancel"));
    const form = h("form", { class: "escalate-form" },
      h("h2", {}, this.t("escalateTitle")),
      h("label", { for: "esc-kind" }, this.t("escalateKind"), kind),
      h("label", { for: "esc-reason" }, this.t("escalateReason"), reason),
      h("div", { class: "actions" }, send, cancel), status, routeLine);
    cancel.addEventListener("click", () => {
      this.escalation = { ...this.escalation, open: false, reason: reason.value, kind: kind.value };
      this._renderEscalate();
      this.shadowRoot.querySelector(".escalate-open")?.focus();
    });
    form.addEventListener("keydown", (ev) => { if (ev.key === "Escape") cancel.click(); });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      send.disabled = true;
      try {
        await this.escalate(kind.value, reason.value.trim());
      } catch (err) {
        // escalate() shows the failure; the form stays open with what was typed
        this.escalation = { ...this.escalation, open: true, kind: kind.value, reason: reason.value };
        this._cache.escalate = null;
        this._renderEscalate();
      }
      if (!this.escalation.open) this.shadowRoot.querySelector(".escalate-open")?.focus();
    });
    el.append(form);
  }
}

if (!customElements.get("assist-sidebar")) customElements.define("assist-sidebar", AssistSidebar);
