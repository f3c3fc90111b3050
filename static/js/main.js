// Bootstrap: read the server-rendered globalcontext (rest-api §3), work out the room from the URL and start the app.
import { App } from "./app.js";
import { roomFromPath } from "./util/url.js";
import { metrics } from "./util/metrics.js";

metrics.mark("app-start");

function readContext() {
  const el = document.getElementById("globalcontext");
  return JSON.parse(el.textContent);
}

function fail(message) {
  const app = document.getElementById("app");
  const p = document.createElement("p");
  p.className = "fatal";
  p.setAttribute("role", "alert");
  p.textContent = message;
  app.replaceChildren(p);
}

try {
  const context = readContext();
  const baseHref = document.baseURI;
  const basePath = new URL(baseHref).pathname;
  const room = roomFromPath(location.pathname, basePath);
  const root = document.getElementById("app");
  // The server has no /favicon.ico for this client; point browsers at ours instead of letting them 404.
  const icon = document.createElement("link");
  icon.rel = "icon";
  icon.href = `${context.S}/img/favicon.svg`;
  document.head.append(icon);
  root.replaceChildren();
  document.documentElement.classList.remove("no-js", "wf-loading");
  const app = new App({ context, room, root, baseHref });
  // Exposed for debugging from the console and for the browser tests; not an API.
  globalThis.__rooms = app;
  app.start();
} catch (err) {
  console.error(err);
  fail("Rooms could not start in this browser. Please use a current Chrome, Firefox or Safari.");
}
