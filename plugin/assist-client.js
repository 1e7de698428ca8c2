// AssistClient: the websocket protocol of docs/protocol.md, for browsers. No dependencies, no build step.
//
//   const client = new AssistClient({ url: "ws://127.0.0.1:8765/ws", token: "…", lang: "zh-CN" });
//   client.addEventListener("assist.update", (e) => render(e.detail));
//   client.connect();
//   await client.startCall("c-42", { queue: "retail" });
//
// - Authenticates, then sends commands with increasing integer ids; `request()` returns a promise settled by
//   the command's `result` (rejected with an AssistError carrying the server's error `code`).
// - Pushes (`assist.update`, `assist.warning`, `call.ended`, and any future type) are dispatched as events
//   named after their type, and as a generic `push` event.
// - Reconnects with exponential backoff and jitter. On every (re)connection it resumes the current call: it
//   re-sends `call.start` with the same call_id and context, then the latest note, so the agent loses nothing.
//   Commands made while disconnected wait and are sent, in order, after the call has been resumed.
// - A close with code 1012 (service restart: the instance is draining, docs/operations.md) is not a failure:
//   the first attempt comes after a short random delay (`restartDelay`, not the backoff), to whichever
//   instance the proxy picks, and the commands that got no reply are sent again after the resume — the
//   service answers every command it ran before it closes with 1012, so those were not run.
// - `token` may be a string or a function returning a token (or a promise of one), called on every
//   connection attempt; an `auth_invalid` stops reconnecting unless `token` is such a function.
// - Connection state changes are `state` events: idle, connecting, open, reconnecting, auth_failed, closed.

export class AssistError extends Error {
  constructor(code, message, reply) {
    super(message || code);
    this.name = "AssistError";
    this.code = code;
    this.reply = reply;
  }
}

const DEFAULTS = {
  lang: "zh-CN",
  initialDelay: 500, // ms before the first reconnection attempt
  maxDelay: 15000, // cap of the exponential backoff
  restartDelay: 1000, // ms: after a 1012 close the first attempt waits a random 0..restartDelay (spreads a floor)
  requestTimeout: 15000, // a command without a reply by then is rejected with code "timeout"
  pingInterval: 25000, // application-level ping, to notice a dead network quickly
  maxQueued: 500, // commands waiting for a connection
};

export class AssistClient extends EventTarget {
  constructor(options = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    this.url = options.url;
    this.token = options.token;
    this.lang = this.options.lang;
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    this.state = "idle";
    this.user = null;
    this.call = null; // {callId, context, note}
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, timer, type}
    this.queue = []; // [{type, fields, resolve, reject}] waiting for an open connection
    this.attempt = 0;
    this.wanted = false;
    this.retryTimer = null;
    this.pingTimer = null;
    this.ready = false; // authenticated and the call resumed
    this._onOnline = () => { if (this.wanted && !this.ws) this._retryNow(); };
  }

  // -- connection --------------------------------------------------------------------------------

  connect() {
    if (this.wanted) return;
    this.wanted = true;
    if (typeof window !== "undefined") window.addEventListener("online", this._onOnline);
    this._open();
  }

  close() {
    this.wanted = false;
    if (typeof window !== "undefined") window.removeEventListener("online", this._onOnline);
    clearTimeout(this.retryTimer);
    this._teardown(new AssistError("closed", "the client was closed"));
    for (const q of this.queue.splice(0)) q.reject(new AssistError("closed", "the client was closed"));
    this._setState("closed");
  }

  /** Reconnect now with another language (the server's texts follow the connection's language). */
  setLang(lang) {
    if (lang === this.lang) return;
    this.lang = lang;
    if (this.ws) {
      this._teardown(new AssistError("disconnected", "language changed"));
      this.attempt = 0;
      this._open();
    }
  }

  async _token() {
    return typeof this.token === "function" ? await this.token() : this.token;
  }

  async _open() {
    if (this.opening) return;
    this.opening = true;
    try {
      await this._openOnce();
    } finally {
      this.opening = false;
    }
  }

  async _openOnce() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this._setState(this.attempt === 0 && this.state !== "reconnecting" ? "connecting" : "reconnecting");
    let token;
    try {
      token = await this._token();
    } catch (err) {
      this._scheduleRetry(`token: ${err && err.message}`);
      return;
    }
    if (!this.wanted || this.ws) return;
    let ws;
    try {
      ws = new this.WebSocket(this.url);
    } catch (err) {
      this._setState("closed", { error: String(err) });
      this.wanted = false;
      return;
    }
    this.ws = ws;
    let authFailed = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token, lang: this.lang }));
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg.type === "auth_ok") {
        this.user = msg.user;
        this.attempt = 0;
        this._resume();
      } else if (msg.type === "auth_invalid") {
        authFailed = true;
        this.authMessage = msg.message;
      } else if (msg.type === "result") {
        this._settle(msg);
      } else if (msg.type) {
        this.dispatchEvent(new CustomEvent("push", { detail: msg }));
        this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      const restart = ev.code === 1012;
      this._teardown(new AssistError("disconnected", "the connection was lost; the command may not have run"),
                     restart);
      if (!this.wanted) return;
      if ((authFailed || ev.code === 4001) && typeof this.token !== "function") {
        this.wanted = false;
        this._setState("auth_failed", { message: this.authMessage || "authentication failed" });
        return;
      }
      this._scheduleRetry(`closed ${ev.code}`, restart);
    };
    ws.onerror = () => {}; // a close event always follows
  }

  _scheduleRetry(reason, restart = false) {
    if (!this.wanted) return;
    let delay;
    if (restart) {
      // A drained instance closes all its sidebars at once: a random delay spreads them over the other
      // instances without keeping agents waiting; should that attempt fail, the backoff goes on from there.
      delay = Math.round(Math.random() * this.options.restartDelay);
      this.attempt = 1;
    } else {
      const base = Math.min(this.options.maxDelay, this.options.initialDelay * 2 ** this.attempt);
      delay = Math.round(base / 2 + Math.random() * (base / 2)); // exponential backoff, "equal jitter"
      this.attempt += 1;
    }
    this._setState("reconnecting", { attempt: this.attempt, delay, reason, restart });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this._open(), delay);
  }

  _retryNow() {
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this._open();
  }

  /** Drop the connection; its unanswered commands are rejected with `error`, or with `requeue` (a 1012 close:
   *  the service did not run them) put back, in order, before the commands waiting for the connection. */
  _teardown(error, requeue = false) {
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    clearInterval(this.pingTimer);
    this.pingTimer = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(); } catch { /* already closed */ }
    }
    const again = [];
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      if (requeue && p.fields) again.push({ type: p.type, fields: p.fields, resolve: p.resolve, reject: p.reject });
      else p.reject(error);
    }
    this.pending.clear();
    this.queue.unshift(...again);
  }

  async _resume() {
    // Ids restart on every connection (the server checks them per connection).
    this.nextId = 1;
    const call = this.call;
    let resumed = null;
    try {
      if (call) {
        const reply = await this._send("call.start", { call_id: call.callId, context: call.context });
        resumed = reply;
        if (call.note != null && this.call === call) {
          await this._send("call.note", { call_id: call.callId, text: call.note });
        }
      }
    } catch (err) {
      if (err.code === "disconnected" || err.code === "closed") return; // onclose retries
      this.dispatchEvent(new CustomEvent("resume-error", { detail: err }));
    }
    if (!this.ws) return;
    this.ready = true;
    this._setState("open", { user: this.user });
    if (resumed) this.dispatchEvent(new CustomEvent("resumed", { detail: resumed }));
    for (const q of this.queue.splice(0)) this._send(q.type, q.fields, true).then(q.resolve, q.reject);
    this.pingTimer = setInterval(() => this._ping(), this.options.pingInterval);
  }

  _ping() {
    const ws = this.ws;
    this._send("ping", {}).catch((err) => {
      if (err.code === "timeout" && this.ws === ws) ws.close(); // a dead network: reconnect
    });
  }

  _setState(state, detail = {}) {
    const changed = state !== this.state;
    this.state = state;
    if (changed || state === "reconnecting") {
      this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
    }
  }

  // -- commands ----------------------------------------------------------------------------------

  /** Send one command now. `resend`: the caller's own command (not the resume's or a ping), sent again after
   *  a 1012 close when it got no reply. */
  _send(type, fields, resend = false) {
    return new Promise((resolve, reject) => {
      const ws = this.ws;
      if (!ws || ws.readyState !== 1) {
        reject(new AssistError("disconnected", "not connected"));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AssistError("timeout", `no reply to ${type} within ${this.options.requestTimeout} ms`));
      }, this.options.requestTimeout);
      this.pending.set(id, { resolve, reject, timer, type, fields: resend ? fields : null });
      ws.send(JSON.stringify({ id, type, ...fields }));
    });
  }

  _settle(msg) {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.success) p.resolve(msg);
    else p.reject(new AssistError(msg.error?.code || "error", msg.error?.message || "", msg));
  }

  /** Send a command; resolves with the `result` message. Waits for the connection if it is down. */
  request(type, fields = {}) {
    if (this.ready && this.ws) return this._send(type, fields, true);
    if (!this.wanted) return Promise.reject(new AssistError("closed", "call connect() first"));
    return new Promise((resolve, reject) => {
      if (this.queue.length >= this.options.maxQueued) {
        reject(new AssistError("queue_full", "too many commands waiting for the connection"));
        return;
      }
      this.queue.push({ type, fields, resolve, reject });
    });
  }

  startCall(callId, context = {}) {
    this.call = { callId: String(callId), context: { ...context }, note: null };
    return this.request("call.start", { call_id: this.call.callId, context: this.call.context });
  }

  note(text) {
    if (!this.call) return Promise.reject(new AssistError("no_call", "no call in progress"));
    this.call.note = String(text);
    return this.request("call.note", { call_id: this.call.callId, text: this.call.note });
  }

  transcript(speaker, text, final = true) {
    if (!this.call) return Promise.reject(new AssistError("no_call", "no call in progress"));
    return this.request("call.transcript", { call_id: this.call.callId, speaker, text: String(text), final: !!final });
  }

  endCall(disposition = "") {
    const call = this.call;
    if (!call) return Promise.reject(new AssistError("no_call", "no call in progress"));
    // The call stays current until the server has ended it, so a reconnection in between resumes it
    // first (after a service restart the server only knows it again from a `call.start`).
    call.ending = true;
    const done = () => { if (this.call === call) this.call = null; };
    const p = this.request("call.end", { call_id: call.callId, disposition: String(disposition) });
    p.then(done, done);
    return p;
  }

  submitRecord(form, fields) {
    if (!this.call) return Promise.reject(new AssistError("no_call", "no call in progress"));
    return this.request("record.submit", { call_id: this.call.callId, form, fields });
  }

  escalate(kind, reason) {
    if (!this.call) return Promise.reject(new AssistError("no_call", "no call in progress"));
    return this.request("call.escalate", { call_id: this.call.callId, kind, reason });
  }
}
