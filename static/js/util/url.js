// URL helpers shared by the bootstrap, the channeling client and the UI. Pure: no DOM globals, so node can test them.

/**
 * Room name for a page path. The server renders the same page for every path below the base path, and the room name
 * is everything after `<base href>` URL-decoded (channeling-api §5: names may contain "/" and any character).
 */
export function roomFromPath(pathname, basePath = "/") {
  const base = basePath.endsWith("/") ? basePath : basePath + "/";
  let rest;
  if (pathname.startsWith(base)) rest = pathname.slice(base.length);
  else if (pathname + "/" === base) rest = "";
  else rest = pathname.replace(/^\/+/, "");
  try {
    return decodeURIComponent(rest);
  } catch {
    // A malformed escape (e.g. "%zz") must not break the page: use the raw text as the name.
    return rest;
  }
}

/** Path (relative to the base) for a room; each segment is encoded so that "/" inside names survives. */
export function roomPath(room) {
  return room.split("/").map(encodeURIComponent).join("/");
}

/** Absolute, shareable room URL. */
export function roomURL(origin, basePath, room) {
  const base = basePath.endsWith("/") ? basePath : basePath + "/";
  return origin + base + roomPath(room);
}

/**
 * Channeling WebSocket URL (rest-api §3): `(Ssl ? wss : ws)://Host<B>ws`, plus `?t=<Token>` to resume an identity.
 * The original client appends the token unencoded (tokens are URL-query-safe); we do the same so the server sees
 * exactly what it minted.
 */
export function websocketURL({ ssl, host, basePath, token }) {
  const base = basePath.endsWith("/") ? basePath : basePath + "/";
  return `${ssl ? "wss" : "ws"}://${host}${base}ws` + (token ? `?t=${token}` : "");
}

/**
 * `<img src>` for a `Status.buddyPicture` value. The server rewrites uploaded data URLs into
 * `img:<imageid>/<changeid>/picture.<ext>`, served under `<B>static/img/buddy/<flags>/...` (rest-api §8).
 * Returns null when there is nothing displayable, so the caller falls back to an initials avatar.
 */
export function buddyPictureURL(picture, baseHref) {
  if (typeof picture !== "string" || picture === "") return null;
  if (picture.startsWith("img:")) {
    const rest = picture.slice(4).replace(/^\/+/, "");
    if (!rest) return null;
    const base = baseHref.endsWith("/") ? baseHref : baseHref + "/";
    return `${base}static/img/buddy/s46/${rest}`;
  }
  // A data URL that the server did not rewrite (e.g. from our own Status echo) or an absolute image URL.
  if (/^data:image\/(png|jpeg|gif|webp);base64,/i.test(picture)) return picture;
  if (/^https?:\/\//i.test(picture)) return picture;
  return null;
}
