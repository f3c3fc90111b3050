// Join screen: camera/microphone preview with device choice, name, join. One click for a returning visitor (name and
// devices are remembered), two for a new one (type name, join). Also hosts the PIN prompt and join errors.
import { h, icon, ICONS } from "../util/dom.js";
import { listDevices, getLocalMedia, stopStream } from "../media/devices.js";
import { metrics } from "../util/metrics.js";

export class JoinScreen {
  /**
   * @param {HTMLElement} root
   * @param {object} o  {roomName, askRoom, prefs:{name,cameraId,micId,videoOff,audioOff}, onJoin(prefs), onPin(pin),
   *                    onPrefs(prefs), picture (data URL or null), onPicture(file)}
   */
  constructor(root, o) {
    this.o = o;
    this.prefs = { ...o.prefs };
    this.stream = null;
    this.videoError = null;
    this.audioError = null;
    this.mediaSeq = 0;

    this.preview = h("video", { class: "preview-video", autoplay: true, muted: true, playsInline: true, "aria-label": "Your camera preview" });
    this.preview.setAttribute("playsinline", "");
    this.previewOff = h("div", { class: "preview-off" }, "Camera is off");
    this.micButton = h("button", { type: "button", class: "round-button", onclick: () => this.#toggle("audioOff") });
    this.camButton = h("button", { type: "button", class: "round-button", onclick: () => this.#toggle("videoOff") });
    this.cameraSelect = h("select", { id: "camera-select", onchange: () => this.#deviceChanged() });
    this.micSelect = h("select", { id: "mic-select", onchange: () => this.#deviceChanged() });
    this.nameInput = h("input", { id: "name-input", type: "text", autocomplete: "nickname", maxlength: "80",
      placeholder: "Your name", value: this.prefs.name ?? "", required: true });
    this.roomInput = o.askRoom ? h("input", { id: "room-input", type: "text", placeholder: "e.g. standup", required: true }) : null;
    this.joinButton = h("button", { type: "submit", class: "button primary big", id: "join-button" }, "Join");
    this.status = h("p", { class: "join-status", role: "status", "aria-live": "polite" });
    this.error = h("p", { class: "join-error", role: "alert" });

    this.pinInput = h("input", { id: "pin-input", type: "password", autocomplete: "off", inputmode: "text", maxlength: "100" });
    this.pinMessage = h("p", { class: "pin-message", role: "alert" });
    this.pinForm = h("form", { class: "pin-form", hidden: true, onsubmit: (e) => { e.preventDefault(); this.#submitPin(); } },
      h("h2", {}, icon(ICONS.lock), " PIN required"), this.pinMessage,
      h("label", { for: "pin-input" }, "Room PIN"), this.pinInput,
      h("button", { type: "submit", class: "button primary", id: "pin-submit" }, "Join with PIN"));

    this.extra = h("div", { class: "join-extra" }); // sign-in slot (users section)
    this.form = h("form", { class: "join-form", onsubmit: (e) => { e.preventDefault(); this.#join(); } },
      this.roomInput ? [h("label", { for: "room-input" }, "Room"), this.roomInput] : null,
      h("label", { for: "name-input" }, "Your name"), this.nameInput,
      h("div", { class: "device-row" },
        h("label", { for: "camera-select" }, "Camera"), this.cameraSelect,
        h("label", { for: "mic-select" }, "Microphone"), this.micSelect),
      this.joinButton, this.status, this.error, this.extra);

    this.el = h("section", { class: "join", "aria-labelledby": "join-title" },
      h("h1", { id: "join-title" }, o.roomName === "" ? "Lobby" : o.roomName),
      h("div", { class: "join-card" },
        h("div", { class: "preview" }, this.preview, this.previewOff,
          h("div", { class: "preview-controls" }, this.micButton, this.camButton)),
        h("div", { class: "join-side" }, this.form, this.pinForm)));
    root.append(this.el);
    this.#renderToggles();
    this.ready = this.startPreview();
    (this.roomInput ?? (this.prefs.name ? this.joinButton : this.nameInput)).focus();
  }

  #renderToggles() {
    const a = this.prefs.audioOff, v = this.prefs.videoOff;
    this.micButton.replaceChildren(icon(a ? ICONS.micOff : ICONS.mic));
    this.micButton.setAttribute("aria-label", a ? "Turn microphone on" : "Turn microphone off");
    this.micButton.setAttribute("aria-pressed", String(!a));
    this.micButton.classList.toggle("off", !!a);
    this.camButton.replaceChildren(icon(v ? ICONS.camOff : ICONS.cam));
    this.camButton.setAttribute("aria-label", v ? "Turn camera on" : "Turn camera off");
    this.camButton.setAttribute("aria-pressed", String(!v));
    this.camButton.classList.toggle("off", !!v);
    const hasVideo = !!this.stream?.getVideoTracks().length;
    this.previewOff.hidden = hasVideo && !v;
    this.previewOff.textContent = this.videoError ? "No camera" : "Camera is off";
    this.stream?.getVideoTracks().forEach((t) => { t.enabled = !v; });
    this.stream?.getAudioTracks().forEach((t) => { t.enabled = !a; });
  }

  #toggle(key) {
    this.prefs[key] = !this.prefs[key];
    this.o.onPrefs(this.prefs);
    this.#renderToggles();
  }

  async startPreview() {
    const seq = ++this.mediaSeq;
    stopStream(this.stream);
    this.status.textContent = "Starting camera and microphone…";
    const { stream, videoError, audioError } = await getLocalMedia({ cameraId: this.prefs.cameraId, micId: this.prefs.micId })
      .catch((err) => ({ stream: new MediaStream(), videoError: String(err?.message ?? err), audioError: null }));
    if (seq !== this.mediaSeq || !this.el.isConnected) { stopStream(stream); return; }
    this.stream = stream;
    this.videoError = videoError;
    this.audioError = audioError;
    this.preview.srcObject = stream;
    metrics.mark("preview-ready");
    const problems = [videoError, audioError].filter(Boolean);
    this.status.textContent = problems.length ? problems.join(" ") + " You can still join." : "";
    this.status.classList.toggle("warning", problems.length > 0);
    await this.#fillDevices();
    this.#renderToggles();
  }

  async #fillDevices() {
    const { cameras, microphones } = await listDevices().catch(() => ({ cameras: [], microphones: [] }));
    const fill = (select, devices, current, kind) => {
      const active = current || devices[0]?.deviceId || "";
      select.replaceChildren(...devices.map((d, i) => h("option", { value: d.deviceId, selected: d.deviceId === active },
        d.label || `${kind} ${i + 1}`)));
      if (!devices.length) select.append(h("option", { value: "" }, `No ${kind.toLowerCase()}`));
      select.disabled = devices.length < 1;
    };
    const camId = this.stream?.getVideoTracks()[0]?.getSettings?.().deviceId ?? this.prefs.cameraId;
    const micId = this.stream?.getAudioTracks()[0]?.getSettings?.().deviceId ?? this.prefs.micId;
    fill(this.cameraSelect, cameras, camId, "Camera");
    fill(this.micSelect, microphones, micId, "Microphone");
  }

  #deviceChanged() {
    this.prefs.cameraId = this.cameraSelect.value;
    this.prefs.micId = this.micSelect.value;
    this.o.onPrefs(this.prefs);
    this.ready = this.startPreview();
  }

  #join() {
    const name = this.nameInput.value.trim();
    if (!name) {
      this.error.textContent = "Please enter your name.";
      this.nameInput.focus();
      return;
    }
    if (this.roomInput && !this.roomInput.value.trim()) {
      this.error.textContent = "Please enter a room name.";
      this.roomInput.focus();
      return;
    }
    this.error.textContent = "";
    metrics.mark("join-click");
    this.prefs.name = name;
    this.o.onPrefs(this.prefs);
    this.setBusy(true);
    this.o.onJoin({ ...this.prefs, room: this.roomInput?.value.trim() });
  }

  #submitPin() {
    const pin = this.pinInput.value;
    if (!pin) { this.pinInput.focus(); return; }
    this.pinMessage.textContent = "Checking…";
    this.o.onPin(pin);
  }

  setBusy(busy) {
    this.joinButton.disabled = busy;
    this.joinButton.textContent = busy ? "Joining…" : "Join";
  }

  showError(text) {
    this.setBusy(false);
    this.error.textContent = text;
  }

  showPin(message) {
    this.setBusy(false);
    this.form.hidden = true;
    this.pinForm.hidden = false;
    this.pinMessage.textContent = message;
    this.pinInput.value = "";
    this.pinInput.focus();
  }

  hidePin() {
    this.pinForm.hidden = true;
    this.form.hidden = false;
  }

  /** Give the preview stream to the room (it becomes the published stream) and leave the screen. */
  takeStream() {
    const s = this.stream;
    this.stream = null;
    this.mediaSeq++;
    return { stream: s ?? new MediaStream(), videoError: this.videoError, audioError: this.audioError };
  }

  destroy() {
    this.mediaSeq++;
    stopStream(this.stream);
    this.stream = null;
    this.el.remove();
  }
}
