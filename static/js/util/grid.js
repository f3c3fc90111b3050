// Video grid layout math. Pure (tested in node): given the stage size and the tile count, choose the column count
// that gives the largest 16:9 tiles that still fit without scrolling.

/**
 * @returns {{cols:number, rows:number, width:number, height:number}} tile size in CSS pixels (floored).
 */
export function computeGrid(count, width, height, { gap = 8, aspect = 16 / 9 } = {}) {
  const n = Math.max(0, Math.floor(count));
  if (n === 0 || width <= 0 || height <= 0) return { cols: 0, rows: 0, width: 0, height: 0 };
  let best = { cols: 1, rows: n, width: 0, height: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    // Skip layouts that leave a whole row empty: they never beat the one with fewer columns.
    if ((cols - 1) * rows >= n && cols > 1) continue;
    const maxW = (width - gap * (cols - 1)) / cols;
    const maxH = (height - gap * (rows - 1)) / rows;
    if (maxW <= 0 || maxH <= 0) continue;
    const w = Math.min(maxW, maxH * aspect);
    if (w > best.width) best = { cols, rows, width: w, height: w / aspect };
  }
  return { cols: best.cols, rows: best.rows, width: Math.floor(best.width), height: Math.floor(best.height) };
}

/**
 * The simulcast layer bound the SFU should send for a tile: device pixels, rounded up to a 16-pixel step so that
 * small resizes (scrollbars, sidebars) do not cause a flood of `SfuLayer` messages.
 */
export function layerRequest(tileWidth, tileHeight, devicePixelRatio = 1) {
  const step = (v) => Math.max(16, Math.ceil((v * devicePixelRatio) / 16) * 16);
  return { MaxWidth: step(tileWidth), MaxHeight: step(tileHeight) };
}
