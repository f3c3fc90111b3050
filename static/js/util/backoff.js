// Reconnect delays. Exponential with jitter so that a restarting server is not hit by every client at once.

/** Delay in ms before reconnect attempt `attempt` (0-based): 0.5 s, 1 s, 2 s, … capped at `max`, times 0.5–1. */
export function backoffDelay(attempt, { base = 500, max = 10000, random = Math.random } = {}) {
  const raw = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round(raw * (0.5 + random() * 0.5));
}
