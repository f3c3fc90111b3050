import { test } from "node:test";
import assert from "node:assert/strict";
import { Channeling } from "../../../static/js/channeling.js";
import { backoffDelay } from "../../../static/js/util/backoff.js";

class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  open() { this.readyState = 1; this.onopen?.(); }
  send(text) { this.sent.push(JSON.parse(text)); }
  receive(obj) { this.onmessage?.({ data: JSON.stringify(obj) + "\n" }); }
  close() { this.readyState = 3; this.onclose?.({ code: 1006 }); }
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function client(extra = {}) {
  FakeSocket.all = [];
  let token = "";
  const ch = new Channeling({ url: () => "ws://h/ws" + (token ? "?t=" + token : ""), WebSocket: FakeSocket,
    random: () => 0, aliveInterval: 1e9, ...extra });
  return { ch, setToken: (t) => { token = t; } };
}

test("requests get string Iids and only the matching reply resolves them", async () => {
  const { ch } = client();
  const seen = [];
  ch.on("message", (m) => seen.push(m.type));
  ch.connect();
  const s = FakeSocket.all[0];
  s.open();
  const p1 = ch.request("Hello", { Name: "a" });
  const p2 = ch.request("Users", {});
  assert.deepEqual(s.sent.map((m) => m.Iid), ["0", "1"]);
  s.receive({ Data: { Type: "Users", Users: [] }, Iid: "1" });
  s.receive({ Data: { Type: "Joined", Id: "x" } });
  s.receive({ Data: { Type: "Welcome", Users: [] }, Iid: "0" });
  assert.equal((await p1).Type, "Welcome");
  assert.equal((await p2).Type, "Users");
  // replies never reach the general handlers
  assert.deepEqual(seen, ["Joined"]);
  ch.close();
});

test("Self is emitted; Error replies resolve (the caller decides)", async () => {
  const { ch } = client();
  let self = null;
  ch.on("self", (d) => { self = d; });
  ch.connect();
  const s = FakeSocket.all[0];
  s.open();
  s.receive({ Data: { Type: "Self", Id: "ME", Token: "tok" } });
  assert.equal(self.Id, "ME");
  const p = ch.request("Hello", {});
  s.receive({ Data: { Type: "Error", Code: "authorization_required" }, Iid: "0" });
  assert.equal((await p).Code, "authorization_required");
  ch.close();
});

test("timeouts and disconnects reject pending requests", async () => {
  const { ch } = client({ requestTimeout: 10 });
  ch.connect();
  FakeSocket.all[0].open();
  await assert.rejects(ch.request("Hello", {}), { code: "timeout" });
  const p = ch.request("Hello", {});
  ch.close();
  await assert.rejects(p, { code: "disconnected" });
  await assert.rejects(ch.request("Hello", {}), { code: "disconnected" });
  assert.equal(ch.send("Chat", {}), false);
});

test("a dropped socket reconnects with the latest token", async () => {
  const { ch, setToken } = client();
  const events = [];
  ch.on("reconnecting", (e) => events.push(e));
  ch.connect();
  FakeSocket.all[0].open();
  setToken("T1");
  FakeSocket.all[0].close();
  assert.equal(events.length, 1);
  assert.equal(events[0].everOpened, true);
  await tick(events[0].delay + 20);
  assert.equal(FakeSocket.all.length, 2);
  assert.equal(FakeSocket.all[1].url, "ws://h/ws?t=T1");
  // frames from the old socket are ignored
  let got = 0;
  ch.on("message", () => got++);
  FakeSocket.all[0].onmessage?.({ data: JSON.stringify({ Data: { Type: "Joined" } }) });
  assert.equal(got, 0);
  ch.close();
  await tick(5);
  assert.equal(FakeSocket.all.length, 2); // closed for good: no more attempts
});

test("backoff grows and is capped", () => {
  const d = [0, 1, 2, 3, 10, 30].map((a) => backoffDelay(a, { random: () => 1 }));
  assert.deepEqual(d, [500, 1000, 2000, 4000, 10000, 10000]);
  assert.equal(backoffDelay(0, { random: () => 0 }), 250);
});

test("keep-alive sends Alive as a nested payload and measures rtt", async () => {
  const { ch } = client({ aliveInterval: 5 });
  let rtt = null;
  ch.on("rtt", (v) => { rtt = v; });
  ch.connect();
  const s = FakeSocket.all[0];
  s.open();
  await tick(15);
  const alive = s.sent.find((m) => m.Type === "Alive");
  assert.equal(alive.Alive.Type, "Alive");
  assert.equal(typeof alive.Alive.Alive, "number");
  s.receive({ Data: alive.Alive, Iid: alive.Iid });
  ch.close();
  await tick();
  assert.equal(typeof rtt, "number");
});
