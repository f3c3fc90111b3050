import { test } from "node:test";
import assert from "node:assert/strict";
import { roomFromPath, roomPath, roomURL, websocketURL, buddyPictureURL } from "../../../static/js/util/url.js";

test("room name is the URL-decoded path after the base", () => {
  assert.equal(roomFromPath("/standup", "/"), "standup");
  assert.equal(roomFromPath("/", "/"), "");
  assert.equal(roomFromPath("/sub/standup", "/sub/"), "standup");
  assert.equal(roomFromPath("/sub", "/sub/"), "");
  assert.equal(roomFromPath("/Caf%C3%A9%20Team", "/"), "Café Team");
  assert.equal(roomFromPath("/a/b%2Fc", "/"), "a/b/c");
});

test("malformed escapes keep the raw name", () => {
  assert.equal(roomFromPath("/100%zz", "/"), "100%zz");
});

test("room paths and URLs round-trip", () => {
  for (const name of ["standup", "Café Team", "a/b", "x?y#z", "50%"]) {
    assert.equal(roomFromPath("/sub/" + roomPath(name), "/sub/"), name);
  }
  assert.equal(roomURL("http://h:8080", "/", "Café Team"), "http://h:8080/Caf%C3%A9%20Team");
});

test("websocket URL follows Ssl, Host and B; token appended as is", () => {
  assert.equal(websocketURL({ ssl: false, host: "h:8080", basePath: "/" }), "ws://h:8080/ws");
  assert.equal(websocketURL({ ssl: true, host: "h", basePath: "/sub/", token: "abc-_=" }), "wss://h/sub/ws?t=abc-_=");
  assert.equal(websocketURL({ ssl: false, host: "h", basePath: "/sub" }), "ws://h/sub/ws");
});

test("buddy pictures: img: references map to the s46 route, others pass or fall back", () => {
  assert.equal(buddyPictureURL("img:abc/def/picture.png", "http://h/"), "http://h/static/img/buddy/s46/abc/def/picture.png");
  assert.equal(buddyPictureURL("img:abc", "http://h/sub/"), "http://h/sub/static/img/buddy/s46/abc");
  assert.equal(buddyPictureURL("data:image/jpeg;base64,AAAA", "http://h/"), "data:image/jpeg;base64,AAAA");
  assert.equal(buddyPictureURL("data:text/html;base64,AAAA", "http://h/"), null);
  assert.equal(buddyPictureURL("javascript:alert(1)", "http://h/"), null);
  assert.equal(buddyPictureURL("", "http://h/"), null);
  assert.equal(buddyPictureURL(null, "http://h/"), null);
  assert.equal(buddyPictureURL("img:", "http://h/"), null);
});
