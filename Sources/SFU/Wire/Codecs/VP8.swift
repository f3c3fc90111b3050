// Just enough of the VP8 RTP payload (RFC 7741) to forward simulcast: where a keyframe starts (a subscriber that
// joins or switches layers must be fed from one), its resolution, and the picture id / TL0PICIDX fields that the
// SFU renumbers so that a subscriber's decoder sees one picture sequence across layer switches.

enum VP8 {
    /// True when `payload` is the first packet of a VP8 keyframe (S=1, PID=0, and the frame tag's P bit clear).
    static func isKeyframeStart(_ payload: UnsafeRawBufferPointer) -> Bool {
        FrameDescriptor(vp8: payload)?.isKeyframeStart ?? false
    }
}

extension FrameDescriptor {
    /// The payload descriptor of one VP8 RTP packet (RFC 7741 §4.2); width and height from the keyframe header
    /// (RFC 6386 §9.1) when this packet starts a keyframe and holds it.
    init?(vp8 payload: UnsafeRawBufferPointer) {
        self.init()
        guard payload.count >= 1 else { return nil }
        let first = payload[0]
        var offset = 1
        if first & 0x80 != 0 { // X: extension byte follows
            guard payload.count > offset else { return nil }
            let ext = payload[offset]
            offset += 1
            if ext & 0x80 != 0, !readPictureID(payload, at: &offset) { return nil } // I: picture id, 7 or 15 bits
            if ext & 0x40 != 0 { // L: TL0PICIDX
                guard payload.count > offset else { return nil }
                tl0PictureIndexOffset = offset
                tl0PictureIndex = payload[offset]
                offset += 1
            }
            if ext & 0x30 != 0 { offset += 1 } // T or K: TID/KEYIDX byte
        }
        // S bit, partition index 0, and the frame tag's P bit clear: a keyframe starts here.
        guard first & 0x10 != 0, first & 0x07 == 0, payload.count > offset, payload[offset] & 0x01 == 0 else { return }
        isKeyframeStart = true
        // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height, little endian.
        let header = offset + 3
        guard payload.count >= header + 7, payload[header] == 0x9D, payload[header + 1] == 0x01,
              payload[header + 2] == 0x2A else { return }
        width = Int(payload[header + 3]) | Int(payload[header + 4] & 0x3F) << 8
        height = Int(payload[header + 5]) | Int(payload[header + 6] & 0x3F) << 8
    }
}
