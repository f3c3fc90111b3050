// The audio formats the bridge speaks with phones (and Opus from browsers), decoding to and encoding from the
// bridge's 16 kHz mixing rate.

enum PhoneCodec: String, Equatable, Sendable, CaseIterable {
    case pcmu = "PCMU", pcma = "PCMA", g722 = "G722", opus = "opus"

    /// The RTP clock rate announced in SDP and used for timestamps. G.722 samples at 16 kHz but says 8000
    /// (RFC 3551 §4.5.2 keeps an old mistake for compatibility).
    var clockRate: Int { self == .opus ? 48000 : 8000 }
    /// Static payload types (RFC 3551); Opus is dynamic.
    var staticPayloadType: UInt8? {
        switch self {
        case .pcmu: return 0
        case .pcma: return 8
        case .g722: return 9
        case .opus: return nil
        }
    }
    /// RTP timestamp ticks per 20 ms frame.
    var ticksPerFrame: UInt32 { UInt32(clockRate / 50) }
}

/// Samples per 20 ms frame at the mixing rate.
let mixFrameSamples = 320
let mixSampleRate: Int32 = 16000

/// Decodes one phone's or one browser's packets into 16 kHz samples.
final class AudioDecoder {
    let codec: PhoneCodec
    private var opus: OpusDecoder?
    private var g722: G722Decoder?
    private var upsampler = Upsampler()
    private var narrowband: [Int16] = []
    private var decoded: [Int16] = []
    private var wide: [Float] = []
    private var lastFrame = [Float](repeating: 0, count: mixFrameSamples)

    init(codec: PhoneCodec) throws {
        self.codec = codec
        if codec == .opus { opus = try OpusDecoder(sampleRate: mixSampleRate) }
        if codec == .g722 { g722 = try G722Decoder() }
    }

    /// Appends the packet's audio (or, for nil, one concealed 20 ms frame) to `out`.
    func decode(_ payload: UnsafeRawBufferPointer?, appendingTo out: inout [Float]) {
        switch codec {
        case .opus:
            let count = opus!.decode(payload, into: &decoded)
            for i in 0 ..< count { out.append(Float(decoded[i])) }
        case .pcmu, .pcma:
            guard let payload else {
                // G.711 has no concealment of its own: repeat the last frame, halved, so a gap does not click.
                for i in 0 ..< mixFrameSamples { lastFrame[i] *= 0.5; out.append(lastFrame[i]) }
                return
            }
            G711.decode(payload, aLaw: codec == .pcma, into: &narrowband)
            upsampler.process(narrowband, into: &wide)
            out.append(contentsOf: wide)
            if wide.count >= mixFrameSamples { lastFrame.replaceSubrange(0 ..< mixFrameSamples, with: wide.suffix(mixFrameSamples)) }
        case .g722:
            // G.722 has no concealment either (a decoder fed nothing keeps its ADPCM state): the same faded repeat.
            guard let payload else {
                for i in 0 ..< mixFrameSamples { lastFrame[i] *= 0.5; out.append(lastFrame[i]) }
                return
            }
            // Already 16 kHz: straight into the mix.
            g722!.decode(payload, into: &decoded)
            for s in decoded { out.append(Float(s)) }
            if decoded.count >= mixFrameSamples {
                for i in 0 ..< mixFrameSamples { lastFrame[i] = Float(decoded[decoded.count - mixFrameSamples + i]) }
            }
        }
    }
}

/// Encodes 16 kHz frames for one phone.
final class AudioEncoder {
    let codec: PhoneCodec
    private var opus: OpusEncoder?
    private var g722: G722Encoder?
    private var downsampler = Downsampler()
    private var narrowband: [Int16] = []
    private var wide = [Int16](repeating: 0, count: mixFrameSamples)
    private var payload: [UInt8] = []

    init(codec: PhoneCodec) throws {
        self.codec = codec
        if codec == .opus { opus = try OpusEncoder(sampleRate: mixSampleRate) }
        if codec == .g722 { g722 = try G722Encoder() }
    }

    /// Encodes one 20 ms frame (320 samples at 16 kHz) and hands the payload to `body`.
    func encode(_ frame: ArraySlice<Float>, _ body: (UnsafeRawBufferPointer) -> Void) {
        switch codec {
        case .opus:
            for (i, s) in frame.prefix(mixFrameSamples).enumerated() { wide[i] = clampToInt16(s) }
            try? wide.withUnsafeBufferPointer { try opus!.encode($0, body) }
        case .g722:
            // The mix is 16 kHz already: no resampling, 320 samples → 160 bytes.
            for (i, s) in frame.prefix(mixFrameSamples).enumerated() { wide[i] = clampToInt16(s) }
            wide.withUnsafeBufferPointer { g722!.encode($0, body) }
        case .pcmu, .pcma:
            downsampler.process(frame, into: &narrowband)
            payload.removeAll(keepingCapacity: true)
            let aLaw = codec == .pcma
            for s in narrowband { payload.append(aLaw ? G711.encodeALaw(s) : G711.encodeMuLaw(s)) }
            payload.withUnsafeBytes(body)
        }
    }
}
