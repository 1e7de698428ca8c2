// Pure board logic (no DOM, no clock of its own): an escalation's next deadline, how urgent it is,
// the board's order and the countdown. Times are epoch seconds, as in the protocol.

export const SOON = 300; // a deadline within 5 minutes is "due soon"

export const isOpen = (esc) => esc.status === 'open' || esc.status === 'unresolvable';

const main = (esc) => esc.steps.filter((s) => !s.reminder_of && !s.cancelled);

// The earliest deadline still to come (a step not yet fired), or null.
export function nextDeadline(esc) {
  if (esc.status !== 'open') return null;
  let best = null;
  for (const s of main(esc)) if (s.fired_at == null && (!best || s.due_at < best.due_at)) best = s;
  return best;
}

// The earliest timed deadline (offset > 0) that has passed while the escalation is still open:
// its step fired after its time, or its time is up and the scheduler has not fired it yet. A step
// passed up by hand (`escalation.unresolved`) fires exactly at its (moved) due time: not missed.
export function missedDeadline(esc, now) {
  if (esc.status !== 'open') return null;
  let best = null;
  for (const s of main(esc)) {
    const passed = s.offset > 0 && (s.fired_at != null ? s.fired_at > s.due_at : s.due_at <= now);
    if (passed && (!best || s.due_at < best.due_at)) best = s;
  }
  return best;
}

// state: overdue (a deadline passed) | soon (next deadline within SOON) | running (a deadline ahead)
//        | waiting (nobody has acknowledged an at-once escalation) | handling (acknowledged, no deadline).
// due: the time the board sorts by — what is due first comes first.
export function urgency(esc, now) {
  const next = nextDeadline(esc);
  const missed = missedDeadline(esc, now);
  if (missed) return { state: 'overdue', due: missed.due_at, step: next && next.due_at > now ? next : missed, missed };
  if (next) return { state: next.due_at - now <= SOON ? 'soon' : 'running', due: next.due_at, step: next, missed: null };
  if (esc.status === 'open' && esc.acks.length === 0) return { state: 'waiting', due: esc.opened_at, step: null, missed: null };
  return { state: 'handling', due: Infinity, step: null, missed: null };
}

// Open escalations, what is due first on top; ties: the older first.
export function sortBoard(escs, now) {
  return escs.filter(isOpen)
    .map((esc) => ({ esc, u: urgency(esc, now) }))
    .sort((a, b) => (a.u.due - b.u.due) || (a.esc.opened_at - b.esc.opened_at)
      || a.esc.escalation_id.localeCompare(b.esc.escalation_id));
}

// What the countdown says: a text key and the seconds it counts.
export function countdown(u, esc, now) {
  if (u.state === 'overdue') return { key: 'overdue_by', seconds: now - u.missed.due_at, next: u.step !== u.missed ? u.step.due_at - now : null };
  if (u.state === 'soon' || u.state === 'running') return { key: 'due_in', seconds: u.due - now, next: null };
  if (u.state === 'waiting') return { key: 'waiting_for', seconds: now - esc.opened_at, next: null };
  return { key: 'open_for', seconds: now - esc.opened_at, next: null };
}

// 75 -> "01:15", 3725 -> "1:02:05"; negative counts as zero.
export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

// Ids that became overdue since `before` (a Set of ids overdue last time): they get the sound.
export function newlyOverdue(before, escs, now) {
  const out = [];
  for (const esc of escs) if (isOpen(esc) && urgency(esc, now).state === 'overdue' && !before.has(esc.escalation_id)) out.push(esc.escalation_id);
  return out;
}

// Apply one escalation.event push to the board (a Map id -> escalation). Returns what changed.
export function applyEvent(board, ev) {
  const esc = ev.escalation;
  if (!esc) return null;
  if (isOpen(esc)) board.set(esc.escalation_id, esc);
  else board.delete(esc.escalation_id);
  return esc.escalation_id;
}
