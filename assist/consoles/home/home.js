// The landing page at `/`: what each page is for, in Chinese (default) or English.
const TEXTS = {
  title: ['座席助手', 'Agent assist'],
  lead: ['通话进行中，按应急预案识别来电类型，推送话术、记录清单和禁语提醒。',
    'While a call runs, it tells the call type by the emergency plan and shows the agent what to say, what to record and what never to say.'],
  demo: ['演示', 'Demo'],
  demo_help: ['演示软电话：播放一通样例来电，看侧边栏如何提示（仅限本机打开）。', 'A demo softphone plays a sample call into the sidebar (from this machine only).'],
  leader: ['班长台', 'Shift-leader console'],
  leader_help: ['班长：实时升级事项及时限、故障、在线通话、日报。', 'Shift leaders: live escalations with deadlines, faults, live calls, the daily report.'],
  trainer: ['培训台', 'Trainer console'],
  trainer_help: ['培训师：修改话术包、试一试、运行样例、审批、发布、回滚；处理一线反馈。',
    'Trainers: edit the script pack, try it, run the samples, approve, publish, roll back; the feedback from the floor.'],
  docs: ['文档', 'Documentation'],
  docs_help: ['使用和部署说明（英文）。', 'How to use and run it.'],
  token_help: ['两个工作台都需要访问令牌，由管理员用以下命令发放：', 'Both consoles ask for an access token; an administrator issues it with:'],
};
const KEY = 'home.lang';
let lang = localStorage.getItem(KEY) || 'zh-CN';

function apply() {
  document.documentElement.lang = lang;
  document.title = lang === 'en' ? 'Agent assist' : '座席助手 assist';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = TEXTS[el.dataset.i18n][lang === 'en' ? 1 : 0];
  const button = document.getElementById('lang');
  button.textContent = lang === 'en' ? '中文' : 'English';
  button.lang = lang === 'en' ? 'zh-CN' : 'en';
}

document.getElementById('lang').addEventListener('click', () => {
  lang = lang === 'en' ? 'zh-CN' : 'en';
  localStorage.setItem(KEY, lang);
  apply();
});
apply();
