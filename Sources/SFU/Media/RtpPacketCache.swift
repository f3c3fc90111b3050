// The retransmission buffer of one producer: the last `capacity` packets by sequence number, so that
// subscribers' NACKs are answered without asking the publisher. Slots keep their storage: after warm-up,
// caching a packet copies bytes but allocates nothing.

struct RtpPacketCache {
    private var packets: [[UInt8]]
    private var sequenceNumbers: [UInt16]
    private var filled: [Bool]
    private let mask: Int

    /// `capacity` is rounded up to a power of two (1024 ≈ 1 s of 720p video).
    init(capacity: Int = 1024) {
        var size = 1
        while size < capacity { size <<= 1 }
        packets = Array(repeating: [], count: size)
        sequenceNumbers = Array(repeating: 0, count: size)
        filled = Array(repeating: false, count: size)
        mask = size - 1
    }

    mutating func store(_ packet: UnsafeRawBufferPointer, sequenceNumber: UInt16) {
        let slot = Int(sequenceNumber) & mask
        packets[slot].removeAll(keepingCapacity: true)
        packets[slot].append(contentsOf: packet)
        sequenceNumbers[slot] = sequenceNumber
        filled[slot] = true
    }

    /// Calls `body` with the cached packet, if the slot still holds that sequence number.
    func withPacket<R>(_ sequenceNumber: UInt16, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        let slot = Int(sequenceNumber) & mask
        guard filled[slot], sequenceNumbers[slot] == sequenceNumber else { return nil }
        return packets[slot].withUnsafeBytes(body)
    }
}
