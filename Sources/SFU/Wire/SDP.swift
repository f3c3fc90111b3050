// SDP (RFC 8866) as WebRTC unified plan writes it. Every line is kept in order, attributes typed where this
// server needs them and raw otherwise, so that parse → serialize gives back the same text (with CRLF endings).
// A known attribute whose typed form would not write back identically (odd spacing, say) is kept raw too.

public enum SDPAttribute: Equatable, Sendable {
    case mid(String)
    case msid(SDPMsid)
    case ssrc(SDPSsrcAttribute)
    case ssrcGroup(SDPSsrcGroup)
    case rid(SDPRid)
    case simulcast(SDPSimulcast)
    case extmap(SDPExtmap)
    case rtpmap(SDPRtpMap)
    case fmtp(SDPFmtp)
    case rtcpFeedback(SDPRtcpFeedback)
    case iceUfrag(String)
    case icePwd(String)
    case iceOptions([String])
    case fingerprint(SDPFingerprint)
    case setup(SDPSetup)
    case candidate(SDPCandidate)
    case group(SDPGroup)
    case direction(SDPDirection)
    case sctpPort(Int)
    case maxMessageSize(Int)
    /// A value-less attribute: rtcp-mux, rtcp-rsize, ice-lite, extmap-allow-mixed, end-of-candidates, ...
    case flag(String)
    /// Any other attribute, or a known one kept as written.
    case other(name: String, value: String)

    public static let rtcpMux = SDPAttribute.flag("rtcp-mux")
    public static let rtcpRsize = SDPAttribute.flag("rtcp-rsize")
    public static let iceLite = SDPAttribute.flag("ice-lite")
    public static let extmapAllowMixed = SDPAttribute.flag("extmap-allow-mixed")
    public static let endOfCandidates = SDPAttribute.flag("end-of-candidates")
}

/// One line: an attribute, or another field ("c", "b", "o", ...) kept as text.
public enum SDPLine: Equatable, Sendable {
    case attribute(SDPAttribute)
    case field(type: Character, value: String)
}

public struct SDPMediaSection: Equatable, Sendable {
    /// audio, video or application.
    public var kind: String
    public var port: Int
    public var portCount: Int?
    /// UDP/TLS/RTP/SAVPF, UDP/DTLS/SCTP, ...
    public var proto: String
    /// Payload types for RTP, "webrtc-datachannel" for SCTP.
    public var formats: [String]
    /// The lines after m=, in order.
    public var lines: [SDPLine]

    public init(kind: String, port: Int = 9, portCount: Int? = nil, proto: String, formats: [String], lines: [SDPLine] = []) {
        self.kind = kind
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.lines = lines
    }
}

public struct SessionDescription: Equatable, Sendable {
    /// Session-level lines after v=, in order (o=, s=, t=, a=group, ...).
    public var sessionLines: [SDPLine]
    public var media: [SDPMediaSection]

    public init(sessionLines: [SDPLine], media: [SDPMediaSection] = []) {
        self.sessionLines = sessionLines
        self.media = media
    }
}

// MARK: - Parsing

extension SessionDescription {
    /// Parses an SDP blob; CRLF or bare LF line ends are both accepted.
    public static func parse(_ text: String) throws -> SessionDescription {
        // "\r\n" is a single Character in Swift, so split on either form explicitly.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\r\n" || $0 == "\n" })
            .map { line -> Substring in line.last == "\r" ? line.dropLast() : line }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first else { throw WireError.truncated("SDP") }
        guard first == "v=0" else { throw WireError.badLine(String(first)) }
        var sdp = SessionDescription(sessionLines: [])
        for line in lines.dropFirst() {
            let chars = line.utf8
            // RFC 8866 text never holds NUL or CR inside a line; accepting them breaks serialize → parse (fuzzer).
            guard !chars.contains(where: { $0 == 0 || $0 == 13 }) else { throw WireError.badLine(String(line)) }
            guard chars.count >= 2, let type = line.first, line.dropFirst().first == "=",
                  type.isASCII, type.isLowercase else {
                throw WireError.badLine(String(line))
            }
            let value = line.dropFirst(2)
            if type == "m" {
                sdp.media.append(try parseMediaLine(value))
            } else {
                let parsed: SDPLine = type == "a" ? .attribute(try parseAttribute(value)) : .field(type: type, value: String(value))
                if sdp.media.isEmpty {
                    sdp.sessionLines.append(parsed)
                } else {
                    sdp.media[sdp.media.count - 1].lines.append(parsed)
                }
            }
        }
        return sdp
    }

    static func parseMediaLine(_ value: Substring) throws -> SDPMediaSection {
        let t = value.split(separator: " ", omittingEmptySubsequences: false)
        guard t.count >= 3 else { throw WireError.badLine("m=" + value) }
        let portParts = t[1].split(separator: "/", omittingEmptySubsequences: false)
        guard let port = Int(portParts[0]), (0...65535).contains(port), portParts.count <= 2 else {
            throw WireError.badLine("m=" + value)
        }
        var count: Int?
        if portParts.count == 2 {
            guard let c = Int(portParts[1]) else { throw WireError.badLine("m=" + value) }
            count = c
        }
        let section = SDPMediaSection(kind: String(t[0]), port: port, portCount: count, proto: String(t[2]),
                                      formats: t.dropFirst(3).map(String.init))
        guard section.mLineValue == value else { throw WireError.badLine("m=" + value) }
        return section
    }

    /// Parses the text after "a=". Known attributes that are malformed throw; unknown ones are kept raw.
    public static func parseAttribute(_ text: Substring) throws -> SDPAttribute {
        guard let colon = text.firstIndex(of: ":") else {
            if let d = SDPDirection(rawValue: String(text)) { return .direction(d) }
            return .flag(String(text))
        }
        let name = String(text[..<colon]), value = String(text[text.index(after: colon)...])
        guard let typed = try typedAttribute(name, value) else { return .other(name: name, value: value) }
        return typed.sdpText == text ? typed : .other(name: name, value: value)
    }

    static func typedAttribute(_ name: String, _ value: String) throws -> SDPAttribute? {
        let t = value.split(separator: " ").map(String.init)
        func bad() -> WireError { WireError.badLine("a=\(name):\(value)") }
        func int<T: FixedWidthInteger>(_ s: String?, _: T.Type = T.self) throws -> T {
            guard let s, let v = T(s) else { throw bad() }
            return v
        }
        switch name {
        case "mid": return .mid(value)
        case "ice-ufrag": return .iceUfrag(value)
        case "ice-pwd": return .icePwd(value)
        case "ice-options": return .iceOptions(t)
        case "sctp-port": return .sctpPort(try int(value))
        case "max-message-size": return .maxMessageSize(try int(value))
        case "setup":
            guard let s = SDPSetup(rawValue: value) else { throw bad() }
            return .setup(s)
        case "msid":
            guard (1...2).contains(t.count) else { throw bad() }
            return .msid(SDPMsid(streamID: t[0], trackID: t.count > 1 ? t[1] : nil))
        case "ssrc":
            guard let space = value.firstIndex(of: " ") else { throw bad() }
            let ssrc: UInt32 = try int(String(value[..<space]))
            let rest = value[value.index(after: space)...]
            guard let c = rest.firstIndex(of: ":") else { return .ssrc(SDPSsrcAttribute(ssrc: ssrc, attribute: String(rest))) }
            return .ssrc(SDPSsrcAttribute(ssrc: ssrc, attribute: String(rest[..<c]), value: String(rest[rest.index(after: c)...])))
        case "ssrc-group":
            guard let semantics = t.first else { throw bad() }
            return .ssrcGroup(SDPSsrcGroup(semantics: semantics, ssrcs: try t.dropFirst().map { try int($0) }))
        case "group":
            guard let semantics = t.first else { throw bad() }
            return .group(SDPGroup(semantics: semantics, mids: Array(t.dropFirst())))
        case "rid":
            guard (2...3).contains(t.count) else { throw bad() }
            return .rid(SDPRid(id: t[0], direction: t[1], restrictions: t.count > 2 ? t[2] : nil))
        case "simulcast":
            return .simulcast(try parseSimulcast(t, bad))
        case "extmap":
            guard (2...3).contains(t.count) else { throw bad() }
            let idParts = t[0].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            var ext = SDPExtmap(id: try int(idParts[0]), uri: t[1], attributes: t.count > 2 ? t[2] : nil)
            if idParts.count == 2 {
                guard let d = SDPDirection(rawValue: idParts[1]) else { throw bad() }
                ext.direction = d
            } else if idParts.count > 2 {
                throw bad()
            }
            return .extmap(ext)
        case "rtpmap":
            guard t.count == 2 else { throw bad() }
            let enc = t[1].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard (2...3).contains(enc.count) else { throw bad() }
            return .rtpmap(SDPRtpMap(payloadType: try int(t[0]), name: enc[0], clockRate: try int(enc[1]),
                                     channels: enc.count > 2 ? try int(enc[2]) : nil))
        case "fmtp":
            guard let space = value.firstIndex(of: " ") else { throw bad() }
            return .fmtp(SDPFmtp(payloadType: try int(String(value[..<space])), format: String(value[value.index(after: space)...])))
        case "rtcp-fb":
            guard (2...3).contains(t.count) else { throw bad() }
            return .rtcpFeedback(SDPRtcpFeedback(payloadType: t[0], type: t[1], subtype: t.count > 2 ? t[2] : nil))
        case "fingerprint":
            guard t.count == 2 else { throw bad() }
            return .fingerprint(SDPFingerprint(hashFunction: t[0], value: t[1]))
        case "candidate":
            return .candidate(try SDPCandidate(parsing: value))
        default:
            return nil
        }
    }

    static func parseSimulcast(_ t: [String], _ bad: () -> WireError) throws -> SDPSimulcast {
        guard t.count == 2 || t.count == 4 else { throw bad() }
        var sim = SDPSimulcast()
        for i in stride(from: 0, to: t.count, by: 2) {
            let streams = t[i + 1].split(separator: ";", omittingEmptySubsequences: false).map { alternatives in
                alternatives.split(separator: ",", omittingEmptySubsequences: false).map { rid in
                    rid.hasPrefix("~") ? SDPSimulcast.Stream(rid: String(rid.dropFirst()), paused: true)
                                       : SDPSimulcast.Stream(rid: String(rid))
                }
            }
            guard !streams.joined().contains(where: { $0.rid.isEmpty }) else { throw bad() }
            switch t[i] {
            case "send" where sim.send.isEmpty: sim.send = streams
            case "recv" where sim.recv.isEmpty: sim.recv = streams
            default: throw bad()
            }
        }
        return sim
    }
}

// MARK: - Serializing

extension SDPAttribute {
    /// The text after "a=".
    public var sdpText: String {
        switch self {
        case .mid(let v): return "mid:" + v
        case .iceUfrag(let v): return "ice-ufrag:" + v
        case .icePwd(let v): return "ice-pwd:" + v
        case .iceOptions(let v): return "ice-options:" + v.joined(separator: " ")
        case .sctpPort(let v): return "sctp-port:\(v)"
        case .maxMessageSize(let v): return "max-message-size:\(v)"
        case .setup(let v): return "setup:" + v.rawValue
        case .msid(let m): return "msid:" + m.streamID + (m.trackID.map { " " + $0 } ?? "")
        case .ssrc(let s): return "ssrc:\(s.ssrc) \(s.attribute)" + (s.value.map { ":" + $0 } ?? "")
        case .ssrcGroup(let g): return "ssrc-group:" + ([g.semantics] + g.ssrcs.map { String($0) }).joined(separator: " ")
        case .group(let g): return "group:" + ([g.semantics] + g.mids).joined(separator: " ")
        case .rid(let r): return "rid:\(r.id) \(r.direction)" + (r.restrictions.map { " " + $0 } ?? "")
        case .simulcast(let s):
            func list(_ streams: [[SDPSimulcast.Stream]]) -> String {
                streams.map { $0.map { ($0.paused ? "~" : "") + $0.rid }.joined(separator: ",") }.joined(separator: ";")
            }
            var parts: [String] = []
            if !s.send.isEmpty { parts.append("send " + list(s.send)) }
            if !s.recv.isEmpty { parts.append("recv " + list(s.recv)) }
            return "simulcast:" + parts.joined(separator: " ")
        case .extmap(let e):
            return "extmap:\(e.id)" + (e.direction.map { "/" + $0.rawValue } ?? "") + " " + e.uri
                + (e.attributes.map { " " + $0 } ?? "")
        case .rtpmap(let r): return "rtpmap:\(r.payloadType) \(r.name)/\(r.clockRate)" + (r.channels.map { "/\($0)" } ?? "")
        case .fmtp(let f): return "fmtp:\(f.payloadType) \(f.format)"
        case .rtcpFeedback(let f): return "rtcp-fb:\(f.payloadType) \(f.type)" + (f.subtype.map { " " + $0 } ?? "")
        case .fingerprint(let f): return "fingerprint:\(f.hashFunction) \(f.value)"
        case .candidate(let c): return "candidate:" + c.sdpValue
        case .direction(let d): return d.rawValue
        case .flag(let name): return name
        case .other(let name, let value): return name + ":" + value
        }
    }
}

extension SDPLine {
    public var sdpText: String {
        switch self {
        case .attribute(let a): return "a=" + a.sdpText
        case .field(let type, let value): return "\(type)=" + value
        }
    }
}

extension SDPMediaSection {
    var mLineValue: String {
        ([kind, portCount.map { "\(port)/\($0)" } ?? "\(port)", proto] + formats).joined(separator: " ")
    }
}

extension SessionDescription {
    /// The SDP text with CRLF line ends (RFC 8866 §5).
    public func serialize() -> String {
        var out = "v=0\r\n"
        for line in sessionLines { out += line.sdpText + "\r\n" }
        for m in media {
            out += "m=" + m.mLineValue + "\r\n"
            for line in m.lines { out += line.sdpText + "\r\n" }
        }
        return out
    }
}
