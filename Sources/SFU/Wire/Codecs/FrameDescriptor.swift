// What the SFU must know of one video RTP packet, whatever the codec: does a keyframe start here (a subscriber that
// joins or switches simulcast layers must be fed from one), the picture size when the keyframe says it, and where
// the picture id / TL0PICIDX fields sit (VP8 and VP9 carry them; the SFU renumbers them so that a subscriber's
// decoder sees one picture sequence across layer switches). Parsers per codec live beside this file (VP8, VP9,
// H264, AV1): pure functions over the payload, no copies, never trapping on malformed input.

/// The video codecs the SFU forwards.
public enum VideoCodec: String, CaseIterable, Sendable {
    case vp8 = "VP8", vp9 = "VP9", h264 = "H264", av1 = "AV1"

    /// From an rtpmap encoding name (case-insensitive; "AV1X" was Chrome's name before AV1's RTP spec was final).
    public init?(name: String) {
        switch name.uppercased() {
        case "VP8": self = .vp8
        case "VP9": self = .vp9
        case "H264": self = .h264
        case "AV1", "AV1X": self = .av1
        default: return nil
        }
    }
}

struct FrameDescriptor: Equatable {
    /// The first packet of a keyframe (for H.264: of an access unit holding an SPS or IDR slice).
    var isKeyframeStart = false
    /// Coded size from the keyframe (VP8 frame header, VP9 scalability structure or uncompressed header, AV1
    /// sequence header); 0 when this packet does not tell.
    var width = 0
    var height = 0
    /// Picture id (7 or 15 bits) when present (VP8 I bit, VP9 I bit). Offsets are relative to the payload start, so
    /// the same fields can be rewritten in a copy of the packet.
    var pictureID: UInt16?
    var pictureIDIsLong = false
    var pictureIDOffset = 0
    /// TL0PICIDX, when present (VP8 L bit; VP9 L bit in non-flexible mode).
    var tl0PictureIndex: UInt8?
    var tl0PictureIndexOffset = 0

    /// Parses `payload` as `codec`; nil when the payload is too short or malformed for that codec's descriptor.
    init?(_ payload: UnsafeRawBufferPointer, codec: VideoCodec) {
        switch codec {
        case .vp8: self.init(vp8: payload)
        case .vp9: self.init(vp9: payload)
        case .h264: self.init(h264: payload)
        case .av1: self.init(av1: payload)
        }
    }

    init() {}

    /// Reads the 7- or 15-bit picture id at `offset` (the same field layout in VP8's and VP9's descriptors, RFC 7741
    /// §4.2 and RFC 9628 §4.2) and moves `offset` past it; false when the payload ends first.
    mutating func readPictureID(_ payload: UnsafeRawBufferPointer, at offset: inout Int) -> Bool {
        guard payload.count > offset else { return false }
        pictureIDOffset = offset
        if payload[offset] & 0x80 != 0 {
            guard payload.count > offset + 1 else { return false }
            pictureIDIsLong = true
            pictureID = UInt16(payload[offset] & 0x7F) << 8 | UInt16(payload[offset + 1])
            offset += 2
        } else {
            pictureID = UInt16(payload[offset])
            offset += 1
        }
        return true
    }

    /// Writes new picture id and TL0PICIDX values into `payload` (a copy of the packet this was read from), in the
    /// fields' own widths: a 7-bit picture id stays 7 bits.
    func rewrite(_ payload: UnsafeMutableRawBufferPointer, pictureID newID: UInt16, tl0PictureIndex newIndex: UInt8) {
        if pictureID != nil {
            if pictureIDIsLong {
                guard pictureIDOffset + 1 < payload.count else { return }
                payload[pictureIDOffset] = 0x80 | UInt8(truncatingIfNeeded: (newID >> 8) & 0x7F)
                payload[pictureIDOffset + 1] = UInt8(truncatingIfNeeded: newID)
            } else {
                guard pictureIDOffset < payload.count else { return }
                payload[pictureIDOffset] = UInt8(truncatingIfNeeded: newID) & 0x7F
            }
        }
        if tl0PictureIndex != nil, tl0PictureIndexOffset < payload.count { payload[tl0PictureIndexOffset] = newIndex }
    }
}

/// Reads bits most significant first (VP9 uncompressed header, AV1 sequence header, H.264 exp-Golomb). Reading past
/// the end yields nil; nothing traps.
struct BitReader {
    private let bytes: UnsafeRawBufferPointer
    private var position: Int
    private let end: Int

    init(_ bytes: UnsafeRawBufferPointer, from byteOffset: Int = 0, to byteEnd: Int? = nil) {
        self.bytes = bytes
        position = byteOffset * 8
        end = min(byteEnd ?? bytes.count, bytes.count) * 8
    }

    mutating func bit() -> UInt32? {
        guard position < end, position >= 0 else { return nil }
        let byte = bytes[position >> 3]
        let value = UInt32(byte >> (7 - UInt8(position & 7))) & 1
        position += 1
        return value
    }

    mutating func bits(_ count: Int) -> UInt32? {
        guard count <= 32, position + count <= end else { return nil }
        var value: UInt32 = 0
        for _ in 0 ..< count { value = value << 1 | bit()! }
        return value
    }

    /// H.264 ue(v): leading zeros, a one, then as many bits (at most 31 zeros: larger values are malformed here).
    mutating func unsignedExpGolomb() -> UInt32? {
        var zeros = 0
        while true {
            guard let b = bit() else { return nil }
            if b == 1 { break }
            zeros += 1
            if zeros > 31 { return nil }
        }
        guard let rest = bits(zeros) else { return nil }
        return UInt32((UInt64(1) << zeros) - 1 + UInt64(rest))
    }

    /// H.264 se(v), in Int so that sums of several values cannot overflow (found by the payload fuzzer).
    mutating func signedExpGolomb() -> Int? {
        guard let k = unsignedExpGolomb() else { return nil }
        return k & 1 == 1 ? Int((k + 1) / 2) : -Int(k / 2)
    }
}
