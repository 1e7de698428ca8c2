// The iframe embedding: /plugin/frame.html?server=…&token=…&lang=…&origins=…, driven by postMessage.
//
// Host -> frame:  {assist: "call", id: 1, method: "startCall", args: ["c-42", {queue: "retail"}]}
//                 methods: init({server, token, lang}), startCall, setNote, addTranscript, endCall,
//                          escalate, submitRecord, setLang, feedbackOptions, correctCategory, reportWarning
// Frame -> host:  {assist: "ready"}
//                 {assist: "reply", id: 1, ok: true, result: {...}} | {assist: "reply", id, ok: false, error: {code, message}}
//                 {assist: "event", name: "assist-update" | "assist-warning" | "assist-state" | "assist-ended"
//                                   | "assist-feedback", detail}
//
// Only messages from the parent window, from an allowed origin, are obeyed; everything else is ignored.
// Allowed origins: this page's own origin, plus the service's allowed_origins (written into the page by the
// service) — narrowed to those also listed in `origins=` when both are given; when the service lists none,
// the `origins=` parameter alone decides (the embedding page chooses it together with the token).
import "./assist-sidebar.js";

const params = new URLSearchParams(location.search);

export function normalizeOrigin(text) {
  try {
    const u = new URL(text);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return u.origin;
  } catch {
    return null;
  }
}

function list(text) {
  return (text || "").split(/[\s,]+/).map(normalizeOrigin).filter((o) => o && o !== "null");
}

const fromServer = list(document.querySelector('meta[name="assist-allowed-origins"]')?.content);
const fromParam = list(params.get("origins"));
const chosen = fromServer.length ? (fromParam.length ? fromParam.filter((o) => fromServer.includes(o)) : fromServer)
                                 : fromParam;
const allowed = new Set([location.origin, ...chosen]);

const sidebar = document.querySelector("assist-sidebar");
const lang = params.get("lang");
if (lang) sidebar.setAttribute("lang", lang);
const defaultServer = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
if (params.get("server")) sidebar.setAttribute("server", params.get("server"));
if (params.get("token")) {
  if (!sidebar.getAttribute("server")) sidebar.setAttribute("server", defaultServer);
  sidebar.setAttribute("token", params.get("token"));
}
// The token is in the URL: take it out of the address bar and history as soon as it has been read.
if (params.has("token")) {
  const clean = new URL(location.href);
  clean.searchParams.delete("token");
  history.replaceState(null, "", clean.toString());
}

const embedded = window.parent !== window;
let hostOrigin = null; // the origin of the last accepted message
const ancestor = location.ancestorOrigins && location.ancestorOrigins.length ? location.ancestorOrigins[0] : null;
if (ancestor && allowed.has(ancestor)) hostOrigin = ancestor;

function post(message) {
  if (!embedded) return;
  if (hostOrigin) {
    window.parent.postMessage(message, hostOrigin);
    return;
  }
  // The parent's origin is not known yet: address every allowed origin; the browser delivers to the one it is.
  for (const origin of allowed) {
    try { window.parent.postMessage(message, origin); } catch { /* not that origin */ }
  }
}

const METHODS = {
  init({ server, token, lang: l } = {}) {
    if (l) sidebar.setAttribute("lang", l);
    if (server) sidebar.setAttribute("server", server);
    else if (!sidebar.getAttribute("server")) sidebar.setAttribute("server", defaultServer);
    if (token) sidebar.setAttribute("token", token);
    return { ok: true };
  },
  setLang(l) { sidebar.setAttribute("lang", l); return { lang: sidebar.lang }; },
  startCall: (callId, context) => sidebar.startCall(callId, context),
  setNote: (text) => sidebar.setNote(text),
  addTranscript: (speaker, text, final) => sidebar.addTranscript(speaker, text, final),
  endCall: (disposition) => sidebar.endCall(disposition),
  escalate: (kind, reason) => sidebar.escalate(kind, reason),
  submitRecord: (form, fields) => sidebar.submitRecord(form, fields),
  feedbackOptions: () => sidebar.feedbackOptions(),
  correctCategory: (category, comment) => sidebar.correctCategory(category, comment),
  reportWarning: (index, rule, comment) => sidebar.reportWarning(index, rule, comment),
};

window.addEventListener("message", async (event) => {
  if (!embedded || event.source !== window.parent || !allowed.has(event.origin)) return; // not our host
  const msg = event.data;
  if (!msg || typeof msg !== "object" || msg.assist !== "call") return;
  hostOrigin = event.origin;
  const { id, method } = msg;
  const args = Array.isArray(msg.args) ? msg.args : [];
  const fn = Object.prototype.hasOwnProperty.call(METHODS, method) ? METHODS[method] : null;
  try {
    if (!fn) throw Object.assign(new Error(`unknown method ${method}`), { code: "unknown_method" });
    const result = await fn(...args);
    post({ assist: "reply", id, ok: true, result: JSON.parse(JSON.stringify(result ?? null)) });
  } catch (err) {
    post({ assist: "reply", id, ok: false, error: { code: err.code || "error", message: String(err.message || err) } });
  }
});

for (const name of ["assist-update", "assist-warning", "assist-state", "assist-ended", "assist-feedback"]) {
  sidebar.addEventListener(name, (e) => post({ assist: "event", name, detail: e.detail }));
}

post({ assist: "ready", origins: [...allowed] });
