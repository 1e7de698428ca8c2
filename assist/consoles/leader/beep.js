// Sound cues made with WebAudio (no audio file): two rising tones for a new escalation, three
// low ones for a passed deadline. Browsers allow sound only after a click, so `unlock` runs on sign-in.
let ctx = null;
let enabled = localStorage.getItem('leader.sound') !== 'off';

export const soundOn = () => enabled;

export function setSound(on) {
  enabled = on;
  localStorage.setItem('leader.sound', on ? 'on' : 'off');
  if (on) unlock();
}

export function unlock() {
  try {
    ctx = ctx || new AudioContext();
    if (ctx.state === 'suspended') ctx.resume();
  } catch { ctx = null; }
}

const PATTERNS = { new: [[880, 0], [1175, 0.16]], overdue: [[523, 0], [523, 0.28], [523, 0.56]], reminder: [[740, 0]] };

export function beep(kind = 'new') {
  if (!enabled || !ctx) return;
  const t0 = ctx.currentTime + 0.02;
  for (const [freq, at] of PATTERNS[kind] || PATTERNS.new) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t0 + at);
    gain.gain.exponentialRampToValueAtTime(0.25, t0 + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.2);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + at);
    osc.stop(t0 + at + 0.22);
  }
}
