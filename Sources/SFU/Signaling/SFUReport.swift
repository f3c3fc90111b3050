import NIOCore

/// Counters for `/api/v1/stats` and `/metrics`: the media socket and, per room, its producers and consumers.
public struct SFURoomReport: Sendable {
    public var room: String
    public var transports: Int
    public var producers: Int
    public var consumers: Int
    public var packetsReceived: Int
    public var packetsSent: Int
    public var feedback: Router.Statistics
    /// Subscriber NACKs answered the moment the missing packet reached the SFU (consumers open now).
    public var repairsSentOnArrival = 0
    /// Video producers with their layers, and video consumers with their layer state.
    public var videoProducers: [SFUProducerReport] = []
    public var videoConsumers: [SFUConsumerReport] = []
    /// Connections that negotiated data channels, with their counters.
    public var dataChannels: [SFUDataChannelReport] = []
}

/// The data channels of one connection.
public struct SFUDataChannelReport: Sendable, Equatable {
    public var transportID: String
    public var participant: String
    /// Whether its SCTP association is up.
    public var connected: Bool
    public var statistics: DataChannelStatistics
}

public struct SFUProducerReport: Sendable, Equatable {
    public struct Layer: Sendable, Equatable {
        public var rid: String?
        public var ssrc: UInt32?
        public var rtxSSRC: UInt32?
        public var packets: Int
        public var keyframes: Int
        public var bitrate: Int
        public var active: Bool
        /// From the last keyframe; 0 when none was seen.
        public var width: Int
        public var height: Int
        /// NACK → repair time of this layer's publisher (smoothed; nil until a NACK was answered).
        public var repairRoundTripMillis: Double? = nil
    }

    public var producerID: String
    public var trackID: String
    /// The codec as negotiated with the publisher ("VP8", "VP9", "H264", "AV1").
    public var codec: String = ""
    public var layers: [Layer]
    public var packetsRecovered: Int
}

public struct SFUConsumerReport: Sendable, Equatable {
    public var consumerID: String
    public var producerID: String
    public var trackID: String
    /// The subscriber connection.
    public var transportID: String
    public var currentLayer: Int?
    public var targetLayer: Int
    public var layerSwitches: Int
    public var packetsSent: Int
    public var bitrate: Int
    /// The subscriber's REMB for its whole connection, if any.
    public var estimatedBitrate: Int?
    /// From the subscriber's receiver reports (LSR/DLSR).
    public var roundTripMillis: Double?
}

extension SFUService {
    /// A snapshot read on each owner's loop (the control loop for the room list, each router's loop for its room).
    public func report() async -> (socket: UdpMuxStatistics?, rooms: [SFURoomReport]) {
        let socket = try? await statistics()
        var rooms: [SFURoomReport] = []
        for (name, router) in await allRouters() {
            guard let r = try? await router.eventLoop.submit({ router.report(name: name) }).get() else { continue }
            rooms.append(r)
        }
        return (socket, rooms.sorted { $0.room < $1.room })
    }
}

extension Router {
    func report(name: String) -> SFURoomReport {
        let producers = self.producers
        let consumers = producers.flatMap(\.consumers)
        let nowNanos = NIODeadline.now().uptimeNanoseconds
        let dataTransports = contexts.values.compactMap { $0.transport as? WebRtcTransport }.filter { $0.dataChannels != nil }
            .sorted { $0.createdAt < $1.createdAt }
        var r = SFURoomReport(
            room: name, transports: Set(producers.map { ObjectIdentifier($0.transport) } + consumers.map { ObjectIdentifier($0.transport) }
                                        + dataTransports.map { ObjectIdentifier($0) }).count,
            producers: producers.count, consumers: consumers.count,
            packetsReceived: producers.reduce(0) { $0 + $1.packetsReceived },
            packetsSent: consumers.reduce(0) { $0 + Int($1.packetsSent) },
            feedback: statistics)
        r.videoProducers = producers.filter { $0.kind == .video }.map { producer in
            SFUProducerReport(producerID: producer.id, trackID: producer.trackID, codec: producer.codec.name, layers: producer.layers.map {
                .init(rid: $0.rid, ssrc: $0.ssrc, rtxSSRC: $0.rtxSSRC, packets: $0.packetsReceived, keyframes: $0.keyframesReceived,
                      bitrate: $0.bitrate.bitsPerSecond, active: $0.isActive(nowNanos: nowNanos), width: $0.width, height: $0.height,
                      repairRoundTripMillis: $0.loss.roundTripNanos.map { Double($0) / 1e6 })
            }, packetsRecovered: producer.packetsRecovered)
        }
        r.repairsSentOnArrival = consumers.reduce(0) { $0 + $1.repairsSentOnArrival }
        r.videoConsumers = consumers.filter { $0.producer.kind == .video }.map { consumer in
            SFUConsumerReport(consumerID: consumer.id, producerID: consumer.producer.id, trackID: consumer.producer.trackID,
                              transportID: consumer.transport.id, currentLayer: consumer.currentLayer,
                              targetLayer: consumer.targetLayer, layerSwitches: consumer.layerSwitches,
                              packetsSent: Int(consumer.packetsSent), bitrate: consumer.forwardedBitrate,
                              estimatedBitrate: contexts[ObjectIdentifier(consumer.transport)]?.estimatedBitrate,
                              roundTripMillis: consumer.roundTripMicros.map { Double($0) / 1000 })
        }
        r.dataChannels = dataTransports.compactMap { transport in
            guard let session = transport.dataChannels else { return nil }
            return SFUDataChannelReport(transportID: transport.id, participant: transport.participant,
                                        connected: session.isConnected, statistics: session.statistics)
        }
        return r
    }
}
