// A small modal text prompt on <dialog> (window.prompt blocks the page and cannot be styled or labelled well).
import { h } from "../util/dom.js";

export function askText(root, { title, label, type = "text", value = "", submit = "OK", hint = "" }) {
  return new Promise((resolve) => {
    const input = h("input", { id: "ask-input", type, value, autocomplete: "off" });
    let result = null;
    const dialog = h("dialog", { class: "ask-dialog", "aria-labelledby": "ask-title" },
      h("form", { method: "dialog", onsubmit: (e) => { e.preventDefault(); result = input.value; dialog.close(); } },
        h("h2", { id: "ask-title" }, title), hint ? h("p", { class: "hint" }, hint) : null,
        h("label", { for: "ask-input" }, label), input,
        h("div", { class: "dialog-buttons" },
          h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Cancel"),
          h("button", { type: "submit", class: "button primary", id: "ask-submit" }, submit))));
    dialog.addEventListener("close", () => { dialog.remove(); resolve(result); });
    root.append(dialog);
    dialog.showModal();
    input.focus();
  });
}
