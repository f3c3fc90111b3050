// Reactions (👍 ❤️ …) travel on a data channel of the publisher connection, labelled "reactions". The SFU relays a
// text message to everyone else's channel of that label, wrapped as {"From":"<session Id>","Data":"<our text>"}
// (docs/sfu-signaling.md, "Data channels"). Pure functions, tested in node.

export const REACTIONS_LABEL = "reactions";
export const REACTIONS = ["👍", "❤️", "😂", "👏", "🎉"];

/** What we send for `emoji`, or null for anything that is not one of REACTIONS. */
export function encodeReaction(emoji) {
  return REACTIONS.includes(emoji) ? JSON.stringify({ Reaction: emoji }) : null;
}

/** {session, emoji} from a relayed message, or null when it is not a well-formed reaction from someone. */
export function decodeReaction(text) {
  if (typeof text !== "string") return null;
  try {
    const wrapper = JSON.parse(text);
    if (typeof wrapper?.From !== "string" || wrapper.From === "" || typeof wrapper.Data !== "string") return null;
    const inner = JSON.parse(wrapper.Data);
    return REACTIONS.includes(inner?.Reaction) ? { session: wrapper.From, emoji: inner.Reaction } : null;
  } catch {
    return null;
  }
}
