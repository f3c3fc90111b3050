import Channeling
import Logging
import Metrics
import SFU
import ServiceLifecycle

/// Channeling's `RoomMedia` over the SFU, and the SFU's place in the service group (start, then shut down with
/// the server). Which track a media section carries is read from the SDP (`a=mid` and `a=msid`).
final class SFUMedia: RoomMedia, Service, @unchecked Sendable {
    let sfu: SFUService
    let port: Int
    let host: String
    let announced: [String]
    let iceTcp: IceTcpPort
    let logger: Logger
    /// Where active-speaker changes go (the hub, which exists only after the SFU has started).
    var speakerSink: (@Sendable (String, String?, Int) -> Void)?

    /// - Parameters:
    ///   - tcp: accept ICE-TCP; `tcpPort` 0 means the number of the UDP port.
    init(port: Int, host: String, announced: [String], tcp: Bool = false, tcpPort: Int = 0, logger: Logger) throws {
        self.sfu = try SFUService(logger: logger)
        self.port = port
        self.host = host
        self.announced = announced
        self.iceTcp = !tcp ? .disabled : tcpPort == 0 ? .sameAsUdp : .port(tcpPort)
        self.logger = logger
        sfu.onActiveSpeaker = { [weak self] room, transportID, loudness in
            self?.speakerSink?(room, transportID, loudness)
        }
    }

    /// Binds the media port before the HTTP listeners accept anyone.
    func start() async throws {
        try await sfu.start(port: port, host: host, announcedAddresses: announced, iceTcp: iceTcp)
        logger.notice("SFU listening", metadata: ["udp": "\(host):\(sfu.port ?? port)",
                                                  "tcp": "\(sfu.tcpPort.map { "\(host):\($0)" } ?? "off")",
                                                  "announced": "\(announced)"])
    }

    func run() async throws {
        try? await gracefulShutdown()
        await sfu.shutdown()
    }

    func publish(room: String, offer: String) async throws -> MediaNegotiation {
        try await publish(room: room, offer: offer, participant: nil)
    }

    func subscribe(room: String, offer: String, excludingTransports: Set<String>) async throws -> MediaNegotiation {
        try await subscribe(room: room, offer: offer, excludingTransports: excludingTransports, participant: nil)
    }

    func publish(room: String, offer: String, participant: String?) async throws -> MediaNegotiation {
        try await publish(room: room, offer: offer, participant: participant, renegotiating: nil)
    }

    func subscribe(room: String, offer: String, excludingTransports: Set<String>, participant: String?) async throws
        -> MediaNegotiation {
        try await subscribe(room: room, offer: offer, excludingTransports: excludingTransports, participant: participant,
                            renegotiating: nil)
    }

    /// Data channel messages carry their sender: the channeling session id, or for WHIP/WHEP clients
    /// `whip:<resource>` / `whep:<resource>` (as their tracks' `Session`).
    func publish(room: String, offer: String, participant: String?, renegotiating existing: String?) async throws
        -> MediaNegotiation {
        let (id, answer) = try await sfu.publish(room: room, offer: offer, renegotiating: existing,
                                                 participant: { participant ?? "whip:" + $0 })
        return MediaNegotiation(transportID: id, answer: answer, sections: try Self.sections(offer, answer: answer, fromOffer: true),
                                renegotiated: existing != nil && id == existing)
    }

    func subscribe(room: String, offer: String, excludingTransports: Set<String>, participant: String?,
                   renegotiating existing: String?) async throws -> MediaNegotiation {
        let result = try await sfu.subscription(room: room, offer: offer, excludingTransports: excludingTransports,
                                                renegotiating: existing, participant: { participant ?? "whep:" + $0 })
        return MediaNegotiation(transportID: result.transportID, answer: result.answer,
                                sections: try Self.sections(offer, answer: result.answer, fromOffer: false),
                                unsupported: result.unsupported.map { .init(trackID: $0.trackID, kind: $0.kind, codec: $0.codec) },
                                renegotiated: result.renegotiated)
    }

    func close(room: String, transportID: String) async {
        try? await sfu.closeTransport(room: room, transportID: transportID)
    }

    func setLayer(room: String, transportID: String, trackID: String, maxWidth: Int?, maxHeight: Int?, layer: String?) async {
        _ = try? await sfu.setLayerPreference(room: room, transportID: transportID, trackID: trackID, maxWidth: maxWidth,
                                          maxHeight: maxHeight, layer: layer)
    }

    /// Active media sections with their track ids: a publisher's come from its offer, a subscriber's from our answer.
    static func sections(_ offer: String, answer: String, fromOffer: Bool) throws -> [MediaNegotiation.Section] {
        let answerSDP = try SessionDescription.parse(answer)
        let offerSDP = fromOffer ? try SessionDescription.parse(offer) : answerSDP
        return answerSDP.media.compactMap { m in
            guard m.port != 0, let mid = m.mid, m.direction != .inactive, m.kind == "audio" || m.kind == "video" else { return nil }
            let source = offerSDP.media.first { $0.mid == mid }
            guard let trackID = source?.msid?.trackID ?? source?.ssrcAttributes.first(where: { $0.attribute == "msid" })?
                .value?.split(separator: " ").last.map(String.init) else { return nil }
            return .init(mid: mid, kind: m.kind, trackID: trackID)
        }
    }

    /// The `sfu` member of `/api/v1/stats` (a Rooms addition): socket counters and per-room media counters.
    func statsDocument() async -> JSONValue {
        let (socket, rooms) = await sfu.report()
        let tcp = (try? await sfu.tcpStatistics()) ?? nil
        func i(_ v: Int) -> JSONValue { .int(Int64(v)) }
        return .object([
            ("port", i(sfu.port ?? 0)),
            ("datagramsReceived", i(socket?.datagramsReceived ?? 0)), ("datagramsDropped", i(socket?.datagramsDropped ?? 0)),
            ("datagramsSent", i(socket?.datagramsSent ?? 0)), ("stunRouted", i(socket?.stunRouted ?? 0)),
            ("tcp", tcp.map { t in
                .object([("port", i(sfu.tcpPort ?? 0)), ("connectionsAccepted", i(t.connectionsAccepted)),
                         ("connectionsOpen", i(t.connectionsOpen)), ("connectionsRejected", i(t.connectionsRejected)),
                         ("framesReceived", i(t.framesReceived))])
            } ?? .null),
            ("rooms", .object(rooms.map { r in
                (r.room, .object([
                    ("transports", i(r.transports)), ("producers", i(r.producers)), ("consumers", i(r.consumers)),
                    ("packetsReceived", i(r.packetsReceived)), ("packetsSent", i(r.packetsSent)),
                    ("nacksReceived", i(r.feedback.nacksReceived)), ("packetsRetransmitted", i(r.feedback.packetsRetransmitted)),
                    ("keyframeRequestsReceived", i(r.feedback.keyframeRequestsReceived)),
                    ("keyframeRequestsSent", i(r.feedback.keyframeRequestsSent)),
                    ("transportCCFeedbackSent", i(r.feedback.transportCCFeedbackSent)),
                    ("nacksSent", i(r.feedback.nacksSent)), ("packetsNacked", i(r.feedback.packetsNacked)),
                    ("packetsLostUpstream", i(r.feedback.packetsLostUpstream)),
                    ("packetsRecovered", i(r.feedback.packetsRecovered)), ("packetsGivenUp", i(r.feedback.packetsGivenUp)),
                    ("packetsSkippedAtKeyframe", i(r.feedback.packetsSkippedAtKeyframe)),
                    ("repairsAwaited", i(r.feedback.repairsAwaited)), ("repairsSentOnArrival", i(r.repairsSentOnArrival)),
                    ("videoProducers", .array(r.videoProducers.map(Self.producerDocument))),
                    ("videoConsumers", .array(r.videoConsumers.map(Self.consumerDocument))),
                    ("dataChannels", .array(r.dataChannels.map(Self.dataChannelDocument))),
                ]))
            })),
        ])
    }

    /// A video producer with its simulcast layers (lowest first).
    static func producerDocument(_ p: SFUProducerReport) -> JSONValue {
        func i(_ v: Int) -> JSONValue { .int(Int64(v)) }
        return .object([
            ("producer", .string(p.producerID)), ("track", .string(p.trackID)), ("codec", .string(p.codec)),
            ("packetsRecovered", i(p.packetsRecovered)),
            ("layers", .array(p.layers.map { l in
                .object([
                    ("rid", l.rid.map(JSONValue.string) ?? .null), ("ssrc", l.ssrc.map { i(Int($0)) } ?? .null),
                    ("rtxSsrc", l.rtxSSRC.map { i(Int($0)) } ?? .null), ("packets", i(l.packets)),
                    ("keyframes", i(l.keyframes)), ("bitrate", i(l.bitrate)), ("active", .bool(l.active)),
                    ("width", i(l.width)), ("height", i(l.height)),
                    ("repairRoundTripMillis", l.repairRoundTripMillis.map(JSONValue.double) ?? .null),
                ])
            })),
        ])
    }

    /// A video consumer: which layer it forwards, which it wants, how often it switched, its subscriber's estimate.
    static func consumerDocument(_ c: SFUConsumerReport) -> JSONValue {
        func i(_ v: Int) -> JSONValue { .int(Int64(v)) }
        return .object([
            ("consumer", .string(c.consumerID)), ("producer", .string(c.producerID)), ("track", .string(c.trackID)),
            ("transport", .string(c.transportID)), ("currentLayer", c.currentLayer.map(i) ?? .null),
            ("targetLayer", i(c.targetLayer)), ("layerSwitches", i(c.layerSwitches)), ("packetsSent", i(c.packetsSent)),
            ("bitrate", i(c.bitrate)), ("estimatedBitrate", c.estimatedBitrate.map(i) ?? .null),
            ("rttMs", c.roundTripMillis.map(JSONValue.double) ?? .null),
        ])
    }

    /// The data channels of one connection (docs/sfu-signaling.md, "Data channels").
    static func dataChannelDocument(_ d: SFUDataChannelReport) -> JSONValue {
        func i(_ v: Int) -> JSONValue { .int(Int64(v)) }
        let s = d.statistics
        return .object([
            ("transport", .string(d.transportID)), ("participant", .string(d.participant)), ("connected", .bool(d.connected)),
            ("channelsOpen", i(s.channelsOpen)), ("channelsOpened", i(s.channelsOpened)),
            ("messagesReceived", i(s.messagesReceived)), ("bytesReceived", i(s.bytesReceived)),
            ("messagesSent", i(s.messagesSent)), ("bytesSent", i(s.bytesSent)),
            ("messagesDropped", i(s.messagesDropped)), ("messagesRefused", i(s.messagesRefused)),
        ])
    }

    /// Gauges for `/metrics`, refreshed at scrape time.
    func recordMetrics() async {
        let (socket, rooms) = await sfu.report()
        Gauge(label: "rooms_sfu_datagrams_received").record(socket?.datagramsReceived ?? 0)
        Gauge(label: "rooms_sfu_datagrams_dropped").record(socket?.datagramsDropped ?? 0)
        Gauge(label: "rooms_sfu_datagrams_sent").record(socket?.datagramsSent ?? 0)
        Gauge(label: "rooms_sfu_producers").record(rooms.reduce(0) { $0 + $1.producers })
        Gauge(label: "rooms_sfu_consumers").record(rooms.reduce(0) { $0 + $1.consumers })
        Gauge(label: "rooms_sfu_nacks_received").record(rooms.reduce(0) { $0 + $1.feedback.nacksReceived })
        Gauge(label: "rooms_sfu_packets_retransmitted").record(rooms.reduce(0) { $0 + $1.feedback.packetsRetransmitted })
        Gauge(label: "rooms_sfu_keyframe_requests_sent").record(rooms.reduce(0) { $0 + $1.feedback.keyframeRequestsSent })
        Gauge(label: "rooms_sfu_transport_cc_feedback_sent").record(rooms.reduce(0) { $0 + $1.feedback.transportCCFeedbackSent })
        Gauge(label: "rooms_sfu_layer_switches").record(rooms.reduce(0) { $0 + $1.videoConsumers.reduce(0) { $0 + $1.layerSwitches } })
        let data = rooms.flatMap(\.dataChannels).map(\.statistics)
        Gauge(label: "rooms_sfu_data_channels_open").record(data.reduce(0) { $0 + $1.channelsOpen })
        Gauge(label: "rooms_sfu_data_messages_received").record(data.reduce(0) { $0 + $1.messagesReceived })
        Gauge(label: "rooms_sfu_data_bytes_received").record(data.reduce(0) { $0 + $1.bytesReceived })
        Gauge(label: "rooms_sfu_data_messages_sent").record(data.reduce(0) { $0 + $1.messagesSent })
        Gauge(label: "rooms_sfu_data_bytes_sent").record(data.reduce(0) { $0 + $1.bytesSent })
        Gauge(label: "rooms_sfu_data_messages_dropped").record(data.reduce(0) { $0 + $1.messagesDropped })
        Gauge(label: "rooms_sfu_data_messages_refused").record(data.reduce(0) { $0 + $1.messagesRefused })
        // Bounded label sets only: consumers and producers come and go, their ids would pile up as stale series.
        let layers = rooms.flatMap(\.videoProducers).flatMap(\.layers)
        Gauge(label: "rooms_sfu_video_layers_active").record(layers.filter(\.active).count)
        Gauge(label: "rooms_sfu_video_ingress_bitrate").record(layers.reduce(0) { $0 + $1.bitrate })
        let consumers = rooms.flatMap(\.videoConsumers)
        for layer in 0 ..< 3 {
            Gauge(label: "rooms_sfu_video_consumers_on_layer", dimensions: [("layer", String(layer))])
                .record(consumers.filter { $0.currentLayer == layer }.count)
        }
    }
}
