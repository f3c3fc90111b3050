"""Phones for the dial-in tests: sipp scenarios (INVITE, PIN by RFC 4733 or SIP INFO, a tone, BYE), a pcap of PCMU
tone packets for sipp to play, and a sniffer that records the RTP Rooms sends to a phone (sipp cannot record)."""
import audioop
import json
import math
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

SIPP = shutil.which("sipp")
HERE = Path(__file__).parent


def sip_conf(sip_port: int, **sip) -> str:
    """A server with dial-in on 127.0.0.1:sip_port, PIN 1234 for the room 'standup', and the MX API's test
    accounts; `sip` overrides or adds [sip] keys."""
    from conftest import build_conf
    sections = {
        "http": {"listen": "127.0.0.1:@PORT@", "stats": "true"},
        "sip": {"enabled": "true", "listen": f"127.0.0.1:{sip_port}", "pins": "1234:standup", "rtpTimeout": "20s",
                "interDigitTimeout": "3s", **sip},
        "conferences": {"apps": "client1:s3cret", "users": "alice:pw"},
    }
    return build_conf(sections)


def start_peer(srv, room: str, tone: float, seconds: float, measure: list[float] | None = None) -> subprocess.Popen:
    """The aiortc room participant (room_audio_peer.py): publishes `tone`, records the room for `seconds` after it is
    ready, then reports the power of each `measure` frequency."""
    command = [sys.executable, str(HERE / "room_audio_peer.py"), "--url", srv.url, "--room", room,
               "--tone", str(tone), "--seconds", str(seconds)]
    if measure:
        command += ["--measure", *map(str, measure)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE)
    line = proc.stdout.readline()
    if json.loads(line or "{}").get("op") != "ready":
        proc.kill()
        raise AssertionError(f"peer did not start: {line} {proc.communicate()[1][-2000:]}")
    return proc


def peer_result(proc: subprocess.Popen, timeout: float = 60) -> dict:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    lines = out.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"ok": False, "error": "no output"}
    assert result.get("ok"), f"peer failed: {result} {err[-2000:]}"
    return result


def g722_encode(samples: np.ndarray) -> bytes:
    """16 kHz int16 samples → G.722 (64 kbit/s) through spandsp, the library Rooms uses (ctypes: no Python binding)."""
    import ctypes
    lib = ctypes.CDLL("libspandsp.so.2")
    lib.g722_encode_init.restype = ctypes.c_void_p
    lib.g722_encode_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.g722_encode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    lib.g722_encode_free.argtypes = [ctypes.c_void_p]
    state = lib.g722_encode_init(None, 64000, 0)
    out = ctypes.create_string_buffer(len(samples) // 2 + 1)
    n = lib.g722_encode(state, out, samples.astype("<i2").tobytes(), len(samples))
    lib.g722_encode_free(state)
    return out.raw[:n]


def g722_decode(payload: bytes) -> np.ndarray:
    """G.722 → 16 kHz samples through spandsp (one decoder for the whole stream, as a phone has)."""
    import ctypes
    lib = ctypes.CDLL("libspandsp.so.2")
    lib.g722_decode_init.restype = ctypes.c_void_p
    lib.g722_decode_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.g722_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    lib.g722_decode_free.argtypes = [ctypes.c_void_p]
    state = lib.g722_decode_init(None, 64000, 0)
    out = ctypes.create_string_buffer(4 * len(payload) + 2)
    n = lib.g722_decode(state, out, payload, len(payload))
    lib.g722_decode_free(state)
    return np.frombuffer(out.raw[:2 * n], dtype="<i2").astype(np.float64)


def tone_pcap(path: Path, frequency: float, seconds: float, codec: str = "PCMU", amplitude: int = 10000,
              seq: int | None = None, ssrc: int | None = None):
    """A pcap of RTP packets (20 ms) carrying a sine tone, as sipp's play_pcap_audio wants: PCMU (payload type 0) or
    G722 (payload type 9: 16 kHz audio, 160 bytes and 160 timestamp ticks per packet, RFC 3551's 8000 clock).
    sipp sends the RTP headers as they are: first sequence number and SSRC random unless given."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # pcap header, Ethernet links
    seq = random.randint(0, 30000) if seq is None else seq
    ts = random.randint(0, 2**31)
    ssrc = random.randint(1, 2**31) if ssrc is None else ssrc
    frames = int(seconds * 50)
    if codec == "G722":
        n = np.arange(frames * 320)
        encoded = g722_encode(amplitude * np.sin(2 * np.pi * frequency * n / 16000))
        payloads, payload_type = [encoded[i * 160:(i + 1) * 160] for i in range(frames)], 9
    else:
        payloads, payload_type = [], 0
        for f in range(frames):
            samples = [int(amplitude * math.sin(2 * math.pi * frequency * (f * 160 + i) / 8000)) for i in range(160)]
            payloads.append(audioop.lin2ulaw(struct.pack(f"<{len(samples)}h", *samples), 2))
    for n, payload in enumerate(payloads):
        rtp = struct.pack("!BBHII", 0x80, payload_type, (seq + n) & 0xFFFF, (ts + n * 160) & 0xFFFFFFFF, ssrc) + payload
        udp = struct.pack("!HHHH", 40000, 40002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                         socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1")) + udp
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        seconds_ts, micros = divmod(n * 20_000, 1_000_000)
        out += struct.pack("<IIII", seconds_ts, micros, len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))


def pcmu_tone_pcap(path: Path, frequency: float, seconds: float, amplitude: int = 10000, seq: int | None = None,
                   ssrc: int | None = None):
    tone_pcap(path, frequency, seconds, "PCMU", amplitude, seq, ssrc)


SDP = """v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 96
a=rtpmap:0 PCMU/8000
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-16
a=ptime:20
"""


def sdp_for(codec: str) -> str:
    """Our sipp phone's SDP offering `codec` (PCMU or G722) and telephone-event."""
    if codec == "G722":
        return SDP.replace("RTP/AVP 0 96", "RTP/AVP 9 96").replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:9 G722/8000")
    return SDP


def _invite(to_user: str, display: str, codec: str = "PCMU") -> str:
    body = sdp_for(codec).replace("\n", "\r\n")
    return f"""  <send retrans="500">
    <![CDATA[
      INVITE sip:{to_user}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{display}" <sip:+4917012345678@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{to_user}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE
      Supported: timer
      Content-Type: application/sdp
      Content-Length: [len]

{body}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{display}" <sip:+4917012345678@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{to_user}@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""


def _info(digit: str, cseq: int) -> str:
    return f"""  <send>
    <![CDATA[
      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+4917012345678@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:rooms@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      [routes]
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

Signal={digit}
Duration=160
    ]]>
  </send>
  <recv response="200"/>
  <pause milliseconds="150"/>
"""


BYE_FROM_PHONE = """  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+4917012345678@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:rooms@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 90 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
"""

BYE_FROM_ROOMS = """  <recv request="BYE" timeout="40000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""


def pause(ms: int) -> str:
    return f'  <pause milliseconds="{ms}"/>\n'


def dtmf(digits: str) -> str:
    """RFC 4733 events from sipp's own generator (it runs beside the scenario, like play_pcap_audio)."""
    return f'  <nop><action><exec play_dtmf="{digits}"/></action></nop>\n'


def play(pcap: Path) -> str:
    """Starts sending the pcap's RTP (in the background: the scenario goes on at once)."""
    return f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'


def pin_steps(pins: list[str], method: str = "rfc4733", first_cseq: int = 2, wait_ms: int = 4500) -> list[str]:
    """Each PIN followed by '#' (RFC 4733 events or SIP INFO), then `wait_ms` for the 'invalid PIN' or 'joining'
    prompt."""
    steps, cseq = [], first_cseq
    for pin in pins:
        if method == "info":
            for digit in pin + "#":
                steps.append(_info(digit, cseq))
                cseq += 1
        else:
            steps.append(dtmf(pin + "#"))
        steps.append(pause(wait_ms))
    return steps


MIRRORED = {"sendonly": "recvonly", "recvonly": "sendonly", "sendrecv": "sendrecv", "inactive": "inactive"}


def reinvite(direction: str, cseq: int) -> str:
    """A re-INVITE in the dialog with the same media but `a=<direction>` (sendonly: hold, sendrecv: resume), the 200
    (whose SDP must mirror the direction, or sipp fails the call) and its ACK."""
    answer = MIRRORED[direction]
    body = SDP.replace("2353687637", str(2353687637 + cseq)).replace("a=ptime:20\n", f"a=ptime:20\na={direction}\n")
    body = body.replace("\n", "\r\n")
    return f"""  <send retrans="500">
    <![CDATA[
      INVITE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+4917012345678@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:rooms@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      [routes]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

{body}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="200" crlf="true">
    <action><ereg regexp="a={answer}" search_in="body" check_it="true" assign_to="answered"/></action>
  </recv>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+4917012345678@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:rooms@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""


def build(steps: list[str], name: str = "rooms dial-in") -> str:
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{name}">\n' + "".join(steps) + "</scenario>\n"


def scenario(pins: list[str], method: str = "rfc4733", tone_pcap: Path | None = None, talk_ms: int = 0,
             hangup: str = "phone", display: str = "", to_user: str = "rooms", codec: str = "PCMU") -> str:
    """An INVITE to Rooms offering `codec` (PCMU or G722), each PIN followed by '#' (as RFC 4733 events or SIP INFO),
    then the tone while talking, then BYE from the phone, or (hangup="rooms") waiting for Rooms' BYE."""
    steps = [_invite(to_user, display, codec), pause(1500), *pin_steps(pins, method)]
    if tone_pcap:
        steps.append(play(tone_pcap))
    if talk_ms:
        steps.append(pause(talk_ms))
    steps.append(BYE_FROM_PHONE if hangup == "phone" else BYE_FROM_ROOMS)
    return build(steps)


def invite(to_user: str = "rooms", display: str = "") -> str:
    """The INVITE with our SDP (PCMU, telephone-event 96), its 200 (route set recorded) and the ACK."""
    return _invite(to_user, display)


def sipp_command(workdir: Path, xml: str, port: int, media_port: int, transport: str = "u1", timeout: float = 90,
                 extra: list[str] | None = None) -> list[str]:
    stamp = time.monotonic_ns()
    path = workdir / f"scenario-{stamp}.xml"
    path.write_text(xml)
    return [SIPP, f"127.0.0.1:{port}", "-sf", str(path), "-m", "1", "-i", "127.0.0.1", "-mi", "127.0.0.1",
            "-mp", str(media_port), "-t", transport, "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin",
            "-trace_err", "-error_file", str(workdir / f"sipp-errors-{stamp}.log"), *(extra or [])]


def run_sipp(workdir: Path, xml: str, port: int, media_port: int, transport: str = "u1", timeout: float = 90,
             extra: list[str] | None = None) -> subprocess.CompletedProcess:
    command = sipp_command(workdir, xml, port, media_port, transport, timeout, extra)
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout + 15)
    result.error_log = _read(Path(command[command.index("-error_file") + 1]))
    return result


class SippProcess:
    """A sipp phone running in the background (for calls that must overlap, or that outlive an action of the test)."""

    def __init__(self, workdir: Path, xml: str, port: int, media_port: int, transport: str = "u1", timeout: float = 90,
                 extra: list[str] | None = None):
        self.command = sipp_command(workdir, xml, port, media_port, transport, timeout, extra)
        self.timeout = timeout
        self.proc = subprocess.Popen(self.command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait(self) -> subprocess.CompletedProcess:
        try:
            out, err = self.proc.communicate(timeout=self.timeout + 15)
        except subprocess.TimeoutExpired:
            self.kill()
            out, err = self.proc.communicate()
        result = subprocess.CompletedProcess(self.command, self.proc.returncode, out, err)
        result.error_log = _read(Path(self.command[self.command.index("-error_file") + 1]))
        return result

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def sipp_report(result: subprocess.CompletedProcess, server=None, lines: int = 40) -> str:
    """sipp's exit code, stdout/stderr tails and error log, and the server's last SIP/dial-in log lines: what a failed
    assertion about a call should show."""
    text = [f"sipp exited with {result.returncode}",
            "--- sipp stdout (tail) ---", (result.stdout or "")[-2500:],
            "--- sipp stderr (tail) ---", (result.stderr or "")[-1500:],
            "--- sipp errors (tail) ---", (getattr(result, "error_log", "") or "")[-2500:]]
    if server is not None:
        text += ["--- server log (SIP lines, tail) ---", server_sip_log(server, lines)]
    return "\n".join(text)


def server_sip_log(server, lines: int = 40) -> str:
    relevant = [l for l in server.log().splitlines() if "sip" in l.lower() or "call" in l.lower() or "dialin" in l.lower()]
    return "\n".join(relevant[-lines:])


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


class RtpRecorder:
    """Records PCMU/PCMA RTP sent to a local UDP port, by sniffing loopback (root: AF_PACKET); sipp itself cannot
    record. `samples()` is the decoded 8 kHz audio in arrival order."""

    def __init__(self, port: int):
        self.port = port
        self.payloads: list[tuple[int, bytes]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each entry of payloads
        self.timestamps: list[int] = []  # RTP timestamp of each entry of payloads
        self._stop = False
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                frame, address = self._sock.recvfrom(65535)
            except socket.timeout:
                continue
            if address[2] == socket.PACKET_OUTGOING:
                continue  # loopback shows each packet twice, leaving and arriving: keep one
            if len(frame) < 14 + 20 + 8 + 12 or frame[12:14] != b"\x08\x00" or frame[14 + 9] != 17:
                continue
            ihl = (frame[14] & 0x0F) * 4
            udp = 14 + ihl
            if struct.unpack("!H", frame[udp + 2:udp + 4])[0] != self.port:
                continue
            rtp = frame[udp + 8:]
            if len(rtp) < 12 or rtp[0] >> 6 != 2:
                continue
            header = 12 + 4 * (rtp[0] & 0x0F)
            if rtp[0] & 0x10 and len(rtp) >= header + 4:
                header += 4 + 4 * struct.unpack("!H", rtp[header + 2:header + 4])[0]
            self.timestamps.append(struct.unpack("!I", rtp[4:8])[0])
            self.payloads.append((rtp[1] & 0x7F, rtp[header:]))
            self.arrivals.append(time.monotonic())

    def stop(self):
        self._stop = True
        self._thread.join(2)
        self._sock.close()

    def samples(self, last_seconds: float | None = None, since: float | None = None,
                until: float | None = None) -> np.ndarray:
        """Decoded audio: all of it, the last `last_seconds`, or what arrived between the monotonic times `since` and
        `until`."""
        chosen = [(pt, p) for (pt, p), at in zip(list(self.payloads), list(self.arrivals))
                  if pt in (0, 8) and (since is None or at >= since) and (until is None or at <= until)]
        pcm = b"".join(audioop.ulaw2lin(p, 2) if pt == 0 else audioop.alaw2lin(p, 2) for pt, p in chosen)
        data = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
        return data[-int(last_seconds * 8000):] if last_seconds else data

    def packet_count(self, since: float, until: float, payload_types=(0, 8)) -> int:
        return sum(1 for (pt, _), at in zip(list(self.payloads), list(self.arrivals))
                   if pt in payload_types and since <= at <= until)

    def powers(self, frequencies, **window) -> dict[float, float]:
        data = self.samples(**window)
        return {f: round(relative_power(data, f, 8000), 3) for f in frequencies}


def relative_power(samples: np.ndarray, frequency: float, rate: int) -> float:
    if len(samples) == 0:
        return 0.0
    k = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    energy = float(np.sum(samples ** 2))
    return 0.0 if energy == 0 else 2 * (s1 * s1 + s2 * s2 - k * s1 * s2) / (len(samples) * energy)


def free_udp_port(even: bool = True) -> int:
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if not even or port % 2 == 0:
            return port


def free_port_pair() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (SIP listens on both)."""
    while True:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()


KAMAILIO = shutil.which("kamailio") or (os.path.exists("/usr/sbin/kamailio") and "/usr/sbin/kamailio") or None


class Kamailio:
    """The stock kamailio.cfg as a registrar and proxy on 127.0.0.1:<port> (UDP and TCP), run in the foreground.
    Bindings live in memory: a restart forgets them until the UA registers again."""

    def __init__(self, workdir: Path, port: int | None = None, min_expires: int = 10):
        self.dir = Path(workdir) / "kamailio"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port_pair()
        cfg = Path("/etc/kamailio/kamailio.cfg").read_text()
        marker = "# listen=udp:10.0.0.10:5060"
        assert marker in cfg, "unexpected /etc/kamailio/kamailio.cfg: no listen example to anchor on"
        cfg = cfg.replace(marker, f"{marker}\nlisten=udp:127.0.0.1:{self.port}\nlisten=tcp:127.0.0.1:{self.port}", 1)
        cfg = cfg.replace("\nchildren=8\n", "\nchildren=2\n")  # two shared cores here
        # The stock minimum expiry (60 s) would make a refresh 30 s apart; Rooms asks for 30 s (its own minimum).
        cfg = cfg.replace('modparam("registrar", "max_expires", 3600)',
                          f'modparam("registrar", "max_expires", 3600)\nmodparam("registrar", "min_expires", {min_expires})')
        self.cfg = self.dir / "k.cfg"
        self.cfg.write_text(cfg)
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    def start(self, timeout: float = 10):
        self.runs += 1
        self.log_path = self.dir / f"kamailio.{self.runs}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([KAMAILIO, "-f", str(self.cfg), "-P", str(self.dir / "k.pid"), "-Y", str(self.dir),
                                          "-E", "-DD"], stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # ready once it answers OPTIONS on UDP and accepts TCP
            if self.proc.poll() is not None:
                raise AssertionError(f"kamailio exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            if sip_options(self.port, timeout=0.3) is not None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.3).close()
                    return self
                except OSError:
                    pass
            time.sleep(0.1)
        raise AssertionError(f"kamailio not answering on {self.port} within {timeout}s:\n{self.log()[-3000:]}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def log(self) -> str:
        return "\n".join(_read(self.dir / f"kamailio.{n}.log") for n in range(1, self.runs + 1))


def sip_options(port: int, user: str | None = None, timeout: float = 1.0) -> str | None:
    """Sends one OPTIONS over UDP to 127.0.0.1:port (to `user`, or to the server itself) and returns the status line
    of the final response, or None without an answer in time."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    local = sock.getsockname()[1]
    target = f"sip:{user}@127.0.0.1:{port}" if user else f"sip:127.0.0.1:{port}"
    branch = "z9hG4bK" + "".join(random.choice("0123456789abcdef") for _ in range(16))
    message = (f"OPTIONS {target} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch={branch};rport\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1:{local}>;tag={branch[-8:]}\r\nTo: <{target}>\r\n"
               f"Call-ID: {branch}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    try:
        sock.sendto(message.encode(), ("127.0.0.1", port))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data = sock.recv(65535).decode(errors="replace")
            except (socket.timeout, ConnectionRefusedError):
                return None
            status = data.split("\r\n", 1)[0]
            if status.startswith("SIP/2.0 1"):
                continue
            return status
        return None
    finally:
        sock.close()


BARESIP = shutil.which("baresip")
BARESIP_MODULES = Path("/usr/lib/baresip/modules")


def tone_wav(path: Path, frequency: float, seconds: float, rate: int, amplitude: int = 10000):
    """A mono 16-bit WAV of a sine tone (what baresip's aufile plays as its microphone)."""
    import wave
    n = np.arange(int(seconds * rate))
    samples = (amplitude * np.sin(2 * np.pi * frequency * n / rate)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


class Baresip:
    """A baresip softphone run headless (`-f dir`): plays `wav` as its microphone (aufile), records what it hears
    (sndfile's decoder-side dump), and is driven over ctrl_tcp (netstring JSON: dial, sndcode, hangup, quit).
    `codecs` are baresip codec modules in preference order (g711, g722, opus); `rate` is the WAV's sample rate."""

    def __init__(self, workdir: Path, wav: Path, rate: int, codecs=("g711",), name: str = "phone"):
        self.dir = Path(workdir) / f"baresip-{name}"
        self.records = self.dir / "records"
        self.records.mkdir(parents=True, exist_ok=True)
        self.sip_port = free_port_pair()
        self.ctrl_port = free_port_pair()
        modules = [f"module {c}.so" for c in codecs]
        (self.dir / "config").write_text("\n".join([
            "poll_method epoll",
            f"sip_listen 127.0.0.1:{self.sip_port}",
            "net_interface 127.0.0.1",
            # No sound card here: the microphone is a file, the loudspeaker a bridge device nobody reads; sndfile
            # dumps what the decoder gives (the call as the user would hear it).
            f"audio_source aufile,{wav}",
            "audio_player aubridge,nowhere",
            "audio_alert aubridge,nowhere",
            f"ausrc_srate {rate}",
            f"auplay_srate {rate}",
            "rtp_timeout 0",
            f"module_path {BARESIP_MODULES}",
            *modules,
            "module sndfile.so",
            "module aufile.so",
            "module aubridge.so",
            "module_app account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
            f"snd_path {self.records}",
        ]) + "\n")
        (self.dir / "accounts").write_text(f"<sip:{name}@127.0.0.1:{self.sip_port}>;regint=0\n")
        self.log_path = self.dir / "baresip.log"
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.events: list[dict] = []
        self._buffer = b""
        self._token = 0

    def start(self, timeout: float = 10):
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([BARESIP, "-f", str(self.dir)], stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"baresip exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=0.5)
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"baresip's ctrl_tcp not listening within {timeout}s:\n{self.log()[-3000:]}")

    def _read_message(self, timeout: float) -> dict | None:
        """One netstring (`<length>:<json>,`) from ctrl_tcp, or None after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            head, colon, rest = self._buffer.partition(b":")
            if colon and head.isdigit() and len(rest) > int(head):
                length = int(head)
                message, self._buffer = rest[:length], rest[length + 1:]
                return json.loads(message)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self._buffer += chunk

    def command(self, command: str, params: str = "", timeout: float = 5) -> dict:
        self._token += 1
        token = str(self._token)
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self._read_message(left)
            if message is None:
                break
            if message.get("event"):
                self.events.append(message)
            elif message.get("token") == token:
                return message
        raise AssertionError(f"baresip did not answer {command!r}:\n{self.log()[-2000:]}")

    def wait_event(self, kind: str, timeout: float) -> dict | None:
        """The first event of type `kind` (CALL_ESTABLISHED, CALL_CLOSED, ...) seen so far or within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("type") == kind:
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            message = self._read_message(left)
            if message is not None and message.get("event"):
                self.events.append(message)

    def send_digits(self, digits: str, gap: float = 0.25):
        """DTMF, one key at a time (baresip sends RFC 4733 events when the answer has telephone-event)."""
        for digit in digits:
            self.command("sndcode", digit)
            time.sleep(gap)

    def stop(self):
        if self.sock is not None:
            try:
                self.command("quit", timeout=2)
            except (AssertionError, OSError):
                pass
            self.sock.close()
            self.sock = None
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def heard(self) -> tuple[int, np.ndarray]:
        """(sample rate, samples) of the decoder-side recording of the (last) call."""
        import wave
        dumps = sorted(self.records.glob("*-dec.wav"))
        assert dumps, f"baresip recorded nothing:\n{self.log()[-2000:]}"
        with wave.open(str(dumps[-1]), "rb") as w:
            return w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)

    def log(self) -> str:
        return _read(self.log_path)
