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
        /// NACKs sent to publishers for packets lost on the way in (RTCP packets, and sequence numbers asked for,
        /// retries included), how many of those packets then arrived, and how many never did (given up on).
        public var nacksSent = 0
        public var packetsNacked = 0
        public var packetsRecovered = 0
        public var packetsGivenUp = 0
        /// Video packets found missing on the way in (each once), and those not asked for any more because a keyframe
        /// followed: lost = recovered + given up + skipped + still being asked for (of the producers still there).
        public var packetsLostUpstream = 0
        public var packetsSkippedAtKeyframe = 0
        /// Sequence numbers subscribers NACKed that the SFU was still waiting for itself (answered on arrival).
        public var repairsAwaited = 0
        /// Transport-cc feedback packets sent to publishers.
        public var transportCCFeedbackSent = 0
    }
    public internal(set) var statistics = Statistics()
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
                guard let header = try? RTPHeaderView(bytes), context.streamsBySSRC[header.ssrc]?.producer.kind == .video else { return false }
                self.ingressVideoPackets += 1
                return self.ingressVideoPackets % n == 0
            }
        }
    }

    let logger: Logger
    var contexts: [ObjectIdentifier: TransportContext] = [:]
    private(set) var producersInOrder: [Producer] = []
    private var tick: RepeatedTask?
    /// Publisher NACKs (Router+Nack): a flush queued after the current burst, the retry timer and its deadline, and
    /// the sequence-number list reused for every NACK.
    var nackFlushScheduled = false
    var nackTimer: Scheduled<Void>?
    var nackTimerDeadlineNanos: UInt64 = 0
    var nackScratch: [UInt16] = []
    private var feedbackTick: RepeatedTask?
    private var tickCount = 0

    /// A publisher SSRC: the layer of the producer it carries, as media or as its RTX repair stream.
    struct IncomingStream {
        unowned let producer: Producer
        unowned let layer: ProducerLayer
        let isRepair: Bool
    }

    /// Per-connection routing: publisher SSRCs to producer layers, subscriber SSRCs to consumers.
    final class TransportContext {
        let transport: MediaTransport
        var streamsBySSRC: [UInt32: IncomingStream] = [:]
        var producersByPayloadType: [UInt8: Producer] = [:]
        var producers: [Producer] = []
        var consumersBySSRC: [UInt32: Consumer] = [:]
        var consumers: [Consumer] = []
        /// The publisher's ids for the extensions that bind unsignalled SSRCs (BUNDLE: one id per URI), 0: none.
        var midID: UInt8 = 0
        var ridID: UInt8 = 0
        var repairedRidID: UInt8 = 0
        /// Transport-wide congestion control, when the publisher negotiated it.
        var transportCCID: UInt8 = 0
        var transportCC = TransportCCRecorder(capacity: 1)
        var lastMediaSSRC: UInt32 = 0
        /// The subscriber's latest REMB (its receive-side estimate for the whole connection), and when it last
        /// dropped: the receiver saw queues grow (overuse), see `Router.selectLayers`.
        var estimatedBitrate: Int?
        var congestedAt: NIODeadline?
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
        for layer in producer.layers {
            if let ssrc = layer.ssrc { context.streamsBySSRC[ssrc] = IncomingStream(producer: producer, layer: layer, isRepair: false) }
            if let rtx = layer.rtxSSRC { context.streamsBySSRC[rtx] = IncomingStream(producer: producer, layer: layer, isRepair: true) }
        }
        if !producer.isSimulcast { context.producersByPayloadType[producer.codec.payloadType] = producer }
        let ids = producer.headerExtensions
        if context.midID == 0 { context.midID = ids[RtpHeaderExtensionURI.mid] ?? 0 }
        if context.ridID == 0 { context.ridID = ids[RtpHeaderExtensionURI.rtpStreamID] ?? 0 }
        if context.repairedRidID == 0 { context.repairedRidID = ids[RtpHeaderExtensionURI.repairedRtpStreamID] ?? 0 }
        if context.transportCCID == 0, let id = ids[RtpHeaderExtensionURI.transportCC] {
            context.transportCCID = id
            context.transportCC = TransportCCRecorder()
        }
        producersInOrder.append(producer)
        let layers = producer.layers.map { "\($0.rid ?? "-"):\($0.ssrc.map { String($0) } ?? "?")" }.joined(separator: ",")
        logger.info("producer \(producer.id) \(producer.kind) \(producer.codec.name) layers \(layers)")
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
            let producer = Producer(id: newID(), kind: track.kind, codec: track.codec,
                                    layers: [PublishedLayer(rid: nil, ssrc: track.ssrc, rtxSSRC: nil)],
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
        selectLayers(in: context, now: .now())
    }

    /// Producers of the room, oldest first.
    public var producers: [Producer] { producersInOrder }

    /// Takes a producer out of the room's list (Router+Renegotiation).
    func removeFromRoom(_ producer: Producer) { producersInOrder.removeAll { $0 === producer } }

    func transport(id: String) -> MediaTransport? {
        contexts.values.first { $0.transport.id == id }?.transport
    }

    var transportCount: Int { contexts.count }

    // MARK: - Keyframes

    /// Sends a PLI for one layer of the producer (its own SSRC) unless one went out less than
    /// `keyframeRequestInterval` ago.
    func requestKeyframe(_ producer: Producer, layer index: Int, now: NIODeadline = .now()) {
        guard producer.kind == .video, index < producer.layers.count, producer.transport.isConnected else { return }
        let layer = producer.layers[index]
        guard let ssrc = layer.ssrc else { return }
        if let last = layer.lastKeyframeRequest, now - last < keyframeRequestInterval { return }
        layer.lastKeyframeRequest = now
        statistics.keyframeRequestsSent += 1
        let pli = RTCPPictureLossIndication(senderSSRC: producer.transport.rtcpSSRC, mediaSSRC: ssrc)
        producer.transport.sendRtcp([.pictureLossIndication(pli)])
    }

    /// A subscriber lost its picture: a keyframe of the layer it gets (or is switching to).
    func requestKeyframe(for consumer: Consumer, now: NIODeadline = .now()) {
        requestKeyframe(consumer.producer, layer: consumer.waitingForKeyframe ? consumer.targetLayer : consumer.currentLayer ?? consumer.targetLayer, now: now)
    }

    // MARK: - Timers

    private func startTimerIfNeeded() {
        guard tick == nil else { return }
        tick = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { [weak self] _ in
            self?.onTick()
        }
        feedbackTick = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: Self.transportCCInterval) { [weak self] _ in
            self?.sendTransportCCFeedback()
        }
    }

    private func onTick() {
        tickCount += 1
        let now = NIODeadline.now()
        for producer in producersInOrder {
            for layer in producer.layers { layer.bitrate.rotate() }
        }
        if tickCount % 2 == 0 {
            for context in contexts.values where !context.consumers.isEmpty { selectLayers(in: context, now: now) }
        }
        // Subscribers waiting for a keyframe (to start, or to switch layers) keep asking (rate-limited per layer).
        for producer in producersInOrder {
            for consumer in producer.consumers where consumer.waitingForKeyframe && consumer.transport.isConnected {
                requestKeyframe(producer, layer: consumer.targetLayer, now: now)
            }
        }
        statistics.packetsRecovered = producersInOrder.reduce(0) { $0 + $1.packetsRecovered }
        statistics.packetsLostUpstream = producersInOrder.reduce(0) { $0 + $1.layers.reduce(0) { $0 + $1.loss.lost } }
        statistics.packetsSkippedAtKeyframe = producersInOrder.reduce(0) { $0 + $1.layers.reduce(0) { $0 + $1.loss.skipped } }
        if tickCount % 2 == 0 { updateActiveSpeaker() }
        if tickCount % 4 == 0 {
            sendReports(now: now)
            for context in Array(contexts.values) where context.transport.consentExpired(now: now, timeout: consentTimeout) {
                logger.info("transport \(context.transport.id): no ICE consent for \(consentTimeout), closing")
                context.transport.close()
            }
        }
    }

    /// The publisher transport of the loudest audio producer over the last 500 ms (peak RFC 6464 level), or nil when
    /// nobody is above the speech threshold. `onActiveSpeaker` hears only changes.
    public var onActiveSpeaker: ((_ publisherTransportID: String?, _ loudness: Int) -> Void)?
    private var activeSpeaker: String?
    /// The current speaker's participant and loudness, for "rooms" channels that open later.
    var activeSpeakerEvent: (participant: String, loudness: Int)?
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
        let speaker = transport(id: best.id) as? WebRtcTransport
        activeSpeakerEvent = (speaker?.participant ?? best.id, best.loudness)
        sendActiveSpeakerEvent(participant: speaker?.participant ?? best.id, loudness: best.loudness)
    }

    /// Once a second: REMB and RR to publishers, SR + SDES to subscribers.
    private func sendReports(now: NIODeadline) {
        let wallClock = ntpNow()
        for context in contexts.values where context.transport.isConnected {
            var packets: [RTCPPacket] = []
            if !context.producers.isEmpty {
                var blocks: [RTCPReportBlock] = []
                for producer in context.producers {
                    for layer in producer.layers {
                        if let ssrc = layer.ssrc, let block = layer.receiveStatistics.reportBlock(ssrc: ssrc) { blocks.append(block) }
                    }
                }
                packets.append(.receiverReport(RTCPReceiverReport(ssrc: context.transport.rtcpSSRC, reports: blocks.suffix(31))))
                // REMB stays as the server's cap per publisher; with transport-cc the browser's own estimate
                // (from our feedback) decides below it.
                let ssrcs = context.producers.filter { $0.kind == .video }.flatMap { $0.layers.compactMap(\.ssrc) }
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

    func ntpNow() -> UInt64 {
        // NTP counts from 1900; the Unix epoch is 2,208,988,800 s later.
        let nanos = UInt64(NIODeadline.now().uptimeNanoseconds) // monotonic is enough for RTT/lip-sync deltas
        let seconds = nanos / 1_000_000_000 + 2_208_988_800
        let fraction = ((nanos % 1_000_000_000) << 32) / 1_000_000_000
        return seconds << 32 | fraction
    }

    func close() {
        tick?.cancel()
        tick = nil
        feedbackTick?.cancel()
        feedbackTick = nil
        nackTimer?.cancel()
        nackTimer = nil
        for context in Array(contexts.values) { context.transport.close() }
    }
}

// MARK: - RTCP from peers

extension Router: MediaTransportDelegate {
    func transport(_ transport: MediaTransport, didReceiveRtp packet: UnsafeMutableRawBufferPointer) {
        guard let context = contexts[ObjectIdentifier(transport)] else { return }
        route(packet, in: context)
    }

    func transport(_ transport: MediaTransport, didReceiveRtcp packets: [RTCPPacket]) {
        guard let context = contexts[ObjectIdentifier(transport)] else { return }
        for packet in packets {
            switch packet {
            case .nack(let nack):
                guard let consumer = context.consumersBySSRC[nack.mediaSSRC] else { break }
                statistics.nacksReceived += 1
                let answer = consumer.retransmit(nack.sequenceNumbers, nowNanos: NIODeadline.now().uptimeNanoseconds)
                statistics.packetsRetransmitted += answer.resent
                statistics.repairsAwaited += answer.awaited
            case .pictureLossIndication(let pli):
                guard let consumer = context.consumersBySSRC[pli.mediaSSRC] else { break }
                statistics.keyframeRequestsReceived += 1
                requestKeyframe(for: consumer)
            case .fullIntraRequest(let fir):
                for entry in fir.entries {
                    guard let consumer = context.consumersBySSRC[entry.ssrc] else { continue }
                    statistics.keyframeRequestsReceived += 1
                    requestKeyframe(for: consumer)
                }
            case .remb(let remb) where !context.consumers.isEmpty:
                // The subscriber's receive-side estimate for its whole connection: what layer selection spends.
                context.recordEstimate(Int(clamping: remb.bitrate), at: .now())
            case .receiverReport(let rr):
                recordRoundTrips(rr.reports, in: context)
            case .senderReport(let sr):
                recordRoundTrips(sr.reports, in: context)
            default:
                break // SDES/BYE, transport-cc from subscribers (not negotiated): nothing to act on
            }
        }
    }

    /// RFC 3550 §6.4.1: RTT = arrival − LSR − DLSR, all in 1/65536 s (the middle 32 bits of NTP time).
    private func recordRoundTrips(_ blocks: [RTCPReportBlock], in context: TransportContext) {
        let now = UInt32(truncatingIfNeeded: ntpNow() >> 16)
        for block in blocks {
            guard let consumer = context.consumersBySSRC[block.ssrc] else { continue }
            if consumer.producer.kind == .video { context.recordLoss(fraction: block.fractionLost, at: .now()) }
            guard block.lastSenderReport != 0 else { continue }
            let rtt = now &- block.lastSenderReport &- block.delaySinceLastSenderReport
            guard rtt < 0x8000_0000 else { continue } // clock went "backwards": a stale or bogus report
            consumer.roundTripMicros = Int(UInt64(rtt) * 1_000_000 >> 16)
        }
    }

    func transportDidConnect(_ transport: MediaTransport) {
        guard let context = contexts[ObjectIdentifier(transport)] else { return }
        logger.info("transport \(transport.id) connected")
        for consumer in context.consumers { requestKeyframe(for: consumer) }
    }

    func transportDidClose(_ transport: MediaTransport) {
        guard let context = contexts.removeValue(forKey: ObjectIdentifier(transport)) else { return }
        if transport.id == activeSpeaker { activeSpeakerEvent = nil }
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
