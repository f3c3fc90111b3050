import { test } from "node:test";
import assert from "node:assert/strict";
import * as p from "../../../static/js/protocol.js";

test("encode puts the payload under its type and the Iid as a string", () => {
  assert.deepEqual(JSON.parse(p.encode("Hello", { Name: "r" }, 3)), { Type: "Hello", Hello: { Name: "r" }, Iid: "3" });
  assert.deepEqual(JSON.parse(p.encode("Leave")), { Type: "Leave", Leave: {} });
});

test("decode reads Data, From, To, Iid and A; rejects junk", () => {
  const m = p.decode('{"Data":{"Type":"Welcome","Users":[]},"From":"me","Iid":"0"}\n');
  assert.equal(m.type, "Welcome");
  assert.equal(m.from, "me");
  assert.equal(m.iid, "0");
  assert.equal(m.to, "");
  assert.equal(p.decode("not json"), null);
  assert.equal(p.decode('{"Data":"x"}'), null);
  assert.equal(p.decode('{"Data":{"NoType":1}}'), null);
  assert.equal(p.decode("null"), null);
});

test("nested payloads for Status, Alive and Authentication", () => {
  const st = p.statusDocument({ displayName: "Ann" });
  assert.deepEqual(st, { displayName: "Ann", buddyPicture: null, message: null });
  assert.deepEqual(p.statusPayload(st), { Type: "Status", Status: st });
  assert.deepEqual(p.alivePayload(12.7), { Type: "Alive", Alive: 12 });
  assert.deepEqual(p.authenticationPayload("u", "n"), { Type: "Authentication", Authentication: { Userid: "u", Nonce: "n" } });
});

test("Hello carries Credentials only with a PIN", () => {
  assert.deepEqual(p.helloPayload({ room: "r", version: "1", ua: "x" }), { Version: "1", Ua: "x", Name: "r", Type: "" });
  assert.deepEqual(p.helloPayload({ room: "r", pin: "42" }).Credentials, { PIN: "42" });
  assert.equal("Credentials" in p.helloPayload({ room: "r", pin: "" }), false);
});

test("chat documents", () => {
  assert.deepEqual(p.chatMessage("", "hi", "m1"), { To: "", Type: "Chat", Chat: { Message: "hi", Mid: "m1", NoEcho: true } });
  assert.deepEqual(p.chatDelivered("A", "m1").Chat.Status, { State: "delivered", Mid: "m1" });
  assert.deepEqual(p.chatSeen("A", new Set(["m1", "m2"])).Chat.Status, { SeenMids: ["m1", "m2"] });
  assert.deepEqual(p.chatTyping("", true).Chat.Status, { Typing: "start" });
  assert.deepEqual(p.chatTyping("", false).Chat.Status, { Typing: "stop" });
});

test("classifyChat", () => {
  const msg = { To: "", Type: "Chat", Chat: { Message: "hello", Time: "2026-01-01T00:00:00Z", Mid: "m1", Status: null } };
  assert.deepEqual(p.classifyChat(msg, "B", "ME"), { kind: "message", from: "B", mid: "m1", text: "hello", time: "2026-01-01T00:00:00Z", private: false });
  assert.equal(p.classifyChat({ ...msg, To: "ME" }, "B", "ME").private, true);
  const typing = { To: "", Type: "Chat", Chat: { Message: "", Time: "", Status: { Typing: "start" } } };
  assert.deepEqual(p.classifyChat(typing, "B", "ME"), { kind: "typing", from: "B", typing: true, private: false });
  const delivered = { To: "ME", Type: "Chat", Chat: { Message: "", Time: "", Status: { State: "delivered", Mid: "m1" } } };
  assert.deepEqual(p.classifyChat(delivered, "B", "ME"), { kind: "state", from: "B", mid: "m1", state: "delivered" });
  const sent = { To: "B", Type: "Chat", Chat: { Message: "", Time: "", Mid: "m9", Status: { State: "sent" } } };
  assert.deepEqual(p.classifyChat(sent, "ME", "ME"), { kind: "state", from: "B", mid: "m9", state: "sent" });
  const seen = { To: "ME", Type: "Chat", Chat: { Message: "", Status: { SeenMids: ["m1", 5] } } };
  assert.deepEqual(p.classifyChat(seen, "B", "ME"), { kind: "seen", from: "B", mids: ["m1"] });
  assert.equal(p.classifyChat({ To: "", Chat: { Message: "" } }, "B", "ME"), null);
  assert.equal(p.classifyChat({}, "B", "ME"), null);
});

test("error texts exist for the join errors", () => {
  for (const code of ["authorization_required", "invalid_credentials", "room_full", "sfu_unavailable"]) {
    assert.ok(p.errorText(code).length > 5);
  }
  assert.match(p.errorText("weird_code"), /weird_code/);
});
