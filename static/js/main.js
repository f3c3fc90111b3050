// Rooms placeholder client: reads the server's globalcontext, names the room from the URL and opens the
// channeling WebSocket. The full client (video grid, chat, SFU) replaces this module.
const context = JSON.parse(document.getElementById("globalcontext").textContent);
const cfg = context.Cfg;
const base = new URL(document.baseURI);
const room = decodeURIComponent(location.pathname.slice(base.pathname.length));

const app = document.getElementById("app");
app.innerHTML = "";
const title = document.createElement("h1");
title.textContent = room ? `Room “${room}”` : cfg.Title;
const status = document.createElement("p");
status.className = "status";
status.textContent = "Connecting…";
app.append(title, status);

const scheme = context.Ssl ? "wss" : "ws";
const socket = new WebSocket(`${scheme}://${context.Host}${cfg.B}ws`);
socket.addEventListener("message", (event) => {
  const envelope = JSON.parse(event.data);
  if (envelope.Data && envelope.Data.Type === "Self") {
    status.textContent = `Connected to Rooms ${envelope.Data.Version}.`;
  }
});
socket.addEventListener("close", () => { status.textContent = "Disconnected."; });
