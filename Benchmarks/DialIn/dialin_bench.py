#!/usr/bin/env python3
"""Dial-in benchmark (figures, never assertions): N sipp phones (PCMU or G.722, each playing a tone) call one room in
which three aiortc participants speak; once all phones are in the room, the server's CPU is sampled for a while.

Prints CPU per phone leg, the legs one core would hold at that cost, and the bridge's mixing + encoding time per
20 ms tick (from /api/v1/stats), and writes them as JSON. Usage:
  dialin_bench.py --server-bin .build/release/RoomsServer --out bench-results/sip.json --legs 10 20 40 --codecs PCMU G722
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent.parent / "Tests" / "EndToEnd"
sys.path.insert(0, str(TESTS))
from sip_helpers import SIPP, free_udp_port, scenario, tone_pcap  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/stats", timeout=5) as r:
        return json.load(r)


def wait(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def run(server_bin: str, legs: int, measure: float, workdir: Path, codec: str = "PCMU") -> dict:
    http_port, sip_port = free_udp_port(), free_udp_port()
    conf = workdir / f"server-{legs}.conf"
    conf.write_text(f"[http]\nlisten = 127.0.0.1:{http_port}\nstats = true\n[sip]\nenabled = true\n"
                    f"listen = 127.0.0.1:{sip_port}\npins = 1234:bench\nrtpTimeout = 60s\n")
    log = open(workdir / f"server-{legs}.log", "wb")
    server = subprocess.Popen([server_bin, "-c", str(conf), "--data", str(workdir / f"data-{legs}"), "--root", str(HERE.parent.parent)],
                              stdout=log, stderr=log)
    peers, sipp = [], None
    try:
        wait(lambda: urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=1).status == 200, 20, "the server")
        talk = measure + 40 + legs * 0.3
        for tone in (600, 1000, 1500):
            peers.append(subprocess.Popen([sys.executable, str(TESTS / "room_audio_peer.py"), "--url", f"http://127.0.0.1:{http_port}",
                                           "--room", "bench", "--tone", str(tone), "--seconds", str(talk + 10)],
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=TESTS))
        for peer in peers:
            assert "ready" in peer.stdout.readline(), "an aiortc speaker did not start"
        pcap = workdir / f"tone-{codec}-{legs}.pcap"
        if not pcap.exists():
            tone_pcap(pcap, 440, seconds=talk, codec=codec)
        xml = workdir / f"phone-{codec}.xml"
        xml.write_text(scenario(["1234"], tone_pcap=pcap, talk_ms=int(talk * 1000), codec=codec))
        # All phones from one sipp: `legs` calls at 10 calls/s, all concurrent.
        sipp = subprocess.Popen([SIPP, f"127.0.0.1:{sip_port}", "-sf", str(xml), "-m", str(legs), "-l", str(legs), "-r", "10",
                                 "-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", str(free_udp_port()), "-nostdin"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir)
        wait(lambda: stats(http_port)["sip"]["phonesInRooms"] >= legs, 30 + legs, f"{legs} phones in the room")
        time.sleep(2)
        before = stats(http_port)["sip"]
        cpu0, t0 = cpu_seconds(server.pid), time.time()
        time.sleep(measure)
        cpu1, t1 = cpu_seconds(server.pid), time.time()
        after = stats(http_port)["sip"]
        ticks = after["mixTicks"] - before["mixTicks"]
        core = (cpu1 - cpu0) / (t1 - t0)
        return {
            "codec": codec, "legs": legs, "browserSpeakers": 3, "seconds": round(t1 - t0, 1),
            "serverCorePercent": round(100 * core, 1),
            "corePercentPerLeg": round(100 * core / legs, 2),
            "legsPerCore": round(legs / core, 1) if core > 0 else None,
            "mixMicrosecondsPerTick": after["mixMicrosecondsPerTick"],
            "mixMicrosecondsPerTickPerLeg": round(after["mixMicrosecondsPerTick"] / legs, 1),
            "mixTicksPerSecond": round(ticks / (t1 - t0), 1),
            "serverRssKiB": rss_kib(server.pid),
            "phonesInRoom": after["phonesInRooms"],
        }
    finally:
        if sipp:
            sipp.send_signal(signal.SIGTERM)
            sipp.wait(10)
        for peer in peers:
            peer.kill()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--legs", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--measure", type=float, default=15)
    parser.add_argument("--codecs", nargs="+", default=["PCMU", "G722"], choices=["PCMU", "G722"])
    args = parser.parse_args()
    if SIPP is None:
        raise SystemExit("sipp is not installed (scripts/install-deps bench)")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        print(f"== SIP dial-in: N sipp phones + 3 aiortc speakers in one room, {os.cpu_count()} cores shared with the load")
        print(f"{'codec':>6} {'legs':>5} {'server %core':>13} {'%core/leg':>10} {'legs/core':>10} {'mix µs/tick':>12} {'µs/tick/leg':>12} {'RSS MiB':>8}")
        for codec in args.codecs:
            for legs in args.legs:
                r = run(args.server_bin, legs, args.measure, Path(tmp), codec)
                results.append(r)
                print(f"{codec:>6} {r['legs']:>5} {r['serverCorePercent']:>13} {r['corePercentPerLeg']:>10} {r['legsPerCore']:>10} "
                      f"{r['mixMicrosecondsPerTick']:>12} {r['mixMicrosecondsPerTickPerLeg']:>12} {r['serverRssKiB'] // 1024:>8}")
    Path(args.out).write_text(json.dumps({"benchmark": "sip", "cores": os.cpu_count(), "runs": results}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
