// Just enough of the VP9 RTP payload (RFC 9628) to forward it: the payload descriptor's picture id and TL0PICIDX
// (renumbered across simulcast switches like VP8's), where a keyframe starts and its size.
//
// Descriptor: I|P|L|F|B|E|V|Z, then the picture id (I; 7 or 15 bits), the layer indices TID|U|SID|D (L) and, in
// non-flexible mode (F=0), TL0PICIDX; in flexible mode with P=1 up to three P_DIFF bytes; then the scalability
// structure (V) with each spatial layer's size. A keyframe starts at B=1 (first packet of a frame), P=0 (not
// inter-picture predicted) in spatial layer 0; when the VP9 uncompressed header (VP9 bitstream spec §6.2) follows
// and says otherwise, it is not one. Sizes come from the scalability structure (largest layer), else from that
// header's frame_size. SVC (several spatial layers in one stream) is forwarded as one stream.

extension FrameDescriptor {
    init?(vp9 payload: UnsafeRawBufferPointer) {
        self.init()
        guard payload.count >= 1 else { return nil }
        let first = payload[0]
        let hasPictureID = first & 0x80 != 0
        let interPredicted = first & 0x40 != 0
        let hasLayerIndices = first & 0x20 != 0
        let flexible = first & 0x10 != 0
        let beginsFrame = first & 0x08 != 0
        let hasScalability = first & 0x02 != 0
        var offset = 1
        if hasPictureID, !readPictureID(payload, at: &offset) { return nil }
        var spatialLayer: UInt8 = 0
        if hasLayerIndices {
            guard payload.count > offset else { return nil }
            spatialLayer = (payload[offset] >> 1) & 0x07
            offset += 1
            if !flexible {
                guard payload.count > offset else { return nil }
                tl0PictureIndexOffset = offset
                tl0PictureIndex = payload[offset]
                offset += 1
            }
        }
        if flexible && interPredicted {
            // P_DIFF: 7-bit difference and N (another follows); at most three references.
            for index in 0 ..< 3 {
                guard payload.count > offset else { return nil }
                let more = payload[offset] & 0x01 != 0
                offset += 1
                if !more { break }
                if index == 2 { return nil }
            }
        }
        if hasScalability {
            guard payload.count > offset else { return nil }
            let structure = payload[offset]
            offset += 1
            let spatialLayers = Int(structure >> 5) + 1
            if structure & 0x10 != 0 { // Y: sizes
                guard payload.count >= offset + 4 * spatialLayers else { return nil }
                for _ in 0 ..< spatialLayers {
                    let w = Int(payload[offset]) << 8 | Int(payload[offset + 1])
                    let h = Int(payload[offset + 2]) << 8 | Int(payload[offset + 3])
                    if w * h >= width * height { (width, height) = (w, h) }
                    offset += 4
                }
            }
            if structure & 0x08 != 0 { // G: picture group description
                guard payload.count > offset else { return nil }
                let pictures = Int(payload[offset])
                offset += 1
                for _ in 0 ..< pictures {
                    guard payload.count > offset else { return nil }
                    let references = Int(payload[offset] >> 2) & 0x03
                    offset += 1 + references
                    guard payload.count >= offset else { return nil }
                }
            }
        }
        guard beginsFrame, !interPredicted, spatialLayer == 0 else { return }
        isKeyframeStart = true
        guard let header = VP9FrameHeader(UnsafeRawBufferPointer(rebasing: payload[offset...])) else { return }
        if !header.isKeyframe {
            isKeyframeStart = false
        } else if width == 0, let size = header.size {
            (width, height) = size
        }
    }
}

/// The start of a VP9 uncompressed frame header: frame type and, for keyframes, the frame size.
struct VP9FrameHeader {
    var isKeyframe: Bool
    var size: (Int, Int)?

    /// nil when the bytes are not a frame header (wrong frame marker, too short).
    init?(_ bytes: UnsafeRawBufferPointer) {
        var r = BitReader(bytes)
        guard let marker = r.bits(2), marker == 2, let low = r.bit(), let high = r.bit() else { return nil }
        let profile = high << 1 | low
        if profile == 3 { guard r.bit() != nil else { return nil } }
        guard let showExisting = r.bit() else { return nil }
        if showExisting == 1 { isKeyframe = false; return }
        guard let frameType = r.bit(), r.bits(2) != nil else { return nil }
        isKeyframe = frameType == 0
        guard isKeyframe else { return }
        guard r.bits(24) == 0x49_8342 else { return nil } // sync code
        if profile >= 2 { guard r.bit() != nil else { return nil } }
        guard let colorSpace = r.bits(3) else { return nil }
        if colorSpace != 7 { // not sRGB
            guard r.bit() != nil else { return nil }
            if profile == 1 || profile == 3 { guard r.bits(3) != nil else { return nil } }
        } else if profile == 1 || profile == 3 {
            guard r.bit() != nil else { return nil }
        }
        guard let w = r.bits(16), let h = r.bits(16) else { return }
        size = (Int(w) + 1, Int(h) + 1)
    }
}
