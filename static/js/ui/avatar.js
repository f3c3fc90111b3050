// Avatar element: the buddy picture when there is one (and it loads), else coloured initials.
import { h } from "../util/dom.js";
import { initials, hueFor, displayName } from "../util/avatar.js";
import { buddyPictureURL } from "../util/url.js";

export function avatar(participant, baseHref, { size = "small" } = {}) {
  const name = displayName(participant);
  const url = buddyPictureURL(participant.buddyPicture, baseHref);
  const fallback = h("span", { class: `avatar avatar-${size} avatar-initials`, "aria-hidden": "true" }, initials(name));
  fallback.style.setProperty("--hue", String(hueFor(participant.id)));
  if (!url) return fallback;
  const img = h("img", { class: `avatar avatar-${size} buddy-picture`, src: url, alt: "", decoding: "async" });
  // A picture that 404s (its session ended) must not leave a broken image icon.
  img.addEventListener("error", () => img.replaceWith(fallback), { once: true });
  return img;
}
