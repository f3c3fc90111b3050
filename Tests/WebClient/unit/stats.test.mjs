import { test } from "node:test";
import assert from "node:assert/strict";
import { roundTripTime, packetCounters, lossFraction, qualityLevel, audioLevelsByMid, loudest } from "../../../static/js/media/stats.js";

test("rtt from the selected candidate pair, else remote-inbound", () => {
  assert.equal(roundTripTime([{ type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: 0.042 }]), 42);
  assert.equal(roundTripTime([{ type: "candidate-pair", nominated: false, state: "in-progress", currentRoundTripTime: 1 },
    { type: "remote-inbound-rtp", roundTripTime: 0.1 }]), 100);
  assert.equal(roundTripTime([]), null);
});

test("loss over an interval", () => {
  const a = packetCounters([{ type: "inbound-rtp", packetsReceived: 100, packetsLost: 0 }]);
  const b = packetCounters([{ type: "inbound-rtp", packetsReceived: 190, packetsLost: 10 }]);
  assert.equal(lossFraction(a, b), 0.1);
  assert.equal(lossFraction(b, b), null);
  assert.equal(lossFraction(null, a), 0);
});

test("quality levels", () => {
  assert.equal(qualityLevel({}), "unknown");
  assert.equal(qualityLevel({ rtt: 30, loss: 0 }), "good");
  assert.equal(qualityLevel({ rtt: 300, loss: 0.01 }), "fair");
  assert.equal(qualityLevel({ rtt: 30, loss: 0.05 }), "fair");
  assert.equal(qualityLevel({ rtt: 900 }), "poor");
  assert.equal(qualityLevel({ loss: 0.2 }), "poor");
});

test("speaking detection", () => {
  const levels = audioLevelsByMid([{ type: "inbound-rtp", kind: "audio", mid: "1", audioLevel: 0.3 },
    { type: "inbound-rtp", kind: "audio", mid: 2, audioLevel: 0.5 }, { type: "inbound-rtp", kind: "video", mid: "3" }]);
  assert.deepEqual(levels, { 1: 0.3, 2: 0.5 });
  assert.equal(loudest(levels), "2");
  assert.equal(loudest({ a: 0.01 }), "");
});
