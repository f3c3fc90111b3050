// Room state: participants, chat, typing, speaker. A plain reducer over immutable objects (pure, tested in node);
// the Store wraps it with subscriptions for the UI.

import { Emitter } from "./util/emitter.js";

export function initialState() {
  return {
    selfId: "",
    userid: "",
    room: null, // {Name, Type} after Welcome
    joined: false,
    participants: {}, // Id → participant (see participantFrom)
    order: [], // Ids in join order (self first), so tiles do not jump around
    chat: [], // {mid, from, text, time, mine, private, deliveredTo:[], seenBy:[], sent}
    typing: {}, // Id → true
    speaker: "", // active speaker Id
    screens: {}, // Id → true while that participant shares a screen
  };
}

/** Normalise a session document (Online/Joined/Status) into our participant shape. */
export function participantFrom(doc, previous = null) {
  const status = doc.Status && typeof doc.Status === "object" ? doc.Status : null;
  const p = {
    id: doc.Id,
    userid: doc.Userid ?? previous?.userid ?? "",
    rev: typeof doc.Rev === "number" ? doc.Rev : previous?.rev ?? 0,
    displayName: previous?.displayName ?? "",
    buddyPicture: previous?.buddyPicture ?? "",
    message: previous?.message ?? "",
    audioMuted: previous?.audioMuted ?? false,
    videoMuted: previous?.videoMuted ?? false,
  };
  if (status) {
    p.displayName = typeof status.displayName === "string" ? status.displayName : "";
    p.buddyPicture = typeof status.buddyPicture === "string" ? status.buddyPicture : "";
    p.message = typeof status.message === "string" ? status.message : "";
  } else if ("Status" in doc && doc.Type === "Status") {
    // A Status broadcast without Status means the session cleared it (§6.6: omitted when null).
    p.displayName = "";
    p.buddyPicture = "";
    p.message = "";
  }
  return p;
}

function withParticipant(state, p) {
  const order = state.order.includes(p.id) ? state.order : [...state.order, p.id];
  return { ...state, participants: { ...state.participants, [p.id]: p }, order };
}

function without(obj, key) {
  if (!(key in obj)) return obj;
  const copy = { ...obj };
  delete copy[key];
  return copy;
}

function updateMessage(state, mid, fn) {
  let changed = false;
  const chat = state.chat.map((m) => {
    if (m.mine && m.mid === mid) {
      changed = true;
      return fn(m);
    }
    return m;
  });
  return changed ? { ...state, chat } : state;
}

const addUnique = (list, v) => (list.includes(v) ? list : [...list, v]);

export function reduce(state, action) {
  switch (action.type) {
    case "self":
      return { ...state, selfId: action.id, userid: action.userid ?? state.userid };

    case "welcome": {
      // The Welcome list is authoritative (it includes us); keep known statuses for Ids we already had.
      const participants = {};
      const order = [];
      const users = [...(action.users ?? [])];
      // Self first, then the others in the server's order.
      users.sort((a, b) => (a.Id === state.selfId ? -1 : b.Id === state.selfId ? 1 : 0));
      for (const u of users) {
        if (!u || typeof u.Id !== "string" || participants[u.Id]) continue;
        participants[u.Id] = participantFrom(u, state.participants[u.Id]);
        order.push(u.Id);
      }
      if (state.selfId && !participants[state.selfId]) {
        participants[state.selfId] = participantFrom({ Id: state.selfId }, state.participants[state.selfId]);
        order.unshift(state.selfId);
      }
      return { ...state, joined: true, room: action.room ?? state.room, participants, order, typing: {} };
    }

    case "joined": {
      const doc = action.doc;
      if (!doc || typeof doc.Id !== "string") return state;
      return withParticipant(state, participantFrom(doc, state.participants[doc.Id]));
    }

    case "status": {
      const doc = action.doc;
      if (!doc || typeof doc.Id !== "string") return state;
      const prev = state.participants[doc.Id];
      // Rev orders a session's updates; an older one arriving late must not overwrite a newer one.
      if (prev && typeof doc.Rev === "number" && doc.Rev < prev.rev) return state;
      return withParticipant(state, participantFrom(doc, prev));
    }

    case "local-status": {
      // Our own status as we sent it (the server never echoes our Status back to us).
      const prev = state.participants[state.selfId] ?? participantFrom({ Id: state.selfId });
      return withParticipant(state, { ...prev, ...action.status });
    }

    case "left": {
      if (!state.participants[action.id] || action.id === state.selfId) return state;
      return {
        ...state,
        participants: without(state.participants, action.id),
        order: state.order.filter((id) => id !== action.id),
        typing: without(state.typing, action.id),
        screens: without(state.screens, action.id),
        speaker: state.speaker === action.id ? "" : state.speaker,
      };
    }

    case "disconnected":
      // Keep the last known participants on screen while reconnecting, but we are not in the room until the next
      // Welcome.
      return { ...state, joined: false, typing: {}, speaker: "" };

    case "left-room":
      return { ...state, joined: false, participants: {}, order: [], typing: {}, speaker: "", screens: {} };

    case "chat": {
      const m = action.message;
      if (m.mid && state.chat.some((x) => x.mid === m.mid && x.from === m.from)) return state; // duplicate
      const entry = { mid: m.mid ?? "", from: m.from, text: m.text, time: m.time ?? "", mine: !!m.mine,
        private: !!m.private, deliveredTo: [], seenBy: [], sent: m.sent !== undefined ? !!m.sent : !!m.mine && !m.private };
      const typing = without(state.typing, m.from); // a message ends that person's typing
      return { ...state, chat: [...state.chat, entry].slice(-500), typing };
    }

    case "chat-state":
      if (action.state === "sent") return updateMessage(state, action.mid, (m) => ({ ...m, sent: true }));
      if (action.state === "delivered") {
        return updateMessage(state, action.mid, (m) => ({ ...m, sent: true, deliveredTo: addUnique(m.deliveredTo, action.from) }));
      }
      return state;

    case "chat-seen": {
      let s = state;
      for (const mid of action.mids) {
        s = updateMessage(s, mid, (m) => ({ ...m, sent: true, deliveredTo: addUnique(m.deliveredTo, action.from),
          seenBy: addUnique(m.seenBy, action.from) }));
      }
      return s;
    }

    case "typing":
      if (action.typing) return state.typing[action.from] ? state : { ...state, typing: { ...state.typing, [action.from]: true } };
      return { ...state, typing: without(state.typing, action.from) };

    case "speaker":
      return state.speaker === action.id ? state : { ...state, speaker: action.id ?? "" };

    case "media-muted": {
      const p = state.participants[action.id];
      if (!p) return state;
      const next = { ...p };
      if (action.kind === "audio") next.audioMuted = !!action.muted;
      if (action.kind === "video") next.videoMuted = !!action.muted;
      return withParticipant(state, next);
    }

    case "screen":
      return { ...state, screens: action.on ? { ...state.screens, [action.id]: true } : without(state.screens, action.id) };

    default:
      return state;
  }
}

/** Participants in display order. */
export function participantList(state) {
  return state.order.map((id) => state.participants[id]).filter(Boolean);
}

/** Chat delivery mark for one of our messages: "pending" | "sent" | "delivered" | "seen". */
export function deliveryState(message) {
  if (message.seenBy.length) return "seen";
  if (message.deliveredTo.length) return "delivered";
  return message.sent ? "sent" : "pending";
}

export class Store extends Emitter {
  constructor(state = initialState()) {
    super();
    this.state = state;
  }

  dispatch(action) {
    const prev = this.state;
    this.state = reduce(prev, action);
    if (this.state !== prev) this.emit("change", this.state, prev, action);
    return this.state;
  }
}
