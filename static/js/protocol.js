// Channeling envelopes (channeling-api §2) and the chat documents the original client exchanges (§6.7).
// Pure: no DOM, no sockets; the WebSocket client and the room controller build on it.

/** Outgoing frame: `{"Type":T, T:payload, "Iid":…}` (the Iid only for requests that expect a reply). */
export function encode(type, payload, iid) {
  const env = { Type: type, [type]: payload ?? {} };
  if (iid !== undefined && iid !== null) env.Iid = String(iid);
  return JSON.stringify(env);
}

/**
 * Incoming frame → `{type, data, from, to, iid, a}` or null when the frame is not a channeling document
 * (not JSON, no `Data` object, or no `Data.Type`). Unknown types are returned too; the caller ignores them.
 */
export function decode(text) {
  let env;
  try {
    env = JSON.parse(text);
  } catch {
    return null;
  }
  if (!env || typeof env !== "object" || !env.Data || typeof env.Data !== "object") return null;
  const type = env.Data.Type;
  if (typeof type !== "string") return null;
  return {
    type,
    data: env.Data,
    from: typeof env.From === "string" ? env.From : "",
    to: typeof env.To === "string" ? env.To : "",
    iid: typeof env.Iid === "string" ? env.Iid : undefined,
    a: typeof env.A === "string" ? env.A : "",
  };
}

/** The `Status` the original client sends after every (re)connect and change. */
export function statusDocument({ displayName = null, buddyPicture = null, message = null } = {}) {
  return { displayName: displayName || null, buddyPicture: buddyPicture || null, message: message || null };
}

/**
 * Some payloads repeat the type inside (the original client sends `{"Type":"Status","Status":{"Type":"Status",
 * "Status":{…}}}`); the server reads the inner object (§6.6, §6.10, §6.12).
 */
export const statusPayload = (status) => ({ Type: "Status", Status: status });
export const alivePayload = (ms) => ({ Type: "Alive", Alive: Math.max(0, Math.floor(ms)) });
export const authenticationPayload = (userid, nonce) => ({ Type: "Authentication", Authentication: { Userid: userid, Nonce: nonce } });

/** Hello payload. Credentials only when a PIN is known: a `{}` for a room without PIN is an error (§5). */
export function helloPayload({ room, version, ua, pin }) {
  const hello = { Version: version ?? "", Ua: ua ?? "", Name: room, Type: "" };
  if (pin) hello.Credentials = { PIN: pin };
  return hello;
}

/** Outgoing chat text (room chat when `to` is ""). NoEcho because we render our own messages immediately. */
export function chatMessage(to, text, mid) {
  return { To: to, Type: "Chat", Chat: { Message: text, Mid: mid, NoEcho: true } };
}

/** Status-only chat documents (typing, delivered, seen): no text and NoEcho, like the original. */
export function chatStatus(to, status) {
  return { To: to, Type: "Chat", Chat: { Message: "", NoEcho: true, Status: status } };
}

export const chatTyping = (to, typing) => chatStatus(to, { Typing: typing ? "start" : "stop" });
export const chatDelivered = (to, mid) => chatStatus(to, { State: "delivered", Mid: mid });
export const chatSeen = (to, mids) => chatStatus(to, { SeenMids: [...mids] });

/**
 * Classify a received `Chat` document. Returns one of
 *  {kind:"message", from, mid, text, time, private}
 *  {kind:"typing", from, typing:boolean}
 *  {kind:"state", from, mid, state}          ("sent" from the server, "delivered" from a receiver)
 *  {kind:"seen", from, mids:[...]}
 *  or null for documents we do not show (file transfers, contact requests, empty).
 * `from` is the envelope's From; `to` is the envelope's To (own Id → private, "" → room chat).
 */
export function classifyChat(data, from, selfId) {
  const chat = data?.Chat;
  if (!chat || typeof chat !== "object") return null;
  const status = chat.Status && typeof chat.Status === "object" ? chat.Status : null;
  const isPrivate = typeof data.To === "string" && data.To !== "" && data.To === selfId;
  if (status) {
    if (status.Typing === "start" || status.Typing === "stop") {
      return { kind: "typing", from, typing: status.Typing === "start", private: isPrivate };
    }
    if (status.State === "sent" && typeof chat.Mid === "string" && chat.Mid) {
      // The server's own receipt for a unicast (§6.7 step 4): To is the recipient.
      return { kind: "state", from: data.To ?? "", mid: chat.Mid, state: "sent" };
    }
    if (status.State === "delivered" && typeof status.Mid === "string" && status.Mid) {
      return { kind: "state", from, mid: status.Mid, state: "delivered" };
    }
    if (Array.isArray(status.SeenMids) && status.SeenMids.length) {
      return { kind: "seen", from, mids: status.SeenMids.filter((m) => typeof m === "string") };
    }
  }
  if (typeof chat.Message === "string" && chat.Message !== "") {
    return {
      kind: "message",
      from,
      mid: typeof chat.Mid === "string" ? chat.Mid : "",
      text: chat.Message,
      time: typeof chat.Time === "string" ? chat.Time : "",
      private: isPrivate,
    };
  }
  return null;
}

/** Human text for channeling `Error` codes the join flow can meet. */
export function errorText(code) {
  switch (code) {
    case "authorization_required": return "This room is protected by a PIN.";
    case "invalid_credentials": return "Wrong PIN. Please try again.";
    case "room_full": return "This room is full. Try again later.";
    case "default_room_disabled": return "Please choose a room name: the lobby is disabled on this server.";
    case "room_join_requires_account": return "You need to sign in to join this room.";
    case "sfu_unavailable": return "Video service unavailable.";
    case "timeout": return "The server did not answer in time.";
    case "disconnected": return "The connection to the server was lost.";
    default: return code ? `The server refused: ${code}.` : "Something went wrong.";
  }
}
