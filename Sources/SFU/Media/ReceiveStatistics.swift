// RFC 3550 A.1/A.3 bookkeeping for one received SSRC: what a Receiver Report needs to tell the sender.

struct ReceiveStatistics {
    private var started = false
    private var baseSequence: UInt32 = 0
    private var maxSequence: UInt16 = 0
    private var cycles: UInt32 = 0
    private(set) var received: UInt32 = 0
    private var expectedPrior: UInt32 = 0
    private var receivedPrior: UInt32 = 0

    mutating func record(_ sequenceNumber: UInt16) {
        received &+= 1
        guard started else {
            started = true
            baseSequence = UInt32(sequenceNumber)
            maxSequence = sequenceNumber
            return
        }
        let delta = sequenceNumber &- maxSequence
        if delta != 0 && delta < 0x8000 { // in order, possibly after a gap
            if sequenceNumber < maxSequence { cycles &+= 0x1_0000 }
            maxSequence = sequenceNumber
        }
    }

    var extendedHighestSequence: UInt32 { cycles | UInt32(maxSequence) }

    /// The report block for the next RR; advances the "since last report" interval.
    mutating func reportBlock(ssrc: UInt32) -> RTCPReportBlock? {
        guard started else { return nil }
        let expected = extendedHighestSequence &- baseSequence &+ 1
        let lost = Int64(expected) - Int64(received)
        let expectedInterval = expected &- expectedPrior
        let receivedInterval = received &- receivedPrior
        expectedPrior = expected
        receivedPrior = received
        let lostInterval = Int64(expectedInterval) - Int64(receivedInterval)
        let fraction = expectedInterval == 0 || lostInterval <= 0 ? 0 : UInt8(min(255, (lostInterval << 8) / Int64(expectedInterval)))
        return RTCPReportBlock(ssrc: ssrc, fractionLost: fraction,
                               cumulativeLost: Int32(clamping: max(-0x80_0000, min(0x7F_FFFF, lost))),
                               extendedHighestSequenceNumber: extendedHighestSequence)
    }
}
