// The server's refusals and blockers (assist/scripts/lifecycle.py speaks English) in the console's language.
// A message not listed here is shown as the server wrote it.
import { getLang } from './i18n.js';

const MESSAGES = [
  [/^submit the draft for approval first$/, () => '请先提交审批'],
  [/^needs (\d+) approval\(s\) by another trainer; has (\d+)$/, (n, m) => `需要另一位培训师批准 ${n} 次，目前 ${m} 次`],
  [/^the published pack changed since this draft started \(v(\d+) -> v(\d+)\); update the draft from the published pack first$/,
    (a, b) => `草稿开始后已有新发布版本（v${a} → v${b}），请先点“更新到最新发布版”`],
  [/^the pack has (\d+) problem\(s\); fix them (?:first|before submitting)$/, (n) => `话术包有 ${n} 个问题，请先修改`],
  [/^run the samples first$/, () => '请先运行样例'],
  [/^this draft is (\w+)(?:; start a new draft)?$/, (s) => `此草稿${STATUS[s] || s}，请新建草稿`],
  [/^(\d+) sample\(s\) could not be run: (.*)$/, (n, ids) => `${n} 条样例无法运行：${ids}`],
  [/^(\d+) sample\(s\) the published pack got right are now wrong: (.*)$/, (n, ids) => `${n} 条已发布版判断正确的样例现在判断错了：${ids}`],
  [/^accuracy (.*) is below the required (.*)$/, (a, b) => `准确率 ${a} 低于要求的 ${b}`],
  [/^the samples do not pass: (.*)$/, (rest) => `样例未通过：${rest.split('; ').map(zh).join('；')}`],
  [/^not ready to publish: (.*)$/, (rest) => `还不能发布：${rest.split('; ').map(zh).join('；')}`],
  [/^this draft is already waiting for approval$/, () => '此草稿已在等待审批'],
  [/^only a draft submitted for approval can be approved$/, () => '只有已提交审批的草稿才能批准'],
  [/^you changed this draft: another trainer must approve it$/, () => '您修改过这个草稿，需要另一位培训师批准'],
  [/^you have already approved this draft$/, () => '您已经批准过这个草稿'],
  [/^the draft changed while it was being checked; (submit|publish) again$/, (a) => `检查期间草稿被修改了，请重新${a === 'submit' ? '提交' : '发布'}`],
  [/^both this draft and the published pack changed (.*); start a new draft and copy your changes into it$/,
    (files) => `这个草稿和已发布版本都改了 ${files}：请新建草稿，再把您的修改复制过去`],
];
const STATUS = { published: '已发布', discarded: '已放弃', submitted: '待审批', editing: '编辑中' };

function zh(message) {
  for (const [pattern, say] of MESSAGES) {
    const m = String(message).match(pattern);
    if (m) return say(...m.slice(1));
  }
  return message;
}

// The message in the console's language (English as the server wrote it).
export function serverText(message) {
  return getLang() === 'en' ? message : zh(message);
}
