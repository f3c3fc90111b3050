import { test } from "node:test";
import assert from "node:assert/strict";
import { answerAcceptsSimulcast } from "../../../static/js/media/publisher.js";

const answer = (videoLines) => ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111", "a=mid:0", "a=recvonly",
  "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=mid:1", "a=recvonly", ...videoLines, ""].join("\r\n");

test("simulcast accepted: the answer's section for that mid has a=simulcast", () => {
  const sdp = answer(["a=rid:q recv", "a=rid:h recv", "a=rid:f recv", "a=simulcast:recv q;h;f"]);
  assert.equal(answerAcceptsSimulcast(sdp, "1"), true);
  assert.equal(answerAcceptsSimulcast(sdp, "0"), false); // another section's attribute does not count
});

test("simulcast refused: no a=simulcast in the section (or no such mid)", () => {
  assert.equal(answerAcceptsSimulcast(answer(["a=rtpmap:96 VP8/90000"]), "1"), false);
  assert.equal(answerAcceptsSimulcast(answer(["a=simulcast:recv q;h;f"]), "7"), false);
  assert.equal(answerAcceptsSimulcast(answer(["a=simulcast:recv q;h;f"]).replaceAll("\r\n", "\n"), "1"), true);
});
