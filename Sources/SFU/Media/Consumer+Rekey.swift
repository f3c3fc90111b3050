// Header extensions towards a subscriber: ids are per connection, so the publisher's elements are re-keyed
// (or dropped) while the packet is copied into the send buffer.

extension Consumer {
    /// Copies `packet` into `out` with a new one-byte-form (RFC 8285 §4.2) extension block: the MID element
    /// (`midID` 0: none), then the packet's one-byte elements whose id maps to a non-zero id in `extensionMap`
    /// (16 entries), under that id. Two-byte-form elements are dropped. Returns the length (0: did not fit).
    /// Needs at most `packet.count + 24` bytes.
    static func rekey(_ packet: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, midID: UInt8,
                      midValue: [UInt8], extensionMap: [UInt8]) -> Int {
        guard let header = try? RTPHeaderView(packet), extensionMap.count >= 16 else { return 0 }
        let fixed = RTP.fixedHeaderLength + 4 * header.csrcCount
        UnsafeMutableRawBufferPointer(rebasing: out[0 ..< fixed]).copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[0 ..< fixed]))
        var at = fixed + 4 // elements start after the 0xBEDE header
        let capacity = min(out.count, packet.count + 24) // what sendRtp reserved, before the SRTP trailer
        let limit = capacity - (packet.count - header.payloadRange.lowerBound) - 3 // 3: padding to a word
        if midID != 0 {
            out[at] = midID << 4 | UInt8(midValue.count - 1)
            for (i, byte) in midValue.enumerated() { out[at + 1 + i] = byte }
            at += 1 + midValue.count
        }
        if let ext = header.extensionRange, header.extensionProfile == RTPHeaderExtension.oneByteProfile {
            var i = ext.lowerBound
            while i < ext.upperBound {
                let first = packet[i]
                if first == 0 { i += 1; continue }
                let id = first >> 4, length = Int(first & 0x0F) + 1
                if id == 15 || i + 1 + length > ext.upperBound { break }
                let mapped = extensionMap[Int(id)]
                if mapped != 0, at + 1 + length <= limit {
                    out[at] = mapped << 4 | (first & 0x0F)
                    UnsafeMutableRawBufferPointer(rebasing: out[(at + 1) ..< (at + 1 + length)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[(i + 1) ..< (i + 1 + length)]))
                    at += 1 + length
                }
                i += 1 + length
            }
        }
        // Two-byte-form elements (extmap-allow-mixed) are not negotiated by us: nothing to carry over from them.
        var elementsLength = at - (fixed + 4)
        if elementsLength == 0 {
            at = fixed
            out[0] &= ~0x10 // no extension
        } else {
            while elementsLength % 4 != 0 { out[at] = 0; at += 1; elementsLength += 1 }
            out[0] |= 0x10
            out[fixed] = 0xBE
            out[fixed + 1] = 0xDE
            out[fixed + 2] = UInt8(truncatingIfNeeded: (elementsLength / 4) >> 8)
            out[fixed + 3] = UInt8(truncatingIfNeeded: elementsLength / 4)
        }
        let rest = packet.count - header.payloadRange.lowerBound // payload and padding, as they came
        guard at + rest <= capacity else { return 0 }
        UnsafeMutableRawBufferPointer(rebasing: out[at ..< (at + rest)])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: packet[header.payloadRange.lowerBound ..< packet.count]))
        return at + rest
    }
}
