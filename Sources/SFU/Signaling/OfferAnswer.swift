// SDP offer/answer for the SFU's two kinds of peer connection. Both are answers to the client's offer
// (the client is the ICE-controlling side and offers setup:actpass; we answer ice-lite + setup:passive):
// - publish: the client offers sendonly audio/video, we answer recvonly;
// - subscribe: the client offers recvonly transceivers, we answer sendonly with one producer per m-line.
// Codecs: Opus; VP8, VP9, H.264, AV1 (CodecNegotiation: the publisher's by preference, a subscriber's matching it).
// Renegotiation: an offer on an existing connection (same ICE/DTLS) is answered against what that connection
// already carries: mids keep their producers (publish) or consumers (subscribe) with the same payload types and SSRCs;
// new m-lines get new ones; m-lines that went away or inactive drop theirs. Header extensions: MID on both kinds, audio level on audio, abs-send-time on video, ids as
// the offer chose them (Consumer re-keys them per subscriber); from publishers also transport-wide-cc (we send its
// feedback) and rid/repaired-rid (simulcast); never extmap-allow-mixed.
// Simulcast from publishers: a=rid send + a=simulcast:send are answered with recv (layers ordered lowest first), or
// a=ssrc-group:SIM names the layers' SSRCs. Subscribers get one stream per track (the SFU picks the layer).
// RTX: accepted from publishers (one repair SSRC per layer); answered on subscriber video m-lines that offer it,
// with our own RTX SSRC in an a=ssrc-group:FID.
// Data channels: the first m=application section for webrtc-datachannel (RFC 8841, or legacy sctpmap) is answered
// with our sctp-port and max-message-size, in the BUNDLE; later ones are rejected.
// Pure functions over SessionDescription: no I/O, no transport state.

/// Why an offer cannot be answered.
public enum NegotiationError: Error, Equatable, Sendable {
    case unparsableOffer(String)
    case missingIceCredentials
    case missingSHA256Fingerprint
    /// The offer has several m-lines but no BUNDLE group: we terminate exactly one 5-tuple per connection.
    case bundleRequired
    case noAcceptableMedia
}


/// Our side of a connection, as the answer announces it.
struct LocalTransportDescription {
    var iceUfrag: String
    var icePassword: String
    /// SHA-256 fingerprint of our DTLS certificate, "AB:CD:..." form.
    var fingerprint: String
    /// One UDP host candidate each.
    var candidates: [(address: String, port: Int)]
    /// With ICE-TCP: a passive TCP host candidate on this port for each address too.
    var tcpPort: Int? = nil
}

/// What the client's offer tells about its own transport.
struct RemoteTransportDescription: Equatable {
    var iceUfrag: String
    var icePassword: String
    var fingerprint: String
}

/// A track the publisher sends, from one accepted m-line of its offer.
struct PublishedTrack: Equatable {
    var mid: String
    var kind: MediaKind
    var codec: RtpCodec
    /// The media SSRC of a single-layer track (nil with rid simulcast: learned from packets).
    var ssrc: UInt32?
    var streamID: String
    var trackID: String
    /// Negotiated header extensions: URI -> the publisher's id.
    var extensionIDs: [String: UInt8] = [:]
    /// Lowest resolution first; one entry without simulcast.
    var layers: [PublishedLayer] = []
    /// The publisher's RTX payload type for `codec`, when accepted.
    var rtxPayloadType: UInt8?
}

/// What a subscriber's m-line needs to describe a producer.
struct ProducerDescription {
    var id: String
    var kind: MediaKind
    var codec: RtpCodec
    var streamID: String
    var trackID: String
    /// The header extensions the producer's packets carry: URI -> the publisher's id.
    var headerExtensions: [String: UInt8] = [:]
}

/// A producer assigned to one m-line of a subscriber's offer.
struct SubscribedTrack: Equatable {
    var mid: String
    var producerID: String
    /// The subscriber's payload type for the producer's codec.
    var payloadType: UInt8
    var ssrc: UInt32
    /// Negotiated header extensions: URI -> the subscriber's id.
    var extensionIDs: [String: UInt8] = [:]
    /// RFC 4588 retransmissions, when the subscriber offered rtx for the codec: its payload type and our SSRC
    /// (announced with a=ssrc-group:FID). NACKs are then answered on this stream.
    var rtx: (payloadType: UInt8, ssrc: UInt32)?

    static func == (a: SubscribedTrack, b: SubscribedTrack) -> Bool {
        a.mid == b.mid && a.producerID == b.producerID && a.payloadType == b.payloadType && a.ssrc == b.ssrc
            && a.extensionIDs == b.extensionIDs && a.rtx?.payloadType == b.rtx?.payloadType && a.rtx?.ssrc == b.rtx?.ssrc
    }
}

/// RTP header extensions (RFC 8285) the SFU negotiates. Ids are per connection: forwarding maps them.
public enum RtpHeaderExtensionURI {
    /// RFC 8843 §15: the m-line a packet belongs to; Chrome needs it (or a=ssrc) to demux a BUNDLE.
    public static let mid = "urn:ietf:params:rtp-hdrext:sdes:mid"
    /// RFC 6464: audio level and voice activity, for active-speaker detection (and forwarded to subscribers).
    public static let audioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
    /// Send time for receive-side bandwidth estimation (REMB); forwarded as the publisher stamped it.
    public static let absSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    /// Transport-wide sequence numbers: we answer them with transport-cc feedback (publishers only).
    public static let transportCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    /// RFC 8852: the rid of a simulcast layer, and of the layer an RTX packet repairs; bind unsignalled SSRCs.
    public static let rtpStreamID = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
    public static let repairedRtpStreamID = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"

    /// What we accept on an m-line of `kind`. Towards subscribers not transport-wide-cc (we would have to evaluate
    /// their feedback; their REMB is the estimate) and not the rids (one stream each).
    static func supported(for kind: MediaKind, publishing: Bool = false) -> [String] {
        switch (kind, publishing) {
        case (.audio, false): return [mid, audioLevel]
        case (.video, false): return [mid, absSendTime]
        case (.audio, true): return [mid, audioLevel, transportCC]
        case (.video, true): return [mid, absSendTime, transportCC, rtpStreamID, repairedRtpStreamID]
        }
    }
}

enum OfferAnswer {
    /// Formats the SFU forwards (see CodecNegotiation).
    static func isSupported(_ codec: SDPCodec, kind: MediaKind) -> Bool { CodecNegotiation.isForwardable(codec, kind: kind) }

    /// RTCP feedback we act on: NACK (answered from the cache), PLI/FIR (forwarded upstream), REMB (sent to
    /// publishers, read from subscribers), transport-cc (sent to publishers).
    static func isSupported(_ feedback: SDPRtcpFeedback, publishing: Bool) -> Bool {
        switch (feedback.type, feedback.subtype) {
        case ("nack", nil), ("nack", "pli"), ("ccm", "fir"), ("goog-remb", nil): return true
        case ("transport-cc", nil): return publishing
        default: return false
        }
    }

    static let cname = "rooms-sfu"

    static func parse(_ sdp: String) throws -> SessionDescription {
        do { return try SessionDescription.parse(sdp) } catch { throw NegotiationError.unparsableOffer("\(error)") }
    }

    /// ICE credentials and the SHA-256 fingerprint of the first m-line (BUNDLE: all m-lines share them).
    static func remoteTransport(of offer: SessionDescription) throws -> RemoteTransportDescription {
        guard let first = offer.media.first else { throw NegotiationError.noAcceptableMedia }
        guard offer.media.count == 1 || !offer.bundleMids.isEmpty else { throw NegotiationError.bundleRequired }
        guard let ice = offer.iceCredentials(of: first) else { throw NegotiationError.missingIceCredentials }
        // Peers may list several hash functions (aiortc: sha-256, -384, -512); DtlsEndpoint checks SHA-256.
        let fingerprints = (first.attributes + offer.sessionAttributes).compactMap { attribute -> SDPFingerprint? in
            if case .fingerprint(let f) = attribute { return f } else { return nil }
        }
        guard let sha256 = fingerprints.first(where: { $0.hashFunction.lowercased() == "sha-256" }) else {
            throw NegotiationError.missingSHA256Fingerprint
        }
        return RemoteTransportDescription(iceUfrag: ice.ufrag, icePassword: ice.pwd, fingerprint: sha256.value)
    }

    // MARK: - Publish

    /// - Parameter existing: on renegotiation, the tracks the connection carries now: a mid that stays keeps its codec.
    static func answerPublish(_ offer: SessionDescription, local: LocalTransportDescription,
                              preference: VideoCodecPreference = .default, existing: [PublishedTrack] = [])
        throws -> (answer: SessionDescription, tracks: [PublishedTrack]) {
        var sections: [SDPMediaSection] = []
        var tracks: [PublishedTrack] = []
        let dataIndex = dataChannelSectionIndex(in: offer)
        for (index, offered) in offer.media.enumerated() {
            let mid = offered.mid ?? String(index)
            if index == dataIndex {
                sections.append(dataChannelSection(for: offered, mid: mid, local: local))
                continue
            }
            let kept = existing.first { $0.mid == mid }
            guard let kind = MediaKind(rawValue: offered.kind), offered.isOffered,
                  offered.direction == .sendonly || offered.direction == .sendrecv,
                  let codec = kept.flatMap({ k in offered.codecs.first { $0.payloadType == k.codec.payloadType && isSupported($0, kind: kind) } })
                    ?? CodecNegotiation.publisherCodec(in: offered.codecs, kind: kind, preference: preference) else {
                // A transceiver paused by the client (inactive): answered inactive, kept in the bundle, so that
                // the client can send on it again with the next offer. Anything else unusable is rejected.
                if let kind = MediaKind(rawValue: offered.kind), offered.isOffered, offered.direction == .inactive,
                   let codec = CodecNegotiation.publisherCodec(in: offered.codecs, kind: kind, preference: preference) {
                    sections.append(section(for: offered, mid: mid, codec: rtpCodec(codec, publishing: true),
                                            direction: .inactive, local: local, extraLines: []))
                } else {
                    sections.append(rejected(offered))
                }
                continue
            }
            let negotiated = rtpCodec(codec, publishing: true)
            let extmaps = acceptedExtensions(of: offered, kind: kind,
                                             among: RtpHeaderExtensionURI.supported(for: kind, publishing: true))
            let ids = extensionIDs(extmaps)
            let rtx = kind == .video ? rtxCodec(in: offered, for: negotiated) : nil
            let simulcast = ids[RtpHeaderExtensionURI.rtpStreamID] != nil ? Simulcast.offered(in: offered) : nil
            sections.append(section(for: offered, mid: mid, codec: negotiated, direction: .recvonly, local: local,
                                    extmaps: extmaps, rtx: rtx, extraLines: simulcast?.answerLines ?? []))
            let msid = offered.msid
            let ssrc = simulcast == nil ? primarySSRC(of: offered) : nil
            let msidFromSSRC = offered.ssrcAttributes.first { $0.attribute == "msid" && $0.ssrc == (ssrc ?? offered.ssrcs.first) }?
                .value?.split(separator: " ").map(String.init)
            let layers = simulcast.map { $0.orderedRids.map { PublishedLayer(rid: $0) } }
                ?? Simulcast.ssrcLayers(of: offered)
                ?? [PublishedLayer(ssrc: ssrc, rtxSSRC: ssrc.flatMap { repairSSRC(of: $0, in: offered) })]
            tracks.append(PublishedTrack(mid: mid, kind: kind, codec: negotiated, ssrc: ssrc,
                                         streamID: msid?.streamID ?? msidFromSSRC?.first ?? "rooms",
                                         trackID: msid?.trackID ?? msidFromSSRC?.last ?? "\(kind.rawValue)-\(mid)",
                                         extensionIDs: ids, layers: layers, rtxPayloadType: rtx?.payloadType))
        }
        // Paused (inactive) m-lines or a data channel alone are fine (a renegotiation, a data-only peer); nothing
        // usable at all is not.
        guard sections.contains(where: { $0.port != 0 }) else { throw NegotiationError.noAcceptableMedia }
        return (answer(sections), tracks)
    }

    /// The media SSRC of a sendonly m-line: the first SSRC that is not the repair half of an FID group.
    static func primarySSRC(of section: SDPMediaSection) -> UInt32? {
        let repair = Set(section.ssrcGroups.filter { $0.semantics == "FID" }.compactMap { $0.ssrcs.dropFirst().first })
        return section.ssrcs.first { !repair.contains($0) }
    }

    /// The repair SSRC paired with `ssrc` by a=ssrc-group:FID.
    static func repairSSRC(of ssrc: UInt32, in section: SDPMediaSection) -> UInt32? {
        section.ssrcGroups.first { $0.semantics == "FID" && $0.ssrcs.first == ssrc && $0.ssrcs.count == 2 }?.ssrcs[1]
    }

    /// The offered RTX format that repairs `codec` (apt=), if any.
    static func rtxCodec(in section: SDPMediaSection, for codec: RtpCodec) -> SDPCodec? {
        section.codecs.first { $0.associatedPayloadType == codec.payloadType && $0.clockRate == codec.clockRate }
    }

    // MARK: - Subscribe

    /// A producer a subscriber's offer could not receive: none of its m-lines of that kind offers a format that
    /// carries the producer's codec (e.g. H.264 to a VP8-only client). It is left out rather than sent undecodable.
    struct UnsupportedProducer: Equatable {
        var producerID: String
        var codec: String
    }

    /// Assigns producers, oldest first, to the offer's recvonly m-lines of the same kind and a compatible codec.
    static func answerSubscribe(_ offer: SessionDescription, local: LocalTransportDescription, producers: [ProducerDescription],
                                newSSRC: () -> UInt32) throws -> (answer: SessionDescription, tracks: [SubscribedTrack]) {
        let result = try negotiateSubscription(offer, local: local, producers: producers, newSSRC: newSSRC)
        return (result.answer, result.tracks)
    }

    /// - Parameter existing: on renegotiation, the m-lines the connection carries now. One whose mid is offered
    ///   recvonly again and whose producer is still in `producers` keeps its payload type, SSRCs and extensions; the
    ///   other producers go to free m-lines (new ones, or ones reused after their producer left).
    static func negotiateSubscription(_ offer: SessionDescription, local: LocalTransportDescription,
                                      producers: [ProducerDescription], existing: [SubscribedTrack] = [],
                                      newSSRC: () -> UInt32)
        throws -> (answer: SessionDescription, tracks: [SubscribedTrack], unsupported: [UnsupportedProducer]) {
        var sections: [SDPMediaSection?] = Array(repeating: nil, count: offer.media.count)
        var tracks: [(index: Int, track: SubscribedTrack)] = []
        var free: [Int] = []
        var unassigned = producers
        let dataIndex = dataChannelSectionIndex(in: offer)
        // Kept m-lines first, so that new producers cannot take them.
        for (index, offered) in offer.media.enumerated() {
            let mid = offered.mid ?? String(index)
            if index == dataIndex {
                sections[index] = dataChannelSection(for: offered, mid: mid, local: local)
                continue
            }
            guard let kind = MediaKind(rawValue: offered.kind), offered.isOffered else {
                sections[index] = rejected(offered)
                continue
            }
            guard offered.direction == .recvonly || offered.direction == .sendrecv else {
                // A transceiver the client paused (inactive): kept in the bundle, inactive, reusable later. A
                // sendonly m-line has no place on a subscriber connection: rejected.
                let codec = offered.codecs.first { isSupported($0, kind: kind) }.map { rtpCodec($0, publishing: false) }
                sections[index] = offered.direction == .inactive
                    ? codec.map { section(for: offered, mid: mid, codec: $0, direction: .inactive, local: local,
                                          extraLines: []) } ?? rejected(offered)
                    : rejected(offered)
                continue
            }
            if let old = existing.first(where: { $0.mid == mid }),
               let producerIndex = unassigned.firstIndex(where: { $0.id == old.producerID && $0.kind == kind }),
               let codec = offered.codecs.first(where: { $0.payloadType == old.payloadType }).map({ rtpCodec($0, publishing: false) }) {
                let producer = unassigned.remove(at: producerIndex)
                let built = sendingSection(for: offered, mid: mid, kind: kind, codec: codec, producer: producer,
                                           local: local, ssrc: old.ssrc, rtx: old.rtx, newSSRC: newSSRC)
                sections[index] = built.0
                tracks.append((index, built.1))
            } else {
                free.append(index)
            }
        }
        var unsupported: [UnsupportedProducer] = []
        for index in free {
            let offered = offer.media[index]
            let mid = offered.mid ?? String(index)
            let kind = MediaKind(rawValue: offered.kind)!
            let offeredCodecs = offered.codecs.filter { isSupported($0, kind: kind) }
            var match: (Int, RtpCodec)?
            for (i, producer) in unassigned.enumerated() where producer.kind == kind {
                if let codec = CodecNegotiation.subscriberFormat(for: producer.codec, among: offeredCodecs) {
                    match = (i, rtpCodec(codec, publishing: false))
                    break
                }
            }
            guard let (producerIndex, codec) = match else {
                // Nothing to send on this m-line (yet): keep it in the bundle, inactive.
                if let codec = offeredCodecs.first.map({ rtpCodec($0, publishing: false) }) {
                    sections[index] = section(for: offered, mid: mid, codec: codec, direction: .inactive, local: local,
                                              extmaps: [], extraLines: [])
                } else {
                    sections[index] = rejected(offered)
                }
                continue
            }
            let producer = unassigned.remove(at: producerIndex)
            let built = sendingSection(for: offered, mid: mid, kind: kind, codec: codec, producer: producer,
                                       local: local, ssrc: newSSRC(), rtx: nil, newSSRC: newSSRC)
            sections[index] = built.0
            tracks.append((index, built.1))
        }
        // Producers no offered m-line of their kind could carry (a codec the subscriber lacks).
        for producer in unassigned {
            let sameKind = offer.media.filter { MediaKind(rawValue: $0.kind) == producer.kind && $0.isOffered }
            guard !sameKind.isEmpty, !sameKind.contains(where: { m in
                m.codecs.contains { isSupported($0, kind: producer.kind) && CodecNegotiation.canCarry(producer.codec, in: $0) }
            }) else { continue }
            unsupported.append(UnsupportedProducer(producerID: producer.id, codec: producer.codec.name))
        }
        let answered = sections.compactMap { $0 }
        guard answered.contains(where: { $0.port != 0 }) else { throw NegotiationError.noAcceptableMedia }
        return (answer(answered), tracks.sorted { $0.index < $1.index }.map(\.track), unsupported)
    }

    /// A sendonly m-line carrying `producer` in the subscriber's `codec`. `rtx`: keep these RTX settings (a kept
    /// m-line); otherwise RTX goes with a new SSRC when the subscriber offered it for the codec (Chrome does).
    private static func sendingSection(for offered: SDPMediaSection, mid: String, kind: MediaKind, codec: RtpCodec,
                                       producer: ProducerDescription, local: LocalTransportDescription, ssrc: UInt32,
                                       rtx kept: (payloadType: UInt8, ssrc: UInt32)?, newSSRC: () -> UInt32)
        -> (SDPMediaSection, SubscribedTrack) {
        let msid = "\(producer.streamID) \(producer.trackID)"
        let repair = kind == .video ? rtxCodec(in: offered, for: codec) : nil
        let rtx = repair.map { (payloadType: $0.payloadType, ssrc: kept?.ssrc ?? newSSRC()) }
        var lines: [SDPLine] = [.attribute(.msid(SDPMsid(streamID: producer.streamID, trackID: producer.trackID)))]
        if let rtx { lines.append(.attribute(.ssrcGroup(SDPSsrcGroup(semantics: "FID", ssrcs: [ssrc, rtx.ssrc])))) }
        for s in [ssrc] + (rtx.map { [$0.ssrc] } ?? []) {
            lines.append(.attribute(.ssrc(SDPSsrcAttribute(ssrc: s, attribute: "cname", value: cname))))
            lines.append(.attribute(.ssrc(SDPSsrcAttribute(ssrc: s, attribute: "msid", value: msid))))
        }
        // MID always (the subscriber's demux); the others only when the producer's packets carry them.
        let wanted = RtpHeaderExtensionURI.supported(for: kind).filter {
            $0 == RtpHeaderExtensionURI.mid || producer.headerExtensions[$0] != nil
        }
        let extmaps = acceptedExtensions(of: offered, kind: kind, among: wanted)
        let built = section(for: offered, mid: mid, codec: codec, direction: .sendonly, local: local,
                            extmaps: extmaps, rtx: repair, extraLines: lines)
        return (built, SubscribedTrack(mid: mid, producerID: producer.id, payloadType: codec.payloadType, ssrc: ssrc,
                                         extensionIDs: extensionIDs(extmaps), rtx: rtx))
    }

    // MARK: - Data channels (RFC 8841)

    /// Our a=max-message-size: the largest data channel message we accept.
    static let maxMessageSize = DataChannelSession.maxMessageSize

    /// The index of the offer's first usable data channel section: `m=application <port> UDP/DTLS/SCTP
    /// webrtc-datachannel` (or TCP/DTLS/SCTP), or the legacy `m=application <port> DTLS/SCTP <sctp port>` with
    /// `a=sctpmap:<sctp port> webrtc-datachannel`. Further ones are rejected (one association per connection).
    static func dataChannelSectionIndex(in offer: SessionDescription) -> Int? {
        offer.media.firstIndex { dataChannelParameters(of: $0) != nil }
    }

    /// What the offer's data channel section says (nil when it has none we accept).
    static func dataChannelParameters(in offer: SessionDescription) -> DataChannelParameters? {
        dataChannelSectionIndex(in: offer).flatMap { dataChannelParameters(of: offer.media[$0]) }
    }

    static func dataChannelParameters(of section: SDPMediaSection) -> DataChannelParameters? {
        guard section.kind == "application", section.isOffered else { return nil }
        var port: Int?
        if isLegacySctp(section) {
            // a=sctpmap:5000 webrtc-datachannel 1024: the m-line's format is the SCTP port.
            guard let format = section.formats.first, let p = Int(format),
                  section.attributes.contains(where: {
                      if case .other(name: "sctpmap", value: let v) = $0 { return v.hasPrefix("\(format) webrtc-datachannel") } else { return false }
                  }) else { return nil }
            port = p
        } else {
            guard section.proto == "UDP/DTLS/SCTP" || section.proto == "TCP/DTLS/SCTP",
                  section.formats == ["webrtc-datachannel"] else { return nil }
            port = section.attributes.lazy.compactMap { if case .sctpPort(let p) = $0 { return p } else { return nil } }.first
                ?? Int(SctpAssociation.defaultPort)
        }
        guard let port, (1 ... 65_535).contains(port) else { return nil }
        // RFC 8841 §6: absent means 64 KiB; 0 means "any size" (we still cap what we send at our own limit).
        let offered = section.attributes.lazy.compactMap { if case .maxMessageSize(let m) = $0 { return m } else { return nil } }.first
        let remoteMax = offered.map { $0 == 0 ? maxMessageSize : min($0, maxMessageSize) } ?? 65_536
        return DataChannelParameters(remotePort: UInt16(port), remoteMaxMessageSize: remoteMax)
    }

    static func isLegacySctp(_ section: SDPMediaSection) -> Bool { section.proto == "DTLS/SCTP" }

    /// What every answered m-line carries about our side of the bundle: address, ICE credentials, certificate
    /// fingerprint, DTLS role (always passive: we are ICE-lite) and its mid.
    static func transportLines(_ local: LocalTransportDescription, mid: String) -> [SDPLine] {
        let address = local.candidates.first?.address ?? "0.0.0.0"
        return [
            .field(type: "c", value: "IN \(address.contains(":") ? "IP6" : "IP4") \(address)"),
            .attribute(.iceUfrag(local.iceUfrag)),
            .attribute(.icePwd(local.icePassword)),
            .attribute(.fingerprint(SDPFingerprint(hashFunction: "sha-256", value: local.fingerprint))),
            .attribute(.setup(.passive)),
            .attribute(.mid(mid)),
        ]
    }

    /// Our data channel section, in the offer's syntax (modern or legacy sctpmap), port 5000 on our side.
    static func dataChannelSection(for offered: SDPMediaSection, mid: String, local: LocalTransportDescription) -> SDPMediaSection {
        let port = local.candidates.first?.port ?? 9
        let sctpPort = Int(SctpAssociation.defaultPort)
        var lines = transportLines(local, mid: mid)
        let legacy = isLegacySctp(offered)
        if legacy {
            lines.append(.attribute(.other(name: "sctpmap", value: "\(sctpPort) webrtc-datachannel \(SctpAssociation.streams)")))
        } else {
            lines.append(.attribute(.sctpPort(sctpPort)))
        }
        lines.append(.attribute(.maxMessageSize(maxMessageSize)))
        lines += hostCandidates(local).map { .attribute(.candidate($0)) }
        lines.append(.attribute(.endOfCandidates))
        return SDPMediaSection(kind: "application", port: port, proto: offered.proto,
                               formats: legacy ? [String(sctpPort)] : ["webrtc-datachannel"], lines: lines)
    }

    // MARK: - Building the answer

    static func rtpCodec(_ codec: SDPCodec, publishing: Bool) -> RtpCodec {
        // Feedback lines are re-keyed to the payload type: a "*" in the offer becomes explicit in the answer.
        let feedback = codec.feedback.filter { isSupported($0, publishing: publishing) }.map {
            SDPRtcpFeedback(payloadType: String(codec.payloadType), type: $0.type, subtype: $0.subtype)
        }
        return RtpCodec(payloadType: codec.payloadType, name: codec.name, clockRate: codec.clockRate,
                        channels: codec.channels, fmtp: codec.fmtp, feedback: feedback)
    }

    /// The offered extmaps whose URI is in `uris`, ids kept (the offerer chose them). Only one-byte ids (1...14):
    /// we do not answer extmap-allow-mixed, so two-byte elements are not allowed on the wire.
    static func acceptedExtensions(of offered: SDPMediaSection, kind: MediaKind, among uris: [String]) -> [SDPExtmap] {
        var seen = Set<String>()
        return offered.extmaps.compactMap { extmap in
            guard uris.contains(extmap.uri), (1 ... 14).contains(extmap.id), !seen.contains(extmap.uri) else { return nil }
            if let direction = extmap.direction, direction == .inactive { return nil }
            seen.insert(extmap.uri)
            return SDPExtmap(id: extmap.id, uri: extmap.uri)
        }
    }

    static func extensionIDs(_ extmaps: [SDPExtmap]) -> [String: UInt8] {
        var ids: [String: UInt8] = [:]
        for extmap in extmaps { ids[extmap.uri] = UInt8(extmap.id) }
        return ids
    }

    static func section(for offered: SDPMediaSection, mid: String, codec: RtpCodec, direction: SDPDirection,
                        local: LocalTransportDescription, extmaps: [SDPExtmap] = [], rtx: SDPCodec? = nil,
                        extraLines: [SDPLine]) -> SDPMediaSection {
        let port = local.candidates.first?.port ?? 9
        var lines = transportLines(local, mid: mid) + [.attribute(.direction(direction)), .attribute(.rtcpMux)]
        if offered.has(.rtcpRsize) { lines.append(.attribute(.rtcpRsize)) }
        lines += extmaps.map { .attribute(.extmap($0)) }
        lines.append(.attribute(.rtpmap(SDPRtpMap(payloadType: codec.payloadType, name: codec.name,
                                                   clockRate: codec.clockRate, channels: codec.channels))))
        if !codec.fmtp.isEmpty { lines.append(.attribute(.fmtp(SDPFmtp(payloadType: codec.payloadType, format: codec.fmtp)))) }
        lines += codec.feedback.map { .attribute(.rtcpFeedback($0)) }
        if let rtx {
            lines.append(.attribute(.rtpmap(SDPRtpMap(payloadType: rtx.payloadType, name: rtx.name, clockRate: rtx.clockRate))))
            lines.append(.attribute(.fmtp(SDPFmtp(payloadType: rtx.payloadType, format: "apt=\(codec.payloadType)"))))
        }
        lines += extraLines
        lines += hostCandidates(local).map { .attribute(.candidate($0)) }
        lines.append(.attribute(.endOfCandidates))
        return SDPMediaSection(kind: offered.kind, port: port, proto: offered.proto,
                               formats: [String(codec.payloadType)] + (rtx.map { [String($0.payloadType)] } ?? []),
                               lines: lines)
    }

    /// Host candidates only: UDP first, then (ICE-TCP) passive TCP on the same addresses. Priorities follow
    /// RFC 8445 §5.1.2.1 with descending local preference per address; TCP gets the type preference browsers give
    /// their own TCP host candidates (90 < 126), so every TCP pair ranks below every UDP pair and is used only when
    /// UDP fails. The TCP local preference is RFC 6544 §4.2's: direction (passive: 4) << 13 plus the address rank.
    static func hostCandidates(_ local: LocalTransportDescription) -> [SDPCandidate] {
        var candidates: [SDPCandidate] = []
        for (i, candidate) in local.candidates.enumerated() {
            let priority = UInt32(126) << 24 | UInt32(65_535 - i) << 8 | 255
            candidates.append(SDPCandidate(foundation: "\(i + 1)", component: 1, transport: "udp", priority: priority,
                                           address: candidate.address, port: UInt16(candidate.port), type: "host"))
        }
        guard let tcpPort = local.tcpPort else { return candidates }
        for (i, candidate) in local.candidates.enumerated() {
            let priority = UInt32(90) << 24 | UInt32((4 << 13) + 8_191 - i) << 8 | 255
            candidates.append(SDPCandidate(foundation: "\(local.candidates.count + i + 1)", component: 1, transport: "tcp",
                                           priority: priority, address: candidate.address, port: UInt16(tcpPort),
                                           type: "host", tcpType: "passive"))
        }
        return candidates
    }

    /// RFC 8843 §7.3.3: a rejected m-line has port 0 and is left out of the BUNDLE group.
    static func rejected(_ offered: SDPMediaSection) -> SDPMediaSection {
        var lines: [SDPLine] = [.field(type: "c", value: "IN IP4 0.0.0.0")]
        if let mid = offered.mid { lines.append(.attribute(.mid(mid))) }
        lines.append(.attribute(.direction(.inactive)))
        return SDPMediaSection(kind: offered.kind, port: 0, proto: offered.proto, formats: Array(offered.formats.prefix(1)),
                               lines: lines)
    }

    static func answer(_ sections: [SDPMediaSection]) -> SessionDescription {
        let sessionID = UInt64.random(in: 1 ... (1 << 62))
        let mids = sections.filter { $0.port != 0 }.compactMap(\.mid)
        return SessionDescription(sessionLines: [
            .field(type: "o", value: "rooms-sfu \(sessionID) 2 IN IP4 0.0.0.0"),
            .field(type: "s", value: "-"),
            .field(type: "t", value: "0 0"),
            .attribute(.iceLite),
            .attribute(.group(SDPGroup(semantics: "BUNDLE", mids: mids))),
            .attribute(.other(name: "msid-semantic", value: " WMS *")),
        ], media: sections)
    }
}
