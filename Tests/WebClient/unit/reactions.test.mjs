import { test } from "node:test";
import assert from "node:assert/strict";
import { REACTIONS, decodeReaction, encodeReaction } from "../../../static/js/media/reactions.js";

const relayed = (from, data) => JSON.stringify({ From: from, Data: data });

test("a reaction survives the SFU's wrapping", () => {
  for (const emoji of REACTIONS) {
    assert.deepEqual(decodeReaction(relayed("AAAA", encodeReaction(emoji))), { session: "AAAA", emoji });
  }
});

test("only known reactions are sent", () => {
  assert.equal(encodeReaction("<script>"), null);
  assert.equal(encodeReaction(""), null);
  assert.equal(encodeReaction(undefined), null);
});

test("anything else is ignored", () => {
  const cases = [undefined, 42, "", "not json", "{}", relayed("", encodeReaction("👍")), relayed("A", "not json"),
    relayed("A", JSON.stringify({ Reaction: "💣" })), relayed("A", JSON.stringify({ Other: "👍" })),
    JSON.stringify({ From: 7, Data: encodeReaction("👍") }), JSON.stringify({ From: "A", Data: { Reaction: "👍" } }),
    JSON.stringify(null), relayed("A", "null")];
  for (const c of cases) assert.equal(decodeReaction(c), null, String(c));
});
