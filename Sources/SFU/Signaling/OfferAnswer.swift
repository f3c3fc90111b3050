// SDP offer/answer for the SFU's two kinds of peer connection. Both are answers to the client's offer
// (the client is the ICE-controlling side and offers setup:actpass; we answer ice-lite + setup:passive):
// - publish: the client offers sendonly audio/video, we answer recvonly;
// - subscribe: the client offers recvonly transceivers, we answer sendonly with one producer per m-line.
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
    var ssrc: UInt32?
    var streamID: String
    var trackID: String
}

/// What a subscriber's m-line needs to describe a producer.
struct ProducerDescription {
    var id: String
    var kind: MediaKind
    var codec: RtpCodec
    var streamID: String
    var trackID: String
}

/// A producer assigned to one m-line of a subscriber's offer.
struct SubscribedTrack: Equatable {
    var mid: String
    var producerID: String
    /// The subscriber's payload type for the producer's codec.
    var payloadType: UInt8
    var ssrc: UInt32
}

enum OfferAnswer {
    /// Formats this slice forwards (matched by name and clock rate; Opus must be stereo-signalled).
    static func isSupported(_ codec: SDPCodec, kind: MediaKind) -> Bool {
        switch kind {
        case .audio: return codec.name.lowercased() == "opus" && codec.clockRate == 48_000 && codec.channels == 2
        case .video: return codec.name.lowercased() == "vp8" && codec.clockRate == 90_000
        }
    }

    /// RTCP feedback we act on: NACK (answered from the cache), PLI/FIR (forwarded upstream), REMB (sent).
    static func isSupported(_ feedback: SDPRtcpFeedback) -> Bool {
        switch (feedback.type, feedback.subtype) {
        case ("nack", nil), ("nack", "pli"), ("ccm", "fir"), ("goog-remb", nil): return true
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

    static func answerPublish(_ offer: SessionDescription, local: LocalTransportDescription)
        throws -> (answer: SessionDescription, tracks: [PublishedTrack]) {
        var sections: [SDPMediaSection] = []
        var tracks: [PublishedTrack] = []
        for (index, offered) in offer.media.enumerated() {
            let mid = offered.mid ?? String(index)
            guard let kind = MediaKind(rawValue: offered.kind), offered.port != 0,
                  offered.direction == .sendonly || offered.direction == .sendrecv,
                  let codec = offered.codecs.first(where: { isSupported($0, kind: kind) }) else {
                sections.append(rejected(offered))
                continue
            }
            let negotiated = rtpCodec(codec)
            sections.append(section(for: offered, mid: mid, codec: negotiated, direction: .recvonly, local: local,
                                    extraLines: []))
            let msid = offered.msid
            let ssrc = primarySSRC(of: offered)
            let msidFromSSRC = offered.ssrcAttributes.first { $0.attribute == "msid" && $0.ssrc == ssrc }?.value?
                .split(separator: " ").map(String.init)
            tracks.append(PublishedTrack(mid: mid, kind: kind, codec: negotiated, ssrc: ssrc,
                                         streamID: msid?.streamID ?? msidFromSSRC?.first ?? "rooms",
                                         trackID: msid?.trackID ?? msidFromSSRC?.last ?? "\(kind.rawValue)-\(mid)"))
        }
        guard !tracks.isEmpty else { throw NegotiationError.noAcceptableMedia }
        return (answer(sections), tracks)
    }

    /// The media SSRC of a sendonly m-line: the first SSRC that is not the repair half of an FID group.
    static func primarySSRC(of section: SDPMediaSection) -> UInt32? {
        let repair = Set(section.ssrcGroups.filter { $0.semantics == "FID" }.compactMap { $0.ssrcs.dropFirst().first })
        return section.ssrcs.first { !repair.contains($0) }
    }

    // MARK: - Subscribe

    /// Assigns producers, oldest first, to the offer's recvonly m-lines of the same kind and codec.
    static func answerSubscribe(_ offer: SessionDescription, local: LocalTransportDescription, producers: [ProducerDescription],
                                newSSRC: () -> UInt32) throws -> (answer: SessionDescription, tracks: [SubscribedTrack]) {
        var sections: [SDPMediaSection] = []
        var tracks: [SubscribedTrack] = []
        var unassigned = producers
        for (index, offered) in offer.media.enumerated() {
            let mid = offered.mid ?? String(index)
            guard let kind = MediaKind(rawValue: offered.kind), offered.port != 0,
                  offered.direction == .recvonly || offered.direction == .sendrecv else {
                sections.append(rejected(offered))
                continue
            }
            let offeredCodecs = offered.codecs.filter { isSupported($0, kind: kind) }.map(rtpCodec)
            var match: (Int, RtpCodec)?
            for (i, producer) in unassigned.enumerated() where producer.kind == kind {
                if let codec = offeredCodecs.first(where: { $0.hasSameFormat(as: producer.codec) }) { match = (i, codec); break }
            }
            guard let (producerIndex, codec) = match else {
                // Nothing to send on this m-line (yet): keep it in the bundle, inactive.
                if let codec = offeredCodecs.first {
                    sections.append(section(for: offered, mid: mid, codec: codec, direction: .inactive, local: local, extraLines: []))
                } else {
                    sections.append(rejected(offered))
                }
                continue
            }
            let producer = unassigned.remove(at: producerIndex)
            let ssrc = newSSRC()
            let msid = "\(producer.streamID) \(producer.trackID)"
            let lines: [SDPLine] = [
                .attribute(.msid(SDPMsid(streamID: producer.streamID, trackID: producer.trackID))),
                .attribute(.ssrc(SDPSsrcAttribute(ssrc: ssrc, attribute: "cname", value: cname))),
                .attribute(.ssrc(SDPSsrcAttribute(ssrc: ssrc, attribute: "msid", value: msid))),
            ]
            sections.append(section(for: offered, mid: mid, codec: codec, direction: .sendonly, local: local, extraLines: lines))
            tracks.append(SubscribedTrack(mid: mid, producerID: producer.id, payloadType: codec.payloadType, ssrc: ssrc))
        }
        guard sections.contains(where: { $0.port != 0 }) else { throw NegotiationError.noAcceptableMedia }
        return (answer(sections), tracks)
    }

    // MARK: - Building the answer

    static func rtpCodec(_ codec: SDPCodec) -> RtpCodec {
        // Feedback lines are re-keyed to the payload type: a "*" in the offer becomes explicit in the answer.
        let feedback = codec.feedback.filter(isSupported).map {
            SDPRtcpFeedback(payloadType: String(codec.payloadType), type: $0.type, subtype: $0.subtype)
        }
        return RtpCodec(payloadType: codec.payloadType, name: codec.name, clockRate: codec.clockRate,
                        channels: codec.channels, fmtp: codec.fmtp, feedback: feedback)
    }

    static func section(for offered: SDPMediaSection, mid: String, codec: RtpCodec, direction: SDPDirection,
                        local: LocalTransportDescription, extraLines: [SDPLine]) -> SDPMediaSection {
        let port = local.candidates.first?.port ?? 9
        let address = local.candidates.first?.address ?? "0.0.0.0"
        var lines: [SDPLine] = [
            .field(type: "c", value: "IN \(address.contains(":") ? "IP6" : "IP4") \(address)"),
            .attribute(.iceUfrag(local.iceUfrag)),
            .attribute(.icePwd(local.icePassword)),
            .attribute(.fingerprint(SDPFingerprint(hashFunction: "sha-256", value: local.fingerprint))),
            .attribute(.setup(.passive)),
            .attribute(.mid(mid)),
            .attribute(.direction(direction)),
            .attribute(.rtcpMux),
        ]
        if offered.has(.rtcpRsize) { lines.append(.attribute(.rtcpRsize)) }
        lines.append(.attribute(.rtpmap(SDPRtpMap(payloadType: codec.payloadType, name: codec.name,
                                                   clockRate: codec.clockRate, channels: codec.channels))))
        if !codec.fmtp.isEmpty { lines.append(.attribute(.fmtp(SDPFmtp(payloadType: codec.payloadType, format: codec.fmtp)))) }
        lines += codec.feedback.map { .attribute(.rtcpFeedback($0)) }
        lines += extraLines
        for (i, candidate) in local.candidates.enumerated() {
            // Host candidates only; the highest type preference, descending local preference per address.
            let priority = UInt32(126) << 24 | UInt32(65_535 - i) << 8 | 255
            let c = SDPCandidate(foundation: "\(i + 1)", component: 1, transport: "udp", priority: priority,
                                 address: candidate.address, port: UInt16(candidate.port), type: "host")
            lines.append(.attribute(.candidate(c)))
        }
        lines.append(.attribute(.endOfCandidates))
        return SDPMediaSection(kind: offered.kind, port: port, proto: offered.proto, formats: [String(codec.payloadType)],
                               lines: lines)
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
