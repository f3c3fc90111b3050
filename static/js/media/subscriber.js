// Subscriber peer connection (docs/sfu-signaling.md): we offer one recvonly transceiver per track the room
// publishes, the SFU answers and tells us which mid carries which track. When the room's tracks change (SfuTracks)
// we re-offer on the same connection (renegotiation: kept mids go on untouched, new tracks get new or freed
// transceivers). Only when that fails, or before the first connection, is a fresh connection negotiated (the old
// one closed once the new one is up).

import { Emitter } from "../util/emitter.js";
import { waitForGathering } from "./publisher.js";

export class Subscriber extends Emitter {
  constructor(channeling, rtcConfig, { timeout = 8000, selfId = "" } = {}) {
    super();
    this.ch = channeling;
    this.timeout = timeout;
    this.rtcConfig = rtcConfig;
    this.selfId = selfId;
    this.pc = null;
    this.byMid = new Map(); // mid → {Track, Mid, Session, Kind, Source, Muted}
    this.queue = Promise.resolve();
    this.closed = false;
  }

  /** Ask for the room's track list and subscribe to it. Rejects with {code} (e.g. sfu_unavailable, timeout). */
  async start() {
    const reply = await this.ch.request("SfuSubscribe", {}, { timeout: this.timeout });
    if (reply.Type === "Error") throw { code: reply.Code, message: reply.Message };
    if (reply.Type !== "SfuTracks") throw { code: "bad_reply", message: `unexpected ${reply.Type}` };
    await this.#enqueue(() => this.#sync(reply.Tracks ?? []));
  }

  /** SfuTracks broadcast: the room's tracks changed (published, muted, gone). */
  updateTracks(list) {
    return this.#enqueue(() => this.#sync(list ?? []));
  }

  /** Kept for the older server-offer flow; the SFU now answers our offers instead. */
  handleOffer() { return Promise.resolve(); }

  #enqueue(fn) {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch((err) => this.emit("error", err));
    return p;
  }

  async #sync(list) {
    if (this.closed) return;
    const wanted = list.filter((t) => t && t.Session !== this.selfId);
    const current = new Set([...this.byMid.values()].map((t) => t.Track));
    const same = wanted.length === current.size && wanted.every((t) => current.has(t.Track));
    if (same) {
      for (const t of wanted) {
        for (const [mid, old] of this.byMid) {
          if (old.Track === t.Track && old.Muted !== t.Muted) {
            const info = { ...old, Muted: t.Muted };
            this.byMid.set(mid, info);
            this.emit("muted", info);
          }
        }
      }
      return;
    }
    if (this.pc && !["failed", "closed"].includes(this.pc.connectionState)) {
      try {
        await this.#renegotiate(wanted);
        return;
      } catch (err) {
        console.warn("subscriber renegotiation failed; negotiating a new connection", err);
      }
    }
    const oldPc = this.pc;
    const oldTracks = [...this.byMid.values()];
    if (!wanted.length) {
      this.pc = null;
      this.byMid = new Map();
      for (const info of oldTracks) this.emit("removed", info);
      oldPc?.close();
      return;
    }
    const pc = new RTCPeerConnection(this.rtcConfig);
    pc.addEventListener("connectionstatechange", () => this.emit("state", pc.connectionState));
    for (const t of wanted) pc.addTransceiver(t.Kind === "audio" ? "audio" : "video", { direction: "recvonly" });
    await pc.setLocalDescription(await pc.createOffer());
    await waitForGathering(pc, 500);
    const reply = await this.ch.request("SfuSubscribe", { Offer: { type: "offer", sdp: pc.localDescription.sdp } },
      { timeout: this.timeout });
    if (reply.Type === "Error") { pc.close(); throw { code: reply.Code, message: reply.Message }; }
    if (reply.Type !== "SfuAnswer" || !reply.Answer?.sdp) { pc.close(); throw { code: "bad_reply", message: `unexpected ${reply.Type}` }; }
    await pc.setRemoteDescription({ type: "answer", sdp: reply.Answer.sdp });
    if (this.closed) { pc.close(); return; }
    const next = new Map();
    for (const t of reply.Tracks ?? []) if (t && t.Mid !== undefined && t.Mid !== null) next.set(String(t.Mid), t);
    // Tracks in a codec this browser cannot decode are not sent at all; say so rather than show nothing silently.
    this.emit("unsupported", Array.isArray(reply.Unsupported) ? reply.Unsupported : []);
    this.pc = pc;
    this.byMid = next;
    for (const info of oldTracks) this.emit("removed", info);
    for (const tr of pc.getTransceivers()) {
      const info = tr.mid !== null ? next.get(String(tr.mid)) : null;
      if (info) this.emit("track", info, tr.receiver.track);
    }
    // The old connection keeps playing until the new one is connected (or 3 s have passed).
    if (oldPc) {
      const closeOld = () => { try { oldPc.close(); } catch { /* closed */ } };
      if (pc.connectionState === "connected") closeOld();
      else {
        const timer = setTimeout(closeOld, 3000);
        pc.addEventListener("connectionstatechange", () => {
          if (pc.connectionState === "connected") { clearTimeout(timer); closeOld(); }
        });
      }
    }
  }

  /** Re-offer on the current connection with enough recvonly transceivers per kind for `wanted`. */
  async #renegotiate(wanted) {
    const pc = this.pc;
    for (const kind of ["audio", "video"]) {
      const need = wanted.filter((t) => (t.Kind === "audio" ? "audio" : "video") === kind).length;
      const have = pc.getTransceivers().filter((tr) => !tr.stopped && tr.receiver.track.kind === kind).length;
      for (let i = have; i < need; i++) pc.addTransceiver(kind, { direction: "recvonly" });
    }
    await pc.setLocalDescription(await pc.createOffer());
    const reply = await this.ch.request("SfuSubscribe", { Offer: { type: "offer", sdp: pc.localDescription.sdp } },
      { timeout: this.timeout });
    if (reply.Type === "Error") throw { code: reply.Code, message: reply.Message };
    if (reply.Type !== "SfuAnswer" || !reply.Answer?.sdp) throw { code: "bad_reply", message: `unexpected ${reply.Type}` };
    if (!reply.Renegotiated) {
      // The server made a new transport (it had dropped ours): this connection cannot take that answer.
      throw { code: "not_renegotiated", message: "the server answered with a new connection" };
    }
    await pc.setRemoteDescription({ type: "answer", sdp: reply.Answer.sdp });
    if (this.closed || pc !== this.pc) return;
    const next = new Map();
    for (const t of reply.Tracks ?? []) if (t && t.Mid !== undefined && t.Mid !== null) next.set(String(t.Mid), t);
    // Tracks in a codec this browser cannot decode are not sent at all; say so rather than show nothing silently.
    this.emit("unsupported", Array.isArray(reply.Unsupported) ? reply.Unsupported : []);
    const old = this.byMid;
    this.byMid = next;
    for (const [mid, info] of old) if (next.get(mid)?.Track !== info.Track) this.emit("removed", info);
    for (const tr of pc.getTransceivers()) {
      const info = tr.mid !== null ? next.get(String(tr.mid)) : null;
      if (!info) continue;
      const before = old.get(String(tr.mid));
      if (before?.Track !== info.Track) this.emit("track", info, tr.receiver.track);
      else if (before.Muted !== info.Muted) this.emit("muted", info);
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
    return this.pc ? this.pc.getStats() : Promise.resolve(new Map());
  }

  close() {
    this.closed = true;
    try { this.pc?.close(); } catch { /* already closed */ }
  }
}
