import Channeling
import Crypto
import Foundation
import JWTKit

/// The claims of an MX access token (the seed's example carries exactly these).
struct MXClaims: JWTPayload, Equatable {
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var iss: IssuerClaim
    var jti: IDClaim
    var sub: SubjectClaim

    /// Time claims are checked by `MXTokenAuthority` against its own clock (jwt-kit would use the wall clock).
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Issues and checks the MX API's ES256 access tokens. Signing keys rotate every `signKeyTTL`: new tokens get the
/// newest key, and an older key stays until every token it signed has expired (its age reaches signKeyTTL +
/// tokenTTL). Keys and logouts live in `MXTokenStore`, so a restart changes nothing for token holders.
actor MXTokenAuthority {
    struct Settings: Sendable {
        var tokenTTL: TimeInterval
        var signKeyTTL: TimeInterval
        var issuer: String
    }

    struct Verified: Sendable, Equatable {
        var subject: String
        var jti: String
        var expiresAt: Date
    }

    /// Why a bearer token is refused; the text goes into the 401 body.
    enum Rejection: Error, Equatable, CustomStringConvertible {
        case malformed, unsupportedAlgorithm(String), unknownKey, badSignature, wrongIssuer, expired, notYetValid, revoked
        var description: String {
            switch self {
            case .malformed: return "the token is not a well-formed JWT"
            case .unsupportedAlgorithm(let alg): return "tokens signed with '\(alg)' are not accepted"
            case .unknownKey: return "the token's signing key is unknown or retired"
            case .badSignature: return "the token's signature does not verify"
            case .wrongIssuer: return "the token was issued by another server"
            case .expired: return "the token has expired"
            case .notYetValid: return "the token is not valid yet"
            case .revoked: return "the token was logged out"
            }
        }
    }

    private struct SigningKey {
        var kid: String
        var createdAt: Date
        /// One collection per key: verification must use exactly the key the `kid` names (a shared collection
        /// falls back to its default key for an unknown kid).
        var keys: JWTKeyCollection
    }

    /// Tolerated clock difference for `iat` in the future (tokens come from this server, but clocks get stepped).
    static let clockSkew: TimeInterval = 60

    let settings: Settings
    private let store: MXTokenStore
    private let now: @Sendable () -> Date
    private var keys: [SigningKey] = []
    private var revoked: [String: Date] = [:]

    init(store: MXTokenStore, settings: Settings, now: @escaping @Sendable () -> Date = { Date() }) async throws {
        self.store = store
        self.settings = settings
        self.now = now
        for record in try store.signingKeys() {
            let key = try ES256PrivateKey(backing: P256.Signing.PrivateKey(rawRepresentation: record.privateKey))
            keys.append(SigningKey(kid: record.kid, createdAt: date(millis: record.createdAt), keys: await Self.collection(key, kid: record.kid)))
        }
        revoked = try store.revokedTokens(at: now()).mapValues { date(millis: $0) }
    }

    /// A new access token for `subject`, and its lifetime in seconds.
    func issue(subject: String) async throws -> (token: String, expiresIn: Int) {
        // Whole seconds: NumericDate claims are integers in practice, and `expires_in` must match exp - iat.
        let issuedAt = Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))
        let key = try await currentKey(at: issuedAt)
        let ttl = max(1, settings.tokenTTL.rounded(.down))
        let claims = MXClaims(exp: .init(value: issuedAt.addingTimeInterval(ttl)), iat: .init(value: issuedAt),
                              iss: .init(value: settings.issuer), jti: .init(value: SessionCodec.randomAlphanumeric(16)),
                              sub: .init(value: subject))
        let token = try await key.keys.sign(claims, kid: JWKIdentifier(string: key.kid))
        return (token, Int(ttl))
    }

    func check(_ token: String) async -> Result<Verified, Rejection> {
        do throws(Rejection) {
            return .success(try await verify(token))
        } catch {
            return .failure(error)
        }
    }

    func verify(_ token: String) async throws(Rejection) -> Verified {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(String(parts[0])),
              let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else { throw .malformed }
        // Checked before any key is touched: `none` and HMAC-with-the-public-key forgeries never reach a verifier.
        guard header.alg == "ES256" else { throw .unsupportedAlgorithm(header.alg ?? "none") }
        let at = now()
        prune(at: at)
        guard let kid = header.kid, let key = keys.first(where: { $0.kid == kid }) else { throw .unknownKey }
        let claims: MXClaims
        do {
            claims = try await key.keys.verify(token, as: MXClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw .badSignature
        } catch {
            throw .malformed
        }
        guard claims.iss.value == settings.issuer else { throw .wrongIssuer }
        guard at < claims.exp.value else { throw .expired }
        guard claims.iat.value <= at.addingTimeInterval(Self.clockSkew) else { throw .notYetValid }
        guard revoked[claims.jti.value] == nil else { throw .revoked }
        return Verified(subject: claims.sub.value, jti: claims.jti.value, expiresAt: claims.exp.value)
    }

    /// Logout: the token is refused from now on, until its own expiry makes the entry pointless.
    func revoke(_ token: Verified) throws {
        try store.revoke(jti: token.jti, expiresAt: token.expiresAt)
        revoked[token.jti] = token.expiresAt
    }

    /// Key ids currently able to verify, oldest first (for tests and diagnostics).
    func keyIds() -> [String] { keys.map(\.kid) }

    private struct Header: Decodable {
        var alg: String?
        var kid: String?
    }

    private func currentKey(at date: Date) async throws -> SigningKey {
        prune(at: date)
        if let newest = keys.last, date.timeIntervalSince(newest.createdAt) < settings.signKeyTTL { return newest }
        let kid = SessionCodec.randomAlphanumeric(8)
        let backing = P256.Signing.PrivateKey()
        try store.add(.init(kid: kid, privateKey: backing.rawRepresentation, createdAt: millis(date)))
        let key = SigningKey(kid: kid, createdAt: date, keys: await Self.collection(try ES256PrivateKey(backing: backing), kid: kid))
        keys.append(key)
        return key
    }

    /// Drops keys that can no longer have signed an unexpired token, and expired revocations.
    private func prune(at date: Date) {
        let lifetime = settings.signKeyTTL + settings.tokenTTL
        let retired = keys.filter { date.timeIntervalSince($0.createdAt) >= lifetime }
        if !retired.isEmpty {
            keys.removeAll { date.timeIntervalSince($0.createdAt) >= lifetime }
            // Best effort: a key left in the table is pruned again at the next start.
            try? store.removeKeys(retired.map(\.kid))
        }
        let expired = revoked.filter { $0.value <= date }
        if !expired.isEmpty {
            for jti in expired.keys { revoked[jti] = nil }
            try? store.pruneRevoked(before: date)
        }
    }

    private static func collection(_ key: ES256PrivateKey, kid: String) async -> JWTKeyCollection {
        let collection = JWTKeyCollection()
        await collection.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        return collection
    }
}
