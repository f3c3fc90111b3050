// Sequence numbers a publisher's stream skipped, so the SFU can ask for them (RFC 4585 generic NACK) before its
// subscribers notice. Bounded: a burst larger than `maxGap` is treated as a restart, not as loss.

struct LossTracker {
    struct Missing {
        var sequenceNumber: UInt16
        var nacksSent: Int
    }

    private(set) var missing: [Missing] = []
    private var highest: UInt16 = 0
    private var started = false
    static let maxGap: UInt16 = 100
    static let capacity = 256
    static let maxNacks = 3

    /// Records an arriving sequence number. Returns true when it fills a gap (a retransmission or late packet).
    mutating func record(_ sequenceNumber: UInt16) -> Bool {
        guard started else {
            started = true
            highest = sequenceNumber
            return false
        }
        let delta = sequenceNumber &- highest
        if delta == 0 { return false }
        if delta < 0x8000 {  // ahead of the highest seen
            if delta > 1 && delta <= Self.maxGap {
                var s = highest &+ 1
                while s != sequenceNumber {
                    missing.append(Missing(sequenceNumber: s, nacksSent: 0))
                    s &+= 1
                }
                if missing.count > Self.capacity { missing.removeFirst(missing.count - Self.capacity) }
            } else if delta > Self.maxGap {
                missing.removeAll()
            }
            highest = sequenceNumber
            return false
        }
        // Behind the highest: a reordered or retransmitted packet.
        guard let i = missing.firstIndex(where: { $0.sequenceNumber == sequenceNumber }) else { return false }
        missing.remove(at: i)
        return true
    }

    /// How many packets were given up so far: asked for `maxNacks` times and still missing a round later.
    private(set) var givenUp = 0

    /// The sequence numbers to NACK now; each is asked for at most `maxNacks` times. One round after its last NACK
    /// a packet still missing is given up (`givenUp` grows): the decoder downstream then needs a keyframe.
    mutating func takeNackList() -> [UInt16] {
        var list: [UInt16] = []
        var dropped = 0
        missing.removeAll { entry in
            if entry.nacksSent >= Self.maxNacks { dropped += 1; return true }
            return false
        }
        givenUp += dropped
        for i in missing.indices {
            missing[i].nacksSent += 1
            list.append(missing[i].sequenceNumber)
        }
        return list
    }
}
