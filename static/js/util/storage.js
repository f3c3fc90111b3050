// localStorage / sessionStorage access that never throws (private modes and disabled storage must not break joining).
//  - local: name, picture, status message, devices, login — remembered across visits.
//  - session (per tab): the resume token and the room PIN, so that a reload in a call keeps the same identity, while
//    a second tab gets its own identity (two tabs sharing one Id would kick each other off the server).

const PREFIX = "rooms.";

function store(kind) {
  try {
    return kind === "session" ? globalThis.sessionStorage : globalThis.localStorage;
  } catch {
    return null;
  }
}

export function load(key, fallback = null, kind = "local") {
  try {
    const raw = store(kind)?.getItem(PREFIX + key);
    return raw === null || raw === undefined ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function save(key, value, kind = "local") {
  try {
    if (value === null || value === undefined) store(kind)?.removeItem(PREFIX + key);
    else store(kind)?.setItem(PREFIX + key, JSON.stringify(value));
  } catch { /* quota exceeded or storage disabled: remembering is best effort */ }
}
