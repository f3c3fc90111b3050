// Connection quality and speaking detection from RTCPeerConnection.getStats(). Pure (tested in node): callers pass
// arrays of stats objects (`[...report.values()]`).

/** Round-trip time in ms: the selected candidate pair, else an RTCP-derived remote-inbound figure. */
export function roundTripTime(stats) {
  let rtt = null;
  for (const s of stats) {
    if (s.type === "candidate-pair" && (s.nominated || s.selected) && s.state === "succeeded" &&
        typeof s.currentRoundTripTime === "number") {
      rtt = s.currentRoundTripTime * 1000;
    }
  }
  if (rtt === null) {
    for (const s of stats) {
      if (s.type === "remote-inbound-rtp" && typeof s.roundTripTime === "number") rtt = Math.max(rtt ?? 0, s.roundTripTime * 1000);
    }
  }
  return rtt;
}

/** Packet counters summed over inbound RTP (what we receive) and remote-inbound RTP (what the far end got from us). */
export function packetCounters(stats) {
  let received = 0, lost = 0;
  for (const s of stats) {
    if (s.type === "inbound-rtp") {
      received += s.packetsReceived ?? 0;
      lost += Math.max(0, s.packetsLost ?? 0);
    } else if (s.type === "remote-inbound-rtp") {
      lost += Math.max(0, s.packetsLost ?? 0);
      // remote-inbound has no "received" count; fractionLost covers it when present (see lossFraction)
    }
  }
  return { received, lost };
}

/** Loss over the interval between two counter snapshots (0..1), or null without traffic. */
export function lossFraction(prev, cur) {
  const received = cur.received - (prev?.received ?? 0);
  const lost = cur.lost - (prev?.lost ?? 0);
  const total = received + lost;
  if (total <= 0) return null;
  return Math.min(1, Math.max(0, lost / total));
}

/** "good" | "fair" | "poor" | "unknown" from rtt (ms) and loss (0..1). */
export function qualityLevel({ rtt = null, loss = null } = {}) {
  if (rtt === null && loss === null) return "unknown";
  const r = rtt ?? 0, l = loss ?? 0;
  if (r < 250 && l < 0.02) return "good";
  if (r < 500 && l < 0.08) return "fair";
  return "poor";
}

/** Audio level (0..1) per receiver mid from inbound audio stats. */
export function audioLevelsByMid(stats) {
  const out = {};
  for (const s of stats) {
    if (s.type === "inbound-rtp" && s.kind === "audio" && typeof s.audioLevel === "number" && s.mid !== undefined) {
      out[String(s.mid)] = s.audioLevel;
    }
  }
  return out;
}

/** The key with the highest level above `threshold`, or "" (nobody speaking). */
export function loudest(levels, threshold = 0.04) {
  let best = "", max = threshold;
  for (const [k, v] of Object.entries(levels)) {
    if (v > max) { best = k; max = v; }
  }
  return best;
}
