// Reads the WAV prompts (RIFF; PCM 16-bit, µ-law or A-law; mono; 8 or 16 kHz) into 16 kHz samples for the IVR.
// Hand-written: a RIFF chunk walk is a few lines, and only our own prompt files (and tests) go through it.

enum WAVError: Error, Equatable {
    case notRIFF
    case missingChunk(String)
    case unsupportedFormat(String)
    case truncated
}

enum WAV {
    static func decode(_ bytes: [UInt8]) throws -> [Float] {
        guard bytes.count >= 12, bytes[0 ..< 4].elementsEqual("RIFF".utf8), bytes[8 ..< 12].elementsEqual("WAVE".utf8) else {
            throw WAVError.notRIFF
        }
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        var format: (tag: Int, channels: Int, rate: Int, bits: Int)?
        var data: Range<Int>?
        var at = 12
        while at + 8 <= bytes.count {
            let id = String(decoding: bytes[at ..< at + 4], as: UTF8.self), size = u32(at + 4)
            let body = at + 8
            guard size >= 0, body + size <= bytes.count else { throw WAVError.truncated }
            if id == "fmt " {
                guard size >= 16 else { throw WAVError.truncated }
                format = (u16(body), u16(body + 2), u32(body + 4), u16(body + 14))
            } else if id == "data" {
                data = body ..< body + size
            }
            at = body + size + (size & 1) // chunks are word-aligned
        }
        guard let format else { throw WAVError.missingChunk("fmt ") }
        guard let data else { throw WAVError.missingChunk("data") }
        guard format.channels == 1 else { throw WAVError.unsupportedFormat("\(format.channels) channels") }
        guard format.rate == 8000 || format.rate == 16000 else { throw WAVError.unsupportedFormat("\(format.rate) Hz") }
        var samples: [Int16] = []
        switch (format.tag, format.bits) {
        case (1, 16):
            samples = stride(from: data.lowerBound, to: data.upperBound - 1, by: 2).map { Int16(bitPattern: UInt16(u16($0))) }
        case (7, 8): samples = bytes[data].map { G711.muLawDecodeTable[Int($0)] }
        case (6, 8): samples = bytes[data].map { G711.aLawDecodeTable[Int($0)] }
        default: throw WAVError.unsupportedFormat("format \(format.tag), \(format.bits) bits")
        }
        if format.rate == 16000 { return samples.map(Float.init) }
        var upsampler = Upsampler()
        var wide: [Float] = []
        upsampler.process(samples, into: &wide)
        return wide
    }
}
