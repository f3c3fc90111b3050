// One room's media: its transports, producers and consumers, all owned by one event loop, so that the
// packet path runs without locks. Also runs the room's feedback timers (REMB, RR/SR, keyframe requests,
// consent expiry).

import Logging
import NIOCore

public final class Router {
    public let roomID: String
    public let eventLoop: EventLoop
    /// Upper bound we tell publishers (REMB) until a real estimator exists.
    var publisherBitrate: UInt64 = 2_500_000
    /// Keyframe requests to one producer are spaced at least this far apart (keyframe storms hurt everyone).
    var keyframeRequestInterval: TimeAmount = .milliseconds(500)
    var consentTimeout: TimeAmount = IceLite.defaultConsentTimeout

    /// Counters of the feedback paths (read on the router's loop).
    public struct Statistics: Sendable, Equatable {
        public var nacksReceived = 0
        public var packetsRetransmitted = 0
        public var keyframeRequestsReceived = 0
        public var keyframeRequestsSent = 0
        /// NACKs sent to publishers for packets lost on the way in, and how many of those packets then arrived.
        public var nacksSent = 0
        public var packetsRecovered = 0
    }
    public private(set) var statistics = Statistics()
    /// Test hook: consumers drop every n-th packet they would forward, so that subscribers NACK.
    var simulatedForwardingLossInterval: Int?
    /// Test hook: drop every n-th incoming video packet of publishers before SRTP (as the network would), so that
    /// the SFU must NACK them. Applies to the publisher transports present when it is set.
    var simulatedIngressLossInterval: Int? {
        didSet { for context in contexts.values { installIngressLoss(context) } }
    }
    private var ingressVideoPackets = 0

    private func installIngressLoss(_ context: TransportContext) {
        guard let transport = context.transport as? WebRtcTransport else { return }
        transport.simulatedIngressDrop = simulatedIngressLossInterval.map { n in
            { [unowned self, unowned context] bytes in
                guard let header = try? RTPHeaderView(bytes), context.producersBySSRC[header.ssrc]?.kind == .video else { return false }
                self.ingressVideoPackets += 1
                return self.ingressVideoPackets % n == 0
            }
        }
    }

    private let logger: Logger
    private var contexts: [ObjectIdentifier: TransportContext] = [:]
    private var producersInOrder: [Producer] = []
    private var tick: RepeatedTask?
    private var tickCount = 0

    /// Per-connection routing: publisher SSRCs to producers, subscriber SSRCs to consumers.
    private final class TransportContext {
        let transport: MediaTransport
        var producersBySSRC: [UInt32: Producer] = [:]
        var producersByPayloadType: [UInt8: Producer] = [:]
        var producers: [Producer] = []
        var consumersBySSRC: [UInt32: Consumer] = [:]
        var consumers: [Consumer] = []
        init(transport: MediaTransport) { self.transport = transport }
    }

    init(roomID: String, eventLoop: EventLoop, logger: Logger) {
        self.roomID = roomID
        self.eventLoop = eventLoop
        var logger = logger
        logger[metadataKey: "room"] = "\(roomID)"
        self.logger = logger
    }

    // MARK: - Building the graph (on the router's loop)

    func add(_ transport: MediaTransport) {
        eventLoop.preconditionInEventLoop()
        transport.delegate = self
        let context = TransportContext(transport: transport)
        contexts[ObjectIdentifier(transport)] = context
        installIngressLoss(context)
        startTimerIfNeeded()
    }

    func addProducer(_ producer: Producer) {
        guard let context = contexts[ObjectIdentifier(producer.transport)] else { return }
        context.producers.append(producer)
        if let ssrc = producer.ssrc { context.producersBySSRC[ssrc] = producer }
        context.producersByPayloadType[producer.codec.payloadType] = producer
        producersInOrder.append(producer)
        logger.info("producer \(producer.id) \(producer.kind) \(producer.codec.name) ssrc \(producer.ssrc.map { String($0) } ?? "?")")
        for tap in contexts.values where (tap.transport as? DirectTransport)?.tapsRoomAudio == true {
            addTapConsumer(of: producer, to: tap)
        }
    }

    /// An audio tap (DirectTransport.tapsRoomAudio) hears every audio producer of peers, in the producer's own
    /// payload type, each on an SSRC of its own.
    private func addTapConsumer(of producer: Producer, to tap: TransportContext) {
        guard producer.kind == .audio, !(producer.transport is DirectTransport) else { return }
        var ssrc = UInt32.random(in: 1 ... .max)
        while tap.consumersBySSRC[ssrc] != nil { ssrc = UInt32.random(in: 1 ... .max) }
        addConsumer(Consumer(id: producer.id, producer: producer, transport: tap.transport,
                             payloadType: producer.codec.payloadType, ssrc: ssrc))
    }

    /// Adds an in-process transport with its producers (on the router's loop).
    func addDirect(_ transport: DirectTransport, tracks: [DirectTrack], newID: () -> String) -> [Producer] {
        add(transport)
        if transport.tapsRoomAudio, let context = contexts[ObjectIdentifier(transport)] {
            for producer in producersInOrder { addTapConsumer(of: producer, to: context) }
        }
        return tracks.map { track in
            let producer = Producer(id: newID(), kind: track.kind, codec: track.codec, ssrc: track.ssrc,
                                    streamID: track.streamID, trackID: track.trackID,
                                    headerExtensions: track.headerExtensions, transport: transport)
            addProducer(producer)
            return producer
        }
    }

    func addConsumer(_ consumer: Consumer) {
        guard let context = contexts[ObjectIdentifier(consumer.transport)] else { return }
        if consumer.producer.kind == .video { consumer.simulatedLossInterval = simulatedForwardingLossInterval }
        context.consumers.append(consumer)
        context.consumersBySSRC[consumer.ssrc] = consumer
        consumer.producer.consumers.append(consumer)
    }

    /// Producers of the room, oldest first.
    public var producers: [Producer] { producersInOrder }

    func transport(id: String) -> MediaTransport? {
        contexts.values.first { $0.transport.id == id }?.transport
    }

    var transportCount: Int { contexts.count }

    // MARK: - Keyframes

    /// Sends a PLI to the producer's publisher unless one went out less than `keyframeRequestInterval` ago.
    func requestKeyframe(_ producer: Producer, now: NIODeadline = .now()) {
        guard producer.kind == .video, let ssrc = producer.ssrc, producer.transport.isConnected else { return }
        if let last = producer.lastKeyframeRequest, now - last < keyframeRequestInterval { return }
        producer.lastKeyframeRequest = now
        statistics.keyframeRequestsSent += 1
        let pli = RTCPPictureLossIndication(senderSSRC: producer.transport.rtcpSSRC, mediaSSRC: ssrc)
        producer.transport.sendRtcp([.pictureLossIndication(pli)])
    }

    // MARK: - Timers

    private func startTimerIfNeeded() {
        guard tick == nil else { return }
        tick = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { [weak self] _ in
            self?.onTick()
        }
    }

    private func onTick() {
        tickCount += 1
        let now = NIODeadline.now()
        // Subscribers waiting for a keyframe keep asking (rate-limited per producer).
        for producer in producersInOrder where producer.consumers.contains(where: { $0.waitingForKeyframe && $0.transport.isConnected }) {
            requestKeyframe(producer, now: now)
        }
        sendPublisherNacks()
        if tickCount % 2 == 0 { updateActiveSpeaker() }
        if tickCount % 4 == 0 {
            sendReports(now: now)
            for context in Array(contexts.values) where context.transport.consentExpired(now: now, timeout: consentTimeout) {
                logger.info("transport \(context.transport.id): no ICE consent for \(consentTimeout), closing")
                context.transport.close()
            }
        }
    }

    /// Asks publishers again for video packets that did not arrive (each at most three times, 250 ms apart).
    private func sendPublisherNacks() {
        for producer in producersInOrder where producer.kind == .video {
            guard let ssrc = producer.ssrc else { continue }
            let list = producer.loss.takeNackList()
            guard !list.isEmpty else { continue }
            statistics.nacksSent += 1
            producer.transport.sendRtcp([.nack(RTCPNack(senderSSRC: producer.transport.rtcpSSRC, mediaSSRC: ssrc, sequenceNumbers: list))])
        }
        statistics.packetsRecovered = producersInOrder.reduce(0) { $0 + $1.packetsRecovered }
    }

    /// The publisher transport of the loudest audio producer over the last 500 ms (peak RFC 6464 level), or nil when
    /// nobody is above the speech threshold. `onActiveSpeaker` hears only changes.
    public var onActiveSpeaker: ((_ publisherTransportID: String?, _ loudness: Int) -> Void)?
    private var activeSpeaker: String?
    /// Peak loudness (127 − dBov) a speaker must exceed: about −50 dBov, above background noise.
    static let speechThreshold = 77

    private func updateActiveSpeaker() {
        var best: (id: String, loudness: Int)? = nil
        for producer in producersInOrder where producer.kind == .audio {
            defer { producer.loudnessPeak = 0 }
            let peak = producer.loudnessPeak
            if peak > Self.speechThreshold, peak > (best?.loudness ?? 0) { best = (producer.transport.id, peak) }
        }
        // Keep the current speaker through short pauses: only a new speaker replaces them.
        guard let best, best.id != activeSpeaker else { return }
        activeSpeaker = best.id
        onActiveSpeaker?(best.id, best.loudness)
    }

    /// Once a second: REMB and RR to publishers, SR + SDES to subscribers.
    private func sendReports(now: NIODeadline) {
        let wallClock = ntpNow()
        for context in contexts.values where context.transport.isConnected {
            var packets: [RTCPPacket] = []
            if !context.producers.isEmpty {
                var blocks: [RTCPReportBlock] = []
                for producer in context.producers {
                    if let ssrc = producer.ssrc, let block = producer.receiveStatistics.reportBlock(ssrc: ssrc) { blocks.append(block) }
                }
                packets.append(.receiverReport(RTCPReceiverReport(ssrc: context.transport.rtcpSSRC, reports: blocks)))
                let ssrcs = context.producers.compactMap { $0.kind == .video ? $0.ssrc : nil }
                if !ssrcs.isEmpty {
                    packets.append(.remb(RTCPRemb(senderSSRC: context.transport.rtcpSSRC, bitrate: publisherBitrate, ssrcs: ssrcs)))
                }
            }
            for consumer in context.consumers {
                if let sr = consumer.senderReport(now: now, wallClock: wallClock) {
                    packets.append(.senderReport(sr))
                    packets.append(.sourceDescription(.cname(ssrc: consumer.ssrc, "rooms-sfu")))
                }
            }
            context.transport.sendRtcp(packets)
        }
    }

    private func ntpNow() -> UInt64 {
        // NTP counts from 1900; the Unix epoch is 2,208,988,800 s later.
        let nanos = UInt64(NIODeadline.now().uptimeNanoseconds) // monotonic is enough for RTT/lip-sync deltas
        let seconds = nanos / 1_000_000_000 + 2_208_988_800
        let fraction = ((nanos % 1_000_000_000) << 32) / 1_000_000_000
        return seconds << 32 | fraction
    }

    func close() {
        tick?.cancel()
        tick = nil
        for context in Array(contexts.values) { context.transport.close() }
    }
}

// MARK: - The packet path

extension Router: MediaTransportDelegate {
    func transport(_ transport: MediaTransport, didReceiveRtp packet: UnsafeMutableRawBufferPointer) {
        guard let context = contexts[ObjectIdentifier(transport)],
              let header = try? RTPHeaderView(UnsafeRawBufferPointer(packet)) else { return }
        if let producer = context.producersBySSRC[header.ssrc] {
            producer.receive(packet, header: header)
        } else if let producer = producerByMid(in: context, packet: packet, header: header) {
            // No a=ssrc in the offer (Firefox, or Chrome with SSRCs unsignaled): the MID extension names the m-line.
            producer.ssrc = header.ssrc
            context.producersBySSRC[header.ssrc] = producer
            producer.receive(packet, header: header)
        } else if let producer = context.producersByPayloadType[header.payloadType], producer.ssrc == nil {
            // The offer named no SSRC for this track (possible with some clients): learn it from the first packet.
            producer.ssrc = header.ssrc
            context.producersBySSRC[header.ssrc] = producer
            producer.receive(packet, header: header)
        }
    }

    /// The producer without a known SSRC whose publisher mid this packet carries, for the producer's own payload
    /// type only (not RTX/FEC that might share the mid).
    private func producerByMid(in context: TransportContext, packet: UnsafeMutableRawBufferPointer,
                               header: RTPHeaderView) -> Producer? {
        guard header.extensionRange != nil else { return nil }
        let bytes = UnsafeRawBufferPointer(packet)
        for producer in context.producers where producer.ssrc == nil && producer.codec.payloadType == header.payloadType {
            guard let id = producer.headerExtensions[RtpHeaderExtensionURI.mid],
                  let range = header.extensionElement(id: id, in: bytes) else { continue }
            if bytes[range].elementsEqual(producer.mid.utf8) { return producer }
        }
        return nil
    }

    func transport(_ transport: MediaTransport, didReceiveRtcp packets: [RTCPPacket]) {
        guard let context = contexts[ObjectIdentifier(transport)] else { return }
        for packet in packets {
            switch packet {
            case .nack(let nack):
                guard let consumer = context.consumersBySSRC[nack.mediaSSRC] else { break }
                statistics.nacksReceived += 1
                statistics.packetsRetransmitted += consumer.retransmit(nack.sequenceNumbers)
            case .pictureLossIndication(let pli):
                guard let consumer = context.consumersBySSRC[pli.mediaSSRC] else { break }
                statistics.keyframeRequestsReceived += 1
                requestKeyframe(consumer.producer)
            case .fullIntraRequest(let fir):
                for entry in fir.entries {
                    guard let consumer = context.consumersBySSRC[entry.ssrc] else { continue }
                    statistics.keyframeRequestsReceived += 1
                    requestKeyframe(consumer.producer)
                }
            default:
                break // SR/RR/SDES/BYE/REMB: nothing to act on in this slice
            }
        }
    }

    func transportDidConnect(_ transport: MediaTransport) {
        guard let context = contexts[ObjectIdentifier(transport)] else { return }
        logger.info("transport \(transport.id) connected")
        for consumer in context.consumers { requestKeyframe(consumer.producer) }
    }

    func transportDidClose(_ transport: MediaTransport) {
        guard let context = contexts.removeValue(forKey: ObjectIdentifier(transport)) else { return }
        for consumer in context.consumers {
            consumer.producer.consumers.removeAll { $0 === consumer }
        }
        if !context.producers.isEmpty {
            let gone = Set(context.producers.map { ObjectIdentifier($0) })
            producersInOrder.removeAll { gone.contains(ObjectIdentifier($0)) }
            for producer in context.producers {
                // Subscribers keep their m-lines; the stream just stops until signaling tells them more.
                producer.consumers.removeAll()
            }
            // Audio taps drop their consumers of the gone producers (a tap lives as long as the room's bridge).
            for tap in contexts.values where (tap.transport as? DirectTransport)?.tapsRoomAudio == true {
                tap.consumers.removeAll { gone.contains(ObjectIdentifier($0.producer)) }
                tap.consumersBySSRC = tap.consumersBySSRC.filter { !gone.contains(ObjectIdentifier($0.value.producer)) }
            }
        }
    }
}

// Loop-confined, not locked: every access happens on `eventLoop` (callers hop there with submit/execute).
extension Router: @unchecked Sendable {}
