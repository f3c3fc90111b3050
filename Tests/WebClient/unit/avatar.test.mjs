import { test } from "node:test";
import assert from "node:assert/strict";
import { initials, hueFor, displayName } from "../../../static/js/util/avatar.js";

test("initials", () => {
  assert.equal(initials("Ada Lovelace"), "AL");
  assert.equal(initials("ada"), "A");
  assert.equal(initials("  grace  brewster murray hopper "), "GH");
  assert.equal(initials("jean-luc"), "JL");
  assert.equal(initials("émile zola"), "ÉZ");
  assert.equal(initials(""), "?");
  assert.equal(initials(null), "?");
  assert.equal(initials("😀 Smile"), "😀S");
});

test("hue is stable and in range", () => {
  assert.equal(hueFor("abc"), hueFor("abc"));
  for (const id of ["", "x", "AAAA-long-session-id=="]) {
    const h = hueFor(id);
    assert.ok(h >= 0 && h < 360);
  }
});

test("display name fallback", () => {
  assert.equal(displayName({ displayName: " Bob " }), "Bob");
  assert.equal(displayName({ displayName: "" }), "Guest");
  assert.equal(displayName(undefined), "Guest");
});
