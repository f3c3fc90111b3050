import { test } from "node:test";
import assert from "node:assert/strict";
import { initialState, reduce, participantList, deliveryState, Store } from "../../../static/js/room.js";

const welcome = (s) => reduce(reduce(s, { type: "self", id: "ME" }), {
  type: "welcome", room: { Name: "r", Type: "Room" },
  users: [
    { Type: "Online", Id: "B", Rev: 2, Status: { displayName: "Bob", buddyPicture: "img:x/y", message: null } },
    { Type: "Online", Id: "ME", Rev: 1 },
    { Type: "Online", Id: "B", Rev: 2 }, // duplicate (ghost) entry
  ],
});

test("welcome lists everyone once, self first", () => {
  const s = welcome(initialState());
  assert.equal(s.joined, true);
  assert.deepEqual(s.order, ["ME", "B"]);
  assert.equal(s.participants.B.displayName, "Bob");
  assert.equal(s.participants.B.buddyPicture, "img:x/y");
  assert.equal(s.participants.B.message, "");
});

test("joined, status and left", () => {
  let s = welcome(initialState());
  s = reduce(s, { type: "joined", doc: { Type: "Joined", Id: "C", Status: { displayName: "Cy" } } });
  assert.deepEqual(participantList(s).map((p) => p.id), ["ME", "B", "C"]);
  s = reduce(s, { type: "status", doc: { Type: "Status", Id: "C", Rev: 5, Status: { displayName: "Cyd" } } });
  assert.equal(s.participants.C.displayName, "Cyd");
  // an older Rev arriving late is ignored
  s = reduce(s, { type: "status", doc: { Type: "Status", Id: "C", Rev: 4, Status: { displayName: "old" } } });
  assert.equal(s.participants.C.displayName, "Cyd");
  s = reduce(s, { type: "typing", from: "C", typing: true });
  s = reduce(s, { type: "left", id: "C" });
  assert.equal(s.participants.C, undefined);
  assert.deepEqual(s.order, ["ME", "B"]);
  assert.equal(s.typing.C, undefined);
  // we never remove ourselves on a Left (a ghost of our old connection)
  assert.equal(reduce(s, { type: "left", id: "ME" }), s);
});

test("re-welcome after reconnect keeps known statuses and chat", () => {
  let s = welcome(initialState());
  s = reduce(s, { type: "chat", message: { from: "B", mid: "1", text: "hi" } });
  s = reduce(s, { type: "welcome", users: [{ Id: "ME" }, { Id: "B" }] });
  assert.equal(s.participants.B.displayName, "Bob");
  assert.equal(s.chat.length, 1);
});

test("chat delivery marks", () => {
  let s = welcome(initialState());
  s = reduce(s, { type: "chat", message: { from: "ME", mid: "m1", text: "hello", mine: true } });
  assert.equal(deliveryState(s.chat[0]), "sent");
  s = reduce(s, { type: "chat-state", mid: "m1", from: "B", state: "delivered" });
  s = reduce(s, { type: "chat-state", mid: "m1", from: "B", state: "delivered" });
  assert.deepEqual(s.chat[0].deliveredTo, ["B"]);
  assert.equal(deliveryState(s.chat[0]), "delivered");
  s = reduce(s, { type: "chat-seen", mids: ["m1", "unknown"], from: "C" });
  assert.equal(deliveryState(s.chat[0]), "seen");
  assert.deepEqual(s.chat[0].deliveredTo, ["B", "C"]);
  // receipts only apply to our own messages
  s = reduce(s, { type: "chat", message: { from: "B", mid: "m2", text: "yo" } });
  const before = s;
  s = reduce(s, { type: "chat-state", mid: "m2", from: "C", state: "delivered" });
  assert.equal(s, before);
  // unsent (offline) messages stay pending
  s = reduce(s, { type: "chat", message: { from: "ME", mid: "m3", text: "x", mine: true, sent: false } });
  assert.equal(deliveryState(s.chat.at(-1)), "pending");
});

test("duplicate chat messages are dropped and a message ends typing", () => {
  let s = welcome(initialState());
  s = reduce(s, { type: "typing", from: "B", typing: true });
  s = reduce(s, { type: "chat", message: { from: "B", mid: "1", text: "a" } });
  assert.deepEqual(s.typing, {});
  assert.equal(reduce(s, { type: "chat", message: { from: "B", mid: "1", text: "a" } }), s);
});

test("speaker, mute, local status; store notifies only on change", () => {
  const store = new Store(welcome(initialState()));
  let changes = 0;
  store.on("change", () => changes++);
  store.dispatch({ type: "speaker", id: "B" });
  store.dispatch({ type: "speaker", id: "B" });
  store.dispatch({ type: "media-muted", id: "B", kind: "audio", muted: true });
  store.dispatch({ type: "local-status", status: { displayName: "Me!" } });
  store.dispatch({ type: "nonsense" });
  assert.equal(changes, 3);
  assert.equal(store.state.speaker, "B");
  assert.equal(store.state.participants.B.audioMuted, true);
  assert.equal(store.state.participants.ME.displayName, "Me!");
  store.dispatch({ type: "left", id: "B" });
  assert.equal(store.state.speaker, "");
});

test("a disconnect leaves the room state but keeps the participants shown", () => {
  let s = welcome(initialState());
  s = reduce(s, { type: "typing", from: "B", typing: true });
  s = reduce(s, { type: "disconnected" });
  assert.equal(s.joined, false);
  assert.deepEqual(s.order, ["ME", "B"]);
  assert.deepEqual(s.typing, {});
  assert.equal(reduce(s, { type: "welcome", users: [{ Id: "ME" }] }).joined, true);
});
