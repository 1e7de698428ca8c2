// A custom softphone bar -> <assist-sidebar>: a tiny event mapping.
//
// Your softphone dispatches DOM CustomEvents on any EventTarget (the bar element, or `window`):
//
//   event name            detail                                   sidebar call
//   assist:call-start     {callId, context}                        startCall(callId, context)
//   assist:transcript     {speaker: "customer"|"agent", text, final}  addTranscript(speaker, text, final)
//   assist:note           {text}                                   setNote(text)
//   assist:call-end       {disposition}                            endCall(disposition)
//
//   import { attachSoftphone } from "https://assist.example/plugin/adapters/generic.js";
//   const detach = attachSoftphone(document.querySelector("assist-sidebar"), softphoneBar);
//   softphoneBar.dispatchEvent(new CustomEvent("assist:call-start", { detail: { callId: "c-42", context: {} } }));
//
// Each result (or error) comes back to the bar as `assist:result` {event, ok, result | error}. The sidebar's
// own events (assist-update, assist-warning, …) bubble out of the element as usual. Rename events with
// `names: {callStart: "call-answered", …}`. Returns a function that removes the listeners.

export const DEFAULT_NAMES = {
  callStart: "assist:call-start",
  transcript: "assist:transcript",
  note: "assist:note",
  callEnd: "assist:call-end",
  result: "assist:result",
};

export function attachSoftphone(sidebar, bar = globalThis, { names = {} } = {}) {
  const n = { ...DEFAULT_NAMES, ...names };
  const actions = {
    [n.callStart]: (d) => sidebar.startCall(d.callId ?? d.call_id, d.context || {}),
    [n.transcript]: (d) => sidebar.addTranscript(d.speaker, d.text, d.final !== false),
    [n.note]: (d) => sidebar.setNote(d.text ?? ""),
    [n.callEnd]: (d) => sidebar.endCall(d.disposition ?? ""),
  };
  const listeners = Object.entries(actions).map(([event, run]) => {
    const listener = (e) => {
      const detail = (e && e.detail) || {};
      Promise.resolve()
        .then(() => run(detail))
        .then((result) => bar.dispatchEvent(new CustomEvent(n.result, { detail: { event, ok: true, result } })),
              (err) => bar.dispatchEvent(new CustomEvent(n.result, {
                detail: { event, ok: false, error: { code: err.code || "error", message: String(err.message || err) } },
              })));
    };
    bar.addEventListener(event, listener);
    return [event, listener];
  });
  return () => { for (const [event, listener] of listeners) bar.removeEventListener(event, listener); };
}
