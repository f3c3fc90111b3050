// An incoming track: what one publisher sends on one m-line. Keeps the retransmission cache and the
// receive statistics, and knows which consumers to forward to. Lives on its Router's loop.

import NIOCore

public final class Producer {
    public let id: String
    public let kind: MediaKind
    /// The publisher's codec (its payload type on the publisher's connection).
    public let codec: RtpCodec
    /// a=msid of the publisher's track, reused towards subscribers so they can group audio with video.
    public let streamID: String
    public let trackID: String
    /// The publisher's mid for this track.
    public let mid: String
    /// Header extensions the publisher's packets carry: URI -> the publisher's id.
    let headerExtensions: [String: UInt8]
    let transport: MediaTransport
    /// From the offer's a=ssrc, or learned from the first packet with the codec's payload type.
    var ssrc: UInt32?
    var consumers: [Consumer] = []
    var cache: RtpPacketCache
    var receiveStatistics = ReceiveStatistics()
    var lastKeyframeRequest: NIODeadline?
    public private(set) var packetsReceived = 0

    init(id: String, kind: MediaKind, codec: RtpCodec, ssrc: UInt32?, streamID: String, trackID: String,
         mid: String = "", headerExtensions: [String: UInt8] = [:], transport: MediaTransport) {
        self.mid = mid
        self.headerExtensions = headerExtensions
        self.id = id
        self.kind = kind
        self.codec = codec
        self.ssrc = ssrc
        self.streamID = streamID
        self.trackID = trackID
        self.transport = transport
        // About a second of video; audio loss is better concealed than repaired, so keep less.
        self.cache = RtpPacketCache(capacity: kind == .video ? 1024 : 64)
    }

    /// RFC 6464: the loudest level (as loudness 127 − dBov) seen since the router last looked (active speaker).
    var loudnessPeak = 0
    private lazy var audioLevelID: UInt8? = kind == .audio ? headerExtensions[RtpHeaderExtensionURI.audioLevel] : nil

    /// Video loss on the way in, NACKed to the publisher by the router's timer (audio loss is concealed instead).
    var loss = LossTracker()
    public private(set) var packetsRecovered = 0

    /// One decrypted packet from the publisher: cache it, then fan it out.
    func receive(_ packet: UnsafeMutableRawBufferPointer, header: RTPHeaderView) {
        packetsReceived += 1
        if kind == .video, loss.record(header.sequenceNumber) { packetsRecovered += 1 }
        if let id = audioLevelID, let range = header.extensionElement(id: id, in: UnsafeRawBufferPointer(packet)), !range.isEmpty {
            loudnessPeak = max(loudnessPeak, 127 - Int(packet[range.lowerBound] & 0x7F))
        }
        receiveStatistics.record(header.sequenceNumber)
        let bytes = UnsafeRawBufferPointer(packet)
        cache.store(bytes, sequenceNumber: header.sequenceNumber)
        guard !consumers.isEmpty else { return }
        let keyframeStart = kind == .video && codec.isVP8
            && VP8.isKeyframeStart(UnsafeRawBufferPointer(rebasing: bytes[header.payloadRange]))
        for consumer in consumers {
            consumer.forward(bytes, header: header, isKeyframeStart: keyframeStart)
        }
    }
}
