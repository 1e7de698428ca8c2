// The demo softphone at /demo: plays a sample call into <assist-sidebar>.
//
// Query parameters: speed=N (play N times faster), autoplay=0 (wait for the button), escalate=0 (stop before
// the escalation and wait for you to tap 上报 in the sidebar), server=ws://… (the websocket; by default this
// host on the port the service reports), lang=en (the page and its sidebar in English; the page follows the
// sidebar's own language switch).
// The token comes from POST /demo/token, which the service grants only to a browser on its own machine
// (see assist/server/plugin_routes.py); a fresh one is fetched on every (re)connection.
import "./assist-sidebar.js";

const params = new URLSearchParams(location.search);
const speed = Math.max(0.1, Number(params.get("speed")) || 1);
const sidebar = document.getElementById("sidebar");
const log = document.getElementById("log");
const stateEl = document.getElementById("state");
const playBtn = document.getElementById("play");
const noteEl = document.getElementById("note");

export const CONTEXT = { customer_name: "李女士", caller_number: "13800138000", queue: "电子银行", channel: "phone" };

// [delay before the line in ms, kind, text]
export const SCRIPT = [
  [800, "customer", "喂，你好，我手机银行转账一直提示系统繁忙，转了好几次都失败了。"],
  [3000, "agent", "李女士您好，请问您看到的提示信息具体是什么？"],
  [3000, "customer", "就是一直转圈，然后说系统繁忙请稍后再试，我急着给供应商付款。"],
  [3500, "agent", "不好意思，这是我们系统的问题，我们系统坏了。"],
  [4000, "agent", "系统正在维护，建议您稍后再试。您也可以先到柜台或自助终端办理。"],
  [3500, "note", "客户手机银行转账失败，提示系统繁忙，急需付款"],
  [2500, "customer", "我都试了一上午了，耽误了我的生意，我要投诉！"],
  [3500, "customer", "今天不给我答复，我就打12378投诉到银保监会！"],
  // the kind is left to the sidebar: the one the call type calls for (紧急/恶性投诉 here), as its 上报 form does
  [3000, "escalate", null, "客户要求今天答复，否则向监管部门投诉"],
  [2500, "agent", "非常理解您的心情，我马上向我们的班长汇报，会尽快给您答复，请您保持电话畅通。"],
  [3000, "end", "escalated"],
];

// The page's own words; the call itself (what the customer and the agent say, the customer's name, the queue)
// is in Chinese whatever the page's language, and is marked lang="zh-CN".
const TEXTS = {
  title: ["座席助手 · 演示软电话", "Agent assist · demo softphone"],
  heading: ["演示软电话", "Demo softphone"],
  hint: ["示例通话会自动播放到右侧的座席助手中", "A sample call plays into the agent assist sidebar on the right"],
  phone: ["软电话", "Softphone"],
  current_call: ["当前来电", "Current call"],
  play: ["▶ 播放示例通话", "▶ Play the sample call"],
  replay: ["↻ 重新播放", "↻ Play again"],
  note_label: ["座席备注（实时发送）", "Agent's notes (sent as you type)"],
  note_placeholder: ["在这里记录，助手会同步分析", "Write here: the assistant reads it as you type"],
  customer: ["客户", "Customer"], caller_number: ["来电号码", "Caller number"], queue: ["队列", "Queue"],
  speaker_customer: ["客户", "Customer"], speaker_agent: ["座席", "Agent"],
  in_call: ["通话中", "On a call"], call_over: ["通话已结束", "Call over"],
  connected: ["来电接通 · {id}", "Call connected · {id}"],
  start_failed: ["无法开始通话：{msg}", "The call could not start: {msg}"],
  note_written: ["座席填写备注", "The agent writes a note"],
  tap_escalate: ["请在右侧助手中点击「{button}」，填写原因后确认上报", "Tap “{button}” in the assistant on the right, give the reason and confirm"],
  escalating: ["座席点击「{button}」：{reason}", "The agent taps “{button}”: {reason}"],
  escalated: ["已上报：{kind}", "Escalated: {kind}"],
  escalate_unsupported: ["上报功能暂未开放（服务端尚未支持）", "Escalation is not available (the service does not support it yet)"],
  escalate_failed: ["上报失败：{msg}", "Escalation failed: {msg}"],
  call_ended: ["通话结束", "Call ended"],
  step_failed: ["{step} 失败：{msg}", "{step} failed: {msg}"],
  no_token: ["无法获取演示令牌：{msg}。演示页只能在运行服务的本机打开（{url}）。",
             "No demo token: {msg}. The demo opens only on the machine that runs the service ({url})."],
  ephemeral: ["服务使用了临时端口：请在地址后加 {param}", "The service uses an ephemeral port: add {param} to the address"],
};

let lang = params.get("lang") === "en" ? "en" : "zh-CN";

// A text in the page's language; {vars} may be strings or nodes (ids and the call's own words keep their marks).
function tr(key, vars = {}) {
  const s = TEXTS[key][lang === "en" ? 1 : 0];
  return s.split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const m = /^\{(\w+)\}$/.exec(part);
    return m && m[1] in vars ? vars[m[1]] : part;
  });
}
const t = (key, vars) => tr(key, vars).map((x) => (x instanceof Node ? x.textContent : String(x))).join("");

function el(tag, attrs, ...children) {
  const e = Object.assign(document.createElement(tag), attrs || {});
  for (const [k, v] of Object.entries(attrs || {})) if (k === "lang" || k === "translate") e.setAttribute(k, v);
  e.append(...children.flat());
  return e;
}
const zh = (text) => el("span", { lang: "zh-CN" }, text);
const id = (text) => el("span", { translate: "no" }, text);

// Each log entry keeps how it is written, so a language switch rewrites the whole log.
const entries = [];
function item(cls, render) {
  const li = el("li", { className: cls });
  const entry = { li, render };
  entries.push(entry);
  li.replaceChildren(...render());
  log.append(li);
  log.scrollTop = log.scrollHeight;
  return li;
}
const event = (key, vars, cls = "event") => item(cls, () => tr(key, vars && vars()));
const line = (kind, text) => item(kind, () => [el("small", {}, t(`speaker_${kind}`)), zh(text)]);

let stateKey = "";
function setState(key) {
  stateKey = key;
  stateEl.textContent = key ? t(key) : "";
}

function applyLang(value) {
  lang = value === "en" ? "en" : "zh-CN";
  document.documentElement.lang = lang;
  document.title = t("title");
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll("[data-i18n-label]")) e.setAttribute("aria-label", t(e.dataset.i18nLabel));
  for (const e of document.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = t(e.dataset.i18nPlaceholder);
  if (played) playBtn.textContent = t("replay");
  if (stateKey) setState(stateKey);
  renderCaller();
  for (const { li, render } of entries) li.replaceChildren(...render());
}

function renderCaller() {
  const caller = document.getElementById("caller");
  caller.replaceChildren(...[["customer", zh(CONTEXT.customer_name)], ["caller_number", CONTEXT.caller_number],
    ["queue", zh(CONTEXT.queue)]].map(([k, v]) => el("span", {}, `${t(k)}${lang === "en" ? ": " : "："}`, el("b", {}, v))));
}

async function demoToken() {
  const res = await fetch("/demo/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
  return body;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms / speed));
let run = 0;
let played = false;

async function play() {
  const mine = ++run;
  log.replaceChildren();
  entries.length = 0;
  noteEl.value = "";
  const callId = `demo-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  setState("in_call");
  event("connected", () => ({ id: id(callId) }));
  try {
    await sidebar.startCall(callId, CONTEXT);
  } catch (err) {
    event("start_failed", () => ({ msg: err.message }), "event err");
    return;
  }
  const button = () => sidebar.t("escalate");
  for (const [delay, kind, ...rest] of SCRIPT) {
    await sleep(delay);
    if (mine !== run) return;
    try {
      if (kind === "customer" || kind === "agent") {
        const li = line(kind, rest[0]);
        const reply = await sidebar.addTranscript(kind, rest[0], true);
        if (reply.warnings && reply.warnings.length) li.classList.add("warned");
      } else if (kind === "note") {
        noteEl.value = rest[0];
        event("note_written");
        await sidebar.setNote(rest[0]);
      } else if (kind === "escalate" && params.get("escalate") === "0") {
        if (!sidebar.escalation.status?.kind) {
          event("tap_escalate", () => ({ button: button() }));
          await new Promise((resolve) => sidebar.addEventListener("assist-escalated", resolve, { once: true }));
          if (mine !== run) return;
        }
        const filed = sidebar.escalation.status.kind;
        event("escalated", () => ({ kind: sidebar.t(`kind_${filed}`) }));
      } else if (kind === "escalate") {
        event("escalating", () => ({ button: button(), reason: zh(rest[1]) }));
        try {
          await sidebar.escalate(rest[0], rest[1]);
          const filed = sidebar.escalation.status.kind;
          event("escalated", () => ({ kind: sidebar.t(`kind_${filed}`) }));
        } catch (err) {
          if (err.code === "unknown_command") event("escalate_unsupported");
          else event("escalate_failed", () => ({ msg: err.message }));
        }
      } else if (kind === "end") {
        await sidebar.endCall(rest[0]);
        event("call_ended");
        setState("call_over");
      }
    } catch (err) {
      event("step_failed", () => ({ step: id(kind), msg: `${err.code || ""} ${err.message}` }), "event err");
    }
  }
  played = true;
  playBtn.textContent = t("replay");
}

async function main() {
  if (params.get("lang")) sidebar.setAttribute("lang", params.get("lang"));
  applyLang(lang);
  // The sidebar's own language switch switches the whole page.
  new MutationObserver(() => { if (sidebar.lang !== lang) applyLang(sidebar.lang); })
    .observe(sidebar, { attributes: true, attributeFilter: ["lang"] });
  let first;
  try {
    first = await demoToken();
  } catch (err) {
    stateEl.replaceChildren(el("span", { className: "err" },
      tr("no_token", { msg: err.message, url: id("http://127.0.0.1:PORT/demo") })));
    playBtn.disabled = true;
    return;
  }
  let pending = first.token;
  sidebar.tokenProvider = async () => {
    if (pending) { const t = pending; pending = null; return t; }
    return (await demoToken()).token;
  };
  let server = params.get("server");
  if (!server) {
    if (!first.ws_port) {
      stateEl.replaceChildren(...tr("ephemeral", { param: id("?server=ws://127.0.0.1:PORT/ws") }));
      playBtn.disabled = true;
      return;
    }
    server = `${location.protocol === "https:" ? "wss" : "ws"}://${location.hostname}:${first.ws_port}/ws`;
  }
  sidebar.setAttribute("server", server);
  noteEl.addEventListener("input", () => {
    clearTimeout(noteEl._t);
    noteEl._t = setTimeout(() => sidebar.setNote(noteEl.value).catch(() => {}), 400);
  });
  sidebar.addEventListener("assist-state", (e) => { document.body.dataset.assistState = e.detail.state; });
  playBtn.addEventListener("click", () => { played = true; playBtn.textContent = t("replay"); play(); });
  window.assistDemo = { play, sidebar };
  if (params.get("autoplay") !== "0") play();
}

main();
