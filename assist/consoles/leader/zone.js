// Times in the center's time zone (config.timezone), whatever zone the browser runs in: what the console
// shows, and what its date/time fields mean. zh-CN formats: 12月6日 09:05, 2026-12-06 09:05; English: Dec 6, 09:05.

function parts(epoch, tz) {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const out = {};
  for (const p of f.formatToParts(new Date(epoch * 1000))) if (p.type !== 'literal') out[p.type] = p.value;
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// "09:05:07"
export function clock(epoch, tz) {
  const p = parts(epoch, tz);
  return `${p.hour}:${p.minute}:${p.second}`;
}

// "12月6日 09:05" (zh-CN) or "Dec 6, 09:05" (en)
export function dayTime(epoch, tz, lang) {
  const p = parts(epoch, tz);
  return lang === 'en' ? `${MONTHS[Number(p.month) - 1]} ${Number(p.day)}, ${p.hour}:${p.minute}`
    : `${Number(p.month)}月${Number(p.day)}日 ${p.hour}:${p.minute}`;
}

// "2026-12-06": the day an epoch falls on in the center.
export function isoDay(epoch, tz) {
  const p = parts(epoch, tz);
  return `${p.year}-${p.month}-${p.day}`;
}

// A date-time field's value ("2026-12-06 09:05", 24-hour) for an epoch, read on the center's clock. The console
// uses text fields for dates and times: the browser's own pickers follow its locale (mm/dd/yyyy, AM/PM).
export function zonedInput(epoch, tz) {
  const p = parts(epoch, tz);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

// The epoch a date-time field ("2026-12-06 09:05" or "2026-12-06T09:05") means on the center's clock; NaN when
// it is not one.
export function fromZonedInput(value, tz) {
  const m = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/.exec(value || '');
  if (!m) return NaN;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) / 1000;
  const offset = (epoch) => {
    const p = parts(epoch, tz);
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) / 1000 - epoch;
  };
  let guess = wall - offset(wall);
  guess = wall - offset(guess); // once more across a DST change
  return guess;
}
