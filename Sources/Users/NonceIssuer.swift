import Crypto
import Foundation

/// One-time login nonces (rest-api §7.4, channeling-api §3 "Nonce").
///
/// A nonce is `base64url(payload ‖ mac)` without padding, where
/// `payload = version(1) ‖ issuedAt(8, big-endian Unix milliseconds) ‖ random(16) ‖ userid(UTF-8)` and
/// `mac = HMAC-SHA256(key, "rooms-nonce" ‖ len‖sid ‖ len‖realm ‖ payload)` (lengths 4-byte big-endian).
/// The key is random per process unless given, so nonces die with a restart, as in the original.
/// Validity is 60 s. Single use and "only the most recent one" are enforced by the caller, which stores the last
/// nonce on the session.
public struct NonceIssuer: Sendable {
    public static let maxAge: TimeInterval = 60
    /// Tolerated clock step backwards between issue and validation.
    static let futureSkewMillis: Int64 = 5_000
    static let version: UInt8 = 1
    static let headerLength = 1 + 8 + 16
    static let macLength = 32

    public let realm: String
    private let key: [UInt8]

    /// `key` nil → 64 fresh random bytes.
    public init(realm: String, key: [UInt8]? = nil) {
        self.realm = realm
        self.key = key ?? randomBytes(64)
    }

    public func issue(sid: String, userid: String, now: Date) -> String {
        var payload: [UInt8] = [Self.version]
        payload.append(contentsOf: Self.bigEndianBytes(Self.millis(now)))
        payload.append(contentsOf: randomBytes(16))
        payload.append(contentsOf: Array(userid.utf8))
        return (payload + mac(sid: sid, payload: payload)).base64URLEncodedString()
    }

    /// The user id the nonce was issued for, if it is authentic for `sid` (and this realm) and at most 60 s old.
    public func validate(nonce: String, sid: String, now: Date) -> String? {
        guard nonce.utf8.count <= 4096, let bytes = [UInt8](base64URLEncoded: nonce),
              bytes.count >= Self.headerLength + Self.macLength, bytes[0] == Self.version else { return nil }
        let payload = Array(bytes[..<(bytes.count - Self.macLength)])
        let tag = bytes[(bytes.count - Self.macLength)...]
        guard usersConstantTimeEqual(mac(sid: sid, payload: payload), tag) else { return nil }
        var issued: Int64 = 0
        for b in payload[1..<9] { issued = issued << 8 | Int64(b) }
        let age = Self.millis(now).subtractingReportingOverflow(issued)
        guard !age.overflow, age.partialValue <= Int64(Self.maxAge * 1000),
              age.partialValue >= -Self.futureSkewMillis else { return nil }
        guard let userid = String(bytes: payload[Self.headerLength...], encoding: .utf8), !userid.isEmpty else {
            return nil
        }
        return userid
    }

    private func mac(sid: String, payload: [UInt8]) -> [UInt8] {
        var message = Array("rooms-nonce".utf8)
        for field in [Array(sid.utf8), Array(realm.utf8)] {
            message.append(contentsOf: Self.bigEndianBytes(UInt32(truncatingIfNeeded: field.count)))
            message.append(contentsOf: field)
        }
        message.append(contentsOf: payload)
        return hmacSHA256(key: key, message: message)
    }

    private static func millis(_ date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard ms.isFinite else { return 0 }
        return ms >= Double(Int64.max) ? .max : (ms <= Double(Int64.min) ? .min : Int64(ms))
    }

    private static func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}
