"""Phones for the dial-in tests: sipp scenarios (INVITE, PIN by RFC 4733 or SIP INFO, a tone, BYE), a pcap of PCMU
tone packets for sipp to play, and a sniffer that records the RTP Rooms sends to a phone (sipp cannot record)."""
import audioop
import math
import os
import random
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

SIPP = shutil.which("sipp")


def pcmu_tone_pcap(path: Path, frequency: float, seconds: float, amplitude: int = 10000):
    """A pcap of RTP/PCMU packets (20 ms, payload type 0) carrying a sine tone, as sipp's play_pcap_audio wants."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # pcap header, Ethernet links
    seq, ts, ssrc = random.randint(0, 30000), random.randint(0, 2**31), random.randint(1, 2**31)
    for n in range(int(seconds * 50)):
        samples = [int(amplitude * math.sin(2 * math.pi * frequency * (n * 160 + i) / 8000)) for i in range(160)]
        payload = audioop.lin2ulaw(struct.pack(f"<{len(samples)}h", *samples), 2)
        rtp = struct.pack("!BBHII", 0x80, 0, (seq + n) & 0xFFFF, (ts + n * 160) & 0xFFFFFFFF, ssrc) + payload
        udp = struct.pack("!HHHH", 40000, 40002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                         socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1")) + udp
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        seconds_ts, micros = divmod(n * 20_000, 1_000_000)
        out += struct.pack("<IIII", seconds_ts, micros, len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))


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


def _invite(to_user: str, display: str) -> str:
    body = SDP.replace("\n", "\r\n")
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
      ACK sip:{to_user}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{display}" <sip:+4917012345678@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{to_user}@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
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


def scenario(pins: list[str], method: str = "rfc4733", tone_pcap: Path | None = None, talk_ms: int = 0,
             hangup: str = "phone", display: str = "") -> str:
    """An INVITE to Rooms, each PIN followed by '#' (as RFC 4733 events or SIP INFO), then the tone while talking,
    then BYE from the phone, or (hangup="rooms") waiting for Rooms' BYE."""
    steps = [_invite("rooms", display), '  <pause milliseconds="1500"/>\n']
    cseq = 2
    for pin in pins:
        if method == "info":
            for digit in pin + "#":
                steps.append(_info(digit, cseq))
                cseq += 1
        else:
            steps.append(f'  <nop><action><exec play_dtmf="{pin}#"/></action></nop>\n')
        steps.append('  <pause milliseconds="4500"/>\n')  # the 'invalid PIN' prompt or the 'joining' prompt
    if tone_pcap:
        steps.append(f'  <nop><action><exec play_pcap_audio="{tone_pcap}"/></action></nop>\n')
    if talk_ms:
        steps.append(f'  <pause milliseconds="{talk_ms}"/>\n')
    steps.append(BYE_FROM_PHONE if hangup == "phone" else BYE_FROM_ROOMS)
    return '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="rooms dial-in">\n' + "".join(steps) + "</scenario>\n"


def run_sipp(workdir: Path, xml: str, port: int, media_port: int, transport: str = "u1", timeout: float = 90,
             extra: list[str] | None = None) -> subprocess.CompletedProcess:
    path = workdir / f"scenario-{time.monotonic_ns()}.xml"
    path.write_text(xml)
    command = [SIPP, f"127.0.0.1:{port}", "-sf", str(path), "-m", "1", "-i", "127.0.0.1", "-mi", "127.0.0.1",
               "-mp", str(media_port), "-t", transport, "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin",
               "-trace_err", "-error_file", str(workdir / "sipp-errors.log"), *(extra or [])]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout + 15)


class RtpRecorder:
    """Records PCMU/PCMA RTP sent to a local UDP port, by sniffing loopback (root: AF_PACKET); sipp itself cannot
    record. `samples()` is the decoded 8 kHz audio in arrival order."""

    def __init__(self, port: int):
        self.port = port
        self.payloads: list[tuple[int, bytes]] = []
        self._stop = False
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                frame = self._sock.recv(65535)
            except socket.timeout:
                continue
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
            self.payloads.append((rtp[1] & 0x7F, rtp[header:]))

    def stop(self):
        self._stop = True
        self._thread.join(2)
        self._sock.close()

    def samples(self, last_seconds: float | None = None) -> np.ndarray:
        pcm = b"".join(audioop.ulaw2lin(p, 2) if pt == 0 else audioop.alaw2lin(p, 2)
                       for pt, p in self.payloads if pt in (0, 8))
        data = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
        return data[-int(last_seconds * 8000):] if last_seconds else data


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
