import Crypto
import Foundation

/// The `sharedsecret` registration mode (rest-api §7.4, §7.5).
///
/// Credentials are `useridcombo = "<expiry>:<userid>"` and `secret = base64std(HMAC-SHA256(key, useridcombo))`,
/// the key being `[users] sharedsecret_secret` as raw bytes. Third parties (and the original server) compute the
/// same values, so they must stay bit-exact.
public struct SharedSecretAuth: Sendable {
    /// Lifetime of credentials issued at registration: 12 × 31 days.
    public static let credentialLifetime: Int64 = 372 * 24 * 3600

    private let key: [UInt8]

    /// `secret` is used as raw bytes (not hex-decoded). An empty secret validates nothing.
    public init(secret: [UInt8]) {
        self.key = secret
    }

    /// Convenience for the config value: the string's UTF-8 bytes are the key.
    public init(secret: String) {
        self.init(secret: Array(secret.utf8))
    }

    /// The HMAC a client must present for `useridcombo`.
    public func signature(useridcombo: String) -> String {
        Data(hmacSHA256(key: key, message: Array(useridcombo.utf8))).base64EncodedString()
    }

    /// Credentials for a newly registered user, valid for 372 days from `now`.
    public func credentials(userid: String, now: Date) -> (useridcombo: String, secret: String, expiry: Int64) {
        let (expiry, overflow) = unixSeconds(now).addingReportingOverflow(Self.credentialLifetime)
        let e = overflow ? Int64.max : expiry
        let combo = "\(e):\(userid)"
        return (combo, signature(useridcombo: combo), e)
    }

    /// Validates replayed credentials; returns the user id or nil.
    ///
    /// `useridcombo` is split on `:` into at most 3 parts; part 0 is the expiry in decimal Unix seconds (an expiry
    /// equal to now is still valid), part 1 the (non-empty) user id; an optional third part is covered by the HMAC
    /// and otherwise ignored. The secret is compared in constant time.
    public func validate(useridcombo: String, secret: String, now: Date) -> String? {
        guard !key.isEmpty else { return nil }
        let parts = useridcombo.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return nil }
        // Decimal digits with an optional sign, like Go's strconv.ParseInt; overflow → nil.
        guard let expiry = Int64(parts[0]), expiry >= unixSeconds(now) else { return nil }
        let userid = String(parts[1])
        guard !userid.isEmpty else { return nil }
        let expected = signature(useridcombo: useridcombo)
        guard usersConstantTimeEqual(Array(expected.utf8), Array(secret.utf8)) else { return nil }
        return userid
    }
}

/// `Suserid` in `Self` documents (channeling-api §3): `base64std(HMAC-SHA256(key = encryptionSecret, msg = userid))`,
/// `""` for an empty user id. Must match the original bit for bit.
public func suserid(userid: String, encryptionSecret: [UInt8]) -> String {
    guard !userid.isEmpty else { return "" }
    return Data(hmacSHA256(key: encryptionSecret, message: Array(userid.utf8))).base64EncodedString()
}
