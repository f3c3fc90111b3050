// Publisher peer connection (docs/sfu-signaling.md): we offer sendonly transceivers, the SFU answers.
// Sources: "microphone", "camera" (simulcast q/h/f where the browser allows), "screen" (a second video track).
// Also carries the "reactions" data channel (./reactions.js).
import { REACTIONS_LABEL, decodeReaction, encodeReaction } from "./reactions.js";

const SIMULCAST = [
  { rid: "q", scaleResolutionDownBy: 4 },
  { rid: "h", scaleResolutionDownBy: 2 },
  { rid: "f" },
];

/** Whether the answer's media section `mid` accepted simulcast (RFC 8853: it answers with its own a=simulcast). */
export function answerAcceptsSimulcast(sdp, mid) {
  const section = String(sdp).split(/\r?\nm=/).find((m) => m.split(/\r?\n/).includes(`a=mid:${mid}`));
  return !!section && /\r?\na=simulcast:/.test(section);
}

/** Wait until ICE gathering completes, at most `ms`: the SFU takes no trickled candidates (ICE lite). */
export function waitForGathering(pc, ms = 1000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export class Publisher {
  constructor(channeling, rtcConfig, { timeout = 8000 } = {}) {
    this.ch = channeling;
    this.timeout = timeout;
    this.pc = new RTCPeerConnection(rtcConfig);
    this.transceivers = {}; // source → RTCRtpTransceiver
    this.queue = Promise.resolve(); // negotiations must not overlap
    this.simulcast = false;
    this.onReaction = null; // ({session, emoji}) => void
    // Created before the first offer, so that the offer has its m=application section.
    this.reactions = this.pc.createDataChannel?.(REACTIONS_LABEL) ?? null;
    if (this.reactions) {
      this.reactions.onmessage = (e) => {
        const reaction = decodeReaction(e.data);
        if (reaction) this.onReaction?.(reaction);
      };
    }
  }

  /** Sends a reaction to the room; false when it cannot go (unknown emoji, channel not open). */
  sendReaction(emoji) {
    const text = encodeReaction(emoji);
    if (!text || this.reactions?.readyState !== "open") return false;
    this.reactions.send(text);
    return true;
  }

  /** Attach (or replace) the track for a source. Call negotiate() afterwards when a transceiver was added. */
  setTrack(source, track, stream) {
    const existing = this.transceivers[source];
    if (existing) {
      existing.direction = "sendonly";
      existing.sender.replaceTrack(track);
      return false;
    }
    const init = { direction: "sendonly", streams: stream ? [stream] : [] };
    let tr;
    if (source === "camera") {
      try {
        tr = this.pc.addTransceiver(track, { ...init, sendEncodings: SIMULCAST });
        this.simulcast = true;
      } catch {
        // Older engines reject rid encodings: publish a single layer rather than nothing.
        tr = this.pc.addTransceiver(track, init);
      }
    } else {
      tr = this.pc.addTransceiver(track, init);
    }
    if (source === "screen") {
      // Screen content: keep text sharp rather than keep the frame rate.
      try { track.contentHint = "detail"; } catch { /* not supported */ }
    }
    this.transceivers[source] = tr;
    return true;
  }

  /** Tracks entries for SfuPublish: only transceivers that currently carry a track. */
  tracks() {
    return Object.entries(this.transceivers)
      .filter(([, tr]) => tr.mid !== null && tr.sender.track)
      .map(([source, tr]) => ({ Mid: tr.mid, Kind: tr.sender.track.kind, Source: source }));
  }

  negotiate() {
    const run = async () => {
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      await waitForGathering(this.pc);
      const reply = await this.ch.request("SfuPublish", {
        Offer: { type: "offer", sdp: this.pc.localDescription.sdp },
        Tracks: this.tracks(),
      }, { timeout: this.timeout });
      if (reply.Type === "Error") throw { code: reply.Code, message: reply.Message };
      if (reply.Type !== "SfuAnswer" || !reply.Answer?.sdp) throw { code: "bad_reply", message: `unexpected ${reply.Type}` };
      await this.pc.setRemoteDescription({ type: "answer", sdp: reply.Answer.sdp });
      this.#checkSimulcast(reply.Answer.sdp);
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  /**
   * A server that refuses simulcast leaves the browser sending only the first encoding, the quarter-size one (320x180
   * from a 720p camera). Send the middle layer's size instead: one stream for every tile size.
   */
  #checkSimulcast(answerSdp) {
    const tr = this.transceivers.camera;
    if (!this.simulcast || !tr || tr.mid === null || answerAcceptsSimulcast(answerSdp, tr.mid)) return;
    this.simulcast = false;
    const single = SIMULCAST[1].scaleResolutionDownBy;
    const params = tr.sender.getParameters();
    if (params.encodings?.length === 1 && params.encodings[0].scaleResolutionDownBy !== single) {
      params.encodings[0].scaleResolutionDownBy = single;
      tr.sender.setParameters(params).catch((err) => console.warn("full-size camera encoding refused", err));
    }
  }

  mid(source) {
    return this.transceivers[source]?.mid ?? null;
  }

  /** Pause a source for everyone: the track sends silence/black locally and the SFU is told to stop forwarding. */
  setMuted(source, muted) {
    const tr = this.transceivers[source];
    if (!tr) return;
    if (tr.sender.track) tr.sender.track.enabled = !muted;
    if (tr.mid !== null) this.ch.send("SfuMute", { Mid: tr.mid, Muted: !!muted });
  }

  /**
   * Stop a source (screen share ended). The transceiver goes inactive on the same connection (renegotiation) and is
   * reused by the next share; the SFU drops the track. Should the renegotiation fail, SfuUnpublish still tells the
   * room that the track ended.
   */
  async unpublish(source) {
    const tr = this.transceivers[source];
    if (!tr) return;
    await tr.sender.replaceTrack(null);
    if (tr.mid === null) return;
    tr.direction = "inactive";
    try {
      await this.negotiate();
    } catch (err) {
      console.warn("renegotiation failed; unpublishing by message", err);
      this.ch.send("SfuUnpublish", { Mid: tr.mid });
    }
  }

  getStats() {
    return this.pc.getStats();
  }

  close() {
    try { this.pc.close(); } catch { /* already closed */ }
  }
}
