// The codec vocabulary shared by negotiation and forwarding.

public enum MediaKind: String, Sendable, Equatable {
    case audio, video
}

/// One negotiated RTP payload format on one peer connection (payload types are per connection).
public struct RtpCodec: Equatable, Sendable {
    public var payloadType: UInt8
    public var name: String
    public var clockRate: Int
    public var channels: Int?
    /// fmtp parameters as negotiated ("" when none).
    public var fmtp: String
    public var feedback: [SDPRtcpFeedback]

    public init(payloadType: UInt8, name: String, clockRate: Int, channels: Int? = nil, fmtp: String = "",
                feedback: [SDPRtcpFeedback] = []) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.fmtp = fmtp
        self.feedback = feedback
    }

    /// Same media format regardless of payload type: what lets a publisher's stream go to a subscriber.
    public func hasSameFormat(as other: RtpCodec) -> Bool {
        name.lowercased() == other.name.lowercased() && clockRate == other.clockRate
            && (channels ?? 1) == (other.channels ?? 1)
    }

    public var isVP8: Bool { videoCodec == .vp8 }

    /// The video codec this format is, when the SFU forwards it (nil for audio and unknown formats).
    public var videoCodec: VideoCodec? { clockRate == 90_000 ? VideoCodec(name: name) : nil }
}
