// One run: publish, connect N subscribers, let the stream settle, then measure a steady window.
import Foundation
import NIOCore
import NIOPosix
import SFU

final class LoadRun {
    /// Subscribers negotiated at once: enough to connect 300 in seconds, few enough not to time out DTLS.
    static let setupConcurrency = 16
    static let connectTimeout: TimeAmount = .seconds(20)
    static let firstMediaTimeout: Duration = .seconds(15)

    let options: Options
    /// One event loop for every peer: the load generator gets one core in scripts/bench.
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var loop: EventLoop { group.next() }
    private let clock: PeerClock
    private let server: ServerProcess
    /// One certificate for all peers, as one browser would have.
    private let certificate: DtlsCertificate

    init(_ options: Options) throws {
        self.options = options
        server = ServerProcess(pid: options.serverPid)
        clock = PeerClock(loop: group.next())
        certificate = try DtlsCertificate(commonName: "sfuload")
    }

    func run() async throws -> RunResult {
        let signaling: SFUSignaling = switch options.server {
        case .rooms: RoomsSignaling(baseURL: options.url, room: "sfubench\(Int.random(in: 100_000 ... 999_999))")
        case .janus: try await JanusSignaling.connect(baseURL: options.url)
        }

        let publisher = try await connect { peer in
            try await signaling.publish(peer, streams: self.streams)
        }
        let media = try await loop.submit { MediaPublisher(peer: publisher, streams: self.streams) }.get()
        try await loop.submit { media.start() }.get()
        let rssBefore = server.residentKiB()

        var subscribers: [WebRtcPeer] = []
        var failures: [String] = []
        let setupStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Result<WebRtcPeer, Error>.self) { group in
            var started = 0
            func startNext() {
                guard started < options.subscribers else { return }
                started += 1
                group.addTask {
                    do { return .success(try await self.connect { try await signaling.subscribe($0) }) } catch { return .failure(error) }
                }
            }
            for _ in 0 ..< Self.setupConcurrency { startNext() }
            while let outcome = try await group.next() {
                switch outcome {
                case .success(let peer): subscribers.append(peer)
                case .failure(let error): failures.append("\(error)")
                }
                if (subscribers.count + failures.count) % 50 == 0 {
                    log("\(subscribers.count) subscribers connected, \(failures.count) failed, after \(ContinuousClock.now - setupStart)")
                }
                startNext()
            }
        }
        log("\(subscribers.count) of \(options.subscribers) subscribers connected in \(ContinuousClock.now - setupStart)")
        if !failures.isEmpty {
            log("\(failures.count) of \(options.subscribers) subscribers failed: \(failures[0])")
        }
        try await waitForMedia(at: subscribers, publisher: publisher)
        try await Task.sleep(for: .seconds(options.warmup))

        let start = try await snapshot(publisher, subscribers)
        let cpuStart = try server.cpuSeconds(), ownCpuStart = try ServerProcess.ownCpuSeconds()
        try await Task.sleep(for: .seconds(options.duration))
        let end = try await snapshot(publisher, subscribers)
        let cpu = try server.cpuSeconds() - cpuStart, ownCpu = try ServerProcess.ownCpuSeconds() - ownCpuStart
        let rss = server.residentKiB()
        let profile = try await loop.submit { subscribers.first?.srtpProfile?.description ?? "none" }.get()

        try await loop.submit {
            media.stop()
            for peer in subscribers + [publisher] { peer.close() }
        }.get()
        await signaling.close()
        guard end.received > start.received else {
            throw LoadError.media("subscribers received nothing during the \(options.duration) s window")
        }
        guard end.decryptedSamples > 0, end.decryptFailures == 0 else {
            throw LoadError.media("\(end.decryptFailures) of \(end.decryptedSamples + end.decryptFailures) sampled packets did not decrypt")
        }
        return RunResult(server: options.server.rawValue, subscribers: options.subscribers, connected: subscribers.count,
                         start: start, end: end, cpu: cpu, rss: rss, rssBefore: rssBefore, srtpProfile: profile,
                         setupFailures: Array(failures.prefix(5)), loadGeneratorCpu: ownCpu)
    }

    private let streams = PublishedStreams(audioSSRC: .random(in: 1 ... .max), videoSSRC: .random(in: 1 ... .max))

    /// Opens a peer, negotiates it with `negotiate` and waits for DTLS-SRTP.
    private func connect(_ negotiate: (WebRtcPeer) async throws -> Void) async throws -> WebRtcPeer {
        let peer = try await WebRtcPeer.open(on: loop, certificate: certificate, localAddress: options.address)
        try await loop.submit { self.clock.add(peer) }.get()
        do {
            try await negotiate(peer)
            let timeout = Self.connectTimeout
            let deadline = loop.scheduleTask(in: timeout) { peer.giveUp(after: timeout) }
            defer { deadline.cancel() }
            try await peer.connectedFuture.get()
            return peer
        } catch {
            try? await loop.submit { peer.close() }.get()
            throw error
        }
    }

    /// Every connected subscriber must see media; those that never do are reported (they count as loss).
    private func waitForMedia(at subscribers: [WebRtcPeer], publisher: WebRtcPeer) async throws {
        let deadline = ContinuousClock.now + Self.firstMediaTimeout
        while ContinuousClock.now < deadline {
            let waiting = try await loop.submit { subscribers.filter { $0.rtpPackets == 0 }.count }.get()
            if waiting == 0 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        let (receiving, sent) = try await loop.submit {
            (subscribers.filter { $0.rtpPackets > 0 }.count, publisher.sentPackets)
        }.get()
        guard receiving > 0 else {
            throw LoadError.media("no subscriber received media within \(Self.firstMediaTimeout) (publisher sent \(sent) packets)")
        }
        log("only \(receiving) of \(subscribers.count) connected subscribers receive media")
    }

    private func snapshot(_ publisher: WebRtcPeer, _ subscribers: [WebRtcPeer]) async throws -> TrafficSnapshot {
        try await loop.submit { TrafficSnapshot(publisher: publisher, subscribers: subscribers) }.get()
    }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data("SFULoad: \(message)\n".utf8))
}

// Immutable after init apart from `clock`, which is loop-confined.
extension LoadRun: @unchecked Sendable {}

/// Runs every peer's timers (ICE retransmission and consent, DTLS retransmission) from one repeated task.
final class PeerClock {
    let loop: EventLoop
    private var peers: [WebRtcPeer] = []
    private var task: RepeatedTask?

    init(loop: EventLoop) { self.loop = loop }

    /// Call on the loop.
    func add(_ peer: WebRtcPeer) {
        peers.append(peer)
        if task == nil {
            task = loop.scheduleRepeatedTask(initialDelay: .milliseconds(20), delay: .milliseconds(20)) { [weak self] _ in
                let now = NIODeadline.now()
                self?.peers.forEach { $0.tick(now: now) }
            }
        }
    }
}
