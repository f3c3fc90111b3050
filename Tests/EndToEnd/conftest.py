"""End-to-end harness: starts the real RoomsServer binary and talks HTTP/WebSocket to it.

Only 127.0.0.1 is ever contacted.  Every process started here is killed at teardown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOMS_BIN = os.environ.get("ROOMS_BIN", str(REPO_ROOT / ".build" / "debug" / "RoomsServer"))
HOST = "127.0.0.1"
START_TIMEOUT = 20.0
FAIL_TIMEOUT = 10.0

# Values used by the conformance default profile (conformance.md, preamble).
SHARED_SECRET = "e2e-shared-secret-for-sharedsecret-mode"
TURN_SECRET = "e2e-turn-shared-secret"

# ---------------------------------------------------------------------------------------------------------------------
# small utilities


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # never go through a proxy: loopback only
    return s


_SESSION = http_session()


def get(url: str, **kw) -> requests.Response:
    kw.setdefault("allow_redirects", False)
    kw.setdefault("timeout", 10)
    return _SESSION.get(url, **kw)


def request(method: str, url: str, **kw) -> requests.Response:
    kw.setdefault("allow_redirects", False)
    kw.setdefault("timeout", 10)
    return _SESSION.request(method, url, **kw)


class RawResponse:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str, default=None):
        return self.headers.get(name, default)

    def __repr__(self):
        return f"<RawResponse {self.status} {dict(self.headers)} {self.body[:200]!r}>"


def raw_request(port: int, method: str, path: str, headers: dict | None = None, body: bytes | None = None,
                timeout: float = 10) -> RawResponse:
    """Send a request with the path exactly as given (no client-side normalisation)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Length", str(len(body)))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, resp.headers, data)
    finally:
        conn.close()


def location_path(location: str | None) -> str:
    """Location header reduced to path[?query] (an absolute URL to the same server is accepted)."""
    assert location, "redirect without Location header"
    from urllib.parse import urlsplit

    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        assert parts.hostname in (HOST, "localhost"), f"redirect leaves the server: {location}"
    return parts.path + (("?" + parts.query) if parts.query else "")


def error_json(resp: requests.Response) -> dict:
    """Parse and check the REST error shape {"code","message","success":false}."""
    ct = resp.headers.get("Content-Type", "")
    assert "json" in ct.lower(), f"error body is not JSON (Content-Type {ct!r}): {resp.status_code} {resp.text[:300]!r}"
    try:
        doc = resp.json()
    except ValueError:
        raise AssertionError(f"error body does not parse as JSON: {resp.text[:300]!r}")
    assert isinstance(doc, dict), doc
    assert doc.get("success") is False, doc
    assert isinstance(doc.get("code"), str) and doc["code"], doc
    assert isinstance(doc.get("message"), str), doc
    return doc


def b64hmac(key: bytes, msg: str, digest=hashlib.sha256) -> str:
    return base64.b64encode(hmac.new(key, msg.encode(), digest).digest()).decode()


# ---------------------------------------------------------------------------------------------------------------------
# configuration builders


def build_conf(sections: dict[str, dict[str, str | None]]) -> str:
    """INI text from {section: {key: value}}; a value of None drops the key."""
    out = []
    for sec, keys in sections.items():
        out.append(f"[{sec}]")
        for k, v in keys.items():
            if v is None:
                continue
            out.append(f"{k} = {v}")
        out.append("")
    return "\n".join(out) + "\n"


def merge_sections(base: dict, overrides: dict | None) -> dict:
    result = {s: dict(k) for s, k in base.items()}
    for sec, keys in (overrides or {}).items():
        result.setdefault(sec, {})
        for k, v in keys.items():
            # keys are case-insensitive: replace an existing key written in another case
            for existing in list(result[sec]):
                if existing.lower() == k.lower():
                    del result[sec][existing]
            result[sec][k] = v
    return result


def default_profile_sections(overrides: dict | None = None) -> dict:
    base = {
        "http": {"stats": "true"},
        "app": {"turnSecret": TURN_SECRET},
        "users": {
            "enabled": "true",
            "mode": "sharedsecret",
            "allowRegistration": "true",
            "sharedsecret_secret": SHARED_SECRET,
        },
        "roomtypes": {"^conf/.+": "Conference"},
    }
    return merge_sections(base, overrides)


def default_conf(overrides: dict | None = None) -> str:
    """The conformance default profile: users in sharedsecret mode with registration, turnSecret, stats,
    `[roomtypes] ^conf/.+ = Conference`.  `overrides` = {section: {key: value-or-None}}."""
    return build_conf(default_profile_sections(overrides))


# ---------------------------------------------------------------------------------------------------------------------
# server process


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _prepare_conf(conf: str, port: int, add_listen: bool) -> str:
    conf = conf.replace("@PORT@", str(port))
    if add_listen and not re.search(r"^\s*listen\s*[=:]", conf, re.M | re.I):
        m = re.search(r"^\s*\[http\]\s*$", conf, re.M | re.I)
        line = f"listen = {HOST}:{port}"
        if m:
            conf = conf[: m.end()] + "\n" + line + conf[m.end():]
        else:
            # Appended, not prepended: options before the first section belong to [default].
            conf = conf + f"\n[http]\n{line}\n"
    return conf


def _base_path(conf: str) -> str:
    m = re.search(r"^\s*basepath\s*[=:]\s*(\S*)", conf, re.M | re.I)
    bp = m.group(1) if m else "/"
    if not bp.endswith("/"):
        bp += "/"
    return bp


class RoomsServer:
    """One RoomsServer process.  `.url` is http://127.0.0.1:<port> (without base path)."""

    def __init__(self, workdir: Path, conf: str = "", extra_args=(), env: dict | None = None,
                 files: dict | None = None, data_dir: Path | None = None, root: Path | str | None = None,
                 add_listen: bool = True, port: int | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.ws_url = f"ws://{HOST}:{self.port}"
        for rel, content in (files or {}).items():
            p = self.workdir / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content.replace("@DIR@", str(self.workdir)))
        conf = conf.replace("@DIR@", str(self.workdir))
        self.conf_text = _prepare_conf(conf, self.port, add_listen)
        self.base = _base_path(self.conf_text)
        self.conf_path = self.workdir / "server.conf"
        self.conf_path.write_text(self.conf_text)
        self.data_dir = Path(data_dir) if data_dir else self.workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.root = str(root or REPO_ROOT)
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self._last_exit: int | None = None
        self._run = 0
        self._logs: list[tuple[Path, Path]] = []

    # -- process control
    def command(self) -> list[str]:
        return [ROOMS_BIN, "-c", str(self.conf_path), "--data", str(self.data_dir), "--root", self.root,
                *self.extra_args]

    def spawn(self):
        self._run += 1
        out = self.workdir / f"stdout.{self._run}.log"
        err = self.workdir / f"stderr.{self._run}.log"
        self._logs.append((out, err))
        env = dict(os.environ)
        env.update(self.env)
        assert os.path.exists(ROOMS_BIN), f"server binary {ROOMS_BIN} does not exist"
        with open(out, "wb") as fo, open(err, "wb") as fe:
            self.proc = subprocess.Popen(self.command(), stdout=fo, stderr=fe, stdin=subprocess.DEVNULL,
                                         env=env, cwd=str(self.workdir), start_new_session=True)

    def health_urls(self) -> list[str]:
        urls = [f"{self.url}/healthz"]
        if self.base != "/":
            urls.append(f"{self.url}{self.base}healthz")
        return urls

    def wait_ready(self, timeout: float = START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode} during start-up\n{self.log()}")
            for u in self.health_urls():
                try:
                    r = _SESSION.get(u, timeout=1, allow_redirects=False)
                    if r.status_code == 200:
                        return
                except requests.RequestException:
                    pass
            time.sleep(0.05)
        raise AssertionError(f"server not healthy within {timeout}s\n{self.log()}")

    def start(self):
        self.spawn()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, graceful: bool = False):
        """Kill the process (SIGKILL), or with graceful=True send SIGTERM and wait up to 15 s for it to exit."""
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM if graceful else signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                p.terminate() if graceful else p.kill()
            try:
                p.wait(15 if graceful else 5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    p.kill()
                p.wait(5)
        self._last_exit = p.returncode
        self.proc = None

    def restart(self):
        """Stop gracefully (SIGTERM) and start again with the same config, port and data dir."""
        self.stop(graceful=True)
        assert self._last_exit == 0, f"server exited with {self._last_exit} on SIGTERM\n{self.log()}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait until the port is free again
            try:
                with socket.create_connection((HOST, self.port), timeout=0.2):
                    pass
                time.sleep(0.05)
            except OSError:
                break
        return self.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- logs
    def log(self) -> str:
        parts = []
        for out, err in self._logs:
            parts.append(_read(out))
            parts.append(_read(err))
        return "\n".join(parts)

    def wait_log(self, pattern: str, timeout: float = 3.0, flags=re.I) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            if re.search(pattern, text, flags):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"log does not match {pattern!r}:\n{text}")
            time.sleep(0.1)

    # -- convenience
    def u(self, path: str) -> str:
        """URL for a path relative to the base path (`u("api/v1/config")`)."""
        return self.url + self.base + path.lstrip("/")

    def config(self) -> dict:
        r = get(self.u("api/v1/config"))
        assert r.status_code == 200, (r.status_code, r.text[:300])
        return r.json()

    def healthy(self) -> bool:
        try:
            return any(_SESSION.get(u, timeout=3).status_code == 200 for u in self.health_urls())
        except requests.RequestException:
            return False


class ServerFactory:
    def __init__(self, tmp_root: Path):
        self.tmp_root = Path(tmp_root)
        self.servers: list[RoomsServer] = []
        self.n = 0

    def __call__(self, conf: str = "", extra_args=(), env: dict | None = None, files: dict | None = None,
                 data_dir: Path | None = None, **kw) -> RoomsServer:
        self.n += 1
        srv = RoomsServer(self.tmp_root / f"srv{self.n}", conf, extra_args, env, files, data_dir, **kw)
        self.servers.append(srv)
        return srv.start()

    def close(self):
        for s in self.servers:
            try:
                s.stop()
            except Exception:
                pass


@pytest.fixture
def rooms(tmp_path):
    """Factory: rooms(conf="", extra_args=[], env={}, files={}, data_dir=None) -> started RoomsServer."""
    f = ServerFactory(tmp_path)
    yield f
    f.close()


@pytest.fixture(scope="module")
def rooms_module(tmp_path_factory):
    """Module-scoped factory (for servers shared by all tests of a module)."""
    f = ServerFactory(tmp_path_factory.mktemp("rooms"))
    yield f
    f.close()


def start_expect_failure(conf: str, extra_args=(), env: dict | None = None, files: dict | None = None,
                         add_listen: bool = True, root: str | None = None) -> str:
    """Start the server, assert it exits non-zero within 10 s; return its stderr."""
    workdir = Path(tempfile.mkdtemp(prefix="rooms-fail-"))
    srv = RoomsServer(workdir, conf, extra_args, env, files, add_listen=add_listen, root=root)
    srv.spawn()
    try:
        try:
            rc = srv.proc.wait(FAIL_TIMEOUT)
        except subprocess.TimeoutExpired:
            healthy = srv.healthy()
            raise AssertionError(f"server did not exit within {FAIL_TIMEOUT}s (healthy={healthy})\n{srv.log()}")
        out, err = srv._logs[-1]
        assert rc != 0, f"server exited with status 0, expected failure\n{srv.log()}"
        return _read(err)
    finally:
        srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def line_of(conf: str, needle: str) -> int:
    """1-based number of the first line of `conf` containing `needle`."""
    for i, line in enumerate(conf.splitlines(), 1):
        if needle in line:
            return i
    raise ValueError(needle)


def assert_names_line(text: str, line: int):
    assert re.search(rf"(:{line}\b|line\s*:?\s*{line}\b)", text, re.I), \
        f"message does not name line {line}:\n{text}"


# ---------------------------------------------------------------------------------------------------------------------
# WebSocket helpers

from websockets.sync.client import connect as _ws_connect  # noqa: E402


def ws_connect(url: str, token: str | None = None, headers: dict | None = None, path: str = "/ws"):
    """Open a WebSocket to <url><path>[?t=token]; returns the connection (no frame read)."""
    ws = url.replace("http://", "ws://", 1).rstrip("/") + path
    if token is not None:
        ws += "?t=" + token
    conn = _ws_connect(ws, additional_headers=headers or {}, open_timeout=10, close_timeout=2,
                       max_size=None, proxy=None)
    return conn.__enter__()  # direct use (not as a context manager) without deprecation warnings


def ws_recv_raw(conn, timeout: float = 5.0):
    return conn.recv(timeout=timeout)


def ws_recv(conn, timeout: float = 5.0) -> dict:
    """Receive one frame, check the framing (text, one trailing newline) and return the envelope."""
    frame = conn.recv(timeout=timeout)
    assert isinstance(frame, str), f"server sent a binary frame: {frame!r}"
    assert frame.endswith("\n") and not frame.endswith("\n\n"), f"frame must end with exactly one \\n: {frame!r}"
    env = json.loads(frame)
    assert isinstance(env, dict) and isinstance(env.get("Data"), dict), env
    return env


def ws_recv_until(conn, pred: Callable[[dict], bool], timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"expected frame not received within {timeout}s; got {seen}")
        try:
            env = ws_recv(conn, left)
        except TimeoutError:
            raise AssertionError(f"expected frame not received within {timeout}s; got {seen}")
        if pred(env):
            return env
        seen.append(env)


def ws_expect_nothing(conn, timeout: float = 0.5):
    try:
        frame = conn.recv(timeout=timeout)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected frame: {frame!r}")


def ws_send(conn, doc: dict):
    conn.send(json.dumps(doc))


def ws_self(url: str, token: str | None = None, headers: dict | None = None, path: str = "/ws"):
    """Connect and read the first frame, which must be `Self`; returns (conn, self_document).
    Use ws_self_env for the whole envelope."""
    conn, env = ws_self_env(url, token, headers, path)
    return conn, env["Data"]


def ws_self_env(url: str, token: str | None = None, headers: dict | None = None, path: str = "/ws"):
    conn = ws_connect(url, token, headers, path)
    try:
        env = ws_recv(conn, 5)
    except BaseException:
        conn.close()
        raise
    assert env["Data"].get("Type") == "Self", f"first frame is not Self: {env}"
    return conn, env


def hello(conn, room: str, iid: str = "h1", room_type: str = "", credentials=None) -> dict:
    """Send Hello and return the reply document (Welcome or Error)."""
    h: dict[str, Any] = {"Version": "1.0", "Ua": "e2e-tests", "Name": room, "Type": room_type}
    if credentials is not None:
        h["Credentials"] = credentials
    ws_send(conn, {"Type": "Hello", "Hello": h, "Iid": iid})
    env = ws_recv_until(conn, lambda e: e.get("Iid") == iid)
    return env["Data"]


def stats(srv: RoomsServer, details: bool = False) -> dict:
    r = get(srv.u("api/v1/stats") + ("?details=1" if details else ""))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return r.json()


def poll(fn: Callable[[], Any], timeout: float = 5.0, interval: float = 0.05):
    """Call fn until it returns a truthy value; return it (or the last falsy value after the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def register(srv: RoomsServer, sid_doc: dict, form: bool = False) -> requests.Response:
    if form:
        return request("POST", srv.u("api/v1/users"), data={"id": sid_doc["Id"], "sid": sid_doc["Sid"]})
    return request("POST", srv.u("api/v1/users"), json={"id": sid_doc["Id"], "sid": sid_doc["Sid"]})


def patch_session(srv: RoomsServer, path_id: str, body, headers: dict | None = None) -> requests.Response:
    url = srv.u(f"api/v1/sessions/{path_id}/")
    if isinstance(body, (dict, list)):
        return request("PATCH", url, data=json.dumps(body), headers={"Content-Type": "application/json",
                                                                       **(headers or {})})
    return request("PATCH", url, data=body, headers=headers or {})


def sharedsecret_combo(userid: str, expiry: int, key: str = SHARED_SECRET, extra: str | None = None):
    combo = f"{expiry}:{userid}" + (f":{extra}" if extra is not None else "")
    return combo, b64hmac(key.encode(), combo)


def authenticate(conn, userid: str, nonce: str) -> dict:
    # the payload is itself a typed document: {"Type":"Authentication","Authentication":{"Userid","Nonce"}}
    ws_send(conn, {"Type": "Authentication",
                   "Authentication": {"Type": "Authentication",
                                      "Authentication": {"Userid": userid, "Nonce": nonce}}})
    env = ws_recv_until(conn, lambda e: e["Data"].get("Type") in ("Self", "Error"))
    return env["Data"]
