// Reorders one incoming audio stream by sequence number and plays it out at the mixer's 20 ms pace: it starts
// once `target` packets are queued, conceals a missing packet when later ones are already here, rebuffers after
// an underrun and drops what comes too late. Payload slots are reused, so steady state allocates nothing.

struct JitterBuffer {
    private struct Slot { var sequence: UInt16 = 0; var used = false; var bytes: [UInt8] = [] }
    private var slots = [Slot](repeating: Slot(), count: 64)
    private var next: UInt16?
    private var queued = 0
    private var playing = false
    /// Packets held before playout starts (2 × 20 ms covers ordinary LAN/Wi-Fi jitter).
    let target: Int
    /// Above this the stream is behind real time: skip ahead.
    let maximum: Int
    private(set) var late = 0
    /// Consecutive packets far behind `next`; `restartAfter` of them restart the stream.
    private var farBehind = 0
    static let restartAfter = 3
    private(set) var concealed = 0
    private(set) var received = 0

    init(target: Int = 2, maximum: Int = 12) {
        self.target = target
        self.maximum = maximum
    }

    enum Playout { case packet(UnsafeRawBufferPointer), lost, silent }

    mutating func insert(sequence: UInt16, payload: UnsafeRawBufferPointer) {
        received += 1
        if let next {
            let ahead = Int16(bitPattern: sequence &- next)
            if ahead <= -48 {
                // Far behind: one such packet is merely very late, a run of them is a sender that restarted its
                // numbering lower (a new stream after hold, a PBX switching sources). Dropping them all as late
                // would silence the phone for good.
                farBehind += 1
                guard farBehind >= Self.restartAfter else { late += 1; return }
                restart()
            } else if ahead < 0 {
                farBehind = 0
                late += 1
                return
            } else if ahead >= 48 {
                restart() // the sender restarted its numbering higher (or a long gap): start over
            } else {
                farBehind = 0
            }
        }
        let index = Int(sequence & 63)
        if slots[index].used && slots[index].sequence == sequence { return } // duplicate
        if !slots[index].used { queued += 1 }
        slots[index].used = true
        slots[index].sequence = sequence
        slots[index].bytes.removeAll(keepingCapacity: true)
        slots[index].bytes.append(contentsOf: payload)
        if next == nil { next = sequence }
        if queued > maximum, let n = next { skip(from: n) }
    }

    /// The next packet to play (valid during `body`), a loss to conceal, or silence while (re)buffering.
    mutating func playOut<R>(_ body: (Playout) -> R) -> R {
        guard let current = next else { return body(.silent) }
        if !playing {
            guard queued >= target else { return body(.silent) }
            playing = true
        }
        let index = Int(current & 63)
        if slots[index].used && slots[index].sequence == current {
            slots[index].used = false
            queued -= 1
            next = current &+ 1
            return slots[index].bytes.withUnsafeBytes { body(.packet($0)) }
        }
        if queued == 0 {
            playing = false // underrun: wait for `target` packets again
            return body(.silent)
        }
        concealed += 1
        next = current &+ 1
        return body(.lost)
    }

    /// Forgets everything queued: the next packet starts a new stream (also when the phone's SSRC changes).
    mutating func restart() {
        for i in slots.indices { slots[i].used = false }
        queued = 0
        next = nil
        playing = false
        farBehind = 0
    }

    /// Moves `next` to the oldest queued packet after dropping enough to get back to `target`.
    private mutating func skip(from start: UInt16) {
        var sequence = start
        for _ in 0 ..< 64 where queued > target {
            let index = Int(sequence & 63)
            if slots[index].used && slots[index].sequence == sequence { slots[index].used = false; queued -= 1 }
            sequence &+= 1
        }
        next = sequence
    }
}
