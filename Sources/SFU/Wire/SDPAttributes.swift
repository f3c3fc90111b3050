// Typed values of the SDP attributes WebRTC uses (RFC 8866 and the RFCs named per type). Each parses the text
// after "a=<name>:" and writes it back; SessionDescription keeps a line raw when writing back would change it.

public enum SDPDirection: String, Sendable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive
}

/// DTLS role in the offer/answer (RFC 4145, RFC 8842).
public enum SDPSetup: String, Sendable {
    case actpass, active, passive, holdconn
}

/// a=msid:<stream id> [<track id>] (RFC 8830).
public struct SDPMsid: Equatable, Sendable {
    public var streamID: String
    public var trackID: String?
    public init(streamID: String, trackID: String? = nil) { self.streamID = streamID; self.trackID = trackID }
}

/// a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576), e.g. cname:..., msid:... .
public struct SDPSsrcAttribute: Equatable, Sendable {
    public var ssrc: UInt32
    public var attribute: String
    public var value: String?
    public init(ssrc: UInt32, attribute: String, value: String? = nil) {
        self.ssrc = ssrc
        self.attribute = attribute
        self.value = value
    }
}

/// a=ssrc-group:<semantics> <ssrc>... (FID for media+RTX, SIM for SSRC simulcast).
public struct SDPSsrcGroup: Equatable, Sendable {
    public var semantics: String
    public var ssrcs: [UInt32]
    public init(semantics: String, ssrcs: [UInt32]) { self.semantics = semantics; self.ssrcs = ssrcs }
}

/// a=group:<semantics> <mid>... (BUNDLE, RFC 8843).
public struct SDPGroup: Equatable, Sendable {
    public var semantics: String
    public var mids: [String]
    public init(semantics: String, mids: [String]) { self.semantics = semantics; self.mids = mids }
}

/// a=rid:<id> <send|recv> [<restrictions>] (RFC 8851); restrictions kept as written (pt=..;max-width=..).
public struct SDPRid: Equatable, Sendable {
    public var id: String
    public var direction: String
    public var restrictions: String?
    public init(id: String, direction: String, restrictions: String? = nil) {
        self.id = id
        self.direction = direction
        self.restrictions = restrictions
    }
}

/// a=simulcast:send <streams> [recv <streams>] (RFC 8853). Each stream is a list of alternative rids;
/// a leading "~" marks a paused stream.
public struct SDPSimulcast: Equatable, Sendable {
    public struct Stream: Equatable, Sendable {
        public var rid: String
        public var paused: Bool
        public init(rid: String, paused: Bool = false) { self.rid = rid; self.paused = paused }
    }

    public var send: [[Stream]]
    public var recv: [[Stream]]
    public init(send: [[Stream]] = [], recv: [[Stream]] = []) { self.send = send; self.recv = recv }

    public var sendRids: [String] { send.flatMap { $0.map(\.rid) } }
    public var recvRids: [String] { recv.flatMap { $0.map(\.rid) } }
}

/// a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285).
public struct SDPExtmap: Equatable, Sendable {
    public var id: Int
    public var direction: SDPDirection?
    public var uri: String
    public var attributes: String?
    public init(id: Int, uri: String, direction: SDPDirection? = nil, attributes: String? = nil) {
        self.id = id
        self.uri = uri
        self.direction = direction
        self.attributes = attributes
    }
}

/// a=rtpmap:<pt> <name>/<clock rate>[/<channels>].
public struct SDPRtpMap: Equatable, Sendable {
    public var payloadType: UInt8
    public var name: String
    public var clockRate: Int
    public var channels: Int?
    public init(payloadType: UInt8, name: String, clockRate: Int, channels: Int? = nil) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
    }
}

/// a=fmtp:<pt> <parameters>; parameters kept as written, `parameters` splits "k=v;k=v".
public struct SDPFmtp: Equatable, Sendable {
    public var payloadType: UInt8
    public var format: String
    public init(payloadType: UInt8, format: String) { self.payloadType = payloadType; self.format = format }

    /// key=value pairs in order; a bare token gets an empty value.
    public var parameters: [(key: String, value: String)] {
        format.split(separator: ";").map { part in
            let kv = part.trimmingSpaces
            guard let eq = kv.firstIndex(of: "=") else { return (String(kv), "") }
            return (String(kv[..<eq]), String(kv[kv.index(after: eq)...]))
        }
    }

    public func parameter(_ key: String) -> String? { parameters.first { $0.key == key }?.value }
}

/// a=rtcp-fb:<pt|*> <type> [<subtype>] (RFC 4585), e.g. "nack pli", "ccm fir", "transport-cc".
public struct SDPRtcpFeedback: Equatable, Sendable {
    /// A payload type, or "*" for all.
    public var payloadType: String
    public var type: String
    public var subtype: String?
    public init(payloadType: String, type: String, subtype: String? = nil) {
        self.payloadType = payloadType
        self.type = type
        self.subtype = subtype
    }
}

/// a=fingerprint:<hash function> <hex pairs> (RFC 8122).
public struct SDPFingerprint: Equatable, Sendable {
    public var hashFunction: String
    public var value: String
    public init(hashFunction: String, value: String) { self.hashFunction = hashFunction; self.value = value }
}

/// An ICE candidate (RFC 8839 §5.1), as in a=candidate or a trickled "candidate:..." string.
public struct SDPCandidate: Equatable, Sendable {
    public struct Extension: Equatable, Sendable {
        public var key: String
        public var value: String
        public init(key: String, value: String) { self.key = key; self.value = value }
    }

    public var foundation: String
    public var component: Int
    /// "udp" or "tcp" (browsers differ in case: Firefox writes "UDP").
    public var transport: String
    public var priority: UInt32
    public var address: String
    public var port: UInt16
    /// host, srflx, prflx or relay.
    public var type: String
    public var relatedAddress: String?
    public var relatedPort: UInt16?
    /// active, passive or so (RFC 6544).
    public var tcpType: String?
    /// Further key/value pairs in order (generation, network-id, ufrag, ...).
    public var extensions: [Extension] = []

    public init(foundation: String, component: Int = 1, transport: String, priority: UInt32, address: String,
                port: UInt16, type: String, relatedAddress: String? = nil, relatedPort: UInt16? = nil,
                tcpType: String? = nil) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.tcpType = tcpType
    }

    /// Parses the attribute value; a leading "candidate:" (as in trickled candidates) is accepted.
    public init(parsing text: String) throws {
        var s = Substring(text)
        if s.hasPrefix("a=") { s = s.dropFirst(2) }
        if s.hasPrefix("candidate:") { s = s.dropFirst("candidate:".count) }
        let t = s.split(separator: " ")
        guard t.count >= 8, t[6] == "typ", t.count % 2 == 0,
              let component = Int(t[1]), let priority = UInt32(t[3]), let port = UInt16(t[5]) else {
            throw WireError.badLine("candidate:" + s)
        }
        self.init(foundation: String(t[0]), component: component, transport: String(t[2]), priority: priority,
                  address: String(t[4]), port: port, type: String(t[7]))
        var i = 8
        while i + 1 < t.count {
            let key = String(t[i]), value = String(t[i + 1])
            switch key {
            case "raddr": relatedAddress = value
            case "rport":
                guard let p = UInt16(value) else { throw WireError.badLine("candidate:" + s) }
                relatedPort = p
            case "tcptype": tcpType = value
            default: extensions.append(Extension(key: key, value: value))
            }
            i += 2
        }
    }

    /// The attribute value (without "a=candidate:").
    public var sdpValue: String {
        var s = "\(foundation) \(component) \(transport) \(priority) \(address) \(port) typ \(type)"
        if let relatedAddress { s += " raddr \(relatedAddress)" }
        if let relatedPort { s += " rport \(relatedPort)" }
        if let tcpType { s += " tcptype \(tcpType)" }
        for e in extensions { s += " \(e.key) \(e.value)" }
        return s
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
