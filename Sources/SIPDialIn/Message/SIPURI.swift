// SIP and SIPS URIs (RFC 3261 §19.1). The user part is stored decoded (`%61lice` is `alice`, so escaped and
// plain spellings compare equal, §19.1.4); parameters and headers keep their text. A password in the userinfo is
// deprecated (§19.1.1) and dropped: nothing here ever needs it and it must not end up in logs.

public struct SIPURI: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var secure: Bool
    public var user: String?
    /// Host name, IPv4 literal, or IPv6 literal without brackets; lowercased.
    public var host: String
    public var port: Int?
    public var parameters: [SIPParameter]
    /// `?name=value&…` headers, kept as written.
    public var headers: [SIPParameter]

    public init(secure: Bool = false, user: String? = nil, host: String, port: Int? = nil,
                parameters: [SIPParameter] = [], headers: [SIPParameter] = []) {
        self.secure = secure
        self.user = user
        self.host = host.lowercased()
        self.port = port
        self.parameters = parameters
        self.headers = headers
    }

    public var scheme: String { secure ? "sips" : "sip" }
    /// `;transport=` in lowercase, if any.
    public var transport: String? { parameters.lookup("transport").flatMap { $0?.lowercased() } }
    /// Loose-routing flag of a proxy's URI in a route set (RFC 3261 §16.12.1.1).
    public var isLooseRouter: Bool { parameters.has("lr") }
    public var isIPv6: Bool { host.contains(":") }
    /// `host` as it appears in a URI or Via (IPv6 in brackets).
    public var hostForWire: String { isIPv6 ? "[\(host)]" : host }

    public var description: String {
        var s = scheme + ":"
        if let user { s += SIPSyntax.percentEncode(user, allowed: SIPURI.isUserChar) + "@" }
        s += hostForWire
        if let port { s += ":\(port)" }
        s += parameters.wireForm
        if !headers.isEmpty {
            s += "?" + headers.map { h in h.value.map { "\(h.name)=\($0)" } ?? h.name }.joined(separator: "&")
        }
        return s
    }

    /// RFC 3261 user = 1*( unreserved / escaped / user-unreserved ).
    static func isUserChar(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-_.!~*'()&=+$,;?/".utf8.contains(c)
        }
    }

    /// Parses `sip:` / `sips:` URIs. Other schemes throw `.unsupportedScheme` so a UAS can answer 416.
    public init(parsing text: some StringProtocol) throws {
        let s = Substring(text)
        guard let colon = s.firstIndex(of: ":") else { throw SIPURIError.malformed("no scheme in '\(s)'") }
        let scheme = s[..<colon].lowercased()
        guard scheme == "sip" || scheme == "sips" else {
            guard SIPSyntax.isToken(s[..<colon]) else { throw SIPURIError.malformed("bad scheme in '\(s)'") }
            throw SIPURIError.unsupportedScheme(scheme)
        }
        var rest = s[s.index(after: colon)...]
        guard !rest.contains(where: { $0 == " " || $0 == "\t" || $0 == "<" || $0 == ">" || $0 == "\"" }) else {
            throw SIPURIError.malformed("illegal character in '\(s)'")
        }
        var user: String?
        if let at = rest.firstIndex(of: "@") {
            var userinfo = rest[..<at]
            if let pw = userinfo.firstIndex(of: ":") { userinfo = userinfo[..<pw] }
            guard !userinfo.isEmpty else { throw SIPURIError.malformed("empty user in '\(s)'") }
            do { user = try SIPSyntax.percentDecode(userinfo) } catch { throw SIPURIError.malformed("bad escape in user of '\(s)'") }
            rest = rest[rest.index(after: at)...]
        }
        var headerText: Substring?
        if let q = rest.firstIndex(of: "?") {
            headerText = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var paramText: Substring = ""
        // An IPv6 reference contains colons but no semicolons, so the first ';' after it starts the parameters.
        if let semi = rest.firstIndex(of: ";") {
            paramText = rest[semi...]
            rest = rest[..<semi]
        }
        let (host, port) = try SIPURI.parseHostPort(rest)
        let params: [SIPParameter]
        do { params = try SIPSyntax.parseParameters(paramText) } catch { throw SIPURIError.malformed("bad parameters in '\(s)'") }
        var headers: [SIPParameter] = []
        if let headerText {
            for h in headerText.split(separator: "&") {
                let kv = h.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard !kv[0].isEmpty else { throw SIPURIError.malformed("bad header in '\(s)'") }
                headers.append(SIPParameter(String(kv[0]), kv.count == 2 ? String(kv[1]) : nil))
            }
        }
        self.init(secure: scheme == "sips", user: user, host: host, port: port, parameters: params, headers: headers)
    }

    /// `host[:port]` with IPv6 references in brackets. Host names must be hostname characters.
    static func parseHostPort(_ s: Substring) throws -> (String, Int?) {
        var hostPart: Substring
        var portPart: Substring?
        if s.first == "[" {
            guard let close = s.firstIndex(of: "]") else { throw SIPURIError.malformed("unclosed IPv6 reference") }
            hostPart = s[s.index(after: s.startIndex)..<close]
            let after = s[s.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw SIPURIError.malformed("junk after IPv6 reference") }
                portPart = after.dropFirst()
            }
            guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw SIPURIError.malformed("bad IPv6 reference")
            }
        } else {
            if let colon = s.firstIndex(of: ":") {
                hostPart = s[..<colon]
                portPart = s[s.index(after: colon)...]
            } else {
                hostPart = s
            }
            guard !hostPart.isEmpty, hostPart.utf8.allSatisfy({ c in
                SIPSyntax.hexValue(c) != nil || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
                    || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
            }) else { throw SIPURIError.malformed("bad host '\(hostPart)'") }
        }
        var port: Int?
        if let portPart {
            guard !portPart.isEmpty, portPart.utf8.count <= 5,
                  portPart.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let p = Int(portPart),
                  p >= 0, p <= 65535 else { throw SIPURIError.malformed("bad port '\(portPart)'") }
            port = p
        }
        return (String(hostPart), port)
    }
}

public enum SIPURIError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case unsupportedScheme(String)

    public var description: String {
        switch self {
        case .malformed(let why): return "malformed URI: \(why)"
        case .unsupportedScheme(let s): return "unsupported URI scheme '\(s)'"
        }
    }
}
