// Sequence numbers a publisher's stream skipped, asked for again (RFC 4585 generic NACK) before subscribers notice.
//
// Scheduling, as in mediasoup's NackGenerator and libwebrtc's NackRequester: a gap is NACKed at once (the router
// flushes after the burst of datagrams that revealed it), then again every `retryIntervalNanos` (one and a half round
// trips to the publisher) until the packet comes, `maxNacks` NACKs went out or it is `maxAge` old: publishers keep about a
// second of history and subscribers stop asking after about as long. A packet given up on leaves a hole that every
// decoder downstream needs a keyframe to get past; so does a list that overflows or a jump beyond `maxGap`.
//
// The round trip is measured here, on a NACK answered before it was repeated (Karn's rule: an answer to a repeated
// NACK could belong to any of them), because a sendonly publisher reports none: it receives no stream of ours whose
// Sender Reports its Receiver Reports could echo.
//
// A value type on a virtual clock (nanoseconds passed in): the router owns one per layer on its loop, tests drive it
// without sleeping. `missing` keeps its storage, so tracking loss allocates nothing after warm-up.

struct LossTracker {
    struct Missing: Equatable {
        var sequenceNumber: UInt16
        var detectedNanos: UInt64
        /// When it was last NACKed; 0: not yet.
        var lastNackNanos: UInt64 = 0
        var nacks: UInt8 = 0
    }

    /// What one arriving packet meant.
    enum Arrival: Equatable {
        /// The next packet.
        case inOrder
        /// Ahead of the highest by more than one: `count` packets are missing now (NACK them at once).
        case gap(count: Int)
        /// Seen already, or given up on: a duplicate, a retransmission answering an earlier NACK, a probe.
        case duplicate
        /// One that was missing: late or retransmitted. Forward it.
        case repaired
        /// A jump beyond `maxGap`: the list was dropped, decoders downstream need a keyframe.
        case reset
    }

    /// Oldest first, in wrap-around order.
    private(set) var missing: [Missing] = []
    private var highest: UInt16 = 0
    private var started = false

    static let maxGap: UInt16 = 100
    static let capacity = 256
    static let maxNacks: UInt8 = 10
    static let maxAgeNanos: UInt64 = 1_000_000_000
    /// Retry bounds: not faster than a publisher's pacer answers on loopback (a few ms, plus margin), and not so slow
    /// that a long round trip leaves fewer than five tries within `maxAge`.
    static let minRetryNanos: UInt64 = 20_000_000
    static let maxRetryNanos: UInt64 = 200_000_000
    /// Until a round trip is measured (a LAN-ish guess; the first answered NACK corrects it).
    static let initialRoundTripNanos: UInt64 = 40_000_000

    /// Smoothed NACK → repair time (RFC 6298 style, gain 1/8); nil until measured.
    private(set) var roundTripNanos: UInt64?
    /// Packets given up on (never came after `maxNacks` NACKs or `maxAge`, or pushed out of a full list).
    private(set) var givenUp = 0
    /// Packets that were missing and then arrived.
    private(set) var repaired = 0
    /// Packets found missing (each once), and those no longer asked for because a keyframe came after them.
    private(set) var lost = 0
    private(set) var skipped = 0

    init() { missing.reserveCapacity(Self.capacity) }

    /// Time between two NACKs of one packet: one and a half round trips, within bounds.
    var retryIntervalNanos: UInt64 {
        let rtt = roundTripNanos ?? Self.initialRoundTripNanos
        return min(Self.maxRetryNanos, max(Self.minRetryNanos, rtt + rtt / 2))
    }

    /// Records an arriving sequence number.
    mutating func record(_ sequenceNumber: UInt16, nowNanos: UInt64) -> Arrival {
        guard started else {
            started = true
            highest = sequenceNumber
            return .inOrder
        }
        let delta = sequenceNumber &- highest
        if delta == 0 { return .duplicate }
        if delta < 0x8000 {  // ahead of the highest seen
            defer { highest = sequenceNumber }
            if delta == 1 { return .inOrder }
            if delta > Self.maxGap {
                missing.removeAll(keepingCapacity: true)
                return .reset
            }
            var s = highest &+ 1
            while s != sequenceNumber {
                if missing.count == Self.capacity {
                    missing.removeFirst()  // the oldest: its frame is long gone anyway
                    givenUp += 1
                }
                missing.append(Missing(sequenceNumber: s, detectedNanos: nowNanos))
                lost += 1
                s &+= 1
            }
            return .gap(count: Int(delta) - 1)
        }
        // Behind the highest: a reordered or retransmitted packet.
        guard let i = index(of: sequenceNumber) else { return .duplicate }
        let entry = missing.remove(at: i)
        repaired += 1
        if entry.nacks == 1, nowNanos > entry.lastNackNanos {
            let sample = nowNanos - entry.lastNackNanos
            roundTripNanos = roundTripNanos.map { ($0 * 7 + sample) / 8 } ?? sample
        }
        return .repaired
    }

    /// Whether `sequenceNumber` is known missing (lost on the way in and still being asked for).
    func isMissing(_ sequenceNumber: UInt16) -> Bool { index(of: sequenceNumber) != nil }

    /// A keyframe starts at `sequenceNumber`: packets missing before it belong to frames no decoder needs any more.
    mutating func keyframe(at sequenceNumber: UInt16) {
        let before = missing.count
        missing.removeAll { Int16(bitPattern: $0.sequenceNumber &- sequenceNumber) < 0 }
        skipped += before - missing.count
    }

    /// Appends to `list` the sequence numbers to NACK at `nowNanos`: new ones, and those last NACKed a retry interval
    /// ago. Drops (and counts in `givenUp`) those out of tries or too old. Returns how many were given up now.
    @discardableResult
    mutating func collectNacks(nowNanos: UInt64, into list: inout [UInt16]) -> Int {
        let retry = retryIntervalNanos
        var dropped = 0
        missing.removeAll { entry in
            let expired = nowNanos &- entry.detectedNanos >= Self.maxAgeNanos
                || (entry.nacks >= Self.maxNacks && nowNanos &- entry.lastNackNanos >= retry)
            if expired { dropped += 1 }
            return expired
        }
        givenUp += dropped
        for i in missing.indices where missing[i].nacks < Self.maxNacks {
            let entry = missing[i]
            guard entry.nacks == 0 || nowNanos &- entry.lastNackNanos >= retry else { continue }
            missing[i].nacks += 1
            missing[i].lastNackNanos = nowNanos
            list.append(entry.sequenceNumber)
        }
        return dropped
    }

    /// When `collectNacks` next has something to do (a retry or a give-up); nil with nothing missing.
    func nextDeadlineNanos() -> UInt64? {
        let retry = retryIntervalNanos
        var next: UInt64?
        for entry in missing {
            let due = entry.nacks == 0 ? entry.detectedNanos
                : min(entry.lastNackNanos + retry, entry.detectedNanos + Self.maxAgeNanos)
            next = min(next ?? due, due)
        }
        return next
    }

    private func index(of sequenceNumber: UInt16) -> Int? {
        // Few entries (a handful at a few % loss): a scan beats any index that would have to be kept up to date.
        missing.firstIndex { $0.sequenceNumber == sequenceNumber }
    }
}
