// Feedback from the sidebar (docs/protocol.md §7): "类别不对 → 选正确的类别" on the call type, and
// "这条提醒不对" on a warning. Used by <assist-sidebar>; each tap sends one command, and the sidebar shows
// "已反馈" once the service has stored it. The agent can change a category correction until a trainer decides.
//
// Exports the texts (merged into the sidebar's), the styles, the state of one call's feedback, and two
// renderers that build DOM with the sidebar's `h` helper (text only, never innerHTML).

export const FEEDBACK_TEXTS = {
  "zh-CN": {
    fbWrongCategory: "类别不对",
    fbPickTitle: "选择正确的类别",
    fbCurrent: "当前",
    fbSent: "已反馈",
    fbChange: "修改",
    fbAccepted: "已采纳",
    fbRejected: "未采纳",
    fbWrongWarning: "这条提醒不对",
    fbSending: "正在发送…",
    fbLoading: "正在加载类别…",
  },
  en: {
    fbWrongCategory: "Wrong type",
    fbPickTitle: "Pick the right call type",
    fbCurrent: "current",
    fbSent: "Feedback sent",
    fbChange: "Change",
    fbAccepted: "accepted",
    fbRejected: "not accepted",
    fbWrongWarning: "This warning is wrong",
    fbSending: "Sending…",
    fbLoading: "Loading call types…",
  },
};

export const FEEDBACK_STYLE = `
.feedback { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; font-size: 13px; }
.feedback .sent { color: #027a48; font-weight: 600; }
.feedback .sent::before { content: "✓ "; }
.feedback .err { color: var(--danger); }
.fb-pick { display: flex; flex-direction: column; gap: 6px; border: 1px dashed #d0d5dd; border-radius: 8px;
           padding: 8px; }
.fb-pick h3 { font-size: 13px; margin: 0; color: #344054; }
.fb-pick ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
.fb-pick li { min-width: 0; max-width: 100%; }
.fb-pick li button { white-space: normal; text-align: left; max-width: 100%; overflow-wrap: anywhere; }
.fb-pick li button[aria-pressed="true"] { border-color: var(--accent); color: var(--accent); font-weight: 600; }
.warning .feedback { margin-top: 6px; }
`;

/** The feedback given on the current call; reset by startCall. */
export function newFeedbackState() {
  return {
    picking: false, // the category picker is open
    busy: false,
    error: null, // {key | text}
    category: null, // {feedback_id, category, name, status}
    warnings: new Map(), // "index|rule" -> {feedback_id, status} | {busy} | {error}
  };
}

export const warningKey = (index, rule) => `${index}|${rule}`;

/** The key of everything the renderers below show (for the sidebar's render cache). */
export function feedbackKey(fb) {
  return [fb.picking, fb.busy, fb.error, fb.category, [...fb.warnings.entries()]];
}

function statusText(sb, status) {
  if (status === "accepted") return ` · ${sb.t("fbAccepted")}`;
  if (status === "rejected") return ` · ${sb.t("fbRejected")}`;
  return "";
}

/** Under the call type: the button, the picker, or "已反馈：<category>" with a change button. */
export function renderCategoryFeedback(sb, h) {
  const fb = sb.fb;
  const u = sb.update;
  const box = h("div", { class: "feedback", part: "feedback" });
  if (!sb.callId || !u) return box;
  if (fb.picking) {
    const cats = sb.fbCategories();
    const pick = h("div", { class: "fb-pick", role: "group", "aria-label": sb.t("fbPickTitle") },
                   h("h3", {}, sb.t("fbPickTitle")));
    if (!cats) {
      pick.append(h("p", { class: "empty" }, sb.t("fbLoading")));
    } else {
      const only = (u.labels || []).length === 1 ? u.labels[0] : null;
      const chosen = fb.category && fb.category.category;
      pick.append(h("ul", {}, cats.map((c) => h("li", {}, h("button", {
        type: "button", class: "small", "data-category": c.id, "aria-pressed": String(c.id === chosen),
        disabled: fb.busy || c.id === only || c.id === chosen,
        onclick: () => sb._sendCategory(c.id),
      }, c.name, c.id === u.category ? ` (${sb.t("fbCurrent")})` : "")))));
    }
    const cancel = h("button", { type: "button", class: "small fb-cancel" }, sb.t("cancel"));
    cancel.addEventListener("click", () => { fb.picking = false; sb._renderFeedback(true); });
    pick.addEventListener("keydown", (ev) => { if (ev.key === "Escape") cancel.click(); });
    pick.append(h("div", { class: "actions" }, cancel, errorLine(sb, h, fb.error)));
    box.append(pick);
    return box;
  }
  if (fb.category) {
    const name = ((sb.fbCategories() || []).find((c) => c.id === fb.category.category) || {}).name || fb.category.name;
    box.append(h("span", { class: "sent", role: "status", "data-feedback": fb.category.feedback_id,
                           "data-category": fb.category.category },
                 `${sb.t("fbSent")}${sb._colon()}${name}${statusText(sb, fb.category.status)}`));
    if (fb.category.status === "open") {
      box.append(h("button", { type: "button", class: "small fb-change", onclick: () => sb._openPicker() },
                   sb.t("fbChange")));
    }
  } else {
    box.append(h("button", { type: "button", class: "small fb-category", "aria-expanded": "false",
                             onclick: () => sb._openPicker() }, sb.t("fbWrongCategory")));
  }
  const err = errorLine(sb, h, fb.error);
  if (err) box.append(err);
  return box;
}

/** In a warning box: "这条提醒不对", or "已反馈". */
export function renderWarningFeedback(sb, h, w) {
  const state = sb.fb.warnings.get(warningKey(w.index, w.rule));
  const box = h("div", { class: "feedback", part: "feedback" });
  if (state && state.feedback_id) {
    box.append(h("span", { class: "sent", role: "status", "data-feedback": state.feedback_id },
                 sb.t("fbSent") + statusText(sb, state.status)));
    return box;
  }
  const btn = h("button", { type: "button", class: "small fb-warning", disabled: !!(state && state.busy),
                            onclick: () => sb._sendWarning(w.index, w.rule) },
                state && state.busy ? sb.t("fbSending") : sb.t("fbWrongWarning"));
  box.append(h("span", {}, btn, errorLine(sb, h, state && state.error)));
  return box;
}

function errorLine(sb, h, error) {
  if (!error) return null;
  return h("span", { class: "err", role: "alert" }, error.key ? sb.t(error.key) : `${sb.t("failed")}${error.text}`);
}

/** An error reply as something to show: an old service without feedback says "not available yet". */
export function feedbackError(err) {
  if (err && err.code === "unknown_command") return { key: "notAvailable" };
  return { text: (err && (err.message || err.code)) || "" };
}
