// Subscriber NACKs the SFU could not answer yet: the packet was lost on the way in too, and the SFU is asking the
// publisher for it. Loss on both legs hits the same packet often enough (the subscriber sees the gap the moment the
// SFU forwards the next packet), and dropping such a NACK leaves the subscriber to ask again and again until it gives
// up. Kept here instead, the request is answered (as RTX when negotiated) the moment the repair arrives.
//
// A handful of fixed slots, by outgoing sequence number: at a few % loss only a few packets are on their way at any
// time, and an old entry is simply overwritten. No allocation after init; the packet path checks `isEmpty` first.

struct AwaitedRepairs {
    private struct Slot {
        var sequenceNumber: UInt16 = 0
        /// 0: free.
        var expiresNanos: UInt64 = 0
    }

    private var slots: [Slot]
    /// Slots in use (live or expired but not yet cleared).
    private(set) var count = 0
    /// How long a request stays: publishers keep about a second of history, and subscribers ask about as long.
    static let lifetimeNanos: UInt64 = 1_000_000_000

    init(capacity: Int = 32) {
        slots = Array(repeating: Slot(), count: max(1, capacity))
    }

    var isEmpty: Bool { count == 0 }

    /// Remembers a request for `sequenceNumber` (the subscriber's numbering): in the slot already holding it, else a
    /// free or expired one, else the one closest to expiry.
    mutating func insert(_ sequenceNumber: UInt16, nowNanos: UInt64) {
        var free: Int?
        var oldest: Int?
        var target: Int?
        for i in slots.indices {
            let slot = slots[i]
            if slot.expiresNanos <= nowNanos {
                if free == nil { free = i }
            } else if slot.sequenceNumber == sequenceNumber {
                target = i
                break
            } else if oldest.map({ slot.expiresNanos < slots[$0].expiresNanos }) ?? true {
                oldest = i
            }
        }
        let i = target ?? free ?? oldest ?? 0
        if slots[i].expiresNanos == 0 { count += 1 }
        slots[i] = Slot(sequenceNumber: sequenceNumber, expiresNanos: nowNanos &+ Self.lifetimeNanos)
    }

    /// Whether `sequenceNumber` is awaited at `nowNanos`; its entry, and any expired one, is cleared.
    mutating func take(_ sequenceNumber: UInt16, nowNanos: UInt64) -> Bool {
        var found = false
        for i in slots.indices where slots[i].expiresNanos != 0 {
            let live = slots[i].expiresNanos > nowNanos
            guard !live || slots[i].sequenceNumber == sequenceNumber else { continue }
            if live { found = true }
            slots[i] = Slot()
            count -= 1
        }
        return found
    }
}
