// The SFU's front door for signaling code (WHIP/WHEP handlers, the channeling WebSocket): start the media
// socket, then turn client offers into answers, wiring transports, producers and consumers into rooms.

import Logging
import NIOCore
import NIOPosix

public enum SFUServiceError: Error, Equatable, Sendable {
    case notStarted
    case alreadyStarted
}

/// Where ICE-TCP (RFC 6544, for networks that block UDP) listens, if at all.
public enum IceTcpPort: Sendable, Equatable {
    case disabled
    /// The port number the UDP socket got (browsers expect one media port; firewalls need one rule).
    case sameAsUdp
    case port(Int)
}

/// One answered m-line of a subscriber connection: which producer it carries, from which publisher connection.
public struct SFUSubscribedTrack: Sendable, Equatable {
    /// The subscriber's mid.
    public var mid: String
    public var producerID: String
    /// The transport id that `publish` returned for the producer's publisher.
    public var publisherTransportID: String
    /// "audio" or "video".
    public var kind: String
}

/// A producer a subscriber connection does not receive because none of its m-lines offers a format that carries
/// the producer's codec (docs/sfu-signaling.md: reported, never sent undecodable).
public struct SFUUnsupportedTrack: Sendable, Equatable {
    public var producerID: String
    public var publisherTransportID: String
    /// The publisher's a=msid track id.
    public var trackID: String
    public var kind: String
    /// The producer's codec name as negotiated with its publisher ("H264", "VP9", ...).
    public var codec: String
}

/// The result of a subscribe offer (see `SFUService.subscription`).
public struct SFUSubscription: Sendable {
    public var transportID: String
    public var answer: String
    public var tracks: [SFUSubscribedTrack]
    public var unsupported: [SFUUnsupportedTrack]
    /// The offer came from the existing connection, which now carries `tracks` (no new transport).
    public var renegotiated: Bool
}

/// A producer of a room (one track a publisher sends).
public struct SFUProducerInfo: Sendable, Equatable {
    public var producerID: String
    /// The transport id that `publish` returned for this producer's publisher.
    public var publisherTransportID: String
    /// "audio" or "video".
    public var kind: String
    /// The publisher's mid for this track.
    public var mid: String
    /// Codec name as negotiated ("VP8", "opus").
    public var codec: String
    /// The publisher's a=msid stream and track ids.
    public var streamID: String
    public var trackID: String
}

public final class SFUService: @unchecked Sendable {
    // @unchecked: mutable state is either set once in start() before any use, or confined to `controlLoop`.
    private let logger: Logger
    private let group: EventLoopGroup
    private let ownsGroup: Bool
    private let controlLoop: EventLoop
    private let certificate: DtlsCertificate
    private var mux: UdpMux?
    private var tcpListener: IceTcpListener?
    private var announcedAddresses: [String] = []
    private var routers: [String: Router] = [:] // on controlLoop
    /// Expire transports without valid STUN for this long (RFC 7675); tests shorten it.
    public var consentTimeout: TimeAmount = IceLite.defaultConsentTimeout

    /// - Parameter eventLoopGroup: where the socket and the rooms run (rooms are spread over its loops);
    ///   by default a group of its own with `threads` loops.
    /// Called on a room's loop when its active speaker changes (room, publisher transport id, loudness 0–127).
    /// Set before `start`.
    public var onActiveSpeaker: (@Sendable (_ room: String, _ publisherTransportID: String?, _ loudness: Int) -> Void)?

    public init(logger: Logger = Logger(label: "rooms.sfu"), eventLoopGroup: EventLoopGroup? = nil, threads: Int = 1) throws {
        self.logger = logger
        if let eventLoopGroup {
            group = eventLoopGroup
            ownsGroup = false
        } else {
            group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
            ownsGroup = true
        }
        controlLoop = group.next()
        certificate = try DtlsCertificate()
    }

    /// The loops the rooms run on (in-process media sources such as the SIP bridge bind their sockets there, so
    /// that a room's packets stay on one loop).
    public var eventLoopGroup: EventLoopGroup { group }

    /// The media port actually bound (useful when 0 was asked for).
    public var port: Int? { mux?.localAddress?.port }

    /// The ICE-TCP port, when enabled.
    public var tcpPort: Int? { tcpListener?.localAddress?.port }

    /// SHA-256 fingerprint of the server's DTLS certificate.
    public var fingerprint: String { certificate.fingerprintSHA256 }

    /// Binds the UDP media socket.
    /// - Parameters:
    ///   - announcedAddresses: IPs put into host candidates (NAT 1:1: the public IP). Default: the bound host,
    ///     or every non-loopback IPv4 address when bound to the wildcard (127.0.0.1 if there is none).
    ///   - iceTcp: whether and where to accept ICE-TCP connections; their candidates follow the UDP ones.
    public func start(port: Int, host: String = "0.0.0.0", announcedAddresses: [String] = [],
                      iceTcp: IceTcpPort = .disabled) async throws {
        guard mux == nil else { throw SFUServiceError.alreadyStarted }
        // A free UDP port may be taken for TCP: then try another free one (only when any port will do).
        let attempts = port == 0 && iceTcp == .sameAsUdp ? 8 : 1
        for attempt in 1 ... attempts {
            let mux = UdpMux(eventLoop: controlLoop, logger: logger)
            try await mux.bind(host: host, port: port)
            let udpPort = mux.localAddress?.port ?? port
            do {
                switch iceTcp {
                case .disabled: break
                case .sameAsUdp: tcpListener = try await Self.listenTcp(mux: mux, host: host, port: udpPort, logger: logger)
                case .port(let tcpPort): tcpListener = try await Self.listenTcp(mux: mux, host: host, port: tcpPort, logger: logger)
                }
            } catch {
                await mux.close()
                if attempt == attempts { throw error }
                continue
            }
            self.mux = mux
            break
        }
        self.announcedAddresses = announcedAddresses.isEmpty ? Self.defaultAnnouncedAddresses(boundHost: host) : announcedAddresses
        let tcp = tcpPort.map { ", tcp \($0)" } ?? ""
        logger.info("SFU media on udp \(host):\(self.port ?? 0)\(tcp), announcing \(self.announcedAddresses)")
    }

    private static func listenTcp(mux: UdpMux, host: String, port: Int, logger: Logger) async throws -> IceTcpListener {
        let listener = IceTcpListener(mux: mux, logger: logger)
        try await listener.bind(host: host, port: port)
        return listener
    }

    /// Convenience for the common single-address case.
    public func start(port: Int, announcedAddress: String?) async throws {
        let host = announcedAddress ?? "0.0.0.0"
        try await start(port: port, host: host, announcedAddresses: announcedAddress.map { [$0] } ?? [])
    }

    public func shutdown() async {
        let routers = (try? await controlLoop.submit { Array(self.routers.values) }.get()) ?? []
        for router in routers { try? await router.eventLoop.submit { router.close() }.get() }
        await tcpListener?.close()
        await mux?.close()
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    /// The room's router, created on first use.
    public func router(for room: String) async throws -> Router {
        try await controlLoop.submit {
            if let router = self.routers[room] { return router }
            let router = Router(roomID: room, eventLoop: self.group.next(), logger: self.logger)
            if let handler = self.onActiveSpeaker {
                router.onActiveSpeaker = { transportID, loudness in handler(room, transportID, loudness) }
            }
            router.consentTimeout = self.consentTimeout
            self.routers[room] = router
            return router
        }.get()
    }

    /// Every room's router, read on the control loop that owns the table.
    func allRouters() async -> [(String, Router)] {
        (try? await controlLoop.submit { self.routers.map { ($0.key, $0.value) } }.get()) ?? []
    }

    /// Counters of the media socket.
    public func statistics() async throws -> UdpMuxStatistics {
        guard let mux else { throw SFUServiceError.notStarted }
        return try await mux.statistics()
    }

    /// Counters of the ICE-TCP listener (nil when ICE-TCP is off).
    public func tcpStatistics() async throws -> IceTcpStatistics? {
        try await tcpListener?.statistics()
    }

    /// Feedback counters of a room (NACKs answered, keyframe requests), read on its loop.
    public func statistics(room: String) async throws -> Router.Statistics {
        let router = try await router(for: room)
        return try await router.eventLoop.submit { router.statistics }.get()
    }

    // MARK: - Offer/answer

    /// A client that offers sendonly audio/video (WHIP-style). Returns its transport id and our answer.
    /// - Parameter existingID: the client's current publisher connection. When the offer comes from that connection
    ///   (same ICE ufrag and DTLS fingerprint) it is renegotiated: tracks added, removed or kept by mid, and the
    ///   returned id is the same; otherwise a new connection is made (the caller closes the old one).
    /// `participant` names who the connection belongs to, from its transport id (for the data channel relay: a
    /// participant's messages reach the others, not its own connections; default: the transport id).
    public func publish(room: String, offer: String, renegotiating existingID: String? = nil,
                        participant: (@Sendable (String) -> String)? = nil) async throws -> (transportID: String, answer: String) {
        let offerSDP = try OfferAnswer.parse(offer)
        let remote = try OfferAnswer.remoteTransport(of: offerSDP)
        let router = try await router(for: room)
        let preference = videoCodecPreference
        let (transport, answer, isNew) = try await router.eventLoop.submit { () throws -> (WebRtcTransport, String, Bool) in
            if let existing = self.renegotiable(existingID, on: router, remote: remote) {
                return (existing, try self.renegotiatePublisher(existing, offer: offerSDP, on: router, preference: preference), false)
            }
            let transport = try self.makeTransport(on: router, remote: remote, offer: offerSDP, participant: participant)
            let (answer, tracks) = try OfferAnswer.answerPublish(offerSDP, local: self.localDescription(of: transport),
                                                                 preference: preference)
            router.add(transport)
            for track in tracks { router.addProducer(Self.producer(for: track, transport: transport)) }
            return (transport, answer.serialize(), true)
        }.get()
        if isNew { try await register(transport) }
        return (transport.id, answer)
    }

    /// The video codecs publishers may use, most preferred first ([sfu] videoCodecs). Set before `start`.
    public var videoCodecPreference = VideoCodecPreference.default

    private static func producer(for track: PublishedTrack, transport: MediaTransport) -> Producer {
        Producer(id: randomID(), kind: track.kind, codec: track.codec, layers: track.layers,
                 rtxPayloadType: track.rtxPayloadType, streamID: track.streamID, trackID: track.trackID, mid: track.mid,
                 headerExtensions: track.extensionIDs, transport: transport)
    }

    /// The connection `id` when `remote` is its peer unchanged (no ICE restart, same certificate); on the router's loop.
    private func renegotiable(_ id: String?, on router: Router, remote: RemoteTransportDescription) -> WebRtcTransport? {
        guard let id, let transport = router.transport(id: id) as? WebRtcTransport, !transport.isClosed,
              transport.remoteUfrag == remote.iceUfrag,
              transport.remoteFingerprint.uppercased() == remote.fingerprint.uppercased() else { return nil }
        return transport
    }

    /// A new offer on a publisher connection: mids that stay keep their producer (same codec), new m-lines become
    /// producers, m-lines that stopped sending lose theirs.
    private func renegotiatePublisher(_ transport: WebRtcTransport, offer: SessionDescription, on router: Router,
                                      preference: VideoCodecPreference) throws -> String {
        let current = router.producers(of: transport)
        let existing = current.map {
            PublishedTrack(mid: $0.mid, kind: $0.kind, codec: $0.codec, ssrc: nil, streamID: $0.streamID, trackID: $0.trackID)
        }
        let (answer, tracks) = try OfferAnswer.answerPublish(offer, local: localDescription(of: transport),
                                                             preference: preference, existing: existing)
        for producer in current {
            let track = tracks.first { $0.mid == producer.mid }
            if track == nil || track?.codec.payloadType != producer.codec.payloadType { router.removeProducer(producer) }
        }
        let kept = router.producers(of: transport)
        for track in tracks where !kept.contains(where: { $0.mid == track.mid }) {
            router.addProducer(Self.producer(for: track, transport: transport))
        }
        return answer.serialize()
    }

    /// A client that offers recvonly transceivers (WHEP-style): each m-line gets the next producer of its kind
    /// that the room has now and whose codec it can receive.
    public func subscribe(room: String, offer: String) async throws -> (transportID: String, answer: String) {
        let result = try await subscription(room: room, offer: offer)
        return (result.transportID, result.answer)
    }

    /// `subscribe`, skipping the producers of the given publisher transports (a client's own tracks).
    public func subscribe(room: String, offer: String, excludingTransports: Set<String>,
                          participant: (@Sendable (String) -> String)? = nil) async throws
        -> (transportID: String, answer: String) {
        let result = try await subscription(room: room, offer: offer, excludingTransports: excludingTransports,
                                            participant: participant)
        return (result.transportID, result.answer)
    }

    /// Like `subscribe`, and also tells which producer (and which publisher connection) each answered m-line
    /// carries, so that signaling can tell the subscriber whose audio/video arrives on which mid.
    /// m-lines left inactive (no producer of that kind) are not listed. Producers of the publisher transports in
    /// `excludingTransports` are not offered (a client does not subscribe to itself).
    public func subscribeDetailed(room: String, offer: String, excludingTransports: Set<String> = [],
                                  participant: (@Sendable (String) -> String)? = nil) async throws
        -> (transportID: String, answer: String, tracks: [SFUSubscribedTrack]) {
        let result = try await subscription(room: room, offer: offer, excludingTransports: excludingTransports,
                                            participant: participant)
        return (result.transportID, result.answer, result.tracks)
    }

    /// The full subscription result: `subscribeDetailed` plus the producers the subscriber cannot decode and whether
    /// an existing connection was renegotiated.
    /// - Parameter existingID: the client's current subscriber connection; an offer from that connection (same ICE
    ///   ufrag and DTLS fingerprint) renegotiates it: kept mids go on uninterrupted, new producers get free m-lines.
    public func subscription(room: String, offer: String, excludingTransports: Set<String> = [],
                             renegotiating existingID: String? = nil,
                             participant: (@Sendable (String) -> String)? = nil) async throws -> SFUSubscription {
        let offerSDP = try OfferAnswer.parse(offer)
        let remote = try OfferAnswer.remoteTransport(of: offerSDP)
        let router = try await router(for: room)
        let (transport, result, isNew) = try await router.eventLoop.submit {
            () throws -> (WebRtcTransport, SFUSubscription, Bool) in
            let renegotiated = self.renegotiable(existingID, on: router, remote: remote)
            let transport = try renegotiated
                ?? self.makeTransport(on: router, remote: remote, offer: offerSDP, participant: participant)
            let producers = router.producers.filter { !excludingTransports.contains($0.transport.id) }
            let descriptions = producers.map {
                ProducerDescription(id: $0.id, kind: $0.kind, codec: $0.codec, streamID: $0.streamID, trackID: $0.trackID,
                                    headerExtensions: $0.headerExtensions)
            }
            let current = renegotiated.map { router.consumers(of: $0) } ?? []
            let existing = current.map {
                SubscribedTrack(mid: $0.mid, producerID: $0.producer.id, payloadType: $0.payloadType, ssrc: $0.ssrc, rtx: $0.rtx)
            }
            // New SSRCs must not collide with the ones kept on this connection.
            var used = Set(current.flatMap { [$0.ssrc] + ($0.rtx.map { [$0.ssrc] } ?? []) })
            let (answer, tracks, unsupported) = try OfferAnswer.negotiateSubscription(
                offerSDP, local: self.localDescription(of: transport), producers: descriptions, existing: existing,
                newSSRC: {
                    var ssrc = UInt32.random(in: 1 ... .max)
                    while used.contains(ssrc) { ssrc = UInt32.random(in: 1 ... .max) }
                    used.insert(ssrc)
                    return ssrc
                })
            if renegotiated == nil { router.add(transport) }
            // Consumers whose m-line now carries something else (or nothing) go; kept ones stay untouched.
            for consumer in current where !tracks.contains(where: {
                $0.mid == consumer.mid && $0.producerID == consumer.producer.id && $0.ssrc == consumer.ssrc
            }) {
                router.removeConsumer(consumer)
            }
            var infos: [SFUSubscribedTrack] = []
            for track in tracks {
                guard let producer = producers.first(where: { $0.id == track.producerID }) else { continue }
                if !current.contains(where: { $0.mid == track.mid && $0.producer === producer && $0.ssrc == track.ssrc }) {
                    router.addConsumer(Consumer(id: Self.randomID(), producer: producer, transport: transport, track: track))
                }
                infos.append(SFUSubscribedTrack(mid: track.mid, producerID: producer.id,
                                                publisherTransportID: producer.transport.id, kind: producer.kind.rawValue))
            }
            let skipped: [SFUUnsupportedTrack] = unsupported.compactMap { u in
                guard let producer = producers.first(where: { $0.id == u.producerID }) else { return nil }
                return SFUUnsupportedTrack(producerID: producer.id, publisherTransportID: producer.transport.id,
                                           trackID: producer.trackID, kind: producer.kind.rawValue, codec: u.codec)
            }
            let result = SFUSubscription(transportID: transport.id, answer: answer.serialize(), tracks: infos,
                                         unsupported: skipped, renegotiated: renegotiated != nil)
            return (transport, result, renegotiated == nil)
        }.get()
        if isNew { try await register(transport) }
        return result
    }

    /// Puts an in-process source (a SIP phone) into a room: its tracks become producers that subscribers receive
    /// like any peer's. Feed it with `DirectTransport.receive(rtp:)` on `transport.eventLoop`; `close()` removes it.
    public func attachDirect(room: String, tracks: [DirectTrack]) async throws -> (transport: DirectTransport, producerIDs: [String]) {
        let router = try await router(for: room)
        return try await router.eventLoop.submit {
            let transport = DirectTransport(id: Self.randomID(), eventLoop: router.eventLoop, tapsRoomAudio: false)
            let producers = router.addDirect(transport, tracks: tracks, newID: Self.randomID)
            return (transport, producers.map(\.id))
        }.get()
    }

    /// A transport that receives every peer's audio of the room (not that of other direct transports), each
    /// producer on its own SSRC in its own payload type: the input of a room mixer. Runs on the router's loop.
    public func attachAudioTap(room: String) async throws -> DirectTransport {
        let router = try await router(for: room)
        return try await router.eventLoop.submit {
            let transport = DirectTransport(id: Self.randomID(), eventLoop: router.eventLoop, tapsRoomAudio: true)
            _ = router.addDirect(transport, tracks: [], newID: Self.randomID)
            return transport
        }.get()
    }

    /// The room's producers, oldest first, with the publisher connection each came from.
    public func producers(room: String) async throws -> [SFUProducerInfo] {
        let router = try await router(for: room)
        return try await router.eventLoop.submit {
            router.producers.map {
                SFUProducerInfo(producerID: $0.id, publisherTransportID: $0.transport.id, kind: $0.kind.rawValue,
                                mid: $0.mid, codec: $0.codec.name, streamID: $0.streamID, trackID: $0.trackID)
            }
        }.get()
    }

    /// A subscriber's layer wish for one track (`trackID`: the publisher's a=msid track id) on its subscriber
    /// connection: a tile size in device pixels and/or a layer by rid or q/h/f. Returns whether the connection
    /// receives that track.
    @discardableResult
    public func setLayerPreference(room: String, transportID: String, trackID: String, maxWidth: Int?, maxHeight: Int?,
                                   layer: String? = nil) async throws -> Bool {
        let router = try await router(for: room)
        return try await router.eventLoop.submit {
            router.setLayerPreference(transportID: transportID, trackID: trackID, maxWidth: maxWidth, maxHeight: maxHeight,
                                      layerName: layer)
        }.get()
    }

    /// Ends a peer connection (the client hung up, or its session ended).
    public func closeTransport(room: String, transportID: String) async throws {
        let router = try await router(for: room)
        try await router.eventLoop.submit { router.transport(id: transportID)?.close() }.get()
    }

    // MARK: - Helpers

    private func makeTransport(on router: Router, remote: RemoteTransportDescription, offer: SessionDescription,
                               participant: ((String) -> String)?) throws -> WebRtcTransport {
        guard let mux else { throw SFUServiceError.notStarted }
        let transport = try WebRtcTransport(id: Self.randomID(), eventLoop: router.eventLoop, mux: mux, certificate: certificate,
                                            localUfrag: Self.randomIceString(8), localPassword: Self.randomIceString(24),
                                            remoteUfrag: remote.iceUfrag, remoteFingerprint: remote.fingerprint, logger: logger)
        if let participant { transport.participant = participant(transport.id) }
        if let parameters = OfferAnswer.dataChannelParameters(in: offer) { try transport.enableDataChannels(parameters) }
        return transport
    }

    private func register(_ transport: WebRtcTransport) async throws {
        guard let mux else { throw SFUServiceError.notStarted }
        try await mux.register(transport)
    }

    private func localDescription(of transport: WebRtcTransport) -> LocalTransportDescription {
        let port = mux?.localAddress?.port ?? 9
        return LocalTransportDescription(iceUfrag: transport.localUfrag, icePassword: transport.localPassword,
                                         fingerprint: certificate.fingerprintSHA256,
                                         candidates: announcedAddresses.map { ($0, port) }, tcpPort: tcpPort)
    }

    static func defaultAnnouncedAddresses(boundHost: String) -> [String] {
        guard boundHost == "0.0.0.0" || boundHost == "::" else { return [boundHost] }
        let devices = (try? System.enumerateDevices()) ?? []
        var addresses: [String] = []
        for device in devices {
            guard let address = device.address, case .v4 = address, let ip = address.ipAddress, !ip.hasPrefix("127."),
                  !addresses.contains(ip) else { continue }
            addresses.append(ip)
        }
        return addresses.isEmpty ? ["127.0.0.1"] : addresses
    }

    /// ICE ufrag/pwd characters (RFC 8839 ice-char, minus "+" and "/" to keep logs and URLs simple).
    static func randomIceString(_ length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0 ..< length).map { _ in alphabet.randomElement()! })
    }

    static func randomID() -> String {
        (0 ..< 4).map { _ in String(UInt32.random(in: 0 ... .max), radix: 16) }.joined()
    }
}
