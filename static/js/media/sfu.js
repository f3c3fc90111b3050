// SFU session: one publisher and one subscriber connection per channeling connection (docs/sfu-signaling.md).
// Everything SFU-specific lives in this folder so that it can follow the server as its side lands; the controller
// only sees these events:
//   "available"              the SFU answered; media flows
//   "unavailable" {code, message}   no SFU (Error sfu_unavailable, no answer, or negotiation failed)
//   "track"   {session, source, kind, trackId, track, muted}
//   "removed" {session, source, kind, trackId}
//   "muted"   {session, source, kind, trackId, muted}
//   "unsupported" [{session, source, kind, trackId, codec}]   tracks this browser cannot decode (not sent; [] = none)
//   "speaker" sessionId ("" = nobody)
//   "quality" {rtt, loss, level}
//   "reaction" {session, emoji}   someone else's reaction (data channel "reactions" of the publisher connection)

import { Emitter } from "../util/emitter.js";
import { Publisher } from "./publisher.js";
import { Subscriber } from "./subscriber.js";
import { roundTripTime, packetCounters, lossFraction, qualityLevel, audioLevelsByMid, loudest } from "./stats.js";
import { layerRequest } from "../util/grid.js";

/** RTCConfiguration from the last Self (channeling-api §7.1): TURN only with credentials, STUN as given. */
export function rtcConfiguration(self) {
  const iceServers = [];
  const turn = self?.Turn;
  if (turn && Array.isArray(turn.urls) && turn.urls.length && turn.username) {
    iceServers.push({ urls: turn.urls, username: turn.username, credential: turn.password });
  }
  if (Array.isArray(self?.Stun) && self.Stun.length) iceServers.push({ urls: self.Stun });
  // BUNDLE and rtcp-mux are required by the SFU.
  return { iceServers, bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" };
}

const toEvent = (info, extra = {}) => ({
  session: info.Session ?? "", source: info.Source ?? "camera", kind: info.Kind ?? "video",
  trackId: info.Track ?? "", muted: !!info.Muted, ...extra,
});

export class SfuSession extends Emitter {
  constructor(channeling, { timeout = 8000 } = {}) {
    super();
    this.ch = channeling;
    this.timeout = timeout;
    this.publisher = null;
    this.subscriber = null;
    this.state = "idle"; // idle | starting | available | unavailable
    this.localStream = null;
    this.screenStream = null;
    this.muted = { microphone: false, camera: false };
    this.layerTimers = new Map();
    this.lastLayer = new Map();
    this.statsTimer = null;
    this.prevCounters = null;
    this.serverSpeakerAt = 0;
    this.offChanneling = channeling.on("message", (msg) => this.#onMessage(msg));
  }

  /** Start (or restart after a reconnect) with the local stream. Never throws: failures become "unavailable". */
  async start(localStream, selfDoc) {
    this.stop();
    this.localStream = localStream;
    this.state = "starting";
    const config = rtcConfiguration(selfDoc);
    if (typeof RTCPeerConnection === "undefined") {
      this.#unavailable({ code: "no_webrtc", message: "This browser does not support WebRTC." });
      return;
    }
    const generation = (this.generation = (this.generation ?? 0) + 1);
    try {
      this.subscriber = new Subscriber(this.ch, config, { timeout: this.timeout, selfId: selfDoc?.Id ?? "" });
      this.#wireSubscriber(this.subscriber);
      await this.subscriber.start();
      if (generation !== this.generation) return;
      this.config = config;
      await this.#publish();
      if (generation !== this.generation) return;
      this.state = "available";
      this.emit("available");
      this.#startStats();
    } catch (err) {
      if (generation !== this.generation) return;
      this.#unavailable(err);
    }
  }

  /**
   * Publish the microphone, camera and screen (whichever there are) on a fresh connection (at start, or when
   * renegotiating the existing one failed); the old one closes once the new one is answered. Screen sharing
   * otherwise renegotiates the existing connection (startScreen, Publisher.unpublish).
   */
  async #publish() {
    const generation = this.generation;
    const stream = this.localStream;
    const audio = stream?.getAudioTracks()[0];
    const video = stream?.getVideoTracks()[0];
    const screen = this.screenStream?.getVideoTracks()[0];
    if (!audio && !video && !screen) return;
    const next = new Publisher(this.ch, this.config, { timeout: this.timeout });
    next.onReaction = (reaction) => this.emit("reaction", reaction);
    if (audio) next.setTrack("microphone", audio, stream);
    if (video) next.setTrack("camera", video, stream);
    if (screen) next.setTrack("screen", screen, this.screenStream);
    try {
      await next.negotiate();
    } catch (err) {
      next.close();
      throw err;
    }
    if (generation !== this.generation) { next.close(); return; }
    const old = this.publisher;
    this.publisher = next;
    old?.close();
    // The SFU starts every track of a new publication unmuted.
    if (this.muted.microphone) next.setMuted("microphone", true);
    if (this.muted.camera) next.setMuted("camera", true);
  }

  /** Sends a reaction to the room over the publisher connection; false when there is none (no camera or microphone). */
  sendReaction(emoji) {
    return this.publisher?.sendReaction(emoji) ?? false;
  }

  #unavailable(err) {
    this.state = "unavailable";
    const code = err?.code ?? "error";
    this.stop({ keepState: true });
    this.emit("unavailable", { code, message: err?.message ?? String(code) });
  }

  #wireSubscriber(sub) {
    sub.on("track", (info, track) => this.emit("track", toEvent(info, { track })));
    sub.on("removed", (info) => this.emit("removed", toEvent(info)));
    sub.on("muted", (info) => this.emit("muted", toEvent(info)));
    sub.on("unsupported", (list) => this.emit("unsupported", list.map((info) => toEvent(info, { codec: info.Codec ?? "" }))));
    sub.on("error", (err) => console.warn("subscriber negotiation failed", err));
  }

  #onMessage(msg) {
    switch (msg.type) {
      case "SfuOffer":
        // Unsolicited re-offer (tracks came or went). Ignored unless we are subscribed.
        if (this.subscriber) this.subscriber.handleOffer(msg.data);
        break;
      case "SfuTracks":
        // Unsolicited (no Iid): the room's tracks changed; replies to SfuSubscribe reach the request instead.
        this.subscriber?.updateTracks(msg.data.Tracks);
        break;
      case "SfuSpeaker":
        this.serverSpeakerAt = Date.now();
        this.emit("speaker", (msg.data.Level ?? 127) < 127 ? msg.data.Session ?? "" : "");
        break;
      default:
    }
  }

  /** Mute/unmute a local source ("microphone" | "camera"). Works before the SFU is up (state is re-applied). */
  setMuted(source, muted) {
    this.muted[source] = !!muted;
    const track = source === "microphone" ? this.localStream?.getAudioTracks()[0] : this.localStream?.getVideoTracks()[0];
    if (track) track.enabled = !muted;
    this.publisher?.setMuted(source, muted);
  }

  /** Replace the local camera/microphone track (device switch) without renegotiating. */
  replaceTrack(source, track) {
    this.publisher?.transceivers[source]?.sender.replaceTrack(track);
  }

  async startScreen(stream) {
    this.screenStream = stream;
    if (this.state !== "available") return; // start() publishes it
    const screen = stream?.getVideoTracks()[0];
    if (this.publisher && screen) {
      // Renegotiate the existing connection: the camera and microphone go on untouched.
      try {
        this.publisher.setTrack("screen", screen, stream);
        await this.publisher.negotiate();
        return;
      } catch (err) {
        console.warn("adding the screen by renegotiation failed; publishing anew", err);
      }
    }
    await this.#publish();
  }

  async stopScreen() {
    this.screenStream = null;
    await this.publisher?.unpublish("screen");
  }

  /** The tile showing `trackId` is now w×h CSS pixels: ask for the matching simulcast layer (debounced). */
  setTileSize(trackId, width, height, dpr = 1) {
    if (!trackId || this.state !== "available") return;
    const req = layerRequest(width, height, dpr);
    const last = this.lastLayer.get(trackId);
    if (last && last.MaxWidth === req.MaxWidth && last.MaxHeight === req.MaxHeight) return;
    clearTimeout(this.layerTimers.get(trackId));
    this.layerTimers.set(trackId, setTimeout(() => {
      this.lastLayer.set(trackId, req);
      this.ch.send("SfuLayer", { Track: trackId, ...req });
    }, 300));
  }

  #startStats() {
    clearInterval(this.statsTimer);
    this.statsTimer = setInterval(() => this.#pollStats(), 2000);
  }

  async #pollStats() {
    try {
      const pub = this.publisher ? [...(await this.publisher.getStats()).values()] : [];
      const sub = this.subscriber ? [...(await this.subscriber.getStats()).values()] : [];
      const all = [...pub, ...sub];
      const counters = packetCounters(all);
      const loss = lossFraction(this.prevCounters, counters);
      this.prevCounters = counters;
      const rtt = roundTripTime(pub) ?? roundTripTime(sub);
      this.emit("quality", { rtt, loss, level: qualityLevel({ rtt, loss }) });
      // Local active-speaker fallback when the server sends no SfuSpeaker.
      if (Date.now() - this.serverSpeakerAt > 5000 && this.subscriber) {
        const levels = {};
        for (const [mid, level] of Object.entries(audioLevelsByMid(sub))) {
          const session = this.subscriber.sessionForMid(mid);
          if (session) levels[session] = Math.max(levels[session] ?? 0, level);
        }
        this.emit("speaker", loudest(levels));
      }
    } catch { /* a closed connection mid-poll */ }
  }

  /** Stop both connections (leave, or before a restart). */
  stop({ keepState = false } = {}) {
    // Invalidate a start() still waiting for the server, so it cannot publish after we stopped.
    if (!keepState) this.generation = (this.generation ?? 0) + 1;
    clearInterval(this.statsTimer);
    this.statsTimer = null;
    for (const t of this.layerTimers.values()) clearTimeout(t);
    this.layerTimers.clear();
    this.lastLayer.clear();
    this.prevCounters = null;
    // Remote tiles must drop their tracks: a new subscriber connection brings new ones.
    for (const info of this.subscriber?.byMid.values() ?? []) this.emit("removed", toEvent(info));
    this.publisher?.close();
    this.subscriber?.close();
    this.publisher = null;
    this.subscriber = null;
    if (!keepState) this.state = "idle";
  }

  /** Tear down for good (leaving the room). */
  dispose() {
    this.generation = (this.generation ?? 0) + 1;
    this.stop();
    this.offChanneling();
  }
}
