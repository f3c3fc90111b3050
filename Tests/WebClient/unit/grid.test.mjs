import { test } from "node:test";
import assert from "node:assert/strict";
import { computeGrid, layerRequest } from "../../../static/js/util/grid.js";

test("empty stage or no tiles", () => {
  assert.deepEqual(computeGrid(0, 800, 600), { cols: 0, rows: 0, width: 0, height: 0 });
  assert.equal(computeGrid(3, 0, 600).width, 0);
});

test("one tile fills the limiting dimension at 16:9", () => {
  const g = computeGrid(1, 1600, 900, { gap: 0 });
  assert.deepEqual(g, { cols: 1, rows: 1, width: 1600, height: 900 });
  const tall = computeGrid(1, 400, 900, { gap: 0 });
  assert.equal(tall.width, 400);
  assert.equal(tall.height, 225);
});

test("tiles for 1..25 participants always fit and keep 16:9", () => {
  for (const [w, hgt] of [[1280, 720], [1920, 1000], [390, 700], [900, 900]]) {
    for (let n = 1; n <= 25; n++) {
      const gap = 8;
      const g = computeGrid(n, w, hgt, { gap });
      assert.ok(g.cols * g.rows >= n, `n=${n} fits in the cells`);
      assert.ok(g.cols * g.width + (g.cols - 1) * gap <= w + 0.5, `n=${n} width`);
      assert.ok(g.rows * g.height + (g.rows - 1) * gap <= hgt + 0.5, `n=${n} height`);
      assert.ok(Math.abs(g.width / g.height - 16 / 9) < 0.05, `n=${n} aspect`);
      assert.ok((g.cols - 1) * g.rows < n, `n=${n} no empty column`);
    }
  }
});

test("wide screens prefer columns, portrait prefers rows", () => {
  assert.equal(computeGrid(2, 1600, 500).cols, 2);
  assert.equal(computeGrid(2, 400, 900).cols, 1);
  assert.deepEqual([computeGrid(4, 1280, 720).cols, computeGrid(4, 1280, 720).rows], [2, 2]);
  assert.equal(computeGrid(9, 1280, 720).cols, 3);
});

test("layer requests are device pixels rounded to 16", () => {
  assert.deepEqual(layerRequest(320, 180, 1), { MaxWidth: 320, MaxHeight: 192 });
  assert.deepEqual(layerRequest(321, 180.4, 2), { MaxWidth: 656, MaxHeight: 368 });
  assert.deepEqual(layerRequest(0, 0), { MaxWidth: 16, MaxHeight: 16 });
});
