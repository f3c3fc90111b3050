// Participants list (sidebar). Re-rendered from state; small enough (≤ a few dozen) that keyed diffing is not needed,
// but avatars are reused when unchanged so pictures do not flicker.
import { h, icon, ICONS } from "../util/dom.js";
import { displayName } from "../util/avatar.js";
import { avatar } from "./avatar.js";

export class ParticipantsPanel {
  constructor(container, { baseHref }) {
    this.baseHref = baseHref;
    this.heading = h("h2", { id: "people-heading", class: "panel-title" }, "People");
    this.list = h("ul", { class: "participants", "aria-labelledby": "people-heading" });
    container.append(this.heading, this.list);
    this.items = new Map();
  }

  render(list, { selfId, speaker, typing }) {
    this.heading.textContent = `People (${list.length})`;
    const seen = new Set();
    list.forEach((p, index) => {
      seen.add(p.id);
      const key = `${p.buddyPicture}|${p.displayName}`;
      let item = this.items.get(p.id);
      if (!item) {
        item = { li: h("li", { class: "participant", dataset: { id: p.id } }), key: null };
        this.items.set(p.id, item);
      }
      const name = displayName(p) + (p.id === selfId ? " (you)" : "");
      if (item.key !== key) {
        item.avatar = avatar(p, this.baseHref);
        item.key = key;
      }
      const flags = [];
      // A signed-in user (channeling Authentication): others see the account, not just a chosen display name.
      if (p.userid) flags.push(h("span", { class: "flag user-flag", title: `Signed in as ${p.userid}` }, icon(ICONS.check)));
      if (p.audioMuted) flags.push(h("span", { class: "flag", title: "Microphone off" }, icon(ICONS.micOff)));
      if (typing[p.id]) flags.push(h("span", { class: "flag typing-flag" }, "typing…"));
      item.li.classList.toggle("speaking", speaker === p.id);
      item.li.classList.toggle("self", p.id === selfId);
      item.li.setAttribute("aria-label", name + (p.userid ? ", signed in" : "") + (p.audioMuted ? ", microphone off" : "") + (speaker === p.id ? ", speaking" : ""));
      const text = h("span", { class: "participant-text" }, h("span", { class: "participant-name" }, name));
      if (p.message) text.append(h("span", { class: "participant-message" }, p.message));
      item.li.replaceChildren(item.avatar, text, ...flags);
      if (this.list.children[index] !== item.li) this.list.insertBefore(item.li, this.list.children[index] ?? null);
    });
    for (const [id, item] of this.items) {
      if (!seen.has(id)) {
        item.li.remove();
        this.items.delete(id);
      }
    }
  }
}
