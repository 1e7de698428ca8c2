// The consoles' two-language texts: a table of [zh-CN, English] pairs per key, the language remembered in
// localStorage under the console's own key (each console keeps its own choice).
export function translator(texts, storageKey) {
  let lang = localStorage.getItem(storageKey) || 'zh-CN';
  const has = (key) => key in texts;
  const english = () => lang === 'en';
  // The text in the chosen language with {vars} filled in; an unknown key reads as itself.
  const t = (key, vars = {}) => {
    const pair = texts[key];
    let s = pair ? pair[english() ? 1 : 0] : key;
    for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
    return s;
  };
  return {
    has,
    t,
    english,
    getLang: () => lang,
    setLang(value) {
      lang = value;
      localStorage.setItem(storageKey, value);
      document.documentElement.lang = value;
    },
    // Every element marked data-i18n="key" gets that key's text.
    applyStatic(root = document) {
      root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    },
  };
}
