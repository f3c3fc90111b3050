// The server side of digest: challenges with nonces that validate themselves (time and a random part,
// authenticated by an HMAC under a per-process secret), so expiry needs no table and yields `stale=true`;
// the only state kept is the highest nonce count seen per live nonce, to reject replays.

import Crypto
import Foundation

/// What the server knows about a user: the password, or H(user:realm:password) for the challenge's algorithm.
public enum DigestSecret: Sendable, Equatable {
    case password(String)
    case ha1(String)
}

public enum DigestVerdict: Equatable, Sendable {
    case authorized(username: String)
    /// Right password, expired nonce: challenge again with `stale=true` (the client retries silently).
    case stale
    /// The same nonce count (or a qop-less nonce) seen before.
    case replay
    case rejected(String)
}

/// Not thread-safe: owned by the user agent's event loop like the rest of the stack.
public final class DigestServer {
    public let realm: String
    public let algorithm: DigestAlgorithm
    /// Seconds a nonce stays valid.
    public let nonceLifetime: Int64
    private let key: SymmetricKey
    private let now: () -> Int64
    /// nonce → highest nc accepted (0 for a qop-less use); pruned as nonces expire.
    private var seen: [String: UInt32] = [:]
    private var lastPrune: Int64 = 0

    public init(realm: String, algorithm: DigestAlgorithm = .md5, nonceLifetime: Int64 = 300,
                secret: [UInt8]? = nil, now: (() -> Int64)? = nil) {
        self.realm = realm
        self.algorithm = algorithm
        self.nonceLifetime = nonceLifetime
        self.key = SymmetricKey(data: secret ?? (0..<32).map { _ in UInt8.random(in: 0...255) })
        self.now = now ?? { Int64(Date().timeIntervalSince1970) }
    }

    public func challenge(stale: Bool = false) -> DigestChallenge {
        DigestChallenge(realm: realm, nonce: makeNonce(at: now()), algorithm: algorithm, qopOptions: ["auth"], stale: stale)
    }

    /// nonce = hex(time) "." hex(random 8 bytes) "." hex(HMAC-SHA256(secret, time.random.realm)[0..<16]).
    func makeNonce(at time: Int64) -> String {
        let stamp = String(UInt64(bitPattern: time), radix: 16)
        let random = Digest.hex((0..<8).map { _ in UInt8.random(in: 0...255) })
        return "\(stamp).\(random).\(mac(stamp, random))"
    }

    private func mac(_ stamp: String, _ random: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array("\(stamp).\(random).\(realm)".utf8), using: key)
        return Digest.hex(Array(code).prefix(16))
    }

    /// The time a nonce was issued, if this server issued it (whatever its age).
    func issueTime(of nonce: String) -> Int64? {
        let parts = nonce.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].utf8.count <= 16, let t = UInt64(parts[0], radix: 16),
              Digest.constantTimeEqual(String(parts[2]), mac(String(parts[0]), String(parts[1]))) else { return nil }
        return Int64(bitPattern: t)
    }

    /// Checks credentials for a request with `method`. `secret(username)` returns the user's secret or nil.
    public func verify(_ credentials: DigestCredentials, method: String, secret: (String) -> DigestSecret?) -> DigestVerdict {
        let t = now()
        prune(at: t)
        guard credentials.realm == realm else { return .rejected("wrong realm") }
        guard credentials.algorithm == algorithm else { return .rejected("wrong algorithm") }
        guard let issued = issueTime(of: credentials.nonce) else { return .rejected("nonce not issued here") }
        guard let userSecret = secret(credentials.username) else { return .rejected("unknown user") }
        let ha1: String
        switch userSecret {
        case .password(let p): ha1 = Digest.ha1(username: credentials.username, realm: realm, password: p, algorithm: algorithm)
        case .ha1(let h): ha1 = h.lowercased()
        }
        let expected = Digest.response(ha1: ha1, algorithm: algorithm, nonce: credentials.nonce, method: method,
                                       uri: credentials.uri, qop: credentials.qop, nonceCount: credentials.nonceCount,
                                       cnonce: credentials.cnonce)
        guard Digest.constantTimeEqual(expected, credentials.response) else { return .rejected("wrong response") }
        // Only a correct response may learn that its nonce is stale (RFC 7616 §3.3).
        guard t - issued <= nonceLifetime, issued <= t + 5 else { return .stale }
        let count: UInt32
        if credentials.qop != nil {
            guard let nc = credentials.nonceCount.flatMap({ UInt32($0, radix: 16) }), nc > 0 else { return .rejected("bad nc") }
            count = nc
        } else {
            count = 0  // without qop a nonce is good for one request
        }
        if let previous = seen[credentials.nonce], credentials.qop == nil || count <= previous { return .replay }
        seen[credentials.nonce] = count
        return .authorized(username: credentials.username)
    }

    /// Forgets counts of expired nonces (they fail as stale before the table is consulted).
    private func prune(at t: Int64) {
        guard t - lastPrune >= 10 || seen.count > 10_000 else { return }
        lastPrune = t
        seen = seen.filter { nonce, _ in issueTime(of: nonce).map { t - $0 <= nonceLifetime } ?? false }
    }
}
