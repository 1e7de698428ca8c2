// The demo softphone at /demo: plays a sample call into <assist-sidebar>.
//
// Query parameters: speed=N (play N times faster), autoplay=0 (wait for the button), escalate=0 (stop before
// the escalation and wait for you to tap 上报 in the sidebar), server=ws://… (the websocket; by default this
// host on the port the service reports), lang=en.
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

function item(cls, text, sub) {
  const li = document.createElement("li");
  li.className = cls;
  if (sub) {
    const s = document.createElement("small");
    s.textContent = sub;
    li.append(s);
  }
  li.append(document.createTextNode(text));
  log.append(li);
  log.scrollTop = log.scrollHeight;
  return li;
}

async function demoToken() {
  const res = await fetch("/demo/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
  return body;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms / speed));
let run = 0;

async function play() {
  const mine = ++run;
  log.replaceChildren();
  noteEl.value = "";
  const callId = `demo-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  stateEl.textContent = "通话中";
  item("event", `来电接通 · ${callId}`);
  try {
    await sidebar.startCall(callId, CONTEXT);
  } catch (err) {
    item("event err", `startCall 失败：${err.message}`);
    return;
  }
  const lines = new Map();
  for (const [delay, kind, ...rest] of SCRIPT) {
    await sleep(delay);
    if (mine !== run) return;
    try {
      if (kind === "customer" || kind === "agent") {
        const li = item(kind, rest[0], kind === "customer" ? "客户" : "座席");
        const reply = await sidebar.addTranscript(kind, rest[0], true);
        lines.set(reply.index, li);
        if (reply.warnings && reply.warnings.length) li.classList.add("warned");
      } else if (kind === "note") {
        noteEl.value = rest[0];
        item("event", "座席填写备注");
        await sidebar.setNote(rest[0]);
      } else if (kind === "escalate" && params.get("escalate") === "0") {
        if (!sidebar.escalation.status?.kind) {
          item("event", "请在右侧助手中点击「上报」，填写原因后确认上报");
          await new Promise((resolve) => sidebar.addEventListener("assist-escalated", resolve, { once: true }));
          if (mine !== run) return;
        }
        item("event", `已上报：${sidebar.t(`kind_${sidebar.escalation.status.kind}`)}`);
      } else if (kind === "escalate") {
        item("event", `座席点击「上报」：${rest[1]}`);
        try {
          await sidebar.escalate(rest[0], rest[1]);
          item("event", `已上报：${sidebar.t(`kind_${sidebar.escalation.status.kind}`)}`);
        } catch (err) {
          item("event", err.code === "unknown_command" ? "上报功能暂未开放（服务端尚未支持）" : `上报失败：${err.message}`);
        }
      } else if (kind === "end") {
        await sidebar.endCall(rest[0]);
        item("event", "通话结束");
        stateEl.textContent = "通话已结束";
      }
    } catch (err) {
      item("event err", `${kind} 失败：${err.code || ""} ${err.message}`);
    }
  }
  playBtn.textContent = "↻ 重新播放";
}

async function main() {
  const caller = document.getElementById("caller");
  for (const [k, v] of [["客户", CONTEXT.customer_name], ["来电号码", CONTEXT.caller_number], ["队列", CONTEXT.queue]]) {
    const span = document.createElement("span");
    span.append(`${k}：`, Object.assign(document.createElement("b"), { textContent: v }));
    caller.append(span);
  }
  if (params.get("lang")) sidebar.setAttribute("lang", params.get("lang"));
  let first;
  try {
    first = await demoToken();
  } catch (err) {
    stateEl.innerHTML = "";
    stateEl.append(Object.assign(document.createElement("span"), {
      className: "err",
      textContent: `无法获取演示令牌：${err.message}。演示页只能在运行服务的本机打开（http://127.0.0.1:端口/demo）。`,
    }));
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
      stateEl.textContent = "服务使用了临时端口：请在地址后加 ?server=ws://127.0.0.1:端口/ws";
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
  playBtn.addEventListener("click", () => { playBtn.textContent = "↻ 重新播放"; play(); });
  window.assistDemo = { play, sidebar };
  if (params.get("autoplay") !== "0") play();
}

main();
