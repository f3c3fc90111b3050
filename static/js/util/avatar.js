// Initials avatars for participants without a buddy picture. Pure (tested in node).

/** Up to two letters: first letters of the first and last word ("Ada Lovelace" → "AL", "ada" → "A"). */
export function initials(name) {
  const words = String(name ?? "").trim().split(/[\s._\-@]+/u).filter(Boolean);
  if (words.length === 0) return "?";
  // Array.from splits by code point, so emoji and astral letters are not cut in half.
  const first = Array.from(words[0])[0];
  const last = words.length > 1 ? Array.from(words[words.length - 1])[0] : "";
  return (first + last).toLocaleUpperCase();
}

/** A stable hue for an id, so that a person's avatar keeps its colour across reloads and for everyone. */
export function hueFor(id) {
  let h = 0;
  for (const ch of String(id ?? "")) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return h % 360;
}

/** Name shown for a participant: their display name, else a neutral placeholder. */
export function displayName(participant) {
  const n = participant?.displayName;
  return typeof n === "string" && n.trim() ? n.trim() : "Guest";
}
