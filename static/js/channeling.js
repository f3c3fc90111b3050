// WebSocket client for the channeling protocol (channeling-api.md). Owns the socket, the Iid request/response
// matching (§2: a frame with an Iid goes only to its pending request), keep-alive (§6.10) and reconnection with
// backoff. It knows nothing about rooms: the controller listens to its events.
//
// No DOM use: the WebSocket constructor and timers are injectable so that node can drive it with a fake socket.

import { encode, decode, alivePayload } from "./protocol.js";
import { backoffDelay } from "./util/backoff.js";
import { Emitter } from "./util/emitter.js";

export class Channeling extends Emitter {
  /**
   * @param {object} opts
   * @param {() => string} opts.url        current socket URL (the token changes with every Self)
   * @param {typeof WebSocket} [opts.WebSocket]
   * @param {number} [opts.requestTimeout] ms before a request fails with code "timeout"
   * @param {number} [opts.aliveInterval]  ms of silence before we send Alive
   * @param {number} [opts.deadAfter]      ms of silence after which the socket is considered dead
   */
  constructor({ url, WebSocket: WS = globalThis.WebSocket, requestTimeout = 10000, aliveInterval = 5000,
    deadAfter = 12000, random = Math.random, now = () => Date.now() } = {}) {
    super();
    this.url = url;
    this.WS = WS;
    this.requestTimeout = requestTimeout;
    this.aliveInterval = aliveInterval;
    this.deadAfter = deadAfter;
    this.random = random;
    this.now = now;
    this.socket = null;
    this.nextIid = 0; // one counter per page load, shared by all requests (like the original client, §8)
    this.pending = new Map();
    this.attempt = 0;
    this.stopped = false;
    this.everOpened = false;
    this.lastFrame = 0;
    this.rtt = null; // last Alive round trip in ms (fallback connection-quality figure)
    this.reconnectTimer = null;
    this.keepaliveTimer = null;
  }

  get connected() {
    return this.socket !== null && this.socket.readyState === 1;
  }

  connect() {
    this.stopped = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    let socket;
    try {
      socket = new this.WS(this.url());
    } catch (err) {
      this.#scheduleReconnect();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.everOpened = true;
      this.attempt = 0;
      this.lastFrame = this.now();
      this.#startKeepalive();
      this.emit("open");
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this.lastFrame = this.now();
      if (typeof event.data !== "string") return; // binary frames have no meaning in this protocol
      this.#handleFrame(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.#stopKeepalive();
      this.#failPending("disconnected");
      this.emit("close", { wasOpen: opened, code: event?.code });
      if (!this.stopped) this.#scheduleReconnect();
    };
    socket.onerror = () => {
      // The close event follows; nothing else to do. (Browsers give no details here on purpose.)
    };
  }

  /** Close for good (leaving the room). */
  close() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.#stopKeepalive();
    const s = this.socket;
    this.socket = null;
    this.#failPending("disconnected");
    if (s) {
      try { s.close(1000); } catch { /* already closing */ }
    }
  }

  /** Drop the current socket and reconnect at once (used when the connection looks dead). */
  reconnectNow() {
    const s = this.socket;
    if (s) {
      this.socket = null;
      this.#stopKeepalive();
      this.#failPending("disconnected");
      try { s.close(4000); } catch { /* ignore */ }
      this.emit("close", { wasOpen: true, code: 4000 });
    }
    this.attempt = 0;
    this.connect();
  }

  /** Fire-and-forget message. Returns false when not connected (the caller re-sends state after reconnect). */
  send(type, payload) {
    if (!this.connected) return false;
    this.socket.send(encode(type, payload));
    return true;
  }

  /**
   * Request with an Iid; resolves with the reply document (`Data`), which may be an `Error` document: callers decide.
   * Rejects with {code:"timeout"} or {code:"disconnected"}.
   */
  request(type, payload, { timeout = this.requestTimeout } = {}) {
    if (!this.connected) return Promise.reject({ code: "disconnected" });
    const iid = String(this.nextIid++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(iid);
        reject({ code: "timeout" });
      }, timeout);
      this.pending.set(iid, { resolve, reject, timer });
      this.socket.send(encode(type, payload, iid));
    });
  }

  #handleFrame(text) {
    const msg = decode(text);
    if (!msg) return;
    if (msg.iid !== undefined) {
      // channeling-api §2: a reply goes only to its request callback, never to the general handlers.
      const p = this.pending.get(msg.iid);
      if (p) {
        this.pending.delete(msg.iid);
        clearTimeout(p.timer);
        p.resolve(msg.data, msg);
      }
      return;
    }
    if (msg.type === "Self") this.emit("self", msg.data);
    this.emit("message", msg);
  }

  #failPending(code) {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject({ code });
    }
    this.pending.clear();
  }

  #scheduleReconnect() {
    if (this.stopped || this.reconnectTimer) return;
    const delay = backoffDelay(this.attempt++, { random: this.random });
    this.emit("reconnecting", { delay, attempt: this.attempt, everOpened: this.everOpened });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  #startKeepalive() {
    this.#stopKeepalive();
    const tick = () => {
      if (!this.connected) return;
      const silent = this.now() - this.lastFrame;
      if (silent >= this.deadAfter) {
        // A half-open TCP connection never fires close: treat long silence (Alive unanswered) as a drop.
        this.reconnectNow();
        return;
      }
      // Alive with an Iid doubles as an RTT probe for the connection-quality indicator.
      const sent = this.now();
      this.request("Alive", alivePayload(sent), { timeout: this.deadAfter }).then(() => {
        this.rtt = this.now() - sent;
        this.emit("rtt", this.rtt);
      }, () => {});
    };
    this.keepaliveTimer = setInterval(tick, this.aliveInterval);
  }

  #stopKeepalive() {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }
}
