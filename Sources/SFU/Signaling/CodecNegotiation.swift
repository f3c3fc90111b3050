// Which codec a publisher's m-line is answered with, and whether a subscriber's offered format can carry a
// producer's stream. The SFU never transcodes: a subscriber gets the publisher's codec, so the format parameters that
// change what a decoder must handle have to match (RFC 6184 §8.2.2 for H.264, RFC 9628 §6 for VP9, AV1 RTP §7.2):
// - H.264: packetization-mode equal (mode 1 sends STAP-A/FU-A, which a mode-0 receiver rejects) and the same profile
//   from profile-level-id (a constrained-baseline stream also decodes as baseline). Levels may differ: browsers
//   decode above their announced level, and level-asymmetry-allowed is what everyone offers.
// - VP9: the same profile-id (default 0). AV1: the same profile (default 0).
// Pure functions over SDP values.

/// The video codecs a publisher may use, most preferred first ([sfu] videoCodecs). VP8 first by default: every
/// browser and aiortc decodes it, so every subscriber can receive every publisher.
public struct VideoCodecPreference: Sendable, Equatable {
    public var order: [VideoCodec]
    public init(_ order: [VideoCodec] = [.vp8, .vp9, .h264, .av1]) { self.order = order }
    public static let `default` = VideoCodecPreference()

    /// From a configuration list ("VP8, VP9, H264, AV1"); unknown names are errors, duplicates are ignored.
    public init(names: [String]) throws {
        var order: [VideoCodec] = []
        for name in names {
            let trimmed = String(name.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            guard let codec = VideoCodec(name: trimmed) else {
                throw CodecPreferenceError.unknownCodec(name)
            }
            if !order.contains(codec) { order.append(codec) }
        }
        guard !order.isEmpty else { throw CodecPreferenceError.empty }
        self.order = order
    }
}

public enum CodecPreferenceError: Error, Equatable, CustomStringConvertible {
    case unknownCodec(String)
    case empty
    public var description: String {
        switch self {
        case .unknownCodec(let name): return "unknown video codec \(name) (known: VP8, VP9, H264, AV1)"
        case .empty: return "needs at least one video codec"
        }
    }
}

/// H.264 profiles as profile-level-id tells them (RFC 6184 §8.1, Table 5): profile_idc plus the constraint flags.
enum H264Profile: Equatable {
    case constrainedBaseline, baseline, main, extended, constrainedHigh, high, other(UInt8)

    /// From the 6 hex digits of profile-level-id; nil when malformed. RFC 6184's default is 420010 (baseline).
    init?(profileLevelID: String?) {
        let text = profileLevelID ?? "420010"
        guard text.count == 6, text.allSatisfy(\.isHexDigit), let value = UInt32(text, radix: 16) else { return nil }
        let idc = UInt8(truncatingIfNeeded: value >> 16)
        let iop = UInt8(truncatingIfNeeded: value >> 8)
        switch idc {
        case 0x42: self = iop & 0x40 != 0 ? .constrainedBaseline : .baseline
        case 0x4D: self = iop & 0x80 != 0 ? .constrainedBaseline : .main
        case 0x58: self = iop & 0xC0 == 0xC0 ? .constrainedBaseline : iop & 0x80 != 0 ? .baseline : .extended
        case 0x64: self = iop & 0x0C == 0x0C ? .constrainedHigh : .high
        default: self = .other(idc)
        }
    }

    /// Whether a decoder for `receiver` decodes a stream of this profile.
    func isDecodable(by receiver: H264Profile) -> Bool {
        self == receiver || (self == .constrainedBaseline && receiver == .baseline)
            || (self == .constrainedHigh && receiver == .high)
    }
}

enum CodecNegotiation {
    /// Formats the SFU forwards (matched by name and clock rate; Opus must be stereo-signalled).
    static func isForwardable(_ codec: SDPCodec, kind: MediaKind) -> Bool {
        switch kind {
        case .audio: return codec.name.lowercased() == "opus" && codec.clockRate == 48_000 && codec.channels == 2
        case .video: return VideoCodec(name: codec.name) != nil && codec.clockRate == 90_000 && isWellFormed(codec)
        }
    }

    /// H.264 needs a readable profile and a packetization mode we forward (0 or 1; 2 is interleaved).
    private static func isWellFormed(_ codec: SDPCodec) -> Bool {
        guard VideoCodec(name: codec.name) == .h264 else { return true }
        return H264Profile(profileLevelID: codec.parameter("profile-level-id")) != nil
            && ["0", "1"].contains(codec.parameter("packetization-mode") ?? "0")
    }

    /// The publisher's codec for one m-line: audio Opus; video the first codec of `preference` that the offer has.
    /// Among several H.264 formats, packetization-mode 1 and then constrained baseline go first (what most
    /// receivers decode), else the offer's order.
    static func publisherCodec(in offered: [SDPCodec], kind: MediaKind, preference: VideoCodecPreference) -> SDPCodec? {
        let usable = offered.filter { isForwardable($0, kind: kind) }
        guard kind == .video else { return usable.first }
        for wanted in preference.order {
            let candidates = usable.filter { VideoCodec(name: $0.name) == wanted }
            guard !candidates.isEmpty else { continue }
            guard wanted == .h264 else { return candidates.first }
            func rank(_ c: SDPCodec) -> Int {
                (c.parameter("packetization-mode") == "1" ? 0 : 2)
                    + (H264Profile(profileLevelID: c.parameter("profile-level-id")) == .constrainedBaseline ? 0 : 1)
            }
            return candidates.enumerated().min { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }?.element
        }
        return nil
    }

    /// Whether the subscriber's offered format `offered` can carry a producer that sends `codec`.
    static func canCarry(_ codec: RtpCodec, in offered: SDPCodec) -> Bool {
        guard offered.name.lowercased() == codec.name.lowercased() || sameVideoCodec(codec.name, offered.name),
              offered.clockRate == codec.clockRate, (offered.channels ?? 1) == (codec.channels ?? 1) else { return false }
        let sent = SDPCodec(payloadType: codec.payloadType, name: codec.name, clockRate: codec.clockRate,
                            channels: codec.channels, fmtp: codec.fmtp, feedback: [])
        switch VideoCodec(name: codec.name) {
        case .h264:
            guard (sent.parameter("packetization-mode") ?? "0") == (offered.parameter("packetization-mode") ?? "0"),
                  let produced = H264Profile(profileLevelID: sent.parameter("profile-level-id")),
                  let decodable = H264Profile(profileLevelID: offered.parameter("profile-level-id")) else { return false }
            return produced.isDecodable(by: decodable)
        case .vp9:
            return (sent.parameter("profile-id") ?? "0") == (offered.parameter("profile-id") ?? "0")
        case .av1:
            return (sent.parameter("profile") ?? "0") == (offered.parameter("profile") ?? "0")
        case .vp8, nil:
            return true
        }
    }

    /// The subscriber's format for a producer's `codec`: for H.264 one of the very same profile first (a
    /// constrained-baseline stream goes as 42e0.., not as 4200..), else the first of `offered` that carries it.
    static func subscriberFormat(for codec: RtpCodec, among offered: [SDPCodec]) -> SDPCodec? {
        let carrying = offered.filter { canCarry(codec, in: $0) }
        if VideoCodec(name: codec.name) == .h264 {
            let sent = SDPFmtp(payloadType: codec.payloadType, format: codec.fmtp).parameter("profile-level-id")
            let profile = H264Profile(profileLevelID: sent)
            if let exact = carrying.first(where: { H264Profile(profileLevelID: $0.parameter("profile-level-id")) == profile }) {
                return exact
            }
        }
        return carrying.first
    }

    private static func sameVideoCodec(_ a: String, _ b: String) -> Bool {
        guard let x = VideoCodec(name: a) else { return false }
        return x == VideoCodec(name: b)
    }
}
