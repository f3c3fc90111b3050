"""SFU media through hostile networks: the real server and two headless Chromiums in a private network namespace
(shared/TESTING.md), one publishing with WHIP, one watching with WHEP.

- UDP to and from the media port is dropped (nftables): ICE-TCP (RFC 6544) must carry STUN, DTLS, RTP and RTCP.
- 5 % of the media datagrams are lost in each direction (and, separately, only on the way into the SFU): NACK/RTX
  and PLI must keep the picture going, with no freeze reaching a second (framesDecoded is sampled every 100 ms in the
  page) and at least 80 % of the frames the publisher encoded decoded by the subscriber.

Each scenario runs in a forked child that unshares its network namespace (only `lo`), so the rules touch nothing else.
This kernel has no netem qdisc; the loss then comes from an nftables `numgen random` rule on the input hook, which
drops datagrams where netem would (in the kernel, addresses unchanged) without a relay in the path.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import time
import traceback
from pathlib import Path

import pytest

from conftest import RoomsServer, default_conf, http_session
from sfu_chromium_peers import PAGE, call, make_browser, wait_connected

MEDIA_PORT = 40000  # the namespace is ours alone: any fixed port is free
CLONE_NEWNET = 0x40000000

# Added to sfu_chromium_peers.PAGE: decode samples every 100 ms, and the candidate pair in use.
PAGE_EXTRAS = r"""
window.samples = {};
window.startSampling = async function (name) {
  const pc = window.pcs[name];
  const t0 = performance.now();
  window.samples[name] = [];
  setInterval(async () => {
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        window.samples[name].push([performance.now() - t0, s.framesDecoded || 0, s.frameWidth || 0, s.frameHeight || 0]);
      }
    });
  }, 100);
};
window.samplesOf = async function (name) { return window.samples[name]; };
// Chrome's own freeze count (a frame later than max(3 x the mean interval, mean + 150 ms)) and their total duration.
window.freezesOf = async function (name) {
  let out = null;
  (await window.pcs[name].getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      out = { freezeCount: s.freezeCount, totalFreezesDuration: s.totalFreezesDuration, framesDropped: s.framesDropped };
    }
  });
  return out;
};
window.selectedPair = async function (name) {
  const report = await window.pcs[name].getStats();
  let pair = null;
  report.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId); });
  if (!pair) return null;
  const side = (c) => c && { protocol: c.protocol, type: c.candidateType, tcpType: c.tcpType || null, port: c.port };
  return { state: pair.state, nominated: pair.nominated, local: side(report.get(pair.localCandidateId)),
           remote: side(report.get(pair.remoteCandidateId)) };
};
"""


def missing_tools() -> str | None:
    for tool in ("unshare", "ip", "nft", "chromium", "chromedriver"):
        if not shutil.which(tool):
            return f"{tool} is needed (apt-get install -y util-linux iproute2 nftables chromium chromium-driver)"
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        return "unshare -n is not permitted here (needs root or CAP_SYS_ADMIN)"
    return None


@pytest.fixture(autouse=True)
def tools():
    reason = missing_tools()
    if reason:
        pytest.skip(reason)


def nft_drop_rules(match: list[str]) -> list[list[str]]:
    """Drops what `match` selects, to and from the media port, on the input hook (lo delivers every packet there
    once; dropping on output would hand the sender EPERM)."""
    table = ["nft", "add", "table", "inet", "rooms_test"]
    chain = ["nft", "add", "chain", "inet", "rooms_test", "input", "{ type filter hook input priority 0; }"]
    rules = [["nft", "add", "rule", "inet", "rooms_test", "input", "udp", direction, str(MEDIA_PORT), *match, "drop"]
             for direction in ("dport", "sport")]
    return [table, chain, *rules]


def in_private_network(setup, scenario, *args, timeout: float = 180):
    """Runs scenario(*args) in a forked child inside a fresh network namespace (just `lo`, up) after `setup(...)`
    has shaped it; returns what the scenario returned, or raises with the child's traceback."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
            shaping = setup()
            sender.send(("ok", {"shaping": shaping, **scenario(*args)}))
        except BaseException:
            sender.send(("error", traceback.format_exc()))

    process = context.Process(target=child)
    process.start()
    try:
        if not receiver.poll(timeout):
            raise AssertionError(f"scenario did not finish within {timeout} s")
        status, value = receiver.recv()
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
    if status != "ok":
        raise AssertionError("scenario failed in the namespace:\n" + value)
    return value


def block_media_udp():
    for command in nft_drop_rules([]):
        subprocess.run(command, check=True)
    return "nftables: all UDP to/from the media port dropped"


def lose(percent: int, directions=("dport", "sport")):
    """A setup for in_private_network: `percent` % of the media datagrams dropped in each of `directions` (dport: to
    the SFU, from publisher and subscriber; sport: from the SFU)."""
    def setup():
        if directions == ("dport", "sport"):
            netem = subprocess.run(["tc", "qdisc", "add", "dev", "lo", "root", "netem", "loss", f"{percent}%"],
                                   capture_output=True, text=True)
            if netem.returncode == 0:
                return f"netem: {percent} % loss on lo"
        else:
            netem = subprocess.CompletedProcess([], 1, "", "netem cannot tell the directions apart on lo")
        if percent == 0:
            return "no loss"
        commands = nft_drop_rules(["numgen", "random", "mod", "100", "<", str(percent)])
        for command in commands[:2] + [c for c in commands[2:] if any(d in c for d in directions)]:
            subprocess.run(command, check=True)
        return (f"nftables numgen: {percent} % of media datagrams ({', '.join(directions)} {MEDIA_PORT}) "
                f"(no netem: {netem.stderr.strip()})")
    return setup


def post_sdp(session, url: str, sdp: str) -> str:
    r = session.post(url, data=sdp.encode(), headers={"Content-Type": "application/sdp"}, timeout=10)
    assert r.status_code == 201, (r.status_code, r.text[:300])
    return r.text


def publish_and_watch(workdir: str, seconds: float) -> dict:
    """Chromium A publishes camera and microphone (WHIP), Chromium B watches (WHEP) for `seconds`; returns what both
    pages and the server's /api/v1/stats saw."""
    server = RoomsServer(Path(workdir) / "server",
                         default_conf({"sfu": {"bind": "127.0.0.1", "port": str(MEDIA_PORT)}})).start()
    session = http_session()  # not the parent's pool: its connections live in another namespace
    page = Path(workdir) / "peer.html"
    page.write_text(PAGE.replace("</body>", f"<script>{PAGE_EXTRAS}</script></body>"))
    drivers = []
    try:
        publisher = make_browser(os.path.join(workdir, "profile-pub"), 800, 600)
        drivers.append(publisher)
        subscriber = make_browser(os.path.join(workdir, "profile-sub"), 800, 600)
        drivers.append(subscriber)
        for driver in drivers:
            driver.get("file://" + str(page))

        offer = call(publisher, "startPublisher", "pub", 640, 480)
        call(publisher, "setAnswer", "pub", post_sdp(session, server.u("api/v1/whip/net"), offer))
        wait_connected(publisher, "pub", timeout=30)
        offer = call(subscriber, "startSubscriber", "sub")
        answer = post_sdp(session, server.u("api/v1/whep/net"), offer)
        call(subscriber, "setAnswer", "sub", answer)
        wait_connected(subscriber, "sub", timeout=30)
        call(subscriber, "startSampling", "sub")
        encoded_before = call(publisher, "summary", "pub")["outbound"]["video"]["framesEncoded"]
        time.sleep(seconds)
        return {
            "framesEncodedWhileSampling": call(publisher, "summary", "pub")["outbound"]["video"]["framesEncoded"] - encoded_before,
            "answer": answer,
            "publisherPair": call(publisher, "selectedPair", "pub"),
            "subscriberPair": call(subscriber, "selectedPair", "sub"),
            "samples": call(subscriber, "samplesOf", "sub"),
            "freezes": call(subscriber, "freezesOf", "sub"),
            "subscriber": call(subscriber, "summary", "sub"),
            "publisher": call(publisher, "summary", "pub"),
            "stats": session.get(server.u("api/v1/stats"), timeout=10).json()["sfu"],
        }
    finally:
        for driver in drivers:
            try:
                driver.quit()
            except Exception:
                pass
        server.stop()


SAMPLE_MS = 100  # the page's sampling interval


def stalls(samples: list) -> list[float]:
    """Every time (ms) framesDecoded stood still after the first frame: from the sample where it grew to the next sample
    where it grew again. A page busy elsewhere (these machines are shared) samples late, and a late sample is no freeze
    (seen: samples 450 ms apart while frames kept coming); so the step from the last sample that still showed the old
    count to the one that shows a new count counts for at most one sampling interval."""
    out, since, count, last = [], None, None, None
    for t, frames, _, _ in samples:
        if count is None and frames == 0:
            continue
        if count is None or frames > count:
            if since is not None:
                out.append(last - since + min(t - last, SAMPLE_MS))
            since, count = t, frames
        last = t
    if since is not None:
        out.append(last - since)
    return out


def decoding(result: dict) -> tuple[int, float]:
    """Frames decoded while sampling, and the longest stall after the first frame (ms)."""
    samples = result["samples"]
    assert samples, "no samples from the subscriber page"
    gaps = stalls(samples)
    assert gaps, f"the subscriber never decoded a frame: {result['subscriber']}"
    return samples[-1][1] - samples[0][1], max(gaps)


def sampling_interval(result: dict) -> float:
    """The longest step between two samples (ms): how late the page got to sample."""
    times = [t for t, _, _, _ in result["samples"]]
    return max((b - a for a, b in zip(times, times[1:])), default=0.0)


def test_media_flows_over_ice_tcp_when_udp_is_blocked(tmp_path):
    result = in_private_network(block_media_udp, publish_and_watch, str(tmp_path), 8)
    assert f"tcp 1520435199 127.0.0.1 {MEDIA_PORT} typ host tcptype passive" in result["answer"], result["answer"]
    for side in ("publisherPair", "subscriberPair"):
        pair = result[side]
        assert pair and pair["state"] == "succeeded", (side, pair)
        assert pair["local"]["protocol"] == "tcp" and pair["remote"]["protocol"] == "tcp", (side, pair)
        assert pair["remote"]["tcpType"] == "passive" and pair["remote"]["port"] == MEDIA_PORT, (side, pair)
    frames, gap = decoding(result)
    assert frames > 100, f"only {frames} frames decoded in 8 s over ICE-TCP"
    assert gap < 1000, f"the picture froze for {gap:.0f} ms over ICE-TCP"
    video = result["subscriber"]["inbound"]["video"]
    assert video["frameWidth"] == 640 and video["frameHeight"] == 480, video
    assert result["subscriber"]["inbound"]["audio"]["packetsReceived"] > 100, result["subscriber"]["inbound"]
    stats = result["stats"]
    # Nothing came over UDP (the rules held); two connections carry everything.
    assert stats["datagramsReceived"] == 0, stats
    assert stats["tcp"]["connectionsOpen"] >= 2 and stats["tcp"]["connectionsRejected"] == 0, stats["tcp"]
    assert stats["tcp"]["framesReceived"] > 500, stats["tcp"]
    print(f"ICE-TCP: {frames} frames decoded, longest gap {gap:.0f} ms; server tcp {stats['tcp']}")


@pytest.mark.parametrize("directions", [("dport", "sport"), ("dport",)], ids=["both-ways", "into-sfu"])
def test_decoding_survives_five_percent_loss(tmp_path, directions):
    """5 % loss on the way in (publisher → SFU) is repaired by the SFU's own NACKs to the publisher (at once, then
    about every round trip), loss on the way out by RTX from the SFU's cache; subscriber NACKs for packets the SFU is
    still waiting for are answered when the repair arrives. No freeze may reach a second."""
    result = in_private_network(lose(5, directions), publish_and_watch, str(tmp_path), 20)
    print("loss:", result["shaping"])
    pair = result["subscriberPair"]
    assert pair and pair["local"]["protocol"] == "udp", pair  # loss test is about the UDP path
    frames, gap = decoding(result)
    encoded = result["framesEncodedWhileSampling"]
    video = result["subscriber"]["inbound"]["video"]
    sent = result["publisher"]["outbound"]["video"]
    room = next(r for key, r in result["stats"]["rooms"].items() if key.endswith("net"))
    recovered = sum(p["packetsRecovered"] for p in room["videoProducers"])
    print(f"{'/'.join(directions)} 5 %: {frames} of {encoded} frames decoded, longest stall {gap:.0f} ms (samples up to "
          f"{sampling_interval(result):.0f} ms apart), Chrome freezes {result['freezes']}, dropped "
          f"{video['framesDropped']}; subscriber lost {video['packetsLost']} nacks {video['nackCount']} plis "
          f"{video['pliCount']} rtx {video['retransmittedPacketsReceived']}; publisher nacks {sent['nackCount']} plis "
          f"{sent['pliCount']} rtx {sent['retransmittedPacketsSent']}; server {dict((k, v) for k, v in room.items() if not isinstance(v, list))} "
          f"recovered {recovered}")
    assert gap < 1000, f"the picture froze for {gap:.0f} ms"
    assert encoded > 300 and frames >= 0.8 * encoded, f"only {frames} of {encoded} frames decoded in 20 s"
    assert sent["nackCount"] > 0 and sent["retransmittedPacketsSent"] > 0, sent  # the SFU asked, the publisher resent
    assert recovered > 0, room["videoProducers"]  # ... and those packets arrived and were forwarded
    assert room["nacksSent"] > 0, room
    if "sport" in directions:  # loss on the way out: the subscriber asked and the SFU answered from its cache
        assert video["packetsLost"] > 0 and video["nackCount"] > 0, video
        assert video["retransmittedPacketsReceived"] > 0, video
        assert room["nacksReceived"] > 0 and room["packetsRetransmitted"] > 0, room
