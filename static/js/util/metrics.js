// Timing marks: the performance.now() time (ms since the page started loading) at which each named event first
// happened in this page, e.g. "join-click" and "first-remote-frame". Read by scripts/bench (and handy in the console)
// as window.__roomsMetrics; the client never reads them back, so they change no behaviour.

export function createMetrics(now = () => performance.now()) {
  const marks = {};
  return {
    marks,
    /** Record `name` the first time only; later calls keep the first time. */
    mark(name) {
      if (name in marks) return;
      marks[name] = now();
      globalThis.performance?.mark?.(`rooms:${name}`);
    },
    /** ms from mark `from` to mark `to`, or null while either is missing. */
    between(from, to) {
      return from in marks && to in marks ? marks[to] - marks[from] : null;
    },
  };
}

export const metrics = createMetrics();
globalThis.__roomsMetrics = metrics;

/** Call `done` once the video element has presented its first frame of the current source. */
export function onFirstFrame(video, done) {
  if (typeof video.requestVideoFrameCallback === "function") {
    video.requestVideoFrameCallback(() => done());
    return;
  }
  // Engines without requestVideoFrameCallback: "loadeddata" fires once the first frame can be shown.
  if (video.readyState >= 2) done();
  else video.addEventListener("loadeddata", () => done(), { once: true });
}
