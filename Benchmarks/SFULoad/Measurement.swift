// What one run measures: the server's CPU time and memory from /proc, and the packets the subscribers received
// compared with what the publisher sent in the same window.
import Foundation
import NIOCore

/// The server's CPU time (all threads: /proc/<pid>/stat of the thread group leader sums them) and resident memory.
struct ServerProcess {
    let pid: Int32
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// utime + stime in seconds.
    func cpuSeconds() throws -> Double { try Self.cpuSeconds(statPath: "/proc/\(pid)/stat") }

    /// The load generator's own CPU time: a run where it saturates its core measures the generator, not the server.
    static func ownCpuSeconds() throws -> Double { try cpuSeconds(statPath: "/proc/self/stat") }

    private static func cpuSeconds(statPath: String) throws -> Double {
        let stat = try String(contentsOfFile: statPath, encoding: .utf8)
        // The command name (field 2) may hold spaces; fields after its closing parenthesis start at field 3.
        guard let close = stat.lastIndex(of: ")") else { throw LoadError.media("unreadable \(statPath)") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw LoadError.media("unreadable \(statPath)")
        }
        return (user + system) / ticksPerSecond
    }

    func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}

/// Counters summed over the peers at one instant (read on their event loop).
struct TrafficSnapshot {
    var published = 0
    var received = 0
    var expected = 0
    var receivedBytes = 0
    var receivingSubscribers = 0
    var decryptedSamples = 0
    var decryptFailures = 0
    var at = NIODeadline.now()

    init(publisher: WebRtcPeer, subscribers: [WebRtcPeer]) {
        published = publisher.sentPackets
        for peer in subscribers {
            received += peer.rtpPackets
            expected += peer.expectedPackets
            receivedBytes += peer.rtpBytes
            decryptedSamples += peer.decryptedSamples
            decryptFailures += peer.decryptFailures
            if peer.rtpPackets > 0 { receivingSubscribers += 1 }
        }
    }
}

/// The figures of one run, as written to JSON (snake_case keys, like the other benchmarks).
struct RunResult: Encodable {
    var server: String
    var subscribers: Int
    var subscribersConnected: Int
    var subscribersReceiving: Int
    var durationSeconds: Double
    var publishedPackets: Int
    var forwardedPackets: Int
    var forwardedMbitPerSecond: Double
    var lossPercent: Double
    /// Received / (published × subscribers) in the window: below 100 % also when the server falls behind.
    var deliveryPercent: Double
    var cpuSeconds: Double
    var corePercent: Double
    var cpuSecondsPerMillionPackets: Double
    var rssKib: Int
    var rssKibBeforeSubscribers: Int
    var srtpProfile: String
    var decryptedSamples: Int
    var decryptFailures: Int
    var setupFailures: [String]
    var loadGeneratorCorePercent: Double

    init(server: String, subscribers: Int, connected: Int, start: TrafficSnapshot, end: TrafficSnapshot,
         cpu: Double, rss: Int, rssBefore: Int, srtpProfile: String, setupFailures: [String], loadGeneratorCpu: Double) {
        self.server = server
        self.subscribers = subscribers
        subscribersConnected = connected
        subscribersReceiving = end.receivingSubscribers
        durationSeconds = Double((end.at - start.at).nanoseconds) / 1e9
        publishedPackets = end.published - start.published
        forwardedPackets = end.received - start.received
        forwardedMbitPerSecond = Double(end.receivedBytes - start.receivedBytes) * 8 / durationSeconds / 1e6
        // Gaps in the sequence numbers each subscriber saw; a subscriber that receives nothing loses everything.
        let silent = subscribers - end.receivingSubscribers
        let expected = Double(end.expected - start.expected + silent * publishedPackets)
        lossPercent = expected > 0 ? max(0, 100 * (1 - Double(forwardedPackets) / expected)) : 100
        deliveryPercent = publishedPackets > 0 ? 100 * Double(forwardedPackets) / Double(publishedPackets * subscribers) : 0
        cpuSeconds = cpu
        corePercent = 100 * cpu / durationSeconds
        cpuSecondsPerMillionPackets = forwardedPackets > 0 ? cpu / Double(forwardedPackets) * 1e6 : 0
        rssKib = rss
        rssKibBeforeSubscribers = rssBefore
        self.srtpProfile = srtpProfile
        decryptedSamples = end.decryptedSamples
        decryptFailures = end.decryptFailures
        self.setupFailures = setupFailures
        loadGeneratorCorePercent = 100 * loadGeneratorCpu / durationSeconds
    }

    var summary: String {
        String(format: "%@ N=%d: %d receiving, %.1f Mbit/s, %.0f pkt/s forwarded, CPU %.1f%% of a core, "
               + "%.2f CPU s per million packets, loss %.2f%% (delivered %.1f%%), RSS %d MiB (%@); load generator %.0f%% of a core",
               server, subscribers, subscribersReceiving, forwardedMbitPerSecond, Double(forwardedPackets) / durationSeconds,
               corePercent, cpuSecondsPerMillionPackets, lossPercent, deliveryPercent, rssKib / 1024, srtpProfile, loadGeneratorCorePercent)
    }
}
