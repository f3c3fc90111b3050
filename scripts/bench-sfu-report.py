#!/usr/bin/env python3
"""Table and bench-results/sfu.json from the per-run files SFULoad wrote (bench-results/sfu-<server>-<n>.json).

"Held at one core": the largest subscriber count whose run kept the server under 100 % of its one core and the
subscribers' receive loss under 1 %. The ratio is Rooms / Janus in CPU seconds per million forwarded packets
(the goal is <= 0.5)."""
import glob
import json
import os
import sys

out_dir = sys.argv[1] if len(sys.argv) > 1 else "bench-results"
runs = []
for path in glob.glob(os.path.join(out_dir, "sfu-*-*.json")):
    with open(path) as f:
        runs.append(json.load(f))
runs.sort(key=lambda r: (r["subscribers"], r["server"]))
by_key = {(r["server"], r["subscribers"]): r for r in runs}
counts = sorted({r["subscribers"] for r in runs})


def holds(r):
    return not r.get("failed") and r["core_percent"] < 100 and r["loss_percent"] < 1


def cell(r):
    if r is None:
        return f"{'-':>44}"
    if r.get("failed"):
        return f"{'failed':>44}"
    return (f"{r['cpu_seconds_per_million_packets']:8.2f} {r['core_percent']:6.1f}% "
            f"{r['rss_kib'] / 1024:7.1f} {r['loss_percent']:6.2f}% {r['subscribers_receiving']:5d}   ")


print(f"{'':>5} | {'Rooms: CPU s/Mpkt  core  RSS MiB   loss  recv':>44} | "
      f"{'Janus: CPU s/Mpkt  core  RSS MiB   loss  recv':>44} | Rooms/Janus")
ratios = {}
for n in counts:
    rooms, janus = by_key.get(("rooms", n)), by_key.get(("janus", n))
    ratio = None
    if rooms and janus and not rooms.get("failed") and not janus.get("failed") \
            and janus["cpu_seconds_per_million_packets"] > 0:
        ratio = rooms["cpu_seconds_per_million_packets"] / janus["cpu_seconds_per_million_packets"]
        ratios[str(n)] = round(ratio, 3)
    print(f"{n:>5} | {cell(rooms)} | {cell(janus)} | {'-' if ratio is None else f'{ratio:.2f}'}")

held = {}
for server in ("rooms", "janus"):
    ok = [n for n in counts if (server, n) in by_key and holds(by_key[(server, n)])]
    held[server] = max(ok) if ok else 0
    tested = max((n for (s, n) in by_key if s == server), default=0)
    suffix = " (the largest N tested: may hold more)" if held[server] == tested and tested else ""
    print(f"{server}: subscribers held at one core: {held[server]}{suffix}")

summary = {
    "benchmark": "sfu",
    "cores": os.cpu_count(),
    "load": {"publisher": "VP8 1.5 Mbit/s 30 fps, keyframe every 2 s, ~1150-byte payloads; Opus 20 ms",
             "subscribers": "count packets and bytes, decrypt one packet in 64"},
    "subscribers_held_at_one_core": held,
    "cpu_ratio_rooms_over_janus": ratios,
    "runs": runs,
}
with open(os.path.join(out_dir, "sfu.json"), "w") as f:
    json.dump(summary, f, indent=2)
print(f"wrote {os.path.join(out_dir, 'sfu.json')}")
