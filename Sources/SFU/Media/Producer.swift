// An incoming track: what one publisher sends on one m-line, as one layer or as several simulcast layers (each its
// own SSRC, see ProducerLayer). Knows which consumers to forward to. Lives on its Router's loop.

import NIOCore

public final class Producer {
    public let id: String
    public let kind: MediaKind
    /// The publisher's codec (its payload type on the publisher's connection).
    public let codec: RtpCodec
    /// The publisher's RTX payload type for the codec, when retransmissions come as RTX (RFC 4588).
    let rtxPayloadType: UInt8?
    /// a=msid of the publisher's track, reused towards subscribers so they can group audio with video.
    public let streamID: String
    public let trackID: String
    /// The publisher's mid for this track.
    public let mid: String
    /// Header extensions the publisher's packets carry: URI -> the publisher's id.
    let headerExtensions: [String: UInt8]
    let transport: MediaTransport
    /// Lowest resolution first; one layer without simulcast.
    let layers: [ProducerLayer]
    var consumers: [Consumer] = []
    public private(set) var packetsReceived = 0
    public private(set) var packetsRecovered = 0

    var isSimulcast: Bool { layers.count > 1 }
    /// The codec whose payload the SFU reads (keyframes, picture ids); nil for audio.
    let videoCodec: VideoCodec?

    init(id: String, kind: MediaKind, codec: RtpCodec, layers: [PublishedLayer], rtxPayloadType: UInt8? = nil,
         streamID: String, trackID: String, mid: String = "", headerExtensions: [String: UInt8] = [:],
         transport: MediaTransport) {
        self.mid = mid
        self.headerExtensions = headerExtensions
        self.id = id
        self.kind = kind
        self.codec = codec
        self.videoCodec = kind == .video ? codec.videoCodec : nil
        self.rtxPayloadType = rtxPayloadType
        self.streamID = streamID
        self.trackID = trackID
        self.transport = transport
        // About a second of video per layer; audio loss is better concealed than repaired, so keep less.
        let capacity = kind == .video ? 1024 : 64
        let described = layers.isEmpty ? [PublishedLayer()] : layers
        self.layers = described.enumerated().map { index, layer in
            ProducerLayer(index: index, rid: layer.rid, ssrc: layer.ssrc, rtxSSRC: layer.rtxSSRC, cacheCapacity: capacity)
        }
    }

    convenience init(id: String, kind: MediaKind, codec: RtpCodec, ssrc: UInt32?, streamID: String, trackID: String,
                     mid: String = "", headerExtensions: [String: UInt8] = [:], transport: MediaTransport) {
        self.init(id: id, kind: kind, codec: codec, layers: [PublishedLayer(ssrc: ssrc)], streamID: streamID,
                  trackID: trackID, mid: mid, headerExtensions: headerExtensions, transport: transport)
    }

    /// The media SSRC of a single-layer producer (or of the lowest layer).
    var ssrc: UInt32? { layers[0].ssrc }

    /// RFC 6464: the loudest level (as loudness 127 − dBov) seen since the router last looked (active speaker).
    var loudnessPeak = 0
    private lazy var audioLevelID: UInt8? = kind == .audio ? headerExtensions[RtpHeaderExtensionURI.audioLevel] : nil

    /// One decrypted packet of `layer` from the publisher: cache it, then fan it out (a repair at once, out of order:
    /// consumers keep it at its sequence number). Video the SFU has already (or gave up on) is dropped, whether it
    /// came as media or as RTX (`repaired`: a second answer, a bandwidth probe); but an RTX copy of a packet not seen
    /// yet is forwarded like the original, even ahead of the media stream: Chrome probes with RTX copies of its latest
    /// packets, and when the original was lost on the way that copy is the only one that arrives. Returns what the
    /// packet meant for loss recovery (the router NACKs gaps).
    @discardableResult
    func receive(_ packet: UnsafeMutableRawBufferPointer, header: RTPHeaderView, layer: ProducerLayer,
                 repaired: Bool = false, nowNanos: UInt64) -> LossTracker.Arrival {
        let arrival = kind == .video ? layer.loss.record(header.sequenceNumber, nowNanos: nowNanos) : .inOrder
        if arrival == .repaired { packetsRecovered += 1 }
        if arrival == .duplicate { return arrival }
        packetsReceived += 1
        layer.record(bytes: packet.count, nowNanos: nowNanos)
        if let id = audioLevelID, let range = header.extensionElement(id: id, in: UnsafeRawBufferPointer(packet)), !range.isEmpty {
            loudnessPeak = max(loudnessPeak, 127 - Int(packet[range.lowerBound] & 0x7F))
        }
        layer.receiveStatistics.record(header.sequenceNumber)
        let bytes = UnsafeRawBufferPointer(packet)
        layer.cache.store(bytes, sequenceNumber: header.sequenceNumber)
        let descriptor = videoCodec.flatMap { FrameDescriptor(UnsafeRawBufferPointer(rebasing: bytes[header.payloadRange]), codec: $0) }
        if let descriptor, descriptor.isKeyframeStart {
            // Once per keyframe (an H.264 access unit may start twice: SPS, then the IDR slice's first packet).
            if layer.recordKeyframe(width: descriptor.width, height: descriptor.height, timestamp: header.timestamp,
                                    nowNanos: nowNanos) {
                layer.loss.keyframe(at: header.sequenceNumber)
            }
        }
        for consumer in consumers {
            consumer.forward(bytes, header: header, layer: layer.index, frame: descriptor, nowNanos: nowNanos)
        }
        return arrival
    }

    /// The layers' state as the layer selector sees it.
    func layerStates(nowNanos: UInt64) -> [LayerSelector.Layer] {
        layers.map {
            LayerSelector.Layer(active: $0.isActive(nowNanos: nowNanos), bitrate: $0.bitrate.bitsPerSecond,
                                width: $0.width, height: $0.height)
        }
    }
}

/// One layer as the offer describes it (all nil for an unsignalled single stream).
struct PublishedLayer: Equatable {
    var rid: String?
    var ssrc: UInt32?
    var rtxSSRC: UInt32?
}
