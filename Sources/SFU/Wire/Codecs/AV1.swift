// Just enough of the AV1 RTP payload (AOM "RTP Payload Format for AV1" v1.0) to forward it: where a keyframe starts
// and, from its sequence header OBU (AV1 spec §5.5), the maximum frame size for simulcast layer choice.
//
// Aggregation header Z|Y|W|W|N|-|-|-: Z, the first OBU element continues one from the previous packet; W, the number of
// OBU elements (0: each has a LEB128 length; 1–3: all but the last have one); N, the first packet of a coded video
// sequence, which a keyframe starts. A packet whose first element is a whole sequence header OBU counts as a keyframe
// start too (an encoder that does not set N). Without the dependency descriptor extension (not negotiated), each
// AV1 stream is forwarded as one layer.

enum AV1OBUType {
    static let sequenceHeader: UInt8 = 1
}

extension FrameDescriptor {
    init?(av1 payload: UnsafeRawBufferPointer) {
        self.init()
        guard payload.count >= 1 else { return nil }
        let aggregation = payload[0]
        let continues = aggregation & 0x80 != 0
        let elementCount = Int(aggregation >> 4) & 0x03
        isKeyframeStart = aggregation & 0x08 != 0
        var offset = 1
        var index = 0
        while offset < payload.count {
            index += 1
            let length: Int
            if elementCount == 0 || index < elementCount {
                guard let (value, used) = AV1.leb128(payload, at: offset), value <= payload.count - offset - used else { return nil }
                offset += used
                length = value
            } else {
                length = payload.count - offset // the last of W elements: the rest of the packet
            }
            guard length > 0 else { return nil }
            let element = UnsafeRawBufferPointer(rebasing: payload[offset ..< offset + length])
            if !(continues && index == 1), let header = AV1.obuHeader(element), header.type == AV1OBUType.sequenceHeader {
                isKeyframeStart = isKeyframeStart || index == 1
                if width == 0, let size = AV1.maximumFrameSize(sequenceHeader: UnsafeRawBufferPointer(rebasing: element[header.payloadStart...])) {
                    (width, height) = size
                }
            }
            offset += length
            if elementCount != 0 && index == elementCount { break }
        }
        // Fewer elements than W said, or trailing bytes.
        guard offset == payload.count, elementCount == 0 || index == elementCount else { return nil }
    }
}

enum AV1 {
    /// LEB128 (AV1 spec §4.10.5): value and bytes used; nil when truncated or longer than 8 bytes.
    static func leb128(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (Int, Int)? {
        var value = 0
        for i in 0 ..< 8 {
            guard offset + i < bytes.count else { return nil }
            let byte = bytes[offset + i]
            value |= Int(byte & 0x7F) << (7 * i)
            if byte & 0x80 == 0 { return (value, i + 1) }
        }
        return nil
    }

    /// An OBU header (§5.3.1): its type and where its payload starts (after the extension and size fields).
    static func obuHeader(_ obu: UnsafeRawBufferPointer) -> (type: UInt8, payloadStart: Int)? {
        guard obu.count >= 1, obu[0] & 0x80 == 0 else { return nil } // forbidden bit
        let type = (obu[0] >> 3) & 0x0F
        var start = 1
        if obu[0] & 0x04 != 0 { start += 1 } // extension header
        if obu[0] & 0x02 != 0 { // obu_has_size_field (allowed in RTP, usually absent)
            guard let (_, used) = leb128(obu, at: start) else { return nil }
            start += used
        }
        guard start <= obu.count else { return nil }
        return (type, start)
    }

    /// max_frame_width/height from a sequence header OBU's payload; nil when truncated.
    static func maximumFrameSize(sequenceHeader bytes: UnsafeRawBufferPointer) -> (Int, Int)? {
        var r = BitReader(bytes)
        guard r.bits(3) != nil, r.bit() != nil, let reduced = r.bit() else { return nil }
        if reduced == 1 {
            guard r.bits(5) != nil else { return nil }
        } else {
            guard let timingInfo = r.bit() else { return nil }
            var decoderModel: UInt32 = 0
            var bufferDelayLength = 0
            if timingInfo == 1 {
                guard r.bits(32) != nil, r.bits(32) != nil, let equalInterval = r.bit() else { return nil }
                if equalInterval == 1 { guard uvlc(&r) else { return nil } }
                guard let model = r.bit() else { return nil }
                decoderModel = model
                if model == 1 {
                    guard let delay = r.bits(5), r.bits(32) != nil, r.bits(10) != nil else { return nil }
                    bufferDelayLength = Int(delay) + 1
                }
            }
            guard let displayDelay = r.bit(), let points = r.bits(5) else { return nil }
            for _ in 0 ... points {
                guard r.bits(12) != nil, let level = r.bits(5) else { return nil }
                if level > 7 { guard r.bit() != nil else { return nil } }
                if decoderModel == 1 {
                    guard let present = r.bit() else { return nil }
                    if present == 1 {
                        guard r.bits(bufferDelayLength) != nil, r.bits(bufferDelayLength) != nil, r.bit() != nil else { return nil }
                    }
                }
                if displayDelay == 1 {
                    guard let present = r.bit() else { return nil }
                    if present == 1 { guard r.bits(4) != nil else { return nil } }
                }
            }
        }
        guard let widthBits = r.bits(4), let heightBits = r.bits(4),
              let w = r.bits(Int(widthBits) + 1), let h = r.bits(Int(heightBits) + 1) else { return nil }
        return (Int(w) + 1, Int(h) + 1)
    }

    /// Skips a uvlc() value (§4.10.3).
    private static func uvlc(_ r: inout BitReader) -> Bool {
        var zeros = 0
        while true {
            guard let b = r.bit() else { return false }
            if b == 1 { break }
            zeros += 1
            if zeros >= 32 { return false }
        }
        return r.bits(zeros) != nil
    }
}
