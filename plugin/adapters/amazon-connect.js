// Amazon Connect Streams -> <assist-sidebar>.
//
//   <script src="amazon-connect-streams.js"></script>            <!-- defines window.connect -->
//   <script type="module">
//     import "https://assist.example/plugin/assist-sidebar.js";
//     import { attachAmazonConnect } from "https://assist.example/plugin/adapters/amazon-connect.js";
//     connect.core.initCCP(ccpContainer, { ccpUrl: "https://INSTANCE.my.connect.aws/ccp-v2/" });
//     attachAmazonConnect(document.querySelector("assist-sidebar"));
//   </script>
//
// For every contact: onConnected -> sidebar.startCall(contactId, context); onEnded -> sidebar.endCall(disposition).
// The context holds the contact's queue, channel, caller number (the initial connection's endpoint) and every
// contact attribute (set in the contact flow, e.g. customer_name, caller_type, ivr_path), renamed through
// `attributeMap` when given. Returns a function that stops starting/ending calls.

function safe(fn, fallback = undefined) {
  try {
    const v = fn();
    return v === undefined ? fallback : v;
  } catch {
    return fallback;
  }
}

/** The call context from an Amazon Connect Streams contact. */
export function contextFromContact(contact, { attributeMap = {} } = {}) {
  const context = {};
  const attributes = safe(() => contact.getAttributes(), {}) || {};
  for (const [key, attr] of Object.entries(attributes)) {
    const value = attr && typeof attr === "object" && "value" in attr ? attr.value : attr;
    if (value == null || value === "") continue;
    context[attributeMap[key] || key] = String(value);
  }
  const queue = safe(() => contact.getQueue());
  if (queue && queue.name && context.queue == null) context.queue = queue.name;
  const channel = safe(() => contact.getType());
  if (channel && context.channel == null) context.channel = String(channel);
  const endpoint = safe(() => contact.getInitialConnection().getEndpoint());
  const number = endpoint && (endpoint.phoneNumber || endpoint.name);
  if (number && context.caller_number == null) context.caller_number = String(number).replace(/^tel:/, "");
  return context;
}

export function attachAmazonConnect(sidebar, options = {}) {
  const connect = options.connect || globalThis.connect;
  if (!connect || typeof connect.contact !== "function") {
    throw new Error("attachAmazonConnect: Amazon Connect Streams (window.connect) is not loaded");
  }
  const disposition = options.disposition || ((contact) => safe(() => contact.getState().type, "ended"));
  const started = new Set();
  let active = true;
  const report = (err) => { if (options.onError) options.onError(err); else console.warn("assist:", err); };

  connect.contact((contact) => {
    const id = () => safe(() => contact.getContactId());
    contact.onConnected(() => {
      const callId = id();
      if (!active || !callId || started.has(callId)) return;
      started.add(callId);
      sidebar.startCall(callId, contextFromContact(contact, options)).catch(report);
    });
    // onEnded fires when the call ends and again when the contact is cleared: end the call once.
    contact.onEnded(() => {
      const callId = id();
      if (!active || !callId || !started.has(callId)) return;
      started.delete(callId);
      if (sidebar.callId && sidebar.callId !== callId) return; // another call is on screen already
      sidebar.endCall(String(disposition(contact) || "ended")).catch(report);
    });
  });
  return () => { active = false; };
}
