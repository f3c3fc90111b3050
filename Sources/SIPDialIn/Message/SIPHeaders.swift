// SIP headers (RFC 3261 §7.3): an ordered list, because the order of Via, Route and Record-Route lines is
// meaningful and proxies rely on it. Names compare case-insensitively; the parser stores the canonical long
// form, so that the compact `v:` and `Via:` are the same header to every lookup.

/// One header line as it was received (value unfolded and trimmed) or as it will be sent.
public struct SIPHeader: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = SIPHeaderName.canonical(name)
        self.value = value
    }
}

/// Names of the headers the stack interprets, their compact forms (RFC 3261 §7.3.3 plus RFC 3515/4028/3841/4474).
public enum SIPHeaderName {
    public static let via = "Via"
    public static let from = "From"
    public static let to = "To"
    public static let callID = "Call-ID"
    public static let cseq = "CSeq"
    public static let contact = "Contact"
    public static let contentType = "Content-Type"
    public static let contentLength = "Content-Length"
    public static let maxForwards = "Max-Forwards"
    public static let route = "Route"
    public static let recordRoute = "Record-Route"
    public static let allow = "Allow"
    public static let supported = "Supported"
    public static let require = "Require"
    public static let unsupported = "Unsupported"
    public static let expires = "Expires"
    public static let userAgent = "User-Agent"
    public static let server = "Server"
    public static let accept = "Accept"
    public static let authorization = "Authorization"
    public static let proxyAuthorization = "Proxy-Authorization"
    public static let wwwAuthenticate = "WWW-Authenticate"
    public static let proxyAuthenticate = "Proxy-Authenticate"
    public static let sessionExpires = "Session-Expires"
    public static let minSE = "Min-SE"
    public static let retryAfter = "Retry-After"

    static let compactForms: [String: String] = [
        "i": callID, "m": contact, "f": from, "t": to, "v": via, "l": contentLength, "c": contentType,
        "k": supported, "s": "Subject", "e": "Content-Encoding", "o": "Event", "u": "Allow-Events",
        "r": "Refer-To", "b": "Referred-By", "x": sessionExpires, "a": "Accept-Contact", "j": "Reject-Contact",
        "d": "Request-Disposition", "y": "Identity",
    ]

    /// Canonical spelling keyed by lowercased name: makes `CALL-ID`, `call-id` and `i` all `Call-ID`.
    static let canonicalNames: [String: String] = {
        var table: [String: String] = [:]
        for name in [via, from, to, callID, cseq, contact, contentType, contentLength, maxForwards, route, recordRoute,
                     allow, supported, require, unsupported, expires, userAgent, server, accept, authorization,
                     proxyAuthorization, wwwAuthenticate, proxyAuthenticate, sessionExpires, minSE, retryAfter,
                     "Subject", "Content-Encoding", "Event", "Allow-Events", "Refer-To", "Referred-By", "Accept-Contact",
                     "Reject-Contact", "Request-Disposition", "Identity", "Proxy-Require", "Min-Expires", "Date",
                     "Timestamp", "Warning", "Organization", "Priority", "Reply-To", "In-Reply-To", "Call-Info",
                     "Alert-Info", "Error-Info", "Content-Disposition", "Content-Language", "MIME-Version",
                     "Accept-Encoding", "Accept-Language", "Authentication-Info", "Proxy-Authentication-Info",
                     "Path", "Service-Route", "P-Asserted-Identity", "Privacy", "RSeq", "RAck", "Reason"] {
            table[name.lowercased()] = name
        }
        return table
    }()

    /// The canonical form of `name`: compact forms expanded, known names in their RFC spelling, others unchanged.
    public static func canonical(_ name: String) -> String {
        let lower = name.lowercased()
        if lower.utf8.count == 1, let long = compactForms[lower] { return long }
        return canonicalNames[lower] ?? name
    }
}

/// The header lines of a message in order. Content-Length is never stored: it is derived from the body.
public struct SIPHeaders: Equatable, Sendable, Sequence {
    public private(set) var lines: [SIPHeader] = []

    public init() {}
    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { add(name, value) }
    }

    public func makeIterator() -> IndexingIterator<[SIPHeader]> { lines.makeIterator() }
    public var count: Int { lines.count }

    static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.lowercased() == b.lowercased()
    }

    /// The value of the first line named `name` (canonical or compact).
    public subscript(_ name: String) -> String? {
        let wanted = SIPHeaderName.canonical(name)
        return lines.first { Self.sameName($0.name, wanted) }?.value
    }

    /// Every line's value for `name`, in order, without splitting comma lists.
    public func values(_ name: String) -> [String] {
        let wanted = SIPHeaderName.canonical(name)
        return lines.filter { Self.sameName($0.name, wanted) }.map(\.value)
    }

    /// Every element of a comma-separated list header (Via, Route, Contact, Allow …) across all its lines.
    public func listValues(_ name: String) -> [String] {
        values(name).flatMap { SIPSyntax.splitList($0) }
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    public mutating func add(_ name: String, _ value: String) {
        let header = SIPHeader(name: name, value: value)
        guard !Self.sameName(header.name, SIPHeaderName.contentLength) else { return }
        lines.append(header)
    }

    /// Puts a line first (a proxy or a UA adds its Via on top).
    public mutating func prepend(_ name: String, _ value: String) {
        let header = SIPHeader(name: name, value: value)
        guard !Self.sameName(header.name, SIPHeaderName.contentLength) else { return }
        lines.insert(header, at: 0)
    }

    /// Replaces every line named `name` by one line with `value`, at the position of the first one.
    public mutating func set(_ name: String, _ value: String) {
        let wanted = SIPHeaderName.canonical(name)
        if let index = lines.firstIndex(where: { Self.sameName($0.name, wanted) }) {
            lines[index].value = value
            let rest = lines[(index + 1)...].filter { !Self.sameName($0.name, wanted) }
            lines.removeSubrange((index + 1)...)
            lines.append(contentsOf: rest)
        } else {
            add(wanted, value)
        }
    }

    public mutating func remove(_ name: String) {
        let wanted = SIPHeaderName.canonical(name)
        lines.removeAll { Self.sameName($0.name, wanted) }
    }

    /// Removes the first line named `name` (or its first list element when the line carries a list).
    public mutating func removeFirstElement(_ name: String) {
        let wanted = SIPHeaderName.canonical(name)
        guard let index = lines.firstIndex(where: { Self.sameName($0.name, wanted) }) else { return }
        let elements = SIPSyntax.splitList(lines[index].value)
        if elements.count > 1 {
            lines[index].value = elements.dropFirst().joined(separator: ", ")
        } else {
            lines.remove(at: index)
        }
    }
}
