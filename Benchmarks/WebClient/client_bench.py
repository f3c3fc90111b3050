#!/usr/bin/env python3
"""Web client benchmark (scripts/bench client): figures printed and written to bench-results/client.json, never asserted.

1. First remote frame: an aiortc peer publishes in a room; headless Chromium loads the room page, clicks Join once its
   camera preview shows, and the client's own marks (window.__roomsMetrics, performance.now() since navigation start)
   give page load → join click → Welcome → first remote frame presented. Repeated with a fresh page load each run.
2. Browser CPU with 4 remote videos: four aiortc peers publish (moving picture) and the browser shows all four; CPU
   time of every Chromium process (from /proc/<pid>/stat, the whole process tree under chromedriver) over a window,
   once while the browser publishes its own camera and microphone and once with both turned off.

Runs in a private network namespace on 127.0.0.1 (like the tests). Usage:
  client_bench.py --bin .build/release/RoomsServer [--runs 7] [--window 10] [--out bench-results/client.json]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PEER_SCRIPT = Path(__file__).resolve().parents[2] / "Tests" / "WebClient" / "room_peer.py"
sys.path.insert(0, str(PEER_SCRIPT.parent))

from selenium.webdriver.common.by import By  # noqa: E402

from browser_support import Server, in_room, js, make_browser, private_network, wait_for  # noqa: E402
from room_peer import RoomPeer  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
MARKS = ["app-start", "preview-ready", "join-click", "welcome", "sfu-available", "first-remote-video-track",
         "first-remote-frame"]


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def process_kind(pid: int) -> str:
    try:
        # Chromium's child processes rewrite their command line as one space-separated string.
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return "gone"
    if not args:
        return "gone"
    if b"chromedriver" in args[0]:
        return "chromedriver"
    for a in args:
        if a.startswith(b"--type="):
            kind = a[7:].decode()
            if kind == "utility":
                sub = [x for x in args if x.startswith(b"--utility-sub-type=")]
                return "utility:" + (sub[0].split(b".")[-1].decode() if sub else "?")
            return kind
    return "browser"


def chromium_cpu(driver, seconds: float) -> dict:
    """% of one core used by the Chromium processes (by process type) while sleeping `seconds`."""
    root = driver.service.process.pid
    pids = [p for p in process_tree(root) if p != root]
    before = {p: cpu_seconds(p) for p in pids}
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    by_kind: dict[str, float] = {}
    for p in pids:
        by_kind[process_kind(p)] = by_kind.get(process_kind(p), 0.0) + cpu_seconds(p) - before[p]
    return {"total_percent": round(100 * sum(by_kind.values()) / elapsed, 1),
            "by_process": {k: round(100 * v / elapsed, 1) for k, v in sorted(by_kind.items(), key=lambda kv: -kv[1]) if v > 0}}


def remote_video_stats(driver) -> list[dict]:
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        window.__rooms.sfu.subscriber.getStats().then((r) => {
          const out = [];
          r.forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "video")
            out.push({mid: s.mid, framesDecoded: s.framesDecoded, width: s.frameWidth, height: s.frameHeight,
                      fps: s.framesPerSecond, decoder: s.decoderImplementation}); });
          done(out);
        });""")


def measure(driver, window: float, peers: list[subprocess.Popen]) -> dict:
    """Chromium's CPU over `window` seconds, the frame rate each remote video really decoded meanwhile, and the
    publishing peers' CPU (they share the machine's cores with the browser)."""
    before = {v["mid"]: v for v in remote_video_stats(driver)}
    peers_before = [cpu_seconds(p.pid) for p in peers]
    start = time.monotonic()
    cpu = chromium_cpu(driver, window)
    after = remote_video_stats(driver)
    elapsed = time.monotonic() - start
    cpu["peer_percent"] = [round(100 * (cpu_seconds(p.pid) - b) / elapsed, 1) for p, b in zip(peers, peers_before)]
    cpu["decoded_fps"] = {v["mid"]: round((v["framesDecoded"] - before.get(v["mid"], {}).get("framesDecoded", 0)) / elapsed, 1)
                          for v in after}
    cpu["sizes"] = sorted({f"{v['width']}x{v['height']}" for v in after})
    cpu["decoder"] = sorted({str(v["decoder"]) for v in after})
    cpu["load_average_1min"] = os.getloadavg()[0]
    return cpu


def first_frame_runs(server: Server, runs: int) -> list[dict]:
    room = "bench-first-frame"
    peer = RoomPeer(server.url, room, "publisher", colour=(40, 120, 220), size=(640, 360), fps=30, moving_bar=True).start()
    driver = make_browser()
    results = []
    try:
        url = server.url + room
        for n in range(runs):
            driver.get(url)
            # A returning visitor: the name is remembered, so joining is one click once the preview shows.
            field = wait_for(lambda: driver.find_element(By.ID, "name-input"), message="join screen")
            if not field.get_attribute("value"):
                field.send_keys("Bench")
            wait_for(lambda: js(driver, "return 'preview-ready' in window.__roomsMetrics.marks"), message="camera preview")
            driver.find_element(By.ID, "join-button").click()
            wait_for(lambda: js(driver, "return 'first-remote-frame' in window.__roomsMetrics.marks"), timeout=20,
                     interval=0.05, message="first remote frame")
            marks = js(driver, "return window.__roomsMetrics.marks")
            results.append({"run": n + 1, "marks_ms": {k: round(marks[k], 1) for k in MARKS if k in marks},
                            "click_to_first_frame_ms": round(marks["first-remote-frame"] - marks["join-click"], 1),
                            "load_to_first_frame_ms": round(marks["first-remote-frame"], 1)})
            print(f"  run {n + 1}: click → first frame {results[-1]['click_to_first_frame_ms']:7.1f} ms, "
                  f"load → first frame {results[-1]['load_to_first_frame_ms']:7.1f} ms", flush=True)
            driver.find_element(By.ID, "leave").click()  # the next load starts on the join screen again
            wait_for(lambda: not in_room(driver), message="left")
    finally:
        driver.quit()
        peer.stop()
    return results


def start_peer_process(server: Server, room: str, name: str, colour, size, fps) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(PEER_SCRIPT), "--url", server.url, "--room", room, "--name", name,
                             "--colour", ",".join(map(str, colour)), "--size", f"{size[0]}x{size[1]}", "--fps", str(fps),
                             "--moving-bar"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("ready "):
        proc.kill()
        raise RuntimeError(f"peer {name} did not start: {line!r}")
    return proc


def cpu_with_four_videos(server: Server, window: float, size, fps) -> dict:
    room = "bench-cpu"
    colours = [(200, 60, 60), (60, 200, 60), (60, 60, 200), (200, 200, 60)]
    # One process per peer: four encoders in one Python process would starve each other.
    peers = [start_peer_process(server, room, f"peer {i + 1}", c, size, fps) for i, c in enumerate(colours)]
    driver = make_browser()
    try:
        driver.get(server.url + room)
        field = wait_for(lambda: driver.find_element(By.ID, "name-input"), message="join screen")
        field.clear()
        field.send_keys("Bench")
        driver.find_element(By.ID, "join-button").click()
        wait_for(lambda: len([s for s in remote_video_stats(driver) if (s.get("framesDecoded") or 0) > 0]) == 4,
                 timeout=30, message="four remote videos decoding")
        time.sleep(2)  # past the start-up (key frames, jitter buffers)
        publishing = measure(driver, window, peers)
        driver.find_element(By.ID, "toggle-cam").click()
        driver.find_element(By.ID, "toggle-mic").click()
        time.sleep(2)
        receiving_only = measure(driver, window, peers)
        return {"peer_video": {"width": size[0], "height": size[1], "fps": fps}, "window_s": window,
                "publishing_camera_and_mic": publishing, "camera_and_mic_off": receiving_only}
    finally:
        driver.quit()
        for p in peers:
            p.stdin.close()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--peer-size", default="640x360")
    parser.add_argument("--peer-fps", type=int, default=15)
    parser.add_argument("--out", default="bench-results/client.json")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.peer_size.split("x"))
    workdir = Path(tempfile.mkdtemp(prefix="rooms-bench-client-"))
    try:
        with private_network() as private:
            server = Server(workdir, Path(args.bin))
            server.start()
            try:
                print(f"== Web client: first remote frame ({args.runs} page loads; one aiortc publisher, 640x360)", flush=True)
                runs = first_frame_runs(server, args.runs)
                clicks = [r["click_to_first_frame_ms"] for r in runs]
                loads = [r["load_to_first_frame_ms"] for r in runs]
                print(f"click → first remote frame: median {statistics.median(clicks):.0f} ms "
                      f"(min {min(clicks):.0f}, max {max(clicks):.0f}); page load → first remote frame: median "
                      f"{statistics.median(loads):.0f} ms; goal: 1500 ms after the click")
                print(f"== Web client: Chromium CPU with 4 remote videos ({size[0]}x{size[1]} at {args.peer_fps} fps, "
                      f"{args.window:.0f} s windows, {os.cpu_count()} cores)", flush=True)
                cpu = cpu_with_four_videos(server, args.window, size, args.peer_fps)
                for label, key in (("publishing camera+mic", "publishing_camera_and_mic"), ("camera+mic off", "camera_and_mic_off")):
                    c = cpu[key]
                    parts = ", ".join(f"{k} {v}" for k, v in c["by_process"].items())
                    fps = "/".join(f"{v:g}" for v in c["decoded_fps"].values())
                    print(f"{label:22s} {c['total_percent']:6.1f} % of one core ({parts}); decoded {fps} fps "
                          f"at {','.join(c['sizes'])} ({','.join(c['decoder'])}); peers {c['peer_percent']} %; "
                          f"load average {c['load_average_1min']:.1f}")
            finally:
                server.stop()
        result = {"benchmark": "client", "cores": os.cpu_count(), "network_namespace": private,
                  "first_frame": {"runs": runs, "click_to_first_frame_ms": {"median": statistics.median(clicks),
                                  "min": min(clicks), "max": max(clicks)},
                                  "load_to_first_frame_ms": {"median": statistics.median(loads), "min": min(loads), "max": max(loads)},
                                  "goal_click_to_first_frame_ms": 1500},
                  "cpu_four_remote_videos": cpu}
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.out}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
