"""The one slow channeling test (~65 s): keep-alive deadline and nonce expiry share the same wait
(conformance 73 and 54; channeling-api.md §1 Keep-alive, §3 Nonce)."""

import json
import socket
import time
import uuid

import pytest

from channeling_helpers import Clients, RawWS, m_alive, m_auth, m_hello
from conftest import default_conf, patch_session, register, sharedsecret_combo


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf())


def test_slow_73_client_without_pongs_is_dropped_and_54_nonce_expires(srv):
    cs = Clients()
    raw = RawWS(srv.port)
    t0 = time.monotonic()
    try:
        op, payload = raw.read_frame(5)
        assert op == 0x1 and json.loads(payload)["Data"]["Type"] == "Self"
        room = f"slow-{uuid.uuid4().hex[:8]}"
        raw.send_text(json.dumps(m_hello(room, iid="h")))
        op, payload = raw.read_frame(5)
        assert json.loads(payload)["Data"]["Type"] == "Welcome"

        b = cs(srv)  # a normal client (answers pings) in the same room
        b.join(room)
        c = cs(srv)  # holds a nonce that must expire after 60 s
        reg = register(srv, c.me)
        assert reg.status_code == 200, reg.text
        reg = reg.json()
        t_nonce = time.monotonic()

        pings = 0
        closed_at = None
        last_data = time.monotonic()
        while time.monotonic() - t0 < 78:
            if time.monotonic() - last_data >= 5:
                # data frames must not extend the read deadline (only pongs do)
                raw.send_text(json.dumps(m_alive(1)))
                last_data = time.monotonic()
            try:
                op, payload = raw.read_frame(1.0)
            except socket.timeout:
                continue
            except (EOFError, ConnectionResetError, BrokenPipeError):
                closed_at = time.monotonic() - t0
                break
            if op == 0x9:
                pings += 1  # never answered
            elif op == 0x8:
                closed_at = time.monotonic() - t0
                break
        assert closed_at is not None, f"client without pongs still connected after {time.monotonic() - t0:.0f}s"
        assert 55 <= closed_at <= 72, f"closed after {closed_at:.1f}s (pings seen: {pings})"
        assert pings >= 1, "the server never sent a Ping"
        # the room member sees the hard disconnect; the pong-answering clients are still connected
        env = b.recv_type("Left", 10)
        assert env["Data"]["Status"] == "hard"
        b.alive_ok()

        # 54: the nonce is now more than 60 s old
        wait = 61.5 - (time.monotonic() - t_nonce)
        if wait > 0:
            time.sleep(wait)
        d = c.request(m_auth(reg["userid"], reg["nonce"]))["Data"]
        assert d["Type"] == "Error" and d["Code"] == "invalid_session_token", d
        # a fresh nonce for the same user works at once (the failure above was the expiry)
        combo, secret = sharedsecret_combo(reg["userid"], int(time.time()) + 3600)
        r = patch_session(srv, c.id, {"id": c.id, "sid": c.sid, "useridcombo": combo, "secret": secret})
        assert r.status_code == 200, r.text
        d = c.request(m_auth(reg["userid"], r.json()["nonce"]))["Data"]
        assert d["Type"] == "Self" and d["Userid"] == reg["userid"], d
        c.alive_ok()
    finally:
        raw.close()
        cs.close()
