// Just enough of the VP8 RTP payload (RFC 7741) to find where a keyframe starts: a subscriber that
// joins mid-stream must be fed from a keyframe, or its decoder shows nothing (or garbage) until the next one.

enum VP8 {
    /// True when `payload` is the first packet of a VP8 keyframe (S=1, PID=0, and the frame tag's P bit clear).
    static func isKeyframeStart(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard payload.count >= 1 else { return false }
        let first = payload[0]
        guard first & 0x10 != 0, first & 0x07 == 0 else { return false } // S bit, partition index 0
        var offset = 1
        if first & 0x80 != 0 { // X: extension byte follows
            guard payload.count > offset else { return false }
            let ext = payload[offset]
            offset += 1
            if ext & 0x80 != 0 { // I: picture id, 7 or 15 bits
                guard payload.count > offset else { return false }
                offset += payload[offset] & 0x80 != 0 ? 2 : 1
            }
            if ext & 0x40 != 0 { offset += 1 }        // L: TL0PICIDX
            if ext & 0x30 != 0 { offset += 1 }        // T or K: TID/KEYIDX byte
        }
        guard payload.count > offset else { return false }
        return payload[offset] & 0x01 == 0 // frame tag: P = 0 means key frame
    }
}
