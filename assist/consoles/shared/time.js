// Times as the center reads them: in the center's time zone (not the browser's), `2026-12-06 23:11`.
export const CENTER_ZONE = 'Asia/Shanghai';

// `seconds` (epoch) as `YYYY-MM-DD HH:mm` (with `:ss` when `withSeconds`) in `zone`.
export function centerTime(seconds, zone = CENTER_ZONE, withSeconds = false) {
  if (seconds === null || seconds === undefined || seconds === '') return '';
  const parts = Object.fromEntries(new Intl.DateTimeFormat('zh-CN', {
    timeZone: zone || CENTER_ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(seconds * 1000)).map((p) => [p.type, p.value]));
  const clock = `${parts.hour}:${parts.minute}${withSeconds ? `:${parts.second}` : ''}`;
  return `${parts.year}-${parts.month}-${parts.day} ${clock}`;
}
