// Via (RFC 3261 §20.42, §18.2.2) with the RFC 3581 `rport` extension. Responses travel back along the
// Via list, so the values that pick the response address (received, rport, sent-by) are typed.

public struct SIPVia: Equatable, Sendable, CustomStringConvertible {
    /// The RFC 3261 branch prefix: a branch starting with it is unique per transaction (§8.1.1.7).
    public static let magicCookie = "z9hG4bK"

    /// Upper-case transport token: UDP, TCP, TLS, SCTP, WS, WSS.
    public var transport: String
    public var host: String
    public var port: Int?
    public var parameters: [SIPParameter]

    public init(transport: String, host: String, port: Int?, parameters: [SIPParameter] = []) {
        self.transport = transport.uppercased()
        self.host = host.lowercased()
        self.port = port
        self.parameters = parameters
    }

    public var branch: String? {
        get { parameters.lookup("branch").flatMap { $0 } }
        set { if let newValue { parameters.set("branch", newValue) } else { parameters.remove("branch") } }
    }

    public var received: String? {
        get { parameters.lookup("received").flatMap { $0 } }
        set { if let newValue { parameters.set("received", newValue) } else { parameters.remove("received") } }
    }

    /// RFC 3581: `;rport` present (the client asks for it) and its value once a server filled it in.
    public var requestsRport: Bool { parameters.has("rport") }
    public var rport: Int? {
        get { parameters.lookup("rport").flatMap { $0 }.flatMap { Int($0) } }
        set { parameters.set("rport", newValue.map(String.init)) }
    }

    public var maddr: String? { parameters.lookup("maddr").flatMap { $0 } }

    /// `host[:port]` of sent-by.
    public var sentBy: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(h):\($0)" } ?? h
    }

    public var description: String { "SIP/2.0/\(transport) \(sentBy)\(parameters.wireForm)" }

    /// One via-parm. LWS is allowed around the `/` separators (RFC 4475 §3.1.1.1 exercises it).
    public init(parsing text: some StringProtocol) throws {
        let s = SIPSyntax.trim(Substring(text))
        let parts = s.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw SIPSyntaxError("bad Via protocol") }
        let name = SIPSyntax.trim(parts[0]), version = SIPSyntax.trim(parts[1])
        guard name.uppercased() == "SIP", version == "2.0" else { throw SIPSyntaxError("Via is not SIP/2.0") }
        let tail = SIPSyntax.trim(parts[2])
        guard let space = tail.firstIndex(where: { $0 == " " || $0 == "\t" }) else { throw SIPSyntaxError("Via has no sent-by") }
        let transport = tail[..<space]
        guard SIPSyntax.isToken(transport) else { throw SIPSyntaxError("bad Via transport") }
        let afterTransport = SIPSyntax.trim(tail[space...])
        let semi = afterTransport.firstIndex(of: ";") ?? afterTransport.endIndex
        // LWS may surround the ':' of sent-by as well.
        let sentBy = afterTransport[..<semi].filter { $0 != " " && $0 != "\t" }
        let (host, port): (String, Int?)
        do { (host, port) = try SIPURI.parseHostPort(sentBy[...]) } catch { throw SIPSyntaxError("bad Via sent-by '\(sentBy)'") }
        let params = try SIPSyntax.parseParameters(afterTransport[semi...])
        self.init(transport: String(transport), host: host, port: port, parameters: params)
    }
}

/// CSeq (RFC 3261 §20.16): sequence number below 2^31 and the request method.
public struct SIPCSeq: Equatable, Sendable, CustomStringConvertible {
    public var number: UInt32
    public var method: SIPMethod

    public init(_ number: UInt32, _ method: SIPMethod) {
        self.number = number
        self.method = method
    }

    public var description: String { "\(number) \(method)" }

    public init(parsing text: some StringProtocol) throws {
        let parts = Substring(text).split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[0].utf8.count <= 10, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
              let n = UInt32(parts[0]), n < 1 << 31 else { throw SIPSyntaxError("bad CSeq number") }
        guard SIPSyntax.isToken(parts[1]) else { throw SIPSyntaxError("bad CSeq method") }
        self.init(n, SIPMethod(String(parts[1])))
    }
}

/// A request method: a case-sensitive token (RFC 3261 §7.1).
public struct SIPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let invite: SIPMethod = "INVITE"
    public static let ack: SIPMethod = "ACK"
    public static let bye: SIPMethod = "BYE"
    public static let cancel: SIPMethod = "CANCEL"
    public static let options: SIPMethod = "OPTIONS"
    public static let register: SIPMethod = "REGISTER"
    public static let info: SIPMethod = "INFO"
    public static let update: SIPMethod = "UPDATE"
    public static let prack: SIPMethod = "PRACK"
    public static let subscribe: SIPMethod = "SUBSCRIBE"
    public static let notify: SIPMethod = "NOTIFY"
    public static let refer: SIPMethod = "REFER"
    public static let message: SIPMethod = "MESSAGE"
    public static let publish: SIPMethod = "PUBLISH"
}
