// Profile dialog: display name, status message and buddy picture. Changes are sent as Status at once.
import { h } from "../util/dom.js";
import { pictureFromFile } from "../util/picture.js";

export class ProfileDialog {
  constructor(root, { onSave }) {
    this.onSave = onSave;
    this.picture = null;
    this.nameInput = h("input", { id: "profile-name", type: "text", maxlength: "80", required: true });
    this.messageInput = h("input", { id: "profile-message", type: "text", maxlength: "140", placeholder: "e.g. back at 3" });
    this.fileInput = h("input", { id: "profile-picture", type: "file", accept: "image/png,image/jpeg,image/gif,image/webp",
      onchange: () => this.#pick() });
    this.previewImg = h("img", { class: "avatar avatar-large", alt: "Your picture" });
    this.removeButton = h("button", { type: "button", class: "button", onclick: () => { this.picture = null; this.#showPicture(); } }, "Remove picture");
    this.error = h("p", { class: "join-error", role: "alert" });
    this.dialog = h("dialog", { class: "profile-dialog", "aria-labelledby": "profile-title" },
      h("form", { method: "dialog", onsubmit: (e) => { e.preventDefault(); this.#save(); } },
        h("h2", { id: "profile-title" }, "Your profile"),
        h("div", { class: "profile-picture-row" }, this.previewImg,
          h("div", {}, h("label", { for: "profile-picture" }, "Picture"), this.fileInput, this.removeButton)),
        h("label", { for: "profile-name" }, "Name"), this.nameInput,
        h("label", { for: "profile-message" }, "Status message"), this.messageInput,
        this.error,
        h("div", { class: "dialog-buttons" },
          h("button", { type: "button", class: "button", onclick: () => this.dialog.close() }, "Cancel"),
          h("button", { type: "submit", class: "button primary", id: "profile-save" }, "Save"))));
    root.append(this.dialog);
  }

  open({ name, message, picture }) {
    this.nameInput.value = name ?? "";
    this.messageInput.value = message ?? "";
    this.picture = picture ?? null;
    this.fileInput.value = "";
    this.error.textContent = "";
    this.#showPicture();
    this.dialog.showModal();
    this.nameInput.focus();
  }

  #showPicture() {
    this.previewImg.hidden = !this.picture;
    this.removeButton.hidden = !this.picture;
    if (this.picture) this.previewImg.src = this.picture;
  }

  async #pick() {
    const file = this.fileInput.files?.[0];
    if (!file) return;
    try {
      this.picture = await pictureFromFile(file);
      this.error.textContent = "";
      this.#showPicture();
    } catch (err) {
      this.error.textContent = err.message;
    }
  }

  #save() {
    const name = this.nameInput.value.trim();
    if (!name) { this.error.textContent = "Please enter your name."; return; }
    this.onSave({ name, message: this.messageInput.value.trim(), picture: this.picture });
    this.dialog.close();
  }
}
