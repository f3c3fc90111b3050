// Read-only conveniences over parsed SDP: what negotiation needs without walking lines by hand.

/// A codec offered in a media section: rtpmap joined with its fmtp and rtcp-fb lines.
public struct SDPCodec: Equatable, Sendable {
    public var payloadType: UInt8
    public var name: String
    public var clockRate: Int
    public var channels: Int?
    /// fmtp parameters in order ("" when none).
    public var fmtp: String
    public var feedback: [SDPRtcpFeedback]

    public var parameters: [(key: String, value: String)] { SDPFmtp(payloadType: payloadType, format: fmtp).parameters }
    public func parameter(_ key: String) -> String? { SDPFmtp(payloadType: payloadType, format: fmtp).parameter(key) }

    /// For an RTX codec, the payload type it repairs (apt=, RFC 4588 §8.6).
    public var associatedPayloadType: UInt8? {
        guard name.lowercased() == "rtx" else { return nil }
        return parameter("apt").flatMap { UInt8($0) }
    }
}

extension SDPMediaSection {
    public var attributes: [SDPAttribute] {
        lines.compactMap { if case .attribute(let a) = $0 { return a } else { return nil } }
    }

    public func has(_ attribute: SDPAttribute) -> Bool { attributes.contains(attribute) }

    /// Whether the offerer wants this m-line at all. Port 0 normally rejects it, except with `a=bundle-only`
    /// (RFC 8843 §6): Firefox offers every m-line after the first that way, to be carried on the bundle's transport.
    public var isOffered: Bool { port != 0 || has(.flag("bundle-only")) }

    public var mid: String? { attributes.lazy.compactMap { if case .mid(let v) = $0 { return v } else { return nil } }.first }

    public var direction: SDPDirection? {
        attributes.lazy.compactMap { if case .direction(let v) = $0 { return v } else { return nil } }.first
    }

    public var msid: SDPMsid? { attributes.lazy.compactMap { if case .msid(let v) = $0 { return v } else { return nil } }.first }

    public var iceUfrag: String? {
        attributes.lazy.compactMap { if case .iceUfrag(let v) = $0 { return v } else { return nil } }.first
    }

    public var icePwd: String? {
        attributes.lazy.compactMap { if case .icePwd(let v) = $0 { return v } else { return nil } }.first
    }

    public var fingerprint: SDPFingerprint? {
        attributes.lazy.compactMap { if case .fingerprint(let v) = $0 { return v } else { return nil } }.first
    }

    public var setup: SDPSetup? {
        attributes.lazy.compactMap { if case .setup(let v) = $0 { return v } else { return nil } }.first
    }

    public var candidates: [SDPCandidate] {
        attributes.compactMap { if case .candidate(let v) = $0 { return v } else { return nil } }
    }

    public var extmaps: [SDPExtmap] {
        attributes.compactMap { if case .extmap(let v) = $0 { return v } else { return nil } }
    }

    /// The extension id negotiated for `uri`, if any.
    public func extensionID(_ uri: String) -> Int? { extmaps.first { $0.uri == uri }?.id }

    public var ssrcAttributes: [SDPSsrcAttribute] {
        attributes.compactMap { if case .ssrc(let v) = $0 { return v } else { return nil } }
    }

    /// SSRCs in order of first appearance.
    public var ssrcs: [UInt32] {
        var seen: [UInt32] = []
        for a in ssrcAttributes where !seen.contains(a.ssrc) { seen.append(a.ssrc) }
        return seen
    }

    public var ssrcGroups: [SDPSsrcGroup] {
        attributes.compactMap { if case .ssrcGroup(let v) = $0 { return v } else { return nil } }
    }

    public var rids: [SDPRid] { attributes.compactMap { if case .rid(let v) = $0 { return v } else { return nil } } }

    public var simulcast: SDPSimulcast? {
        attributes.lazy.compactMap { if case .simulcast(let v) = $0 { return v } else { return nil } }.first
    }

    /// Rids the remote sends as simulcast layers, from a=simulcast (or the send rids when that line is missing).
    public var simulcastSendRids: [String] {
        simulcast?.sendRids ?? rids.filter { $0.direction == "send" }.map(\.id)
    }

    /// Codecs in m-line order; payload types without an rtpmap are left out.
    public var codecs: [SDPCodec] {
        let attrs = attributes
        var maps: [UInt8: SDPRtpMap] = [:]
        var fmtps: [UInt8: String] = [:]
        var feedback: [SDPRtcpFeedback] = []
        for a in attrs {
            switch a {
            case .rtpmap(let r): maps[r.payloadType] = maps[r.payloadType] ?? r
            case .fmtp(let f): fmtps[f.payloadType] = fmtps[f.payloadType] ?? f.format
            case .rtcpFeedback(let f): feedback.append(f)
            default: break
            }
        }
        return formats.compactMap { UInt8($0) }.compactMap { pt in
            guard let r = maps[pt] else { return nil }
            return SDPCodec(payloadType: pt, name: r.name, clockRate: r.clockRate, channels: r.channels,
                            fmtp: fmtps[pt] ?? "",
                            feedback: feedback.filter { $0.payloadType == "*" || $0.payloadType == String(pt) })
        }
    }

    /// RTX payload type → the payload type it repairs.
    public var rtxAssociations: [UInt8: UInt8] {
        var out: [UInt8: UInt8] = [:]
        for c in codecs { if let apt = c.associatedPayloadType { out[c.payloadType] = apt } }
        return out
    }

    /// The "c=" connection address (e.g. "IN IP4 0.0.0.0"), if present in the section.
    public var connection: String? {
        lines.lazy.compactMap { if case .field("c", let v) = $0 { return v } else { return nil } }.first
    }
}

extension SessionDescription {
    public var sessionAttributes: [SDPAttribute] {
        sessionLines.compactMap { if case .attribute(let a) = $0 { return a } else { return nil } }
    }

    public var bundleMids: [String] {
        for case .group(let g) in sessionAttributes where g.semantics == "BUNDLE" { return g.mids }
        return []
    }

    public var isIceLite: Bool { sessionAttributes.contains(.iceLite) }

    /// ICE credentials: the media section's, else the session's (both placements occur).
    public func iceCredentials(of section: SDPMediaSection) -> (ufrag: String, pwd: String)? {
        var ufrag = section.iceUfrag, pwd = section.icePwd
        for a in sessionAttributes {
            if case .iceUfrag(let v) = a, ufrag == nil { ufrag = v }
            if case .icePwd(let v) = a, pwd == nil { pwd = v }
        }
        guard let ufrag, let pwd else { return nil }
        return (ufrag, pwd)
    }

    /// The section's fingerprint, else the session's.
    public func fingerprint(of section: SDPMediaSection) -> SDPFingerprint? {
        section.fingerprint ?? sessionAttributes.lazy.compactMap {
            if case .fingerprint(let v) = $0 { return v } else { return nil }
        }.first
    }

    public func section(mid: String) -> SDPMediaSection? { media.first { $0.mid == mid } }
}
