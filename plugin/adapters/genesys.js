// Genesys Cloud interaction widget -> <assist-sidebar>.
//
// Genesys Cloud shows an "Interaction Widget" integration as an iframe next to each conversation, with the
// URL you configure, filling in its {{…}} placeholders. Configure the application URL as, for example:
//
//   https://assist.example/your-widget.html?conversationid={{pcConversationId}}&langTag={{pcLangTag}}
//       &gcHostOrigin={{gcHostOrigin}}&gcTargetEnv={{gcTargetEnv}}&ctx.queue=retail
//
// and in that page:
//
//   <assist-sidebar server="wss://assist.example/ws"></assist-sidebar>
//   <script type="module">
//     import "https://assist.example/plugin/assist-sidebar.js";
//     import { startFromGenesys } from "https://assist.example/plugin/adapters/genesys.js";
//     const sidebar = document.querySelector("assist-sidebar");
//     sidebar.tokenProvider = () => yourSingleSignOnToken();   // see docs/plugin.md: tokens are per agent
//     startFromGenesys(sidebar);
//   </script>
//
// Mapping: conversationid / gcConversationId / pcConversationId -> callId; langTag (zh-*, en-*) -> the
// sidebar's language; gcHostOrigin, gcTargetEnv -> context.genesys_host / context.genesys_env; every
// `ctx.NAME=value` parameter -> context.NAME. The widget is torn down when the interaction is closed and
// Genesys sends no end event to it: end calls from your wrap-up flow (or pass endOnUnload: true).

const CONVERSATION_KEYS = ["conversationid", "conversationId", "gcConversationId", "pcConversationId"];
const LANG_KEYS = ["langTag", "gcLangTag", "pcLangTag", "lang"];

/** {callId, context, lang} from the widget URL's query string. */
export function paramsFromGenesysUrl(search = globalThis.location ? location.search : "") {
  const params = new URLSearchParams(search);
  let callId = null;
  for (const k of CONVERSATION_KEYS) {
    const v = params.get(k);
    if (v && !/^\{\{.*\}\}$/.test(v)) { callId = v; break; }
  }
  let lang = null;
  for (const k of LANG_KEYS) {
    const v = params.get(k);
    if (v && !/^\{\{.*\}\}$/.test(v)) { lang = /^zh/i.test(v) ? "zh-CN" : /^en/i.test(v) ? "en" : null; break; }
  }
  const context = { channel: "genesys" };
  const host = params.get("gcHostOrigin");
  if (host && !host.startsWith("{{")) context.genesys_host = host;
  const env = params.get("gcTargetEnv");
  if (env && !env.startsWith("{{")) context.genesys_env = env;
  for (const [k, v] of params) {
    if (k.startsWith("ctx.") && k.length > 4 && v !== "") context[k.slice(4)] = v;
  }
  return { callId, context, lang };
}

export async function startFromGenesys(sidebar, { search, endOnUnload = false, disposition = "closed" } = {}) {
  const { callId, context, lang } = paramsFromGenesysUrl(search);
  if (!callId) throw new Error("startFromGenesys: no conversationid in the widget URL (see plugin/adapters/genesys.js)");
  if (lang && !sidebar.hasAttribute("lang")) sidebar.setAttribute("lang", lang);
  if (endOnUnload) {
    addEventListener("pagehide", () => { sidebar.endCall(disposition).catch(() => {}); }, { once: true });
  }
  return sidebar.startCall(callId, context);
}
