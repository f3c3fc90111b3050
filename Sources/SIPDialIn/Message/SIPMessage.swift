// SIP requests and responses as values (RFC 3261 §7). Header values are kept as text and interpreted on
// demand by the typed accessors below, so that a message is forwarded or re-serialized exactly as received.

/// The parts requests and responses share.
public protocol SIPMessageParts {
    var headers: SIPHeaders { get set }
    var body: [UInt8] { get set }
}

public struct SIPRequest: SIPMessageParts, Equatable, Sendable {
    public var method: SIPMethod
    public var uri: SIPURI
    public var headers: SIPHeaders
    public var body: [UInt8]

    public init(method: SIPMethod, uri: SIPURI, headers: SIPHeaders = SIPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }
}

public struct SIPResponse: SIPMessageParts, Equatable, Sendable {
    public var status: Int
    public var reason: String
    public var headers: SIPHeaders
    public var body: [UInt8]

    public init(status: Int, reason: String? = nil, headers: SIPHeaders = SIPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.reason = reason ?? SIPResponse.defaultReason(status)
        self.headers = headers
        self.body = body
    }

    public var isProvisional: Bool { status < 200 }
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// A response to `request` (RFC 3261 §8.2.6.2): Via, From, To, Call-ID and CSeq copied; a To tag added
    /// (except on 100) when the request had none and `toTag` is given.
    public init(replyingTo request: SIPRequest, status: Int, reason: String? = nil, toTag: String? = nil) {
        self.init(status: status, reason: reason, copying: request.headers, toTag: toTag)
    }

    /// Same as `init(replyingTo:)` from bare headers: used for a 400 to a request that did not fully parse.
    public init(status: Int, reason: String? = nil, copying requestHeaders: SIPHeaders, toTag: String? = nil) {
        var h = SIPHeaders()
        for line in requestHeaders where [SIPHeaderName.via, SIPHeaderName.from, SIPHeaderName.callID, SIPHeaderName.cseq]
            .contains(line.name) {
            h.add(line.name, line.value)
        }
        if var to = requestHeaders[SIPHeaderName.to] {
            if status != 100, let toTag, let addr = try? SIPNameAddress(parsing: to), addr.tag == nil {
                to += ";tag=\(toTag)"
            }
            h.add(SIPHeaderName.to, to)
        }
        // Keep the RFC order From, To, Call-ID, CSeq after the Vias for readability.
        let vias = h.lines.filter { $0.name == SIPHeaderName.via }
        var ordered = SIPHeaders()
        for v in vias { ordered.add(v.name, v.value) }
        for name in [SIPHeaderName.from, SIPHeaderName.to, SIPHeaderName.callID, SIPHeaderName.cseq] {
            if let v = h[name] { ordered.add(name, v) }
        }
        self.init(status: status, reason: reason, headers: ordered)
    }

    public static func defaultReason(_ status: Int) -> String {
        switch status {
        case 100: return "Trying"
        case 180: return "Ringing"
        case 183: return "Session Progress"
        case 200: return "OK"
        case 202: return "Accepted"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 407: return "Proxy Authentication Required"
        case 408: return "Request Timeout"
        case 415: return "Unsupported Media Type"
        case 416: return "Unsupported URI Scheme"
        case 420: return "Bad Extension"
        case 422: return "Session Interval Too Small"
        case 480: return "Temporarily Unavailable"
        case 481: return "Call/Transaction Does Not Exist"
        case 482: return "Loop Detected"
        case 483: return "Too Many Hops"
        case 486: return "Busy Here"
        case 487: return "Request Terminated"
        case 488: return "Not Acceptable Here"
        case 491: return "Request Pending"
        case 500: return "Server Internal Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 504: return "Server Time-out"
        case 505: return "Version Not Supported"
        case 513: return "Message Too Large"
        case 603: return "Decline"
        default:
            switch status {
            case 100..<200: return "Session Progress"
            case 200..<300: return "OK"
            case 300..<400: return "Redirect"
            case 400..<500: return "Client Error"
            case 500..<600: return "Server Error"
            default: return "Global Failure"
            }
        }
    }
}

public enum SIPMessage: Equatable, Sendable {
    case request(SIPRequest)
    case response(SIPResponse)

    public var headers: SIPHeaders {
        switch self {
        case .request(let r): return r.headers
        case .response(let r): return r.headers
        }
    }

    public var body: [UInt8] {
        switch self {
        case .request(let r): return r.body
        case .response(let r): return r.body
        }
    }

    public func serialize() -> [UInt8] {
        switch self {
        case .request(let r): return r.serialize()
        case .response(let r): return r.serialize()
        }
    }
}

// MARK: - Typed header access

extension SIPMessageParts {
    public var callID: String? { headers[SIPHeaderName.callID] }
    public var cseq: SIPCSeq? { headers[SIPHeaderName.cseq].flatMap { try? SIPCSeq(parsing: $0) } }
    public var from: SIPNameAddress? { headers[SIPHeaderName.from].flatMap { try? SIPNameAddress(parsing: $0) } }
    public var to: SIPNameAddress? { headers[SIPHeaderName.to].flatMap { try? SIPNameAddress(parsing: $0) } }
    /// Every Via element, top first; elements that do not parse are skipped.
    public var vias: [SIPVia] { headers.listValues(SIPHeaderName.via).compactMap { try? SIPVia(parsing: $0) } }
    public var topVia: SIPVia? { headers.listValues(SIPHeaderName.via).first.flatMap { try? SIPVia(parsing: $0) } }
    public var contacts: [SIPNameAddress] {
        headers.listValues(SIPHeaderName.contact).compactMap { try? SIPNameAddress(parsing: $0) }
    }
    public var recordRoutes: [SIPNameAddress] {
        headers.listValues(SIPHeaderName.recordRoute).compactMap { try? SIPNameAddress(parsing: $0) }
    }
    public var routes: [SIPNameAddress] {
        headers.listValues(SIPHeaderName.route).compactMap { try? SIPNameAddress(parsing: $0) }
    }
    public var contentType: String? { headers[SIPHeaderName.contentType] }
    /// Option tags of a list header such as Supported, Require or Allow, lowercased.
    public func optionTags(_ name: String) -> [String] { headers.listValues(name).map { $0.lowercased() } }

    /// Replaces the top Via (the transport layer fills in `received`/`rport`, RFC 3581 §4).
    public mutating func replaceTopVia(_ via: SIPVia) {
        guard let index = headers.lines.firstIndex(where: { $0.name == SIPHeaderName.via }) else {
            headers.prepend(SIPHeaderName.via, via.description)
            return
        }
        var elements = SIPSyntax.splitList(headers.lines[index].value)
        elements[0] = via.description
        var rebuilt = SIPHeaders()
        for (i, line) in headers.lines.enumerated() {
            rebuilt.add(line.name, i == index ? elements.joined(separator: ", ") : line.value)
        }
        headers = rebuilt
    }
}

// MARK: - Serialization

extension SIPRequest {
    public func serialize() -> [UInt8] {
        SIPRequest.serialize(startLine: "\(method) \(uri) SIP/2.0", headers: headers, body: body)
    }

    static func serialize(startLine: String, headers: SIPHeaders, body: [UInt8]) -> [UInt8] {
        var text = startLine + "\r\n"
        for line in headers { text += "\(line.name): \(line.value)\r\n" }
        text += "Content-Length: \(body.count)\r\n\r\n"
        return Array(text.utf8) + body
    }
}

extension SIPResponse {
    public func serialize() -> [UInt8] {
        SIPRequest.serialize(startLine: "SIP/2.0 \(status) \(reason)", headers: headers, body: body)
    }
}
