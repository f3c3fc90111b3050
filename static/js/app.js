// The room controller: wires the channeling client, the room state, the SFU session and the UI together.
// Protocol rules it follows are cited from channeling-api.md (§n) and docs/sfu-signaling.md.

import { Channeling } from "./channeling.js";
import { Store, participantList } from "./room.js";
import { helloPayload, statusDocument, statusPayload, authenticationPayload, chatMessage, chatDelivered, chatSeen, chatTyping, classifyChat, errorText } from "./protocol.js";
import { websocketURL, roomURL, roomPath } from "./util/url.js";
import { displayName } from "./util/avatar.js";
import { randomHex } from "./util/ids.js";
import { load, save } from "./util/storage.js";
import { h } from "./util/dom.js";
import { metrics } from "./util/metrics.js";
import { qualityLevel } from "./media/stats.js";
import { SfuSession } from "./media/sfu.js";
import { getScreen, stopStream } from "./media/devices.js";
import { Notices } from "./ui/notices.js";
import { JoinScreen } from "./ui/join.js";
import { RoomView } from "./ui/roomview.js";
import { ProfileDialog } from "./ui/profile.js";
import { askText } from "./ui/ask.js";

const TYPING_REPEAT_MS = 4000; // re-send "start" while typing, so a receiver that missed one still shows it
const TYPING_IDLE_MS = 3000; // stop after this long without input
const TYPING_EXPIRE_MS = 10000; // a received "start" expires if its "stop" got lost

export class App {
  constructor({ context, room, root, baseHref }) {
    this.ctx = context;
    this.cfg = context.Cfg;
    this.room = room;
    this.root = root;
    this.baseHref = baseHref;
    this.store = new Store();
    this.notices = new Notices(root);
    this.prefs = { name: "", cameraId: "", micId: "", videoOff: false, audioOff: false, ...load("prefs", {}) };
    this.profile = { message: load("message", "") ?? "", picture: load("picture", null) };
    this.token = load("token", null, "session");
    this.pin = load(`pin:${room}`, null, "session");
    this.usersEnabled = !!(this.cfg.UsersEnabled && this.cfg.UsersMode === "sharedsecret" && this.cfg.UsersAllowRegistration);
    this.loginKey = `login.${this.cfg.UsersMode}`;
    this.wantJoined = false;
    this.previewPending = false; // requestJoin is waiting for the camera/microphone preview; it says Hello itself
    this.connSelf = false; // a Self has arrived on the current socket
    this.selfDoc = null;
    this.view = null;
    this.join = null;
    this.localStream = null;
    this.screenStream = null;
    this.remote = new Map(); // SFU track id → {session, source, kind, track, stream, muted}
    this.audioBox = h("div", { class: "remote-audio", hidden: true });
    root.append(this.audioBox);
    this.pendingSeen = new Map();
    this.typingTimers = new Map();
    this.unread = 0;
    this.mediaQualityAt = 0;
    this.hadConnection = false;

    this.ch = new Channeling({
      url: () => websocketURL({ ssl: this.ctx.Ssl, host: this.ctx.Host, basePath: this.cfg.B, token: this.token }),
    });
    this.sfu = new SfuSession(this.ch);
    this.profileDialog = new ProfileDialog(root, { onSave: (p) => this.saveProfile(p) });
    this.#wire();
  }

  start() {
    this.showJoin();
    this.ch.connect();
    // A reload while in the call (same tab) goes straight back in with the same identity.
    if (load(`joined:${this.room}`, false, "session") && this.prefs.name) this.requestJoin({ ...this.prefs });
    document.addEventListener("visibilitychange", () => this.flushSeen());
  }

  // ---------------------------------------------------------------------------------------------------------------
  // channeling events

  #wire() {
    this.ch.on("open", () => {
      this.connSelf = false;
      this.hadConnection = true;
    });
    this.ch.on("self", (doc) => this.onSelf(doc));
    this.ch.on("message", (msg) => this.onMessage(msg));
    this.ch.on("close", () => {
      this.connSelf = false;
      if (this.view) {
        this.notices.set("offline", "Connection lost. Reconnecting…", { level: "warn" });
        this.sfu.stop();
        this.store.dispatch({ type: "disconnected" });
      }
    });
    this.ch.on("reconnecting", ({ delay, everOpened }) => {
      const secs = Math.max(1, Math.round(delay / 1000));
      if (!everOpened) {
        this.notices.set("offline", `Cannot reach the server. Retrying in ${secs} s…`, { level: "error" });
      } else if (this.view) {
        this.notices.set("offline", `Connection lost. Reconnecting in ${secs} s…`, { level: "warn" });
      } else {
        this.notices.set("offline", `Connection to the server lost. Retrying in ${secs} s…`, { level: "warn" });
      }
    });
    this.ch.on("rtt", (rtt) => {
      // Without media stats (no SFU), the signaling round trip is the best connection figure we have.
      if (this.view && Date.now() - this.mediaQualityAt > 5000) {
        this.view.setQuality({ level: qualityLevel({ rtt }), rtt, loss: null, label: "Server connection" });
      }
    });

    this.sfu.on("available", () => {
      metrics.mark("sfu-available");
      this.notices.clear("sfu");
    });
    this.sfu.on("unavailable", ({ code }) => {
      if (!this.view) return;
      const why = code === "sfu_unavailable" ? "" : code === "timeout" ? " (no answer from the server)" : ` (${code})`;
      this.notices.set("sfu", `Video service unavailable${why}. Chat and the participant list still work.`, { level: "warn" });
    });
    this.sfu.on("unsupported", (list) => {
      if (!list.length) { this.notices.clear("codec"); return; }
      const codecs = [...new Set(list.map((e) => e.codec).filter(Boolean))].join(", ");
      const what = list.length === 1 ? "One video" : `${list.length} videos`;
      this.notices.set("codec", `${what} in this room use a format this browser cannot play (${codecs}).`, { level: "warn" });
    });
    this.sfu.on("track", (e) => {
      metrics.mark(`first-remote-${e.kind}-track`);
      const stream = new MediaStream([e.track]);
      this.remote.set(e.trackId, { ...e, stream });
      if (e.kind === "audio") {
        const audio = h("audio", { autoplay: true, dataset: { track: e.trackId, session: e.session } });
        audio.srcObject = stream;
        this.audioBox.append(audio);
        audio.play?.().catch(() => {});
      }
      this.scheduleRender();
    });
    this.sfu.on("removed", (e) => this.#dropRemote(e.trackId));
    this.sfu.on("muted", (e) => {
      const r = this.remote.get(e.trackId);
      if (r) r.muted = e.muted;
      this.scheduleRender();
    });
    this.sfu.on("speaker", (id) => this.store.dispatch({ type: "speaker", id }));
    this.sfu.on("reaction", ({ session, emoji }) => this.view?.showReaction(session, emoji));
    this.sfu.on("quality", (q) => {
      if (!this.view || (q.rtt === null && q.loss === null)) return;
      this.mediaQualityAt = Date.now();
      this.view.setQuality({ ...q, label: "Media connection" });
    });
    this.store.on("change", () => this.scheduleRender());
  }

  #dropRemote(trackId) {
    if (!this.remote.delete(trackId)) return;
    this.audioBox.querySelector(`audio[data-track="${CSS.escape(trackId)}"]`)?.remove();
    this.scheduleRender();
  }

  onSelf(doc) {
    const first = !this.connSelf;
    this.connSelf = true;
    this.selfDoc = doc;
    this.token = doc.Token || this.token;
    save("token", this.token, "session");
    this.store.dispatch({ type: "self", id: doc.Id, userid: doc.Userid ?? "" });
    this.notices.clear("offline");
    if (this.cfg.Version && doc.Version && doc.Version !== this.cfg.Version) {
      this.notices.set("version", "The server was updated. Reload the page to get the new version.", {
        level: "warn", action: { label: "Reload", run: () => location.reload() } });
    }
    this.renderSignIn();
    if (!first) return; // a Self after Authentication or a refresh: identity details only
    this.sendStatus();
    if (this.usersEnabled && !doc.Userid && load(this.loginKey, null)) this.resumeLogin();
    // Not before the preview is ready: entering the room takes its stream, and an early Hello would join without it.
    if (this.wantJoined && !this.previewPending) this.hello();
  }

  onMessage(msg) {
    const d = msg.data;
    switch (msg.type) {
      case "Joined":
        if (d.Id !== this.store.state.selfId) this.store.dispatch({ type: "joined", doc: d });
        break;
      case "Left":
        if (d.Id === this.store.state.selfId) break;
        this.store.dispatch({ type: "left", id: d.Id });
        for (const [trackId, r] of this.remote) if (r.session === d.Id) this.#dropRemote(trackId);
        break;
      case "Status":
        if (d.Id !== this.store.state.selfId) this.store.dispatch({ type: "status", doc: d });
        break;
      case "Chat":
        this.onChat(msg);
        break;
      case "Room":
        // Someone changed the room PIN (§6.4): everyone learns it, cache it for our reconnects.
        if (d.Credentials && typeof d.Credentials === "object") {
          this.pin = d.Credentials.PIN || null;
          save(`pin:${this.room}`, this.pin, "session");
          this.notices.set("pin", this.pin ? "The room is now protected by a PIN." : "The room PIN was removed.", { timeout: 5000 });
        }
        break;
      case "Error":
        console.warn("server error", d.Code, d.Message);
        break;
      default:
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // joining

  showJoin() {
    this.join = new JoinScreen(this.root, {
      roomName: this.room,
      askRoom: this.room === "" && !this.cfg.DefaultRoomEnabled,
      prefs: this.prefs,
      onPrefs: (p) => { this.prefs = { ...this.prefs, ...p }; save("prefs", this.prefs); },
      onJoin: (p) => this.requestJoin(p),
      onPin: (pin) => { this.pin = pin; this.hello(); },
    });
    this.notices.moveTo(this.root);
    this.renderSignIn();
  }

  async requestJoin(prefs) {
    if (prefs.room) {
      this.room = prefs.room;
      history.replaceState(null, "", roomPath(this.room));
      this.pin = load(`pin:${this.room}`, null, "session");
    }
    this.prefs = { ...this.prefs, ...prefs };
    delete this.prefs.room;
    save("prefs", this.prefs);
    this.wantJoined = true;
    this.join?.setBusy(true);
    this.previewPending = true;
    try {
      await this.join?.ready;
    } finally {
      this.previewPending = false;
    }
    if (this.connSelf) {
      this.sendStatus(); // the name may have just been typed
      this.hello();
    } else if (this.join) {
      this.join.status.textContent = "Connecting to the server…";
    }
  }

  async hello() {
    let reply;
    try {
      reply = await this.ch.request("Hello", helloPayload({ room: this.room, version: this.cfg.Version,
        ua: "Rooms web client", pin: this.pin }), { timeout: 10000 });
    } catch (err) {
      if (err.code === "timeout") this.join?.showError(errorText("timeout"));
      return; // "disconnected": the next Self re-sends Hello
    }
    if (reply.Type === "Welcome") {
      this.onWelcome(reply);
      return;
    }
    const code = reply.Type === "Error" ? reply.Code : "unexpected";
    switch (code) {
      case "authorization_required":
        this.#forgetPin();
        this.#backToJoin().showPin(errorText(code));
        break;
      case "invalid_credentials":
        this.#forgetPin();
        this.#backToJoin().showPin(errorText(code));
        break;
      case "authorization_not_required":
        // The room lost its PIN (or never had one): retry without (§6.2).
        this.#forgetPin();
        this.hello();
        break;
      default:
        this.wantJoined = false;
        save(`joined:${this.room}`, false, "session");
        this.#backToJoin().showError(errorText(code));
    }
  }

  #forgetPin() {
    this.pin = null;
    save(`pin:${this.room}`, null, "session");
  }

  #backToJoin() {
    if (this.view) this.#leaveRoomView();
    if (!this.join) this.showJoin();
    return this.join;
  }

  onWelcome(w) {
    metrics.mark("welcome");
    save(`pin:${this.room}`, this.pin, "session");
    save(`joined:${this.room}`, true, "session");
    const reconnect = !!this.view;
    this.store.dispatch({ type: "welcome", room: w.Room, users: w.Users });
    this.#dispatchLocalStatus();
    if (!this.view) this.#enterRoom();
    if (reconnect) this.notices.set("offline", "Reconnected.", { timeout: 3000 });
    // Publish and subscribe again on every (re)join: the server forgets media with the old connection.
    this.sfu.start(this.localStream, this.selfDoc);
    this.sfu.setMuted("microphone", this.prefs.audioOff);
    this.sfu.setMuted("camera", this.prefs.videoOff);
  }

  #enterRoom() {
    const { stream, videoError, audioError } = this.join.takeStream();
    this.join.destroy();
    this.join = null;
    this.localStream = stream;
    stream.getAudioTracks().forEach((t) => { t.enabled = !this.prefs.audioOff; });
    stream.getVideoTracks().forEach((t) => { t.enabled = !this.prefs.videoOff; });
    this.view = new RoomView(this.root, {
      roomName: this.room,
      baseHref: this.baseHref,
      handlers: {
        copyLink: () => this.copyLink(),
        setPin: () => this.setPin(),
        tileResize: (trackId, w, hgt) => this.sfu.setTileSize(trackId, w, hgt, globalThis.devicePixelRatio || 1),
        sendChat: (text) => this.sendChat(text),
        typing: (active) => this.typing(active),
        toggleMic: () => this.toggleMic(),
        toggleCam: () => this.toggleCam(),
        toggleScreen: () => this.toggleScreen(),
        editProfile: () => this.profileDialog.open({ name: this.prefs.name, message: this.profile.message, picture: this.profile.picture }),
        leave: () => this.leave(),
        react: (emoji) => {
          if (this.sfu.sendReaction(emoji)) this.view?.showReaction(this.store.state.selfId, emoji);
        },
      },
    });
    const origToggle = this.view.toggleSidebar.bind(this.view);
    this.view.toggleSidebar = () => { origToggle(); this.unread = 0; this.flushSeen(); };
    this.notices.moveTo(this.view.stageNotices);
    if (videoError || audioError) {
      this.notices.set("media", `Joined without ${videoError && audioError ? "camera and microphone" : videoError ? "video" : "microphone"}: ${videoError ?? audioError}`,
        { level: "warn", timeout: 15000 });
    }
    this.renderSignIn();
    this.render();
  }

  #leaveRoomView() {
    this.sfu.stop();
    stopStream(this.localStream);
    stopStream(this.screenStream);
    this.localStream = null;
    this.screenStream = null;
    for (const id of [...this.remote.keys()]) this.#dropRemote(id);
    this.view?.destroy();
    this.view = null;
    this.store.dispatch({ type: "left-room" });
  }

  leave() {
    this.ch.send("Leave", {});
    this.wantJoined = false;
    save(`joined:${this.room}`, false, "session");
    this.#leaveRoomView();
    this.showJoin();
    this.notices.set("left", "You left the room.", { timeout: 5000 });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // identity

  sendStatus() {
    const status = statusDocument({ displayName: this.prefs.name, buddyPicture: this.profile.picture, message: this.profile.message });
    this.ch.send("Status", statusPayload(status));
    this.#dispatchLocalStatus();
  }

  #dispatchLocalStatus() {
    if (!this.store.state.selfId) return;
    this.store.dispatch({ type: "local-status", status: { displayName: this.prefs.name ?? "",
      buddyPicture: this.profile.picture ?? "", message: this.profile.message ?? "", audioMuted: !!this.prefs.audioOff } });
  }

  saveProfile({ name, message, picture }) {
    this.prefs.name = name;
    this.profile = { message, picture };
    save("prefs", this.prefs);
    save("message", message);
    save("picture", picture);
    this.sendStatus();
  }

  renderSignIn() {
    if (!this.usersEnabled) return;
    const slots = [this.join?.extra, this.view?.signInSlot].filter(Boolean);
    const userid = this.store.state.userid;
    for (const slot of slots) {
      if (userid) {
        slot.replaceChildren(h("span", { class: "signed-in", title: userid }, "Signed in"),
          h("button", { type: "button", class: "link-button", onclick: () => this.signOut() }, "Sign out"));
      } else {
        slot.replaceChildren(h("button", { type: "button", class: "button", id: slot === this.join?.extra ? "sign-in" : "sign-in-room",
          onclick: () => this.signIn(), disabled: !this.connSelf }, "Sign in"));
      }
    }
  }

  async #api(method, path, body) {
    const res = await fetch(new URL(path, this.baseHref), { method, headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), credentials: "same-origin" });
    let data = null;
    try { data = await res.json(); } catch { /* non-JSON error bodies */ }
    return { ok: res.ok, status: res.status, data };
  }

  /** Register a new user for this session (rest-api §7.5) and authenticate the socket with the returned nonce. */
  async signIn() {
    const self = this.selfDoc;
    if (!self) return;
    try {
      const { ok, data } = await this.#api("POST", "api/v1/users", { id: self.Id, sid: self.Sid });
      if (!ok || !data?.success || !data.nonce) throw new Error(data?.message ?? "registration failed");
      save(this.loginKey, { useridcombo: data.useridcombo, secret: data.secret, userid: data.userid });
      this.ch.send("Authentication", authenticationPayload(data.userid, data.nonce));
    } catch (err) {
      this.notices.set("signin", `Sign-in failed: ${err.message}`, { level: "error", timeout: 8000 });
    }
  }

  /** A stored login turns into a nonce for this session (rest-api §7.4), then Authentication (§6.12). */
  async resumeLogin() {
    const login = load(this.loginKey, null);
    const self = this.selfDoc;
    if (!login || !self) return;
    try {
      const { ok, data } = await this.#api("PATCH", `api/v1/sessions/${self.Id}/`,
        { id: self.Id, sid: self.Sid, useridcombo: login.useridcombo, secret: login.secret });
      if (!ok || !data?.success || !data.nonce) throw new Error("stored login rejected");
      this.ch.send("Authentication", authenticationPayload(data.userid, data.nonce));
    } catch {
      save(this.loginKey, null); // like the original: a rejected login is forgotten
      this.notices.set("signin", "Your saved sign-in is no longer valid. Please sign in again.", { level: "warn", timeout: 8000 });
    }
  }

  signOut() {
    // The server cannot un-authenticate a session: forget the login and the resume token, then start afresh.
    save(this.loginKey, null);
    save("token", null, "session");
    location.reload();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // chat

  sendChat(text) {
    const mid = randomHex(8);
    const sent = this.ch.send("Chat", chatMessage("", text, mid));
    this.store.dispatch({ type: "chat", message: { from: this.store.state.selfId, mid, text, time: new Date().toISOString(), mine: true, sent } });
    if (!sent) this.notices.set("chat", "Not connected: your message was not sent.", { level: "warn", timeout: 5000 });
  }

  onChat(msg) {
    const selfId = this.store.state.selfId;
    const c = classifyChat(msg.data, msg.from, selfId);
    if (!c || c.from === selfId && c.kind !== "state") return;
    switch (c.kind) {
      case "message":
        this.store.dispatch({ type: "chat", message: c });
        if (c.mid) {
          // Receipts go privately to the author (§6.7 "client needs"); the author shows ✓✓.
          this.ch.send("Chat", chatDelivered(c.from, c.mid));
          this.#queueSeen(c.from, c.mid);
        }
        if (this.view && !this.view.sidebarOpen) this.view.setUnread(++this.unread);
        break;
      case "typing": {
        this.store.dispatch({ type: "typing", from: c.from, typing: c.typing });
        clearTimeout(this.typingTimers.get(c.from));
        if (c.typing) {
          this.typingTimers.set(c.from, setTimeout(() => this.store.dispatch({ type: "typing", from: c.from, typing: false }), TYPING_EXPIRE_MS));
        }
        break;
      }
      case "state":
        this.store.dispatch({ type: "chat-state", mid: c.mid, from: c.from, state: c.state });
        break;
      case "seen":
        this.store.dispatch({ type: "chat-seen", mids: c.mids, from: c.from });
        break;
      default:
    }
  }

  #queueSeen(from, mid) {
    if (!this.pendingSeen.has(from)) this.pendingSeen.set(from, new Set());
    this.pendingSeen.get(from).add(mid);
    clearTimeout(this.seenTimer);
    this.seenTimer = setTimeout(() => this.flushSeen(), 500);
  }

  /** Send SeenMids for messages the person can actually see (page visible, chat panel open). */
  flushSeen() {
    if (document.visibilityState !== "visible" || !this.view?.sidebarOpen) return;
    for (const [from, mids] of this.pendingSeen) {
      if (mids.size && this.ch.send("Chat", chatSeen(from, mids))) mids.clear();
    }
  }

  typing(active) {
    const now = Date.now();
    clearTimeout(this.typingStopTimer);
    if (active) {
      if (!this.typingSentAt || now - this.typingSentAt > TYPING_REPEAT_MS) {
        this.ch.send("Chat", chatTyping("", true));
        this.typingSentAt = now;
      }
      this.typingStopTimer = setTimeout(() => this.typing(false), TYPING_IDLE_MS);
    } else if (this.typingSentAt) {
      this.ch.send("Chat", chatTyping("", false));
      this.typingSentAt = 0;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // media controls

  toggleMic() {
    this.prefs.audioOff = !this.prefs.audioOff;
    save("prefs", this.prefs);
    this.sfu.setMuted("microphone", this.prefs.audioOff);
    this.#dispatchLocalStatus();
    this.scheduleRender();
  }

  toggleCam() {
    this.prefs.videoOff = !this.prefs.videoOff;
    save("prefs", this.prefs);
    this.sfu.setMuted("camera", this.prefs.videoOff);
    this.scheduleRender();
  }

  async toggleScreen() {
    if (this.screenStream) {
      stopStream(this.screenStream);
      this.screenStream = null;
      await this.sfu.stopScreen();
      this.scheduleRender();
      return;
    }
    try {
      const stream = await getScreen();
      if (!stream) return;
      this.screenStream = stream;
      stream.getVideoTracks()[0].addEventListener("ended", () => { if (this.screenStream === stream) this.toggleScreen(); });
      this.scheduleRender();
      await this.sfu.startScreen(stream);
    } catch (err) {
      this.notices.set("screen", `Screen sharing failed: ${err.message}`, { level: "error", timeout: 8000 });
    }
  }

  async copyLink() {
    const url = roomURL(location.origin, this.cfg.B, this.room);
    try {
      await navigator.clipboard.writeText(url);
      this.notices.set("copied", "Link copied. Send it to the people you want to meet.", { timeout: 3000 });
    } catch {
      this.notices.set("copied", `Share this link: ${url}`, { timeout: 15000 });
    }
  }

  async setPin() {
    const pin = await askText(this.root, { title: "Room PIN", label: "New PIN (empty to remove)", type: "password",
      submit: "Set PIN", hint: "People joining later will need this PIN." });
    if (pin === null) return;
    try {
      const reply = await this.ch.request("Room", { Type: "", Name: this.room, Credentials: { PIN: pin } });
      if (reply.Type === "Error") throw new Error(reply.Message || reply.Code);
      this.pin = pin || null;
      save(`pin:${this.room}`, this.pin, "session");
      this.notices.set("pin", pin ? "PIN set. New participants need it to join." : "PIN removed.", { timeout: 5000 });
    } catch (err) {
      this.notices.set("pin", `Could not change the PIN: ${err.message ?? errorText(err.code)}`, { level: "error", timeout: 8000 });
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // rendering

  scheduleRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  nameOf = (id) => {
    const p = this.store.state.participants[id];
    return p ? displayName(p) : "Someone who left";
  };

  render() {
    if (!this.view) return;
    const state = this.store.state;
    const list = participantList(state);
    this.view.participants.render(list, state);
    this.view.chat.render(state, this.nameOf);
    const hasVideo = !!this.localStream?.getVideoTracks().length;
    const hasAudio = !!this.localStream?.getAudioTracks().length;
    const descs = [];
    const remoteFor = (id, source) => {
      for (const r of this.remote.values()) if (r.session === id && r.source === source) return r;
      return null;
    };
    for (const p of list) {
      const speaking = state.speaker === p.id;
      if (p.id === state.selfId) {
        descs.push({ key: "self", id: p.id, name: `${displayName(p)} (you)`, participant: p, stream: hasVideo ? this.localStream : null,
          mirrored: true, speaking, audioMuted: this.prefs.audioOff || !hasAudio, videoOff: this.prefs.videoOff || !hasVideo });
        if (this.screenStream) {
          descs.push({ key: "self-screen", id: p.id, name: "Your screen", participant: p, stream: this.screenStream, screen: true });
        }
        continue;
      }
      const cam = remoteFor(p.id, "camera");
      const mic = remoteFor(p.id, "microphone");
      descs.push({ key: `p:${p.id}`, id: p.id, name: displayName(p), participant: p, stream: cam?.stream ?? null,
        trackId: cam?.trackId, speaking, audioMuted: mic ? mic.muted : p.audioMuted, videoOff: !cam || cam.muted });
      const screen = remoteFor(p.id, "screen");
      if (screen) {
        descs.push({ key: `s:${p.id}`, id: p.id, name: `${displayName(p)}'s screen`, participant: p, stream: screen.stream,
          trackId: screen.trackId, screen: true, videoOff: screen.muted });
      }
    }
    this.view.grid.update(descs);
    this.view.setMedia({ audioOff: this.prefs.audioOff, videoOff: this.prefs.videoOff, hasAudio, hasVideo, screen: !!this.screenStream });
    document.title = `${this.room || "Lobby"} (${list.length}) – ${this.cfg.Title}`;
    this.flushSeen();
  }
}
