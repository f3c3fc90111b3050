// Receive side of transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01): the
// arrival time of every transport-wide sequence number a publisher's connection delivers, reported back in RTCP
// feedback every ~100 ms. The browser's send-side estimator (GoogCC) derives its bandwidth estimate from these
// delays; without them Chrome stays near its start bitrate and never turns its upper simulcast layers on.

struct TransportCCRecorder {
    /// Arrival times in µs by extended sequence number modulo the capacity; -1: not (yet) arrived.
    private var arrivals: [Int64]
    private let mask: Int64
    private var started = false
    /// Highest extended sequence number seen, and the first one the next feedback covers.
    private var highest: Int64 = 0
    private var nextToReport: Int64 = 0
    private var feedbackCount: UInt8 = 0
    /// Statuses per feedback packet: keeps each RTCP packet well below the MTU (≤ 2 bytes per status plus chunks).
    static let maxStatusesPerFeedback = 400

    init(capacity: Int = 4096) {
        var size = 1
        while size < capacity { size <<= 1 }
        arrivals = Array(repeating: -1, count: size)
        mask = Int64(size - 1)
    }

    /// Records one packet's transport-wide sequence number at its arrival time (any monotonic clock, µs).
    mutating func record(_ sequenceNumber: UInt16, arrivalMicros: Int64) {
        guard started else {
            started = true
            highest = Int64(sequenceNumber)
            nextToReport = highest
            arrivals[Int(highest & mask)] = arrivalMicros
            return
        }
        let extended = highest + Int64(Int16(bitPattern: sequenceNumber &- UInt16(truncatingIfNeeded: highest)))
        if extended < nextToReport { return } // already reported as lost; too late to matter to the estimator
        if extended > highest {
            // Slots between the old and the new highest hold numbers from a lap ago: mark them missing.
            var s = max(highest + 1, extended - mask)
            while s < extended {
                arrivals[Int(s & mask)] = -1
                s += 1
            }
            highest = extended
            if highest - nextToReport > mask { nextToReport = highest - mask } // a burst beyond the ring: drop the oldest
        }
        arrivals[Int(extended & mask)] = arrivalMicros
    }

    /// Feedback for everything recorded since the last call (empty when nothing arrived), one or more RTCP packets.
    mutating func takeFeedback(senderSSRC: UInt32, mediaSSRC: UInt32) -> [RTCPTransportCC] {
        guard started, nextToReport <= highest else { return [] }
        var feedback: [RTCPTransportCC] = []
        while nextToReport <= highest {
            // The reference time is the first arrival of the packet, in 64 ms units; deltas run from it.
            guard let firstReceived = (nextToReport ... highest).first(where: { arrivals[Int($0 & mask)] >= 0 }) else { break }
            let referenceUnits = arrivals[Int(firstReceived & mask)] / Int64(RTCPTransportCC.referenceTimeMicroseconds)
            var previous = referenceUnits * Int64(RTCPTransportCC.referenceTimeMicroseconds)
            var deltas: [Int?] = []
            var s = nextToReport
            while s <= highest && deltas.count < Self.maxStatusesPerFeedback {
                let arrival = arrivals[Int(s & mask)]
                if arrival < 0 {
                    deltas.append(nil)
                } else {
                    let ticks = Int((Double(arrival - previous) / Double(RTCPTransportCC.tickMicroseconds)).rounded())
                    guard (-32768 ... 32767).contains(ticks) else { break } // more than 8 s apart: next packet
                    deltas.append(ticks)
                    // Advance by the quantized delta so that rounding errors do not add up.
                    previous += Int64(ticks * RTCPTransportCC.tickMicroseconds)
                }
                s += 1
            }
            guard !deltas.isEmpty else { break }
            // 24-bit signed field: wrap the (monotonic) reference time into it; receivers unwrap.
            let reference = Int32(truncatingIfNeeded: (referenceUnits & 0xFF_FFFF) << 8) >> 8
            guard let packet = try? RTCPTransportCC(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC,
                                                    baseSequenceNumber: UInt16(truncatingIfNeeded: nextToReport),
                                                    referenceTime: reference, feedbackPacketCount: feedbackCount,
                                                    deltas: deltas) else { break }
            feedback.append(packet)
            feedbackCount &+= 1
            nextToReport = s
        }
        return feedback
    }
}
