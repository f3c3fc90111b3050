import { test } from "node:test";
import assert from "node:assert/strict";
import { createMetrics, onFirstFrame } from "../../../static/js/util/metrics.js";

test("a mark keeps its first time", () => {
  let t = 10;
  const m = createMetrics(() => t);
  m.mark("join-click");
  t = 25;
  m.mark("join-click");
  m.mark("first-remote-frame");
  assert.deepEqual(m.marks, { "join-click": 10, "first-remote-frame": 25 });
  assert.equal(m.between("join-click", "first-remote-frame"), 15);
  assert.equal(m.between("join-click", "welcome"), null);
});

test("the page-wide metrics are exposed for benchmarks", () => {
  assert.equal(typeof globalThis.__roomsMetrics.mark, "function");
});

test("first frame: requestVideoFrameCallback when the engine has it", () => {
  let registered = null, calls = 0;
  onFirstFrame({ requestVideoFrameCallback: (cb) => { registered = cb; } }, () => calls++);
  assert.equal(calls, 0);
  registered();
  assert.equal(calls, 1);
});

test("first frame: loadeddata otherwise, or at once when a frame is already there", () => {
  let calls = 0, listener = null;
  onFirstFrame({ readyState: 2 }, () => calls++);
  assert.equal(calls, 1);
  onFirstFrame({ readyState: 0, addEventListener: (type, cb, opts) => { assert.equal(type, "loadeddata"); assert.ok(opts.once); listener = cb; } }, () => calls++);
  assert.equal(calls, 1);
  listener();
  assert.equal(calls, 2);
});
