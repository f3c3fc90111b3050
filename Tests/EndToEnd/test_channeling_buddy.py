"""Channeling Status.buddyPicture and the buddy image route (conformance 113-119; channeling-api.md §6.6,
rest-api.md §8)."""

import base64
import re
import uuid

import pytest

from channeling_helpers import Clients, data_url, m_status, make_png, png_size
from conftest import default_conf, get, poll

IMG_RE = re.compile(r"^img:([A-Za-z0-9_-]{20})/([A-Za-z0-9_-]+)/picture\.(png|jpg|gif|webp)$")
GIF_1x1 = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
           b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf())


@pytest.fixture
def clients():
    c = Clients()
    yield c
    c.close()


def pair(srv, clients):
    room = f"b-{uuid.uuid4().hex[:10]}"
    a, b = clients(srv), clients(srv)
    a.join(room)
    b.join(room)
    a.recv_type("Joined")
    return a, b


def send_picture(a, b, picture, **extra):
    st = {"displayName": "A", "buddyPicture": picture, "message": None, **extra}
    a.send(m_status(st))
    env = b.recv_type("Status")
    assert env["From"] == a.id
    return env["Data"]["Status"]


def picture_url(srv, flags, value):
    return srv.u(f"static/img/buddy/{flags}/{value[len('img:'):]}")


def test_113_114_png_upload_and_fetch(srv, clients):
    a, b = pair(srv, clients)
    png = make_png(64, 48)
    st = send_picture(a, b, data_url("image/png", png))
    value = st["buddyPicture"]
    m = IMG_RE.match(value)
    assert m and m.group(3) == "png", value
    assert st["displayName"] == "A" and st["message"] is None  # other fields untouched
    image_id, change = m.group(1), m.group(2)
    # the sender's own entry in Users carries the same rewritten value
    own = [u for u in a.users()["Users"] if u["Id"] == a.id][0]
    assert own["Status"]["buddyPicture"] == value

    r = get(picture_url(srv, "s46", value))
    assert r.status_code == 200, (r.status_code, r.text[:200])
    assert r.headers["Content-Type"].split(";")[0] == "image/png"
    assert png_size(r.content) == (46, 46)
    assert change in r.headers.get("ETag", ""), r.headers
    assert r.headers.get("Cache-Control") == "public, no-transform, max-age=86400"
    assert r.headers.get("Expires") and r.headers.get("Last-Modified")

    # a flag without a size: the original bytes
    r = get(srv.u(f"static/img/buddy/x/{image_id}/{change}/picture.png"))
    assert r.status_code == 200 and r.content == png
    assert r.headers["Content-Type"].split(";")[0] == "image/png"
    # the rest of the path is ignored
    r = get(srv.u(f"static/img/buddy/x/{image_id}/anything/else.gif"))
    assert r.status_code == 200 and r.content == png
    # other sizes
    r = get(srv.u(f"static/img/buddy/s20/{image_id}/{change}/picture.png"))
    assert r.status_code == 200 and png_size(r.content) == (20, 20)


def test_114_conditional_and_range(srv, clients):
    a, b = pair(srv, clients)
    png = make_png(10, 10, (1, 2, 3))
    value = send_picture(a, b, data_url("image/png", png))["buddyPicture"]
    url = picture_url(srv, "x", value)
    r = get(url)
    etag = r.headers["ETag"]
    r2 = get(url, headers={"If-None-Match": etag})
    assert r2.status_code == 304 and not r2.content
    r3 = get(url, headers={"Range": "bytes=0-7"})
    assert r3.status_code == 206 and r3.content == png[:8]


def test_115_same_and_changed_picture(srv, clients):
    a, b = pair(srv, clients)
    png1 = make_png(16, 16, (10, 20, 30))
    v1 = send_picture(a, b, data_url("image/png", png1))["buddyPicture"]
    v1b = send_picture(a, b, data_url("image/png", png1))["buddyPicture"]
    assert v1b == v1
    png2 = make_png(16, 16, (200, 20, 30))
    v2 = send_picture(a, b, data_url("image/png", png2))["buddyPicture"]
    m1, m2 = IMG_RE.match(v1), IMG_RE.match(v2)
    assert m1.group(1) == m2.group(1), (v1, v2)
    assert m1.group(2) != m2.group(2), (v1, v2)
    r = get(picture_url(srv, "x", v2))
    assert r.content == png2
    assert m2.group(2) in r.headers["ETag"]
    # the old URL (same image id) now serves the new picture
    assert get(picture_url(srv, "x", v1)).content == png2
    # the s46 rendition follows the change
    r46 = get(picture_url(srv, "s46", v2))
    assert r46.status_code == 200 and png_size(r46.content) == (46, 46)


def test_116_image_gone_after_disconnect(srv, clients):
    a, b = pair(srv, clients)
    value = send_picture(a, b, data_url("image/png", make_png(8, 8)))["buddyPicture"]
    assert get(picture_url(srv, "s46", value)).status_code == 200
    a.close()
    b.recv_type("Left")
    assert poll(lambda: get(picture_url(srv, "s46", value)).status_code == 404, 3)
    r = get(srv.u("static/img/buddy/s46/AAAAAAAAAAAAAAAAAAAA/x/picture.png"))
    assert r.status_code == 404


def test_117_invalid_base64_kept_as_is(srv, clients):
    a, b = pair(srv, clients)
    bad = "data:image/png;base64,!!!not-base64!!!"
    assert send_picture(a, b, bad)["buddyPicture"] == bad
    other = "data:image/png;quoted-printable,abc"
    assert send_picture(a, b, other)["buddyPicture"] == other
    own = [u for u in a.users()["Users"] if u["Id"] == a.id][0]
    assert own["Status"]["buddyPicture"] == other
    a.alive_ok()


def test_118_non_string_picture(srv, clients):
    a, b = pair(srv, clients)
    a.send(m_status({"displayName": "A", "buddyPicture": 42}, iid="bp"))
    env = a.recv()
    assert env["Iid"] == "bp" and env["Data"]["Type"] == "Error" and env["Data"]["Code"] == "bad_request", env
    for bad in ({"x": 1}, [1], True):
        a.send(m_status({"buddyPicture": bad}))
        d = a.recv()["Data"]
        assert d["Type"] == "Error" and d["Code"] == "bad_request"
    b.expect_nothing(0.5)  # nothing broadcast
    a.alive_ok()
    # status not stored: B's list shows no status for A
    entry = [u for u in b.users()["Users"] if u["Id"] == a.id][0]
    assert "Status" not in entry, entry
    # A still fully works
    a.send(m_status({"displayName": "ok", "buddyPicture": None}))
    assert b.recv_type("Status")["Data"]["Status"] == {"displayName": "ok", "buddyPicture": None}
    a.close()
    assert b.recv_type("Left")["Data"] == {"Type": "Left", "Id": a.id, "Status": "hard"}


@pytest.mark.parametrize("mime,payload", [
    ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("text/html", b"<html><script>alert(1)</script></html>"),
    ("image/png", b"<html>not a png</html>"),
])
def test_119_dangerous_types_never_served(srv, clients, mime, payload):
    a, b = pair(srv, clients)
    value = send_picture(a, b, data_url(mime, payload))["buddyPicture"]
    if isinstance(value, str) and value.startswith("img:"):
        r = get(srv.u("static/img/buddy/s46/" + value[4:]))
        if r.status_code == 200:
            ct = r.headers.get("Content-Type", "")
            assert "svg" not in ct and "html" not in ct, ct
            assert r.content != payload
    # the bytes are never reachable under any image id A got
    own = [u for u in a.users()["Users"] if u["Id"] == a.id][0]
    v = (own.get("Status") or {}).get("buddyPicture")
    assert not (isinstance(v, str) and v.startswith("img:") and get(picture_url(srv, "x", v)).content == payload)
    a.alive_ok()


def test_gif_served_as_stored(srv, clients):
    a, b = pair(srv, clients)
    value = send_picture(a, b, data_url("image/gif", GIF_1x1))["buddyPicture"]
    assert IMG_RE.match(value).group(3) == "gif", value
    for flags in ("s46", "x"):
        r = get(picture_url(srv, flags, value))
        assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] == "image/gif"
        assert r.content == GIF_1x1


@pytest.mark.parametrize("value", ["img:abc/def/picture.png", "https://example.com/x.png", ""])
def test_other_strings_kept(srv, clients, value):
    a, b = pair(srv, clients)
    assert send_picture(a, b, value)["buddyPicture"] == value


@pytest.fixture(scope="module")
def smallcap(rooms_module):
    return rooms_module(default_conf({"rooms": {"buddyImageMaxBytes": "1000"}}))


def test_oversized_picture_not_stored(smallcap, clients):
    a, b = pair(smallcap, clients)
    small = make_png(4, 4)
    assert len(small) < 1000
    ok = send_picture(a, b, data_url("image/png", small))["buddyPicture"]
    assert IMG_RE.match(ok), ok
    big = make_png(300, 300, (1, 1, 1)) + bytes(range(256)) * 8  # > 1000 bytes
    assert len(big) > 1000
    value = send_picture(a, b, data_url("image/png", big))["buddyPicture"]
    assert not (isinstance(value, str) and value.startswith("img:")), value
    # the previously stored picture is not replaced by the oversized one
    r = get(picture_url(smallcap, "x", ok))
    assert r.status_code in (200, 404) and r.content != big
    a.alive_ok()
    b.alive_ok()


def test_default_avatar_is_a_png_of_the_asked_size(srv):
    """Sessions without a picture get a generated avatar (resized by libpng like uploaded pictures)."""
    import struct
    r = get(srv.url + "/static/img/avatar/s46/Alice%20Example")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", r.content[16:24]) == (46, 46)
    assert get(srv.url + "/static/img/avatar/s46/Alice%20Example").content == r.content, "deterministic per name"
    assert get(srv.url + "/static/img/avatar/s46/Bob").content != r.content
