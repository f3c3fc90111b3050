// Video grid: one tile per participant (camera or avatar) plus one per shared screen. The layout (columns and tile
// size) comes from computeGrid so that 1–25 tiles fill the stage at 16:9 without scrolling; tiles are keyed and
// reused so a video element is never re-created (that would flash black).
import { h, icon, ICONS } from "../util/dom.js";
import { computeGrid } from "../util/grid.js";
import { avatar } from "./avatar.js";
import { metrics, onFirstFrame } from "../util/metrics.js";

export class VideoGrid {
  /** @param {{onTileResize?: (trackId:string, w:number, h:number) => void, baseHref:string}} opts */
  constructor(container, { onTileResize = () => {}, baseHref }) {
    this.container = container;
    this.baseHref = baseHref;
    this.onTileResize = onTileResize;
    this.el = h("div", { class: "grid", role: "list", "aria-label": "Participants' video" });
    container.append(this.el);
    this.tiles = new Map();
    this.count = 0;
    this.resize = new ResizeObserver(() => this.layout());
    this.resize.observe(container);
    // Tile size drives the simulcast layer request (SfuLayer): observe each tile's own box.
    this.tileResize = new ResizeObserver((entries) => {
      for (const e of entries) {
        const t = e.target._tile;
        if (t?.trackId) this.onTileResize(t.trackId, e.contentRect.width, e.contentRect.height);
      }
    });
  }

  layout() {
    const rect = this.container.getBoundingClientRect();
    const g = computeGrid(this.count, rect.width - 16, rect.height - 16, { gap: 8 });
    this.el.style.setProperty("--cols", String(Math.max(1, g.cols)));
    this.el.style.setProperty("--tile-w", `${g.width}px`);
    this.el.style.setProperty("--tile-h", `${g.height}px`);
    this.el.dataset.cols = String(g.cols);
  }

  /**
   * @param {Array<{key, id, name, participant, stream, trackId, mirrored, speaking, audioMuted, videoOff, screen}>} descs
   */
  update(descs) {
    const seen = new Set();
    descs.forEach((d, index) => {
      seen.add(d.key);
      let t = this.tiles.get(d.key);
      if (!t) {
        t = this.#createTile(d);
        this.tiles.set(d.key, t);
      }
      this.#updateTile(t, d);
      if (this.el.children[index] !== t.el) this.el.insertBefore(t.el, this.el.children[index] ?? null);
    });
    for (const [key, t] of this.tiles) {
      if (!seen.has(key)) {
        this.tileResize.unobserve(t.el);
        t.video.srcObject = null;
        t.el.remove();
        this.tiles.delete(key);
      }
    }
    if (this.count !== descs.length) {
      this.count = descs.length;
      this.el.dataset.count = String(descs.length);
      this.layout();
    }
  }

  #createTile(d) {
    // Local video is always muted (no echo); remote audio plays through separate <audio> elements.
    const video = h("video", { autoplay: true, playsInline: true, muted: true, class: "tile-video" });
    video.setAttribute("playsinline", "");
    const label = h("span", { class: "tile-name" });
    const mutedFlag = h("span", { class: "tile-flag", title: "Microphone off" }, icon(ICONS.micOff));
    const avatarBox = h("div", { class: "tile-avatar" });
    const el = h("div", { class: "tile", role: "listitem", dataset: { id: d.id, source: d.screen ? "screen" : "camera" } },
      video, avatarBox, h("div", { class: "tile-caption" }, mutedFlag, label));
    const t = { el, video, label, mutedFlag, avatarBox, stream: null, avatarKey: null, trackId: "" };
    el._tile = t;
    this.tileResize.observe(el);
    return t;
  }

  #updateTile(t, d) {
    t.label.textContent = d.name;
    t.el.setAttribute("aria-label", d.name + (d.speaking ? ", speaking" : "") + (d.audioMuted ? ", microphone off" : ""));
    t.el.classList.toggle("speaking", !!d.speaking);
    t.el.classList.toggle("mirrored", !!d.mirrored);
    t.el.classList.toggle("screen", !!d.screen);
    t.mutedFlag.hidden = !d.audioMuted;
    const showVideo = !!d.stream && !d.videoOff;
    t.el.classList.toggle("no-video", !showVideo);
    if (t.stream !== d.stream) {
      t.stream = d.stream;
      t.video.srcObject = d.stream ?? null;
      if (d.stream) t.video.play?.().catch(() => {}); // autoplay can be refused until a gesture; joining is one
      if (d.stream && d.trackId) onFirstFrame(t.video, () => metrics.mark("first-remote-frame"));
    }
    if (t.trackId !== (d.trackId ?? "")) {
      t.trackId = d.trackId ?? "";
      // Report the current size at once for a new track: the observer only fires on changes.
      const r = t.el.getBoundingClientRect();
      if (t.trackId && r.width) this.onTileResize(t.trackId, r.width, r.height);
    }
    const akey = `${d.participant?.buddyPicture}|${d.participant?.displayName}`;
    if (t.avatarKey !== akey && d.participant) {
      t.avatarKey = akey;
      t.avatarBox.replaceChildren(avatar(d.participant, this.baseHref, { size: "large" }));
    }
  }

  /** The video elements, for tests and stats (e.g. checking frames decode). */
  videos() {
    return [...this.tiles.values()].map((t) => t.video);
  }
}
