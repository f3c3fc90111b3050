// A phone's voice as a track of the room: 16 kHz frames encoded to Opus and handed to the SFU through the
// phone's DirectTransport, with the RFC 6464 level so the room's active-speaker detection includes phones.

import SFU

/// Built by the dial-in task, then handed to the room bridge's event loop, which alone uses it from then on.
final class PhonePublisher: @unchecked Sendable {
    static let opusPayloadType: UInt8 = 111
    static let audioLevelID: UInt8 = 1

    let transport: DirectTransport
    let trackID: String
    private let encoder: OpusEncoder
    private var packetizer: RtpPacketizer
    private var pcm = [Int16](repeating: 0, count: mixFrameSamples)

    init(transport: DirectTransport, ssrc: UInt32, trackID: String) throws {
        self.transport = transport
        self.trackID = trackID
        encoder = try OpusEncoder(sampleRate: mixSampleRate, bitrate: 24000, complexity: 3)
        packetizer = RtpPacketizer(ssrc: ssrc, payloadType: Self.opusPayloadType, audioLevelID: Self.audioLevelID)
    }

    /// The track description the SFU gets for this phone's audio.
    static func track(ssrc: UInt32, streamID: String, trackID: String) -> DirectTrack {
        DirectTrack(kind: .audio, codec: RtpCodec(payloadType: opusPayloadType, name: "opus", clockRate: 48000, channels: 2,
                                                  fmtp: "minptime=10;useinbandfec=1"),
                    ssrc: ssrc, streamID: streamID, trackID: trackID,
                    headerExtensions: [RtpHeaderExtensionURI.audioLevel: audioLevelID])
    }

    func publish(_ frame: ArraySlice<Float>) {
        for (i, s) in frame.prefix(mixFrameSamples).enumerated() { pcm[i] = clampToInt16(s) }
        let level = audioLevel(of: frame)
        let transport = self.transport
        try? pcm.withUnsafeBufferPointer { samples in
            try encoder.encode(samples) { payload in
                // 20 ms at Opus's 48 kHz RTP clock.
                packetizer.packetize(payload, ticks: 960, level: level) { packet in transport.receive(rtp: packet) }
            }
        }
    }
}
