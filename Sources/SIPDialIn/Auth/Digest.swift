// HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 2617, RFC 7616 for SHA-256 and the -sess variants):
// the header values (challenge and credentials) and the response computation both sides share.

import Crypto

public enum DigestAlgorithm: String, Sendable, CaseIterable {
    case md5 = "MD5"
    case md5Session = "MD5-sess"
    case sha256 = "SHA-256"
    case sha256Session = "SHA-256-sess"

    /// Case-insensitive; an absent algorithm means MD5 (RFC 2617 §3.2.1).
    public init?(token: String?) {
        guard let token else {
            self = .md5
            return
        }
        guard let match = DigestAlgorithm.allCases.first(where: { $0.rawValue.lowercased() == token.lowercased() }) else {
            return nil
        }
        self = match
    }

    var isSession: Bool { self == .md5Session || self == .sha256Session }

    /// Lowercase hex digest of `text`.
    public func hash(_ text: String) -> String {
        switch self {
        case .md5, .md5Session: return Digest.hex(Insecure.MD5.hash(data: Array(text.utf8)))
        case .sha256, .sha256Session: return Digest.hex(SHA256.hash(data: Array(text.utf8)))
        }
    }
}

/// The protection requested: `auth` or none (RFC 2069 compatibility). `auth-int` is not offered.
public enum DigestQOP: String, Sendable {
    case auth
}

/// A WWW-Authenticate / Proxy-Authenticate `Digest` challenge.
public struct DigestChallenge: Equatable, Sendable, CustomStringConvertible {
    public var realm: String
    public var nonce: String
    public var opaque: String?
    public var algorithm: DigestAlgorithm
    /// qop options offered, lowercased (`auth`, `auth-int`); empty for none.
    public var qopOptions: [String]
    public var stale: Bool

    public init(realm: String, nonce: String, opaque: String? = nil, algorithm: DigestAlgorithm = .md5,
                qopOptions: [String] = ["auth"], stale: Bool = false) {
        self.realm = realm
        self.nonce = nonce
        self.opaque = opaque
        self.algorithm = algorithm
        self.qopOptions = qopOptions
        self.stale = stale
    }

    public var description: String {
        var parts = ["realm=\(SIPSyntax.quote(realm))", "nonce=\(SIPSyntax.quote(nonce))"]
        if let opaque { parts.append("opaque=\(SIPSyntax.quote(opaque))") }
        if stale { parts.append("stale=true") }
        parts.append("algorithm=\(algorithm.rawValue)")
        if !qopOptions.isEmpty { parts.append("qop=\(SIPSyntax.quote(qopOptions.joined(separator: ",")))") }
        return "Digest " + parts.joined(separator: ", ")
    }

    public init(parsing text: String) throws {
        let params = try Digest.parseAuthParams(text)
        guard let realm = params["realm"], let nonce = params["nonce"] else {
            throw DigestError.malformed("challenge without realm or nonce")
        }
        guard let algorithm = DigestAlgorithm(token: params["algorithm"]) else {
            throw DigestError.unsupportedAlgorithm(params["algorithm"] ?? "")
        }
        self.init(realm: realm, nonce: nonce, opaque: params["opaque"], algorithm: algorithm,
                  qopOptions: (params["qop"] ?? "").split(separator: ",").map { SIPSyntax.trim($0).lowercased() }.filter { !$0.isEmpty },
                  stale: params["stale"]?.lowercased() == "true")
    }
}

/// An Authorization / Proxy-Authorization `Digest` answer.
public struct DigestCredentials: Equatable, Sendable, CustomStringConvertible {
    public var username: String
    public var realm: String
    public var nonce: String
    public var uri: String
    public var response: String
    public var algorithm: DigestAlgorithm
    public var opaque: String?
    public var qop: DigestQOP?
    /// Eight hex digits, present with qop.
    public var nonceCount: String?
    public var cnonce: String?

    public init(username: String, realm: String, nonce: String, uri: String, response: String,
                algorithm: DigestAlgorithm = .md5, opaque: String? = nil, qop: DigestQOP? = nil,
                nonceCount: String? = nil, cnonce: String? = nil) {
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.algorithm = algorithm
        self.opaque = opaque
        self.qop = qop
        self.nonceCount = nonceCount
        self.cnonce = cnonce
    }

    public var description: String {
        var parts = ["username=\(SIPSyntax.quote(username))", "realm=\(SIPSyntax.quote(realm))",
                     "nonce=\(SIPSyntax.quote(nonce))", "uri=\(SIPSyntax.quote(uri))",
                     "response=\(SIPSyntax.quote(response))", "algorithm=\(algorithm.rawValue)"]
        if let opaque { parts.append("opaque=\(SIPSyntax.quote(opaque))") }
        if let qop, let nonceCount, let cnonce {
            parts.append("qop=\(qop.rawValue)")
            parts.append("nc=\(nonceCount)")
            parts.append("cnonce=\(SIPSyntax.quote(cnonce))")
        }
        return "Digest " + parts.joined(separator: ", ")
    }

    public init(parsing text: String) throws {
        let p = try Digest.parseAuthParams(text)
        guard let username = p["username"], let realm = p["realm"], let nonce = p["nonce"], let uri = p["uri"],
              let response = p["response"] else { throw DigestError.malformed("credentials lack a mandatory parameter") }
        guard let algorithm = DigestAlgorithm(token: p["algorithm"]) else {
            throw DigestError.unsupportedAlgorithm(p["algorithm"] ?? "")
        }
        var qop: DigestQOP?
        if let q = p["qop"] {
            guard let parsed = DigestQOP(rawValue: q.lowercased()) else { throw DigestError.malformed("unsupported qop '\(q)'") }
            guard let nc = p["nc"], nc.utf8.count == 8, nc.utf8.allSatisfy({ SIPSyntax.hexValue($0) != nil }),
                  let cnonce = p["cnonce"], !cnonce.isEmpty else { throw DigestError.malformed("qop without valid nc/cnonce") }
            qop = parsed
            _ = (nc, cnonce)
        }
        self.init(username: username, realm: realm, nonce: nonce, uri: uri, response: response, algorithm: algorithm,
                  opaque: p["opaque"], qop: qop, nonceCount: qop == nil ? nil : p["nc"], cnonce: qop == nil ? nil : p["cnonce"])
    }
}

public enum DigestError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case unsupportedAlgorithm(String)
    case notDigest

    public var description: String {
        switch self {
        case .malformed(let why): return "malformed digest header: \(why)"
        case .unsupportedAlgorithm(let a): return "unsupported digest algorithm '\(a.prefix(20))'"
        case .notDigest: return "authentication scheme is not Digest"
        }
    }
}

public enum Digest {
    /// H(username:realm:password), the secret a server may store instead of the password.
    public static func ha1(username: String, realm: String, password: String, algorithm: DigestAlgorithm) -> String {
        algorithm.hash("\(username):\(realm):\(password)")
    }

    /// The request-digest (RFC 7616 §3.4.1). `ha1` is the plain H(user:realm:password); -sess is applied here.
    public static func response(ha1: String, algorithm: DigestAlgorithm, nonce: String, method: String, uri: String,
                                qop: DigestQOP?, nonceCount: String?, cnonce: String?) -> String {
        var a1Hash = ha1
        if algorithm.isSession { a1Hash = algorithm.hash("\(ha1):\(nonce):\(cnonce ?? "")") }
        let ha2 = algorithm.hash("\(method):\(uri)")
        if let qop {
            return algorithm.hash("\(a1Hash):\(nonce):\(nonceCount ?? ""):\(cnonce ?? ""):\(qop.rawValue):\(ha2)")
        }
        return algorithm.hash("\(a1Hash):\(nonce):\(ha2)")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let table = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in digest {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `Digest a=b, c="d"` → [a: b, c: d]; names lowercased, quotes removed. Duplicates are an error.
    static func parseAuthParams(_ text: String) throws -> [String: String] {
        let trimmed = SIPSyntax.trim(Substring(text))
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }),
              trimmed[..<space].lowercased() == "digest" else { throw DigestError.notDigest }
        var result: [String: String] = [:]
        for item in SIPSyntax.split(trimmed[space...], at: ",") {
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { throw DigestError.malformed("parameter without value '\(item.prefix(40))'") }
            let name = SIPSyntax.trim(kv[0]).lowercased()
            let rawValue = SIPSyntax.trim(kv[1])
            guard SIPSyntax.isToken(name) else { throw DigestError.malformed("bad parameter name") }
            let value: String
            if rawValue.first == "\"" {
                do { value = try SIPSyntax.unquote(rawValue) } catch { throw DigestError.malformed("bad quoted value for \(name)") }
            } else {
                guard SIPSyntax.isToken(rawValue) || rawValue.allSatisfy({ $0 != " " && $0 != "\"" }) else {
                    throw DigestError.malformed("bad value for \(name)")
                }
                value = String(rawValue)
            }
            guard result[name] == nil else { throw DigestError.malformed("duplicate \(name)") }
            result[name] = value
        }
        return result
    }

    /// Compares two hex strings without an early exit, so timing reveals nothing about the expected value.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.lowercased().utf8), y = Array(b.lowercased().utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
