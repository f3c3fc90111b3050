// One encoding of a producer: a simulcast layer (rid or SIM SSRC), or the only stream of a plain track. Each has
// its own SSRC and RTX SSRC, sequence numbers, retransmission cache, loss and receive statistics, so everything
// per-SSRC lives here; the Producer holds its layers lowest first.

import NIOCore

final class ProducerLayer {
    /// Spatial index, 0 = lowest resolution.
    let index: Int
    /// The rid (RFC 8851) for rid simulcast; nil for SSRC-signalled streams.
    let rid: String?
    /// Signalled in the offer, or learned from the first packet carrying the rid (or the mid, for one layer).
    var ssrc: UInt32?
    /// RFC 4588 repair stream, signalled (FID) or learned from repaired-rtp-stream-id.
    var rtxSSRC: UInt32?
    var cache: RtpPacketCache
    var receiveStatistics = ReceiveStatistics()
    /// Video loss on the way in, NACKed to the publisher by the router (Router+Nack).
    var loss = LossTracker()
    var bitrate = BitrateMeter()
    var lastKeyframeRequest: NIODeadline?
    private(set) var lastPacketNanos: UInt64 = 0
    private(set) var lastKeyframeNanos: UInt64 = 0
    private var lastKeyframeTimestamp: UInt32 = 0
    /// From the last keyframe (see FrameDescriptor); 0 until one is seen.
    private(set) var width = 0
    private(set) var height = 0
    private(set) var packetsReceived = 0
    private(set) var keyframesReceived = 0

    init(index: Int, rid: String?, ssrc: UInt32?, rtxSSRC: UInt32?, cacheCapacity: Int) {
        self.index = index
        self.rid = rid
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
        self.cache = RtpPacketCache(capacity: cacheCapacity)
    }

    func record(bytes: Int, nowNanos: UInt64) {
        packetsReceived += 1
        lastPacketNanos = nowNanos
        bitrate.add(bytes: bytes)
    }

    /// A keyframe start; H.264 may report one access unit twice (SPS, then IDR in another packet): counted once.
    /// Returns whether this was a new keyframe.
    @discardableResult
    func recordKeyframe(width: Int, height: Int, timestamp: UInt32, nowNanos: UInt64) -> Bool {
        if keyframesReceived > 0 && timestamp == lastKeyframeTimestamp { return false }
        lastKeyframeTimestamp = timestamp
        keyframesReceived += 1
        lastKeyframeNanos = nowNanos
        if width > 0 && height > 0 { self.width = width; self.height = height }
        return true
    }

    /// Sending now: a packet arrived within the last second (browsers stop a layer they cannot afford).
    func isActive(nowNanos: UInt64) -> Bool {
        packetsReceived > 0 && nowNanos &- lastPacketNanos < 1_000_000_000
    }
}

/// Bits per second over the last second, in four 250 ms buckets rotated by the router's timer: adding a packet is
/// one addition.
struct BitrateMeter {
    private var current = 0
    private var buckets = (0, 0, 0, 0)
    private var next = 0
    private(set) var bitsPerSecond = 0

    mutating func add(bytes: Int) { current += bytes }

    /// Called every 250 ms: closes the running bucket and updates `bitsPerSecond`.
    mutating func rotate() {
        switch next {
        case 0: buckets.0 = current
        case 1: buckets.1 = current
        case 2: buckets.2 = current
        default: buckets.3 = current
        }
        next = (next + 1) % 4
        current = 0
        bitsPerSecond = (buckets.0 + buckets.1 + buckets.2 + buckets.3) * 8
    }
}
