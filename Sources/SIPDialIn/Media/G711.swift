// ITU-T G.711 µ-law and A-law (PCMU/PCMA), the codecs every phone speaks. Written out because it is a few lines
// of bit arithmetic; decoding goes through 256-entry tables built once.

enum G711 {
    static let muLawDecodeTable: [Int16] = (0 ... 255).map { decodeMuLaw(UInt8($0)) }
    static let aLawDecodeTable: [Int16] = (0 ... 255).map { decodeALaw(UInt8($0)) }

    static func encodeMuLaw(_ sample: Int16) -> UInt8 {
        let bias = 0x84, clip = 32635
        var pcm = Int(sample)
        let sign = pcm < 0 ? 0x80 : 0
        if pcm < 0 { pcm = -pcm }
        pcm = min(pcm, clip) + bias
        var exponent = 7
        var mask = 0x4000
        while exponent > 0 && pcm & mask == 0 { exponent -= 1; mask >>= 1 }
        let mantissa = (pcm >> (exponent + 3)) & 0x0F
        return UInt8(~(sign | exponent << 4 | mantissa) & 0xFF)
    }

    static func decodeMuLaw(_ byte: UInt8) -> Int16 {
        let u = Int(~byte & 0xFF)
        let exponent = (u >> 4) & 0x07, mantissa = u & 0x0F
        let magnitude = ((mantissa << 3) + 0x84) << exponent
        return Int16(u & 0x80 != 0 ? 0x84 - magnitude : magnitude - 0x84)
    }

    static func encodeALaw(_ sample: Int16) -> UInt8 {
        var pcm = Int(sample) >> 3 // A-law works on 13-bit samples
        let sign: Int
        if pcm >= 0 { sign = 0xD5 } else { sign = 0x55; pcm = -pcm - 1 }
        let segmentEnds = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]
        var segment = 0
        while segment < 8 && pcm > segmentEnds[segment] { segment += 1 }
        if segment >= 8 { return UInt8(0x7F ^ sign) }
        var value = segment << 4
        value |= segment < 2 ? (pcm >> 1) & 0x0F : (pcm >> segment) & 0x0F
        return UInt8((value ^ sign) & 0xFF)
    }

    static func decodeALaw(_ byte: UInt8) -> Int16 {
        let a = Int(byte ^ 0x55)
        var t = (a & 0x0F) << 4
        let segment = (a & 0x70) >> 4
        switch segment {
        case 0: t += 8
        case 1: t += 0x108
        default: t += 0x108; t <<= segment - 1
        }
        return Int16(a & 0x80 != 0 ? t : -t)
    }

    static func decode(_ payload: UnsafeRawBufferPointer, aLaw: Bool, into out: inout [Int16]) {
        let table = aLaw ? aLawDecodeTable : muLawDecodeTable
        out.removeAll(keepingCapacity: true)
        for byte in payload { out.append(table[Int(byte)]) }
    }
}
