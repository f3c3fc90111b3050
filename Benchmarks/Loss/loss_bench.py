#!/usr/bin/env python3
"""Freezes under packet loss (scripts/bench loss): figures printed and written to bench-results/loss.json, never
asserted.

The scenario of Tests/EndToEnd/test_sfu_network.py: headless Chromium publishes 640x480 camera + microphone with WHIP,
a second Chromium watches with WHEP, all in a private network namespace on 127.0.0.1; nftables drops a given share of
the media datagrams in both directions (no netem in this kernel). For each loss rate: frames decoded against frames
encoded while watching, the longest time without a new frame (framesDecoded sampled every 100 ms), the time spent in
stalls of half a second or more (a stall: framesDecoded seen standing still; late samples of a busy page do not
count), Chrome's own freezeCount/totalFreezesDuration, the subscriber's NACK/PLI/RTX counts
and the SFU's repair counters (/api/v1/stats).

Usage: loss_bench.py --bin .build/release/RoomsServer [--loss 0 2 5 10] [--duration 20] [--runs 1]
                     [--out bench-results/loss.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2] / "Tests" / "EndToEnd"


def measure(network, percent: int, duration: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="rooms-loss-") as workdir:
        result = network.in_private_network(network.lose(percent), network.publish_and_watch, workdir, duration,
                                             timeout=duration + 120)
    samples = result["samples"]
    gaps = network.stalls(samples)
    decoded = samples[-1][1] - samples[0][1] if samples else 0
    encoded = result["framesEncodedWhileSampling"]
    video = result["subscriber"]["inbound"].get("video", {})
    room = next((r for key, r in result["stats"]["rooms"].items() if key.endswith("net")), {})
    freezes = result.get("freezes") or {}
    return {
        "loss_percent": percent, "shaping": result["shaping"],
        "frames_encoded": encoded, "frames_decoded": decoded,
        "decoded_share": round(decoded / encoded, 3) if encoded else None,
        "longest_stall_ms": round(max(gaps), 0) if gaps else None,
        "longest_sample_step_ms": round(network.sampling_interval(result), 0),
        "stalls_500ms": sum(1 for g in gaps if g >= 500),
        "stalled_ms_500": round(sum(g for g in gaps if g >= 500), 0),
        "chrome_freeze_count": freezes.get("freezeCount"),
        "chrome_freezes_s": freezes.get("totalFreezesDuration"),
        "frames_dropped": video.get("framesDropped"),
        "subscriber": {k: video.get(k) for k in ("packetsReceived", "packetsLost", "nackCount", "pliCount",
                                                 "retransmittedPacketsReceived", "frameWidth", "frameHeight")},
        "sfu": {k: room.get(k) for k in ("nacksReceived", "packetsRetransmitted", "nacksSent", "packetsNacked",
                                         "packetsLostUpstream", "packetsRecovered", "packetsSkippedAtKeyframe", "packetsGivenUp", "repairsAwaited", "repairsSentOnArrival",
                                         "keyframeRequestsReceived", "keyframeRequestsSent")},
        "repair_rtt_ms": [layer.get("repairRoundTripMillis") for p in room.get("videoProducers", [])
                          for layer in p.get("layers", [])],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--loss", type=int, nargs="+", default=[0, 2, 5, 10])
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", default="bench-results/loss.json")
    args = parser.parse_args()
    os.environ["ROOMS_BIN"] = str(Path(args.bin).resolve())  # read by conftest at import
    sys.path.insert(0, str(TESTS))
    import test_sfu_network as network  # the scenario and the namespace helpers  # noqa: E402

    reason = network.missing_tools()
    if reason:
        print(f"loss bench skipped: {reason}")
        return 1
    print(f"== Freezes under loss: Chromium WHIP 640x480 -> SFU -> Chromium WHEP, {args.duration:.0f} s per run, "
          f"loss on the media port both ways, binary {args.bin}")
    print(f"{'loss':>5} {'decoded/encoded':>16} {'longest stall':>14} {'stalls>=0.5s':>12} {'stalled':>8} "
          f"{'chrome freezes':>15} {'sub nack/pli/rtx':>17} {'sfu lost/recovered/given up':>28} {'sample step':>11}")
    levels = []
    for percent in args.loss:
        runs = []
        for _ in range(args.runs):
            r = measure(network, percent, args.duration)
            runs.append(r)
            s, f = r["subscriber"], r["sfu"]
            print(f"{percent:>4}% {r['frames_decoded']:>7}/{r['frames_encoded']:<8} {r['longest_stall_ms'] or 0:>11.0f} ms "
                  f"{r['stalls_500ms']:>12} {r['stalled_ms_500'] / 1000:>7.1f}s "
                  f"{r['chrome_freeze_count'] or 0:>5} / {r['chrome_freezes_s'] or 0:>5.1f}s "
                  f"{s['nackCount'] or 0:>7}/{s['pliCount'] or 0}/{s['retransmittedPacketsReceived'] or 0:<5} "
                  f"{f['packetsLostUpstream'] or 0:>12}/{f['packetsRecovered'] or 0}/{f['packetsGivenUp'] or 0:<8} "
                  f"{r['longest_sample_step_ms']:>8.0f} ms", flush=True)
        stall = [r["longest_stall_ms"] for r in runs if r["longest_stall_ms"] is not None]
        share = [r["decoded_share"] for r in runs if r["decoded_share"] is not None]
        levels.append({"loss_percent": percent, "runs": runs,
                       "median_longest_stall_ms": statistics.median(stall) if stall else None,
                       "median_decoded_share": statistics.median(share) if share else None})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"benchmark": "loss", "cores": os.cpu_count(), "binary": args.bin,
                                          "duration_s": args.duration, "levels": levels}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
