// Drives the publisher: frames and audio packets are due by wall clock (so timer jitter never changes the rate),
// and video goes through a pacer at 2.5× the bitrate like a browser's, so that a 40-packet keyframe is spread
// over about 100 ms instead of hitting the SFU (and N subscriber sockets) as one burst.
import NIOCore

final class MediaPublisher {
    static let tick: TimeAmount = .milliseconds(5)
    static let pacingBytesPerSecond = Double(SyntheticVideo.bitrate) / 8 * 2.5
    static let maxBurstBytes = 2.0 * Double(SyntheticVideo.maxPayloadBytes + 100)

    let peer: WebRtcPeer
    private var video: SyntheticVideo
    private var audio: SyntheticAudio
    private var startedAt: NIODeadline?
    private var lastTick: NIODeadline?
    private var framesQueued = 0
    private var audioSent = 0
    private var pacerQueue: [[UInt8]] = []
    private var pacerBudget = 0.0
    private var task: RepeatedTask?

    init(peer: WebRtcPeer, streams: PublishedStreams) {
        self.peer = peer
        video = SyntheticVideo(ssrc: streams.videoSSRC)
        audio = SyntheticAudio(ssrc: streams.audioSSRC)
        if let id = peer.midExtensionID {
            audio.rtp.mid = (id, Array("0".utf8))
            video.rtp.mid = (id, Array("1".utf8))
        }
    }

    func start() {
        task = peer.loop.scheduleRepeatedTask(initialDelay: .zero, delay: Self.tick) { [weak self] _ in
            self?.send(now: .now())
        }
    }

    func stop() { task?.cancel() }

    private func send(now: NIODeadline) {
        let start = startedAt ?? now
        startedAt = start
        let elapsed = Double((now - start).nanoseconds) / 1e9
        while framesQueued <= Int(elapsed * Double(SyntheticVideo.framesPerSecond)) {
            pacerQueue += video.nextFrame()
            framesQueued += 1
        }
        while audioSent <= Int(elapsed * Double(SyntheticAudio.packetsPerSecond)) {
            peer.sendRtp(audio.nextPacket())
            audioSent += 1
        }
        let interval = lastTick.map { Double((now - $0).nanoseconds) / 1e9 } ?? 0
        lastTick = now
        pacerBudget = min(pacerBudget + interval * Self.pacingBytesPerSecond, Self.maxBurstBytes)
        var sent = 0
        while sent < pacerQueue.count, pacerBudget >= 0 {
            pacerBudget -= Double(pacerQueue[sent].count)
            peer.sendRtp(pacerQueue[sent])
            sent += 1
        }
        pacerQueue.removeFirst(sent)
    }
}

// Loop-confined like its peer: created, started and stopped on `peer.loop`.
extension MediaPublisher: @unchecked Sendable {}
