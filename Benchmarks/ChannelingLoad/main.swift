// Load generator for the channeling WebSocket: N sessions in rooms of `roomSize`, each sending room chats at `rate`
// messages per second for `duration` seconds. Prints delivered messages/s, delivery latency percentiles and the
// server's resident memory per idle session (from /proc/<pid>), and writes the figures as JSON.
// Usage: ChannelingLoad <ws-url> <sessions> <room-size> <rate> <duration-s> <server-pid> <json-out>
import Foundation
import Logging
import NIOCore
import NIOConcurrencyHelpers
import NIOPosix
import WSClient

struct Options {
    var url = "ws://127.0.0.1:8080/ws"
    var sessions = 100
    var roomSize = 10
    var rate = 2.0
    var duration = 10.0
    var serverPid: Int32 = 0
    var jsonOut = "bench-results/channeling.json"

    init(_ args: [String]) {
        if args.count > 1 { url = args[1] }
        if args.count > 2 { sessions = Int(args[2]) ?? sessions }
        if args.count > 3 { roomSize = Int(args[3]) ?? roomSize }
        if args.count > 4 { rate = Double(args[4]) ?? rate }
        if args.count > 5 { duration = Double(args[5]) ?? duration }
        if args.count > 6 { serverPid = Int32(args[6]) ?? 0 }
        if args.count > 7 { jsonOut = args[7] }
    }
}

/// Shared counters; latencies are kept in microsecond buckets (no per-message allocation).
final class Stats: @unchecked Sendable {
    private let lock = NSLock()
    private var buckets = [Int](repeating: 0, count: 200_001)  // 0 ... 200 ms in µs; last bucket = overflow
    private(set) var delivered = 0
    private(set) var sent = 0
    private(set) var joined = 0
    private(set) var failed = 0

    func record(latencyMicros: Int) {
        lock.lock()
        buckets[min(max(latencyMicros, 0), buckets.count - 1)] += 1
        delivered += 1
        lock.unlock()
    }
    func didSend() { lock.lock(); sent += 1; lock.unlock() }
    func didJoin() { lock.lock(); joined += 1; lock.unlock() }
    func didFail() { lock.lock(); failed += 1; lock.unlock() }

    func percentile(_ p: Double) -> Double {
        lock.lock(); defer { lock.unlock() }
        let total = buckets.reduce(0, +)
        guard total > 0 else { return 0 }
        let target = Int((Double(total) * p).rounded(.up))
        var seen = 0
        for (i, n) in buckets.enumerated() {
            seen += n
            if seen >= target { return Double(i) / 1000 }
        }
        return Double(buckets.count) / 1000
    }
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func rssKiB(_ pid: Int32) -> Int {
    guard pid > 0, let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
    return 0
}

let options = Options(CommandLine.arguments)
let stats = Stats()
var logger = Logger(label: "load")
logger.logLevel = .error
let startFlag = NIOLockedValueBox<UInt64>(0)  // when > 0: the time the send phase starts
let stopAt = NIOLockedValueBox<UInt64>(0)

let rssBefore = rssKiB(options.serverPid)
let group = MultiThreadedEventLoopGroup.singleton

await withTaskGroup(of: Void.self) { tasks in
    for i in 0..<options.sessions {
        tasks.addTask {
            let room = "bench-\(i / options.roomSize)"
            do {
                try await WebSocketClient.connect(url: options.url, eventLoopGroup: group, logger: logger) { inbound, outbound, _ in
                    var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    _ = try await iterator.next()  // Self
                    try await outbound.write(.text(#"{"Type":"Hello","Hello":{"Name":"\#(room)","Ua":"load"},"Iid":"h"}"#))
                    joinLoop: while let m = try await iterator.next() {
                        if case .text(let t) = m, t.contains("\"Welcome\"") { break joinLoop }
                    }
                    stats.didJoin()
                    // Receive until the stop time; latency from the send timestamp carried in the message.
                    let reader = Task {
                        while let m = try await iterator.next() {
                            guard case .text(let t) = m, let r = t.range(of: "\"Message\":\"t") else { continue }
                            let digits = t[r.upperBound...].prefix { $0.isNumber }
                            if let sentAt = UInt64(digits) {
                                stats.record(latencyMicros: Int((now() &- sentAt) / 1000))
                            }
                        }
                    }
                    while startFlag.withLockedValue({ $0 }) == 0 { try await Task.sleep(nanoseconds: 50_000_000) }
                    let interval = UInt64(1_000_000_000 / options.rate)
                    // Spread the senders evenly over the interval.
                    try await Task.sleep(nanoseconds: UInt64.random(in: 0..<interval))
                    while now() < stopAt.withLockedValue({ $0 }) {
                        let msg = #"{"Type":"Chat","Chat":{"To":"","Type":"Chat","Chat":{"Message":"t\#(now())","NoEcho":true}}}"#
                        try await outbound.write(.text(msg))
                        stats.didSend()
                        try await Task.sleep(nanoseconds: interval)
                    }
                    try await Task.sleep(nanoseconds: 1_000_000_000)  // drain
                    reader.cancel()
                    try await outbound.close(.normalClosure, reason: nil)
                }
            } catch {
                stats.didFail()
            }
        }
    }
    // Wait for everyone to join (or fail), measure idle memory, then run the send phase.
    let joinDeadline = now() + 120_000_000_000
    while stats.joined + stats.failed < options.sessions && now() < joinDeadline {
        try? await Task.sleep(nanoseconds: 100_000_000)
    }
    try? await Task.sleep(nanoseconds: 1_000_000_000)
    let rssIdle = rssKiB(options.serverPid)
    let perSession = options.sessions > 0 ? Double(rssIdle - rssBefore) / Double(options.sessions) : 0
    let t0 = now()
    stopAt.withLockedValue { $0 = t0 + UInt64(options.duration * 1e9) }
    startFlag.withLockedValue { $0 = t0 }
    await tasks.waitForAll()
    let elapsed = options.duration
    let result: [String: Any] = [
        "sessions": options.sessions, "room_size": options.roomSize, "rate_per_session": options.rate,
        "joined": stats.joined, "failed": stats.failed, "sent": stats.sent, "delivered": stats.delivered,
        "delivered_per_second": Double(stats.delivered) / elapsed,
        "latency_ms_p50": stats.percentile(0.5), "latency_ms_p99": stats.percentile(0.99),
        "server_rss_kib_before": rssBefore, "server_rss_kib_idle": rssIdle, "kib_per_idle_session": perSession,
    ]
    print(String(format: "sessions %5d  joined %5d  delivered %9.0f msg/s  p50 %6.2f ms  p99 %7.2f ms  idle %.1f KiB/session",
                 options.sessions, stats.joined, Double(stats.delivered) / elapsed, stats.percentile(0.5), stats.percentile(0.99), perSession))
    if let data = try? JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys]) {
        FileManager.default.createFile(atPath: options.jsonOut, contents: data)
    }
}
