// Subscriber peer connection (docs/sfu-signaling.md): the SFU offers one sendonly transceiver per forwarded track
// and re-offers on the same connection when tracks come and go; we answer. `Tracks` in each offer maps mids to
// publishers, which is how a remote track finds its tile.

import { Emitter } from "../util/emitter.js";
import { waitForGathering } from "./publisher.js";

export class Subscriber extends Emitter {
  constructor(channeling, rtcConfig, { timeout = 8000 } = {}) {
    super();
    this.ch = channeling;
    this.timeout = timeout;
    this.pc = new RTCPeerConnection(rtcConfig);
    this.byMid = new Map(); // mid → {Track, Mid, Session, Kind, Source, Muted}
    this.queue = Promise.resolve();
    this.pc.addEventListener("connectionstatechange", () => this.emit("state", this.pc.connectionState));
  }

  /** Ask for the subscriber offer. Rejects with {code} (e.g. sfu_unavailable, timeout). */
  async start() {
    const reply = await this.ch.request("SfuSubscribe", {}, { timeout: this.timeout });
    if (reply.Type === "Error") throw { code: reply.Code, message: reply.Message };
    if (reply.Type !== "SfuOffer") throw { code: "bad_reply", message: `unexpected ${reply.Type}` };
    await this.handleOffer(reply);
  }

  handleOffer(doc) {
    const run = () => this.#answer(doc);
    const p = this.queue.then(run, run);
    this.queue = p.catch((err) => this.emit("error", err));
    return p;
  }

  async #answer(doc) {
    if (!doc?.Offer?.sdp) return;
    const next = new Map();
    for (const t of doc.Tracks ?? []) if (t && t.Mid !== undefined) next.set(String(t.Mid), t);
    await this.pc.setRemoteDescription({ type: "offer", sdp: doc.Offer.sdp });
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    await waitForGathering(this.pc, 500);
    this.ch.send("SfuAnswer", { Answer: { type: "answer", sdp: this.pc.localDescription.sdp }, Version: doc.Version });

    // Tracks that vanished from the offer, or whose mid now carries another publisher's track.
    for (const [mid, old] of this.byMid) {
      const now = next.get(mid);
      if (!now || now.Track !== old.Track) this.emit("removed", old);
    }
    for (const tr of this.pc.getTransceivers()) {
      const info = tr.mid !== null ? next.get(String(tr.mid)) : null;
      if (!info) continue;
      const old = this.byMid.get(String(tr.mid));
      if (!old || old.Track !== info.Track) this.emit("track", info, tr.receiver.track);
      else if (old.Muted !== info.Muted) this.emit("muted", info);
    }
    this.byMid = next;
  }

  /** SfuTracks: mute flags changed without renegotiation. */
  updateTracks(list) {
    for (const t of list ?? []) {
      const old = this.byMid.get(String(t.Mid));
      if (!old) continue;
      if (old.Muted !== t.Muted) {
        const info = { ...old, ...t };
        this.byMid.set(String(t.Mid), info);
        this.emit("muted", info);
      }
    }
  }

  trackInfo(trackId) {
    for (const t of this.byMid.values()) if (t.Track === trackId) return t;
    return null;
  }

  sessionForMid(mid) {
    return this.byMid.get(String(mid))?.Session ?? "";
  }

  getStats() {
    return this.pc.getStats();
  }

  close() {
    try { this.pc.close(); } catch { /* already closed */ }
  }
}
