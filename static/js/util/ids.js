// Random ids. Chat message ids are random hex like the original client's, so receivers can reference them in
// `delivered` and `SeenMids` statuses.
export function randomHex(bytes = 8) {
  const a = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}
