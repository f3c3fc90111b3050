// Banner notices above the stage/join card. Keyed, so that e.g. "reconnecting" is replaced by "reconnected" rather
// than stacked. Errors use role=alert (announced at once), the rest role=status.
import { h } from "../util/dom.js";

export class Notices {
  constructor(container) {
    this.el = h("div", { class: "notices" });
    container.append(this.el);
    this.items = new Map();
  }

  set(key, text, { level = "info", timeout = 0, action = null } = {}) {
    let item = this.items.get(key);
    if (!item) {
      item = h("div", { class: "notice", dataset: { key } });
      this.items.set(key, item);
      this.el.append(item);
    }
    item.className = `notice notice-${level}`;
    item.setAttribute("role", level === "error" ? "alert" : "status");
    item.replaceChildren(h("span", {}, text));
    if (action) item.append(h("button", { type: "button", class: "link-button", onclick: action.run }, action.label));
    item.append(h("button", { type: "button", class: "notice-close", "aria-label": "Dismiss", onclick: () => this.clear(key) }, "×"));
    clearTimeout(item._timer);
    if (timeout) item._timer = setTimeout(() => this.clear(key), timeout);
  }

  clear(key) {
    const item = this.items.get(key);
    if (!item) return;
    clearTimeout(item._timer);
    item.remove();
    this.items.delete(key);
  }

  /** Move the banner into another container (join screen ↔ room view). */
  moveTo(container) {
    container.prepend(this.el);
  }
}
