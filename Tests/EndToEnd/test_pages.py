"""HTTP pages, routing and static files (conformance 12-31, rest-api.md §2-§6, §8, §11)."""

import email.utils
import gzip
import json
import re
import shutil
import time
import zlib
from collections import OrderedDict
from html.parser import HTMLParser

import pytest

from conftest import (
    HOST,
    REPO_ROOT,
    default_conf,
    get,
    location_path,
    raw_request,
    request,
)

GC_RE = re.compile(r'<script id="globalcontext" type="application/json">(.*?)</script>', re.S)
EVIL_TITLE = "</script><b>x"
CSP = "default-src 'self'"


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf())


@pytest.fixture(scope="module")
def sub(rooms_module):
    return rooms_module(default_conf({"http": {"basePath": "/sub"}}))


@pytest.fixture(scope="module")
def csp(rooms_module):
    return rooms_module(default_conf({"app": {"contentSecurityPolicy": CSP, "title": EVIL_TITLE}}))


def globalcontext(html: str) -> OrderedDict:
    scripts = GC_RE.findall(html)
    assert html.count('id="globalcontext"') == 1, "expected exactly one globalcontext script"
    assert len(scripts) == 1
    return json.loads(scripts[0], object_pairs_hook=OrderedDict)


def assert_page(r, status=200):
    assert r.status_code == status, (r.status_code, r.text[:300])
    ct = r.headers.get("Content-Type", "")
    assert ct.lower().replace(" ", "") == "text/html;charset=utf-8", ct
    assert 'id="globalcontext"' in r.text, r.text[:500]
    return globalcontext(r.text)


def is_page(r) -> bool:
    return r.status_code == 200 and 'id="globalcontext"' in r.text


class MetaParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta = {}

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            a = dict(attrs)
            key = a.get("property") or a.get("name")
            if key:
                self.meta[key] = a.get("content")


class HtmlTagParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.attrs = None

    def handle_starttag(self, tag, attrs):
        if tag == "html" and self.attrs is None:
            self.attrs = dict(attrs)


def html_tag_attrs(html: str) -> dict:
    """Attributes of the <html> element (extra attributes such as lang are allowed)."""
    p = HtmlTagParser()
    p.feed(html)
    assert p.attrs is not None, "no <html> element"
    return p.attrs


def metas(html: str) -> dict:
    p = MetaParser()
    p.feed(html)
    return p.meta


# -- 12, 13 -------------------------------------------------------------------------------------------------------------

def test_12_root_page_headers(srv):
    r = get(srv.url + "/")
    assert_page(r)
    assert r.headers.get("Cache-Control") == "private, max-age=0"
    assert r.headers.get("Expires") == "-1"
    assert "ETag" not in r.headers
    assert "Last-Modified" not in r.headers
    assert "Content-Security-Policy" not in r.headers
    assert "Content-Security-Policy-Report-Only" not in r.headers


def test_13_globalcontext_shape(srv):
    r = get(srv.url + "/")
    gc = globalcontext(r.text)
    assert list(gc.keys()) == ["App", "Cfg", "Host", "Ssl", "Csp", "Languages", "S"], list(gc.keys())
    assert gc["App"] == "main"
    cfg = get(srv.url + "/api/v1/config").json()
    page_cfg = dict(gc["Cfg"])
    assert list(gc["Cfg"].keys()) == list(cfg.keys()), "Cfg key order differs from /api/v1/config"
    assert sorted(page_cfg.pop("Modules")) == sorted(cfg.pop("Modules"))
    assert page_cfg == cfg
    assert gc["Host"] == f"{HOST}:{srv.port}"
    assert gc["Ssl"] is False
    assert gc["Csp"] is False
    assert gc["Languages"] == ["en"]
    assert gc["S"] == gc["Cfg"]["S"]
    assert re.fullmatch(r"static/ver=.+", gc["S"]), gc["S"]


def test_13_page_markup(srv):
    html = get(srv.url + "/").text
    s = globalcontext(html)["S"]
    attrs = html_tag_attrs(html)
    assert attrs.get("class") == "no-js wf-loading", attrs
    assert "ng-csp" not in attrs
    assert '<base href="/">' in html
    assert "<title>Spreed WebRTC</title>" in html
    assert "csp.min.css" not in html
    assert "<body spreed-webrtc>" in html
    assert '<div id="background"></div>' in html
    assert 'id="loader"' in html
    assert "<ui></ui>" in html
    # the globalcontext is in the head
    assert html.index('id="globalcontext"') < html.index("<body")


def test_13_page_loads_the_original_client(rooms, tmp_path):
    """rest-api §3 (client needs): require.js bootstrap and the built client's CSS files, served when the web root
    holds Spreed's own built client (Rooms' own client gets its own markup otherwise)."""
    root = tmp_path / "spreed-root"
    (root / "static/js/libs/require").mkdir(parents=True)
    (root / "static/js/libs/require/require.js").write_text("/* require */")
    (root / "static/css").mkdir(parents=True)
    (root / "static/css/main.min.css").write_text("")
    srv = rooms("", root=str(root))
    html = get(srv.url + "/").text
    s = globalcontext(html)["S"]
    m = re.search(r"<script([^>]*)></script>", html[html.index("<ui></ui>"):])
    assert m, "no script element after <ui></ui>"
    tag = m.group(1)
    assert f'src="{s}/js/libs/require/require.js"' in tag, tag
    assert f'data-main="{s}/js/main"' in tag, tag
    assert 'data-plugin=""' in tag, tag
    for css in ("bootstrap.min.css", "font-awesome.min.css", "main.min.css"):
        assert f'href="{s}/css/{css}"' in html, css


def test_13_page_loads_the_rooms_client(srv):
    """Without Spreed's client in the web root the page loads Rooms' own client module."""
    html = get(srv.url + "/").text
    s = globalcontext(html)["S"]
    assert f'<script type="module" src="{s}/js/main.js"' in html
    assert get(srv.url + "/" + s + "/js/main.js").status_code == 200


# -- 14, 15 -------------------------------------------------------------------------------------------------------------

def test_14_room_pages_any_method_single_segment(srv):
    assert_page(get(srv.url + "/some-room"))
    assert_page(request("POST", srv.url + "/some-room"))
    assert_page(request("PUT", srv.url + "/some-room"))


def test_14_non_get_multi_segment_is_not_the_page(srv):
    for method in ("POST", "HEAD", "PUT", "DELETE"):
        r = request(method, srv.url + "/a/b")
        assert r.status_code in (404, 405), (method, r.status_code)
        assert 'id="globalcontext"' not in r.text


def test_15_multi_segment_room_page(srv):
    assert_page(get(srv.url + "/a/b/c"))
    assert_page(get(srv.url + "/api"))


def test_15_trailing_slash_redirects(srv):
    r = get(srv.url + "/a/b/")
    assert r.status_code == 301, r.status_code
    assert location_path(r.headers.get("Location")) == "/a/b"
    r = get(srv.url + "/foo/?x=1")
    assert r.status_code == 301
    assert location_path(r.headers.get("Location")) == "/foo?x=1"
    r = get(srv.url + "/foo/")
    assert r.status_code == 301
    assert location_path(r.headers.get("Location")) == "/foo"
    assert r.text.strip() == '<a href="/foo">Moved Permanently</a>.', r.text
    assert r.headers.get("Content-Type", "").lower().replace(" ", "") == "text/html;charset=utf-8"
    r = get(srv.url + "/api/v1/config/")
    assert r.status_code == 301
    assert location_path(r.headers.get("Location")) == "/api/v1/config"
    r = get(srv.url + "/static/")
    assert r.status_code == 301
    assert location_path(r.headers.get("Location")) == "/static"


# -- 16 -----------------------------------------------------------------------------------------------------------------

def test_16_unclean_paths_redirect(srv):
    r = raw_request(srv.port, "GET", "//foo")
    assert r.status == 301, r
    assert location_path(r.header("Location")) == "/foo"
    assert r.body == b"", r.body
    r = raw_request(srv.port, "GET", "/a/../b")
    assert r.status == 301, r
    assert location_path(r.header("Location")) == "/b"
    r = raw_request(srv.port, "GET", "/a/./b?q=1")
    assert r.status == 301, r
    assert location_path(r.header("Location")) == "/a/b?q=1"
    r = raw_request(srv.port, "GET", "/static/../../etc/passwd")
    assert r.status == 301, r
    assert location_path(r.header("Location")) == "/etc/passwd"
    assert b"root:" not in r.body


def test_16_no_traversal_out_of_static(rooms, tmp_path):
    root = tmp_path / "webroot"
    root.mkdir()
    for name in ("static", "html"):
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, root / name, symlinks=True)
    marker = "SECRET-MARKER-do-not-serve"
    (root / "server.conf").write_text(f"[app]\nsessionSecret = {marker}\n")
    s = rooms(default_conf(), root=root)
    for path in ("/static/../server.conf", "/static/%2e%2e/server.conf", "/static/..%2fserver.conf",
                 "/static/%2e%2e%2fserver.conf", "/static/ver=1/../../server.conf", "/static//../server.conf"):
        r = raw_request(s.port, "GET", path)
        assert marker.encode() not in r.body, path
        assert r.status < 500, (path, r.status)
    # and static files are still served from that root
    r = get(s.url + "/robots.txt")
    assert r.status_code == 200


# -- 17 -----------------------------------------------------------------------------------------------------------------

def test_17_base_path(sub):
    r = get(sub.url + "/sub/api/v1/config")
    assert r.status_code == 200
    assert r.json()["B"] == "/sub/"
    r = get(sub.url + "/api/v1/config")
    assert r.status_code == 404, r.status_code
    r = get(sub.url + "/sub/")
    gc = assert_page(r)
    assert '<base href="/sub/">' in r.text
    assert gc["Cfg"]["B"] == "/sub/"
    assert_page(get(sub.url + "/sub/room1"))
    r = get(sub.url + "/")
    assert r.status_code == 404
    assert r.text.strip() == "404 page not found", r.text[:200]
    assert get(sub.url + "/room1").status_code == 404
    r = get(sub.url + "/sub")
    assert r.status_code in (301, 404)
    if r.status_code == 301:
        assert location_path(r.headers.get("Location")) == "/sub/"


def test_17_base_path_redirects_keep_prefix(sub):
    r = get(sub.url + "/sub/foo/")
    assert r.status_code == 301
    assert location_path(r.headers.get("Location")) == "/sub/foo"


def test_17_base_path_static_and_robots(sub):
    assert get(sub.url + "/sub/robots.txt").status_code == 200
    assert get(sub.url + "/sub/static/js/main.js").status_code == 200
    assert get(sub.url + "/static/js/main.js").status_code == 404


# -- 18, 19 -------------------------------------------------------------------------------------------------------------

def test_18_ssl_from_forwarded_proto(srv):
    gc = globalcontext(get(srv.url + "/", headers={"X-Forwarded-Proto": "https"}).text)
    assert gc["Ssl"] is True
    gc = globalcontext(get(srv.url + "/", headers={"X-Forwarded-Proto": "http"}).text)
    assert gc["Ssl"] is False
    gc = globalcontext(get(srv.url + "/", headers={"X-Forwarded-Proto": "HTTPS"}).text)
    assert gc["Ssl"] is False  # case-sensitive comparison
    gc = globalcontext(get(srv.url + "/").text)
    assert gc["Ssl"] is False


def test_19_languages(srv):
    gc = globalcontext(get(srv.url + "/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}).text)
    assert gc["Languages"] == ["de-de", "de", "en"]
    gc = globalcontext(get(srv.url + "/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8, fr_FR"}).text)
    assert gc["Languages"] == ["de-de", "fr_fr", "de", "en"]
    gc = globalcontext(get(srv.url + "/").text)
    assert gc["Languages"] == ["en"]


def test_19_host_includes_port(srv):
    gc = globalcontext(get(srv.url + "/", headers={"Host": "example.org:8443"}).text)
    assert gc["Host"] == "example.org:8443"


# -- 20, 21 -------------------------------------------------------------------------------------------------------------

def test_20_content_security_policy(csp):
    r = get(csp.url + "/")
    gc = assert_page(r)
    assert r.headers.get("Content-Security-Policy") == CSP
    assert gc["Csp"] is True
    attrs = html_tag_attrs(r.text)
    assert attrs.get("class") == "no-js wf-loading" and "ng-csp" in attrs, attrs
    s = gc["S"]
    assert f"{s}/css/csp.min.css" in r.text
    if "bootstrap.min.css" in r.text:
        assert r.text.index("csp.min.css") < r.text.index("bootstrap.min.css")
    # the CSP value is not part of the published config
    assert "default-src" not in json.dumps(gc["Cfg"])


def test_20_report_only_csp(rooms):
    s = rooms(default_conf({"app": {"contentSecurityPolicyReportOnly": "default-src 'none'"}}))
    r = get(s.url + "/x")
    gc = assert_page(r)
    assert r.headers.get("Content-Security-Policy-Report-Only") == "default-src 'none'"
    assert "Content-Security-Policy" not in r.headers
    assert gc["Csp"] is True


def test_21_title_cannot_break_out_of_script(csp):
    r = get(csp.url + "/")
    gc = assert_page(r)
    assert gc["Cfg"]["Title"] == EVIL_TITLE
    assert r.text.count("</script>") == r.text.count("<script"), "unbalanced script elements"
    assert "<b>x" not in r.text, "title not escaped somewhere in the page"
    assert csp.config()["Title"] == EVIL_TITLE


# -- 22 -----------------------------------------------------------------------------------------------------------------

def test_22_crawler_page(srv):
    r = get(srv.url + "/r?_escaped_fragment_=")
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").lower().replace(" ", "") == "text/html;charset=utf-8"
    m = metas(r.text)
    assert m.get("og:title") == "/r", m
    assert m.get("og:site_name") == "Spreed WebRTC", m
    assert m.get("og:image") == f"http://{HOST}:{srv.port}/static/img/opengraph-image.png", m
    r = get(srv.url + "/r?_escaped_fragment_=", headers={"X-Forwarded-Proto": "http"})
    assert metas(r.text)["og:image"].startswith("http://"), metas(r.text)
    r = get(srv.url + "/r?_escaped_fragment_=", headers={"X-Forwarded-Proto": "https"})
    assert metas(r.text)["og:image"].startswith("https://"), metas(r.text)


# -- 23 -----------------------------------------------------------------------------------------------------------------

def test_23_gzip_page(srv):
    plain = raw_request(srv.port, "GET", "/gz-room")
    assert plain.status == 200
    assert plain.header("Content-Encoding") in (None, "identity")
    r = raw_request(srv.port, "GET", "/gz-room", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.header("Content-Encoding") == "gzip", r
    assert "accept-encoding" in (r.header("Vary") or "").lower()
    assert gzip.decompress(r.body) == plain.body


def test_23_deflate_first_wins(srv):
    plain = raw_request(srv.port, "GET", "/gz-room")
    r = raw_request(srv.port, "GET", "/gz-room", headers={"Accept-Encoding": "deflate, gzip"})
    assert r.header("Content-Encoding") == "deflate", r
    try:
        body = zlib.decompress(r.body)
    except zlib.error:
        body = zlib.decompress(r.body, -zlib.MAX_WBITS)
    assert body == plain.body


# -- 24, 25, 26 ---------------------------------------------------------------------------------------------------------

def test_24_versioned_static_is_cached(srv):
    r = get(srv.url + "/static/ver=123/js/main.js")
    assert r.status_code == 200
    assert r.headers.get("Cache-Control") == "public, max-age=31536000"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    exp = email.utils.parsedate_to_datetime(r.headers["Expires"]).timestamp()
    assert abs(exp - (time.time() + 365 * 86400)) < 2 * 86400, r.headers["Expires"]
    plain = get(srv.url + "/static/js/main.js")
    assert plain.status_code == 200
    assert plain.content == r.content
    assert (REPO_ROOT / "static/js/main.js").read_bytes() == plain.content
    assert "max-age=31536000" not in plain.headers.get("Cache-Control", "")
    assert "Last-Modified" in plain.headers
    assert "javascript" in plain.headers.get("Content-Type", "")


def test_24_static_uses_the_config_ver_path(srv):
    s = srv.config()["S"]
    r = get(f"{srv.url}/{s}/css/main.css")
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").startswith("text/css")
    assert r.headers.get("Cache-Control") == "public, max-age=31536000"


def test_24_static_conditional_and_range(srv):
    r = get(srv.url + "/static/js/main.js")
    lm = r.headers["Last-Modified"]
    r2 = get(srv.url + "/static/js/main.js", headers={"If-Modified-Since": lm})
    assert r2.status_code == 304
    r3 = get(srv.url + "/static/js/main.js", headers={"Range": "bytes=0-3"})
    assert r3.status_code == 206
    assert r3.content == r.content[:4]
    assert r.headers.get("Accept-Ranges") == "bytes"


def test_25_directory_and_missing(srv):
    r = get(srv.url + "/static/js")
    assert r.status_code == 403, r.status_code
    assert r.text.strip() == "403 Forbidden", r.text[:200]
    r = get(srv.url + "/static/nope.js")
    assert r.status_code == 404
    assert r.text.strip() == "404 Not Found", r.text[:200]
    r = get(srv.url + "/static/ver=1/nope.js")
    assert r.status_code == 404


def test_26_robots(srv):
    r = get(srv.url + "/robots.txt")
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").lower().startswith("text/plain")
    assert r.text.strip() == "User-agent: *"


def test_favicon_is_404(srv):
    assert get(srv.url + "/favicon.ico").status_code == 404


# -- 27 -----------------------------------------------------------------------------------------------------------------

def test_27_well_known(srv, sub):
    r = get(srv.url + "/.well-known/spreed-configuration")
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert r.json() == {"spreed-webrtc_endpoint": f"http://{HOST}:{srv.port}"}
    r = get(srv.url + "/.well-known/spreed-configuration", headers={"X-Forwarded-Proto": "https"})
    assert r.json() == {"spreed-webrtc_endpoint": f"https://{HOST}:{srv.port}"}
    r = get(srv.url + "/.well-known/spreed-configuration", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") in (None, "identity"), "well-known must not be compressed"
    r = get(sub.url + "/sub/.well-known/spreed-configuration")
    assert r.status_code == 200
    assert r.json() == {"spreed-webrtc_endpoint": f"http://{HOST}:{sub.port}/sub"}


# -- 28, 29, 30 ---------------------------------------------------------------------------------------------------------

def assert_sandbox(r, expected_csp):
    assert r.status == 200, r
    assert (r.header("Content-Type") or "").lower().replace(" ", "") == "text/html;charset=utf-8"
    assert r.header("Cache-Control") == "private, max-age=0"
    assert r.header("Expires") == "-1"
    assert r.header("Content-Security-Policy") == expected_csp
    assert r.header("X-Frame-Options") is None


def test_28_pdfcanvas_sandbox(srv):
    r = raw_request(srv.port, "GET", "/sandbox/https:/example.com/pdfcanvas.html")
    assert_sandbox(r, "default-src 'none'; script-src https://example.com 'unsafe-eval'; "
                      "img-src 'self' data: blob:; style-src 'unsafe-inline'")


def test_28_odfcanvas_sandbox(srv):
    r = raw_request(srv.port, "GET", "/sandbox/http:/127.0.0.1:8080/odfcanvas.html")
    assert_sandbox(r, "default-src 'none'; script-src http://127.0.0.1:8080; img-src data: blob:; "
                      "style-src 'unsafe-inline'")


def test_29_sandbox_errors(srv):
    r = raw_request(srv.port, "GET", "/sandbox/https:/example.com/nope.html")
    assert r.status == 404, r
    assert b"globalcontext" not in r.body
    r = raw_request(srv.port, "GET", "/sandbox/:/x/odfcanvas.html")
    assert r.status == 400, r


def test_30_youtube_sandbox_csp_allows_youtube(srv):
    r = raw_request(srv.port, "GET", "/sandbox/https:/example.com/youtubevideo.html")
    assert r.status == 200, r
    csp_value = r.header("Content-Security-Policy") or ""
    assert "script-src https://example.com https://www.youtube.com" in csp_value, csp_value
    assert "frame-src https://www.youtube.com" in csp_value, csp_value


# -- 31 -----------------------------------------------------------------------------------------------------------------

def test_31_ws_without_upgrade(srv):
    r = get(srv.url + "/ws")
    assert r.status_code == 400
    r = request("POST", srv.url + "/ws")
    assert r.status_code == 405
    assert r.content == b""


# -- buddy images, security headers -------------------------------------------------------------------------------------

def test_buddy_image_unknown_id(srv):
    r = get(srv.url + "/static/img/buddy/s46/AAAAAAAAAAAAAAAAAAAA/123/picture.png")
    assert r.status_code == 404
    assert r.text.strip() == "Unknown image"


NOSNIFF_REQUESTS = [
    ("GET", "/"), ("GET", "/room"), ("POST", "/room"), ("GET", "/a/b/c"), ("GET", "/foo/"), ("GET", "//foo"),
    ("POST", "/a/b"), ("GET", "/api/v1/config"), ("POST", "/api/v1/config"), ("POST", "/api/v1/rooms"),
    ("GET", "/api/v1/nothing"), ("GET", "/static/js/main.js"), ("GET", "/static/nope.js"), ("GET", "/static/js"),
    ("GET", "/robots.txt"), ("GET", "/favicon.ico"), ("GET", "/.well-known/spreed-configuration"),
    ("GET", "/sandbox/https:/example.com/pdfcanvas.html"), ("GET", "/sandbox/https:/example.com/nope.html"),
    ("GET", "/ws"), ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/api/v1/stats"),
    ("GET", "/static/img/buddy/s46/x/y/picture.png"), ("POST", "/api/v1/tokens"),
]


@pytest.mark.parametrize("method,path", NOSNIFF_REQUESTS)
def test_nosniff_on_every_response(srv, method, path):
    r = raw_request(srv.port, method, path)
    assert r.header("X-Content-Type-Options") == "nosniff", (method, path, r.status)


@pytest.mark.parametrize("path", ["/static/js/main.js", "/sandbox/https:/example.com/pdfcanvas.html"])
def test_23_gzip_static_and_sandbox(srv, path):
    plain = raw_request(srv.port, "GET", path)
    assert plain.status == 200
    r = raw_request(srv.port, "GET", path, headers={"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.header("Content-Encoding") == "gzip", r
    assert "accept-encoding" in (r.header("Vary") or "").lower()
    assert gzip.decompress(r.body) == plain.body
