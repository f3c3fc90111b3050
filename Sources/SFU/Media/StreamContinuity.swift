// What one subscriber sees of a producer: one continuous stream, whichever simulcast layer is being forwarded.
// Each layer has its own sequence numbers, timestamps (random start) and VP8 picture ids; at a switch the offsets are
// re-based so that the new layer's keyframe follows the last forwarded packet (seq + 1, timestamp later by the time
// that passed, picture id + 1, TL0PICIDX + 1). A decoder then sees a stream that simply went on with a keyframe.

/// Input-to-output offsets in force for one layer between two switches (also kept per sent packet for NACKs).
struct StreamOffsets: Equatable {
    var sequenceNumber: UInt16 = 0
    var timestamp: UInt32 = 0
    /// 15-bit arithmetic: VP8 picture ids wrap at 2^15 (or 2^7, masked when written).
    var pictureID: UInt16 = 0
    var tl0PictureIndex: UInt8 = 0

    func sequenceNumber(_ s: UInt16) -> UInt16 { s &+ sequenceNumber }
    func timestamp(_ t: UInt32) -> UInt32 { t &+ timestamp }
    func pictureID(_ p: UInt16) -> UInt16 { (p &+ pictureID) & 0x7FFF }
    func tl0PictureIndex(_ i: UInt8) -> UInt8 { i &+ tl0PictureIndex }
}

struct StreamContinuity {
    private(set) var started = false
    private(set) var offsets = StreamOffsets()
    /// The newest values sent so far (by wrap-around order).
    private(set) var highestSequenceNumber: UInt16 = 0
    private(set) var highestTimestamp: UInt32 = 0
    private var highestPictureID: UInt16 = 0
    private var highestTL0PictureIndex: UInt8 = 0
    private var lastSentNanos: UInt64 = 0
    /// The input sequence number the current layer started at; older packets of that layer belong to frames before
    /// the keyframe we switched at and are dropped (for the next `guardPackets` packets; later the window is moot).
    private var switchSequenceNumber: UInt16 = 0
    private var packetsSinceSwitch = 0
    static let guardPackets = 1000

    private let firstSequenceNumber: UInt16
    private let firstTimestamp: UInt32

    init(firstSequenceNumber: UInt16 = .random(in: 0 ... 0x7FFF), firstTimestamp: UInt32 = .random(in: 0 ... .max)) {
        self.firstSequenceNumber = firstSequenceNumber
        self.firstTimestamp = firstTimestamp
    }

    /// Start forwarding at this packet (a keyframe start of the new layer, or the first packet of a single-layer
    /// stream): it gets the next sequence number, a timestamp `elapsed` later than the last one, the next picture id.
    mutating func rebase(sequenceNumber: UInt16, timestamp: UInt32, pictureID: UInt16?, tl0PictureIndex: UInt8?,
                         clockRate: Int, nowNanos: UInt64) {
        switchSequenceNumber = sequenceNumber
        packetsSinceSwitch = 0
        guard started else {
            started = true
            offsets = StreamOffsets(sequenceNumber: firstSequenceNumber &- sequenceNumber,
                                    timestamp: firstTimestamp &- timestamp, pictureID: 0, tl0PictureIndex: 0)
            highestSequenceNumber = firstSequenceNumber &- 1
            highestTimestamp = firstTimestamp
            if let pictureID { highestPictureID = (pictureID &- 1) & 0x7FFF }
            if let tl0PictureIndex { highestTL0PictureIndex = tl0PictureIndex &- 1 }
            lastSentNanos = nowNanos
            return
        }
        // At least one tick later, so that the keyframe is a new frame even right after the last packet.
        let elapsedNanos = nowNanos > lastSentNanos ? nowNanos - lastSentNanos : 0
        let ticks = max(1, UInt32(truncatingIfNeeded: elapsedNanos * UInt64(clockRate) / 1_000_000_000))
        offsets.sequenceNumber = (highestSequenceNumber &+ 1) &- sequenceNumber
        offsets.timestamp = (highestTimestamp &+ ticks) &- timestamp
        if let pictureID { offsets.pictureID = ((highestPictureID &+ 1) &- pictureID) & 0x7FFF }
        if let tl0PictureIndex { offsets.tl0PictureIndex = (highestTL0PictureIndex &+ 1) &- tl0PictureIndex }
    }

    /// Maps one packet of the current layer; nil when it predates the switch (drop it).
    mutating func map(sequenceNumber: UInt16, timestamp: UInt32, pictureID: UInt16?, tl0PictureIndex: UInt8?,
                      nowNanos: UInt64) -> StreamOffsets? {
        guard started else { return nil }
        if packetsSinceSwitch < Self.guardPackets {
            if Int16(bitPattern: sequenceNumber &- switchSequenceNumber) < 0 { return nil }
            packetsSinceSwitch += 1
        }
        let outSequence = offsets.sequenceNumber(sequenceNumber)
        if Int16(bitPattern: outSequence &- highestSequenceNumber) > 0 { highestSequenceNumber = outSequence }
        let outTimestamp = offsets.timestamp(timestamp)
        if Int32(bitPattern: outTimestamp &- highestTimestamp) > 0 { highestTimestamp = outTimestamp }
        if let pictureID {
            let out = offsets.pictureID(pictureID)
            if (out &- highestPictureID) & 0x7FFF < 0x4000 { highestPictureID = out } // ahead, in 15-bit order
        }
        if let tl0PictureIndex {
            let out = offsets.tl0PictureIndex(tl0PictureIndex)
            if Int8(bitPattern: out &- highestTL0PictureIndex) > 0 { highestTL0PictureIndex = out }
        }
        lastSentNanos = nowNanos
        return offsets
    }
}

/// The last `capacity` packets sent to one subscriber by outgoing sequence number: which layer and input sequence
/// number each came from and the offsets then in force, so that a NACK is answered with the right packet, even for
/// packets sent before the last layer switch. Preallocated: recording allocates nothing.
struct SentPacketHistory {
    struct Entry {
        var outgoing: UInt16 = 0
        var incoming: UInt16 = 0
        var layer: UInt8 = 0
        var valid = false
        var offsets = StreamOffsets()
    }

    private var entries: [Entry]
    private let mask: Int

    init(capacity: Int = 1024) {
        var size = 1
        while size < capacity { size <<= 1 }
        entries = Array(repeating: Entry(), count: size)
        mask = size - 1
    }

    mutating func record(outgoing: UInt16, incoming: UInt16, layer: Int, offsets: StreamOffsets) {
        entries[Int(outgoing) & mask] = Entry(outgoing: outgoing, incoming: incoming, layer: UInt8(truncatingIfNeeded: layer),
                                              valid: true, offsets: offsets)
    }

    func lookup(_ outgoing: UInt16) -> Entry? {
        let entry = entries[Int(outgoing) & mask]
        return entry.valid && entry.outgoing == outgoing ? entry : nil
    }
}

/// A consumer's layer state: the layer forwarded, the layer wanted, and the continuity across switches. A switch
/// (and the start) happens only at a keyframe of the target layer; until then the current layer goes on.
struct LayerSwitcher {
    /// Video needs a keyframe to start or switch; audio starts at any packet.
    let needsKeyframe: Bool
    private(set) var currentLayer: Int?
    var targetLayer: Int
    /// Changes of layer after the first, and when the last change (or the start) happened.
    private(set) var switches = 0
    private(set) var lastChangeNanos: UInt64 = 0
    private var continuity: StreamContinuity

    init(needsKeyframe: Bool, targetLayer: Int, continuity: StreamContinuity = StreamContinuity()) {
        self.needsKeyframe = needsKeyframe
        self.targetLayer = targetLayer
        self.continuity = continuity
    }

    /// The offsets the current layer is forwarded with (nil before the start).
    var currentOffsets: StreamOffsets? { currentLayer == nil ? nil : continuity.offsets }

    /// Waiting for a keyframe of the target layer (to start or to switch).
    var waitingForKeyframe: Bool { targetLayer != currentLayer && (needsKeyframe || currentLayer == nil) }

    /// The offsets for one packet of `layer`, or nil when the subscriber does not get it.
    mutating func admit(layer: Int, sequenceNumber: UInt16, timestamp: UInt32, frame vp8: FrameDescriptor?, clockRate: Int,
                        nowNanos: UInt64) -> StreamOffsets? {
        if layer != currentLayer {
            guard layer == targetLayer, !needsKeyframe || vp8?.isKeyframeStart == true else { return nil }
            if currentLayer != nil { switches += 1 }
            currentLayer = layer
            lastChangeNanos = nowNanos
            continuity.rebase(sequenceNumber: sequenceNumber, timestamp: timestamp, pictureID: vp8?.pictureID,
                              tl0PictureIndex: vp8?.tl0PictureIndex, clockRate: clockRate, nowNanos: nowNanos)
        }
        return continuity.map(sequenceNumber: sequenceNumber, timestamp: timestamp, pictureID: vp8?.pictureID,
                              tl0PictureIndex: vp8?.tl0PictureIndex, nowNanos: nowNanos)
    }
}
