// In-room layout: top bar (room, quality, copy link), stage (grid), sidebar (people + chat), control bar.
// Holds no protocol logic: buttons call the handlers the controller passes in.
import { h, icon, ICONS } from "../util/dom.js";
import { VideoGrid } from "./grid.js";
import { ChatPanel } from "./chat.js";
import { ParticipantsPanel } from "./participants.js";
import { REACTIONS } from "../media/reactions.js";

function controlButton(id, label, path, onclick) {
  const b = h("button", { type: "button", id, class: "control", "aria-label": label, title: label, onclick }, icon(path));
  return b;
}

export class RoomView {
  constructor(root, { roomName, baseHref, handlers }) {
    this.handlers = handlers;
    this.quality = h("span", { class: "quality", id: "quality", dataset: { level: "unknown" }, role: "img",
      "aria-label": "Connection quality unknown", title: "Connection quality" },
    h("span", { class: "quality-bars", "aria-hidden": "true" }, h("i"), h("i"), h("i")), h("span", { class: "quality-text" }, ""));
    this.signInSlot = h("span", { class: "signin-slot" });
    const copy = h("button", { type: "button", class: "button", id: "copy-link", onclick: handlers.copyLink },
      icon(ICONS.link), h("span", {}, "Copy link"));
    this.lockButton = h("button", { type: "button", class: "button", id: "room-pin", onclick: handlers.setPin },
      icon(ICONS.lock), h("span", {}, "PIN"));
    this.top = h("header", { class: "topbar" },
      h("h1", { class: "room-title" }, roomName === "" ? "Lobby" : roomName), this.quality,
      h("div", { class: "topbar-actions" }, this.signInSlot, this.lockButton, copy));

    this.stage = h("section", { class: "stage", "aria-label": "Video" });
    // Notices sit above the grid in the flow (not over the video); the grid box takes the remaining space.
    this.stageNotices = h("div", { class: "stage-notices" });
    const gridBox = h("div", { class: "grid-box" });
    this.stage.append(this.stageNotices, gridBox);
    this.grid = new VideoGrid(gridBox, { baseHref, onTileResize: handlers.tileResize });

    const people = h("section", { class: "panel people-panel", "aria-label": "People" });
    const chat = h("section", { class: "panel chat-panel", "aria-label": "Chat" });
    this.sidebar = h("aside", { class: "sidebar", id: "sidebar" }, people, chat);
    this.participants = new ParticipantsPanel(people, { baseHref });
    this.chat = new ChatPanel(chat, { onSend: handlers.sendChat, onTyping: handlers.typing });

    this.micButton = controlButton("toggle-mic", "Mute microphone", ICONS.mic, handlers.toggleMic);
    this.camButton = controlButton("toggle-cam", "Turn camera off", ICONS.cam, handlers.toggleCam);
    this.screenButton = controlButton("toggle-screen", "Share screen", ICONS.screen, handlers.toggleScreen);
    this.sidebarButton = controlButton("toggle-sidebar", "Show chat and people", ICONS.chat, () => this.toggleSidebar());
    this.sidebarButton.setAttribute("aria-controls", "sidebar");
    this.unread = h("span", { class: "badge", hidden: true });
    this.sidebarButton.append(this.unread);
    const profile = controlButton("open-profile", "Edit your name and picture", ICONS.gear, handlers.editProfile);
    const leave = controlButton("leave", "Leave the room", ICONS.leave, handlers.leave);
    leave.classList.add("danger");
    if (!navigator.mediaDevices?.getDisplayMedia) this.screenButton.hidden = true;
    const reactions = h("div", { class: "reactions", role: "group", "aria-label": "Reactions" },
      ...REACTIONS.map((emoji, i) => h("button", { type: "button", class: "reaction", id: `react-${i}`,
        "aria-label": `React with ${emoji}`, title: `React with ${emoji}`, onclick: () => handlers.react(emoji) }, emoji)));
    this.controls = h("footer", { class: "controls", role: "toolbar", "aria-label": "Call controls" },
      this.micButton, this.camButton, this.screenButton, reactions, this.sidebarButton, profile, leave);

    this.el = h("div", { class: "room" }, this.top, h("div", { class: "room-main" }, this.stage, this.sidebar), this.controls);
    root.append(this.el);
    this.sidebarOpen = window.matchMedia("(min-width: 900px)").matches;
    this.#applySidebar();
  }

  toggleSidebar() {
    this.sidebarOpen = !this.sidebarOpen;
    this.#applySidebar();
    if (this.sidebarOpen) this.chat.focus();
  }

  #applySidebar() {
    this.el.classList.toggle("sidebar-open", this.sidebarOpen);
    this.sidebarButton.setAttribute("aria-expanded", String(this.sidebarOpen));
    this.sidebarButton.setAttribute("aria-label", this.sidebarOpen ? "Hide chat and people" : "Show chat and people");
    if (this.sidebarOpen) this.setUnread(0);
    requestAnimationFrame(() => this.grid.layout());
  }

  setUnread(n) {
    this.unread.hidden = n <= 0;
    this.unread.textContent = String(n);
  }

  setMedia({ audioOff, videoOff, hasAudio, hasVideo, screen }) {
    const set = (b, off, onLabel, offLabel, onIcon, offIcon, available) => {
      b.replaceChildren(icon(off ? offIcon : onIcon));
      b.setAttribute("aria-label", off ? offLabel : onLabel);
      b.title = off ? offLabel : onLabel;
      b.setAttribute("aria-pressed", String(off));
      b.classList.toggle("off", off);
      b.disabled = !available;
    };
    set(this.micButton, audioOff || !hasAudio, "Mute microphone", hasAudio ? "Unmute microphone" : "No microphone", ICONS.mic, ICONS.micOff, hasAudio);
    set(this.camButton, videoOff || !hasVideo, "Turn camera off", hasVideo ? "Turn camera on" : "No camera", ICONS.cam, ICONS.camOff, hasVideo);
    this.screenButton.classList.toggle("active", !!screen);
    this.screenButton.setAttribute("aria-pressed", String(!!screen));
    this.screenButton.setAttribute("aria-label", screen ? "Stop sharing your screen" : "Share screen");
    this.screenButton.title = this.screenButton.getAttribute("aria-label");
  }

  /** Shows `emoji` over the camera tile of `sessionId` for a few seconds. */
  showReaction(sessionId, emoji) {
    const tile = [...this.grid.el.querySelectorAll(".tile")]
      .find((t) => t.dataset.id === sessionId && t.dataset.source === "camera");
    if (!tile) return;
    const badge = h("span", { class: "tile-reaction", role: "img", "aria-label": `Reaction ${emoji}` }, emoji);
    tile.append(badge);
    setTimeout(() => badge.remove(), 4000);
  }

  setQuality({ level, rtt, loss, label }) {
    this.quality.dataset.level = level;
    const parts = [];
    if (rtt !== null && rtt !== undefined) parts.push(`${Math.round(rtt)} ms`);
    if (loss !== null && loss !== undefined) parts.push(`${(loss * 100).toFixed(1)} % loss`);
    const text = `${label}: ${level}` + (parts.length ? ` (${parts.join(", ")})` : "");
    this.quality.setAttribute("aria-label", text);
    this.quality.title = text;
    this.quality.querySelector(".quality-text").textContent = parts[0] ?? "";
  }

  destroy() {
    this.grid.resize.disconnect();
    this.grid.tileResize.disconnect();
    this.el.remove();
  }
}
