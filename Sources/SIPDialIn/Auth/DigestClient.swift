// The client side of digest: answers a 401 (WWW-Authenticate → Authorization) or 407
// (Proxy-Authenticate → Proxy-Authorization) challenge, counting nc per nonce so a registrar that
// keeps its nonce across refreshes sees increasing counts (RFC 7616 §3.4).

public struct DigestClient: Sendable {
    public var username: String
    public var password: String
    /// Last nonce answered and its count.
    private var lastNonce: String?
    private var nonceCount: UInt32 = 0
    private let makeCnonce: @Sendable () -> String

    public init(username: String, password: String, cnonce: (@Sendable () -> String)? = nil) {
        self.username = username
        self.password = password
        self.makeCnonce = cnonce ?? { Digest.hex((0..<12).map { _ in UInt8.random(in: 0...255) }) }
    }

    /// The header to add to the retried request: name and value. Throws when the response carries no usable
    /// Digest challenge (unknown algorithm, other scheme).
    public mutating func authorize(_ response: SIPResponse, method: SIPMethod, uri: String) throws -> (name: String, value: String) {
        let isProxy = response.status == 407
        let challengeHeader = isProxy ? SIPHeaderName.proxyAuthenticate : SIPHeaderName.wwwAuthenticate
        // Prefer SHA-256 when the server offers several challenges (RFC 8760 §2.4 ordering is a preference).
        let challenges = response.headers.values(challengeHeader).compactMap { try? DigestChallenge(parsing: $0) }
        guard let challenge = challenges.first(where: { $0.algorithm == .sha256 }) ?? challenges.first else {
            throw DigestError.malformed("no usable \(challengeHeader) in \(response.status)")
        }
        let credentials = answer(challenge, method: method.rawValue, uri: uri)
        return (isProxy ? SIPHeaderName.proxyAuthorization : SIPHeaderName.authorization, credentials.description)
    }

    /// Credentials for one challenge.
    public mutating func answer(_ challenge: DigestChallenge, method: String, uri: String) -> DigestCredentials {
        let qop: DigestQOP? = challenge.qopOptions.contains("auth") ? .auth : nil
        var nc: String?
        var cnonce: String?
        if qop != nil {
            if lastNonce == challenge.nonce { nonceCount &+= 1 } else { nonceCount = 1 }
            lastNonce = challenge.nonce
            let hex = String(nonceCount, radix: 16)
            nc = String(repeating: "0", count: max(0, 8 - hex.count)) + hex
            cnonce = makeCnonce()
        }
        let ha1 = Digest.ha1(username: username, realm: challenge.realm, password: password, algorithm: challenge.algorithm)
        let response = Digest.response(ha1: ha1, algorithm: challenge.algorithm, nonce: challenge.nonce, method: method,
                                       uri: uri, qop: qop, nonceCount: nc, cnonce: cnonce)
        return DigestCredentials(username: username, realm: challenge.realm, nonce: challenge.nonce, uri: uri,
                                 response: response, algorithm: challenge.algorithm, opaque: challenge.opaque, qop: qop,
                                 nonceCount: nc, cnonce: cnonce)
    }
}
