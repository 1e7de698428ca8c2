// The leader's websocket (docs/protocol.md §6): auth, numbered commands answered by promises,
// escalation.event and fault.event pushes, the live-call list (calls.subscribe: its pages, then
// calls.delta pushes), and reconnecting with backoff (re-subscribing each time).
const CALL_PAGE = 200;
const RESTART_DELAY = 1000; // ms: after a 1012 close the first attempt waits a random 0..RESTART_DELAY

export class CommandError extends Error {
  constructor(error) {
    super(error?.message || 'error');
    this.code = error?.code;
    this.details = error?.details;
  }
}

export class LeaderSocket {
  constructor(url, token, lang, { onState, onSnapshot, onEvent, onCalls }) {
    Object.assign(this, { url, token, lang, onState, onSnapshot, onEvent, onCalls });
    this.nextId = 0;
    this.pending = new Map();
    this.delay = 1000;
    this.stopped = false;
  }

  connect() {
    this.onState('connecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: this.token, lang: this.lang }));
    ws.onmessage = (m) => this.receive(JSON.parse(m.data));
    ws.onclose = (ev) => {
      for (const { reject } of this.pending.values()) reject(new CommandError({ code: 'disconnected', message: 'connection lost' }));
      this.pending.clear();
      if (this.stopped) return;
      this.onState('down');
      setTimeout(() => this.connect(), this.nextDelay(ev.code));
    };
  }

  // A 1012 close is a restart or a drain (docs/operations.md), not a failure: come back after a short random
  // delay, so that the board is back within a second and a floor of consoles does not arrive at once.
  // Otherwise back off exponentially (1 s to 10 s) with "equal jitter".
  nextDelay(code) {
    if (code === 1012) return Math.round(Math.random() * RESTART_DELAY);
    const base = this.delay;
    this.delay = Math.min(this.delay * 2, 10000);
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  async receive(msg) {
    if (msg.type === 'auth_ok') {
      this.delay = 1000;
      await this.subscribe();
      this.onState('up');
      await this.syncCalls();
    } else if (msg.type === 'escalation.event' && msg.event === 'resync') {
      // the service may have missed changes made on another instance: the board is read again
      try { await this.subscribe(); } catch { /* the connection dropped: the next one subscribes again */ }
    } else if (msg.type === 'auth_invalid') {
      this.stopped = true;
      this.onState('denied');
    } else if (msg.type === 'result') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.success) p.resolve(msg); else p.reject(new CommandError(msg.error));
    } else if (msg.type === 'escalation.event' || msg.type === 'fault.event') {
      this.onEvent(msg);
    } else if (msg.type === 'calls.delta') {
      this.onCalls({ rows: msg.calls, gone: msg.gone, total: msg.total });
    }
  }

  async subscribe() {
    const sub = await this.call('escalation.subscribe');
    this.onSnapshot(sub.escalations);
  }

  // Every live call, page by page; the deltas that arrive meanwhile are applied in the order they come,
  // so the list ends up as the server now has it (a page is never older than a delta before it).
  async syncCalls() {
    try {
      let page = await this.call('calls.subscribe', { limit: CALL_PAGE });
      this.onCalls({ reset: true, rows: page.calls, gone: [], total: page.total });
      while (page.more) {
        page = await this.call('calls.list', { after: page.next, limit: CALL_PAGE });
        this.onCalls({ rows: page.calls, gone: [], total: page.total });
      }
    } catch {
      // the connection dropped: the next one subscribes again
    }
  }

  call(type, fields = {}) {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject(new CommandError({ code: 'disconnected', message: 'not connected' }));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, type, ...fields }));
    });
  }

  close() {
    this.stopped = true;
    this.ws?.close();
  }
}
