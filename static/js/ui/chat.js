// Room chat panel: message log, typing line, composer. Delivery marks on our own messages: ✓ sent, ✓✓ delivered,
// "Seen" once a receiver reported it via SeenMids.
import { h } from "../util/dom.js";
import { deliveryState } from "../room.js";

const MARKS = { pending: "…", sent: "✓", delivered: "✓✓", seen: "✓✓ Seen" };
const MARK_LABELS = { pending: "sending", sent: "sent", delivered: "delivered", seen: "seen" };

function timeText(iso) {
  const d = iso ? new Date(iso) : new Date();
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export class ChatPanel {
  constructor(container, { onSend, onTyping }) {
    this.onSend = onSend;
    this.onTyping = onTyping;
    this.log = h("ol", { class: "chat-log", role: "log", "aria-live": "polite", "aria-label": "Chat messages", tabindex: "0" });
    this.typingLine = h("div", { class: "typing-line", "aria-live": "polite" });
    this.input = h("textarea", { id: "chat-input", rows: "1", placeholder: "Message everyone", "aria-label": "Chat message",
      maxlength: "10000", autocomplete: "off" });
    const send = h("button", { type: "submit", class: "button primary", "aria-label": "Send message" }, "Send");
    this.form = h("form", { class: "chat-form", onsubmit: (e) => { e.preventDefault(); this.#submit(); } }, this.input, send);
    this.input.addEventListener("keydown", (e) => {
      // Enter sends, Shift+Enter makes a new line (as in every chat app).
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.#submit(); }
    });
    this.input.addEventListener("input", () => this.onTyping(this.input.value.length > 0));
    container.append(h("h2", { class: "panel-title", id: "chat-heading" }, "Chat"), this.log, this.typingLine, this.form);
    this.rendered = new Map(); // message key → li
  }

  #submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.onTyping(false);
    this.onSend(text);
  }

  render(state, nameOf) {
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    for (const m of state.chat) {
      const key = `${m.from}|${m.mid}|${m.mine ? "me" : ""}`;
      let li = this.rendered.get(key);
      if (!li) {
        li = h("li", { class: `chat-message${m.mine ? " mine" : ""}${m.private ? " private" : ""}`, dataset: { mid: m.mid, from: m.from } },
          h("div", { class: "chat-meta" }, h("span", { class: "chat-author" }, m.mine ? "You" : nameOf(m.from)),
            h("time", { class: "chat-time", datetime: m.time || "" }, timeText(m.time)),
            m.private ? h("span", { class: "chat-private" }, "private") : null),
          h("div", { class: "chat-text" }, m.text));
        if (m.mine) li.append(h("span", { class: "chat-mark" }));
        this.rendered.set(key, li);
        this.log.append(li);
      } else if (!m.mine) {
        li.querySelector(".chat-author").textContent = nameOf(m.from); // names change
      }
      if (m.mine) {
        const st = deliveryState(m);
        if (li.dataset.state !== st) {
          li.dataset.state = st;
          const mark = li.querySelector(".chat-mark");
          mark.textContent = MARKS[st];
          const n = st === "seen" ? m.seenBy.length : m.deliveredTo.length;
          mark.setAttribute("aria-label", MARK_LABELS[st] + (n ? ` (${n})` : ""));
          mark.title = MARK_LABELS[st] + (n ? ` to ${n}` : "");
        }
      }
    }
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
    const typers = Object.keys(state.typing).filter((id) => id !== state.selfId).map(nameOf);
    this.typingLine.textContent = typers.length === 0 ? "" : typers.length === 1 ? `${typers[0]} is typing…`
      : typers.length === 2 ? `${typers[0]} and ${typers[1]} are typing…` : "Several people are typing…";
  }

  /** Message ids from `from` that are in the log (for SeenMids). */
  focus() {
    this.input.focus();
  }
}
