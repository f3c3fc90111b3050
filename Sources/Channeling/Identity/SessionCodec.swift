import Crypto
import Foundation

/// Session identity values that only Rooms consumes (channeling-api §3): the public `Id`, the resume `Token` and the
/// attestation `A`. Their constructions differ from the original's securecookie but keep its properties:
/// opaque, unforgeable, URL-safe, `(Id, Sid)` pairs verifiable without state, bounded lifetimes.
public struct SessionCodec: @unchecked Sendable {  // SymmetricKey is immutable but not marked Sendable
    public struct TokenValue: Codable, Sendable, Equatable {
        public var id: String
        public var sid: String
        public var userid: String
    }

    private let macKey: SymmetricKey
    private let encryptionKey: SymmetricKey
    private let realm: String
    public static let idLifetime: TimeInterval = 30 * 24 * 3600
    public static let attestationLifetime: TimeInterval = 300

    public init(sessionSecret: [UInt8], encryptionSecret: [UInt8], realm: String) {
        macKey = SymmetricKey(data: sessionSecret)
        encryptionKey = SymmetricKey(data: encryptionSecret)
        self.realm = realm
    }

    /// 32 characters from `[a-zA-Z0-9]`, crypto-random.
    public static func newSid() -> String { randomAlphanumeric(32) }

    public static func randomAlphanumeric(_ count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var rng = SystemRandomNumberGenerator()
        // 62 does not divide 256: draw below 248 (= 4 × 62) so every character is equally likely.
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            let b = UInt8.random(in: 0...255, using: &rng)
            if b < 248 { out.append(alphabet[Int(b % 62)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func mac(_ label: String, _ parts: [UInt8]...) -> [UInt8] {
        var h = HMAC<SHA256>(key: macKey)
        h.update(data: Array(label.utf8))
        h.update(data: [0])
        for p in parts { h.update(data: p); h.update(data: [0]) }
        return Array(h.finalize())
    }

    /// Id = base64url(issue time (8 bytes) ‖ HMAC(sessionSecret, "id", sid, time)).
    public func id(forSid sid: String, now: Date = Date()) -> String {
        let ts = Self.timeBytes(now)
        return Base64URL.encode(ts + mac("id", Array(sid.utf8), ts))
    }

    public func validate(id: String, sid: String, now: Date = Date()) -> Bool {
        guard let raw = Base64URL.decode(id), raw.count == 40 else { return false }
        let ts = Array(raw[0..<8])
        guard Self.fresh(ts, lifetime: Self.idLifetime, now: now) else { return false }
        return constantTimeEqual(Array(raw[8...]), mac("id", Array(sid.utf8), ts))
    }

    /// Token = base64url(AES-GCM(encryptionSecret, JSON {id, sid, userid, t}), AAD = "token@<realm>").
    public func token(_ value: TokenValue, now: Date = Date()) -> String {
        let payload = Stamped(v: value, t: Int64(now.timeIntervalSince1970))
        let plain = (try? JSONEncoder().encode(payload)) ?? Data()
        guard let box = try? AES.GCM.seal(plain, using: encryptionKey, authenticating: Data("token@\(realm)".utf8)),
              let combined = box.combined else { return "" }
        return Base64URL.encode(Array(combined))
    }

    public func decodeToken(_ token: String, now: Date = Date()) -> TokenValue? {
        guard token.count < 4096, let raw = Base64URL.decode(token),
              let box = try? AES.GCM.SealedBox(combined: Data(raw)),
              let plain = try? AES.GCM.open(box, using: encryptionKey, authenticating: Data("token@\(realm)".utf8)),
              let stamped = try? JSONDecoder().decode(Stamped.self, from: plain) else { return nil }
        let age = now.timeIntervalSince1970 - TimeInterval(stamped.t)
        guard age >= -60, age <= Self.idLifetime else { return nil }
        return stamped.v
    }

    /// Contact token: AES-GCM of `{A: recipient's user id, B: requester's user id}`; never expires.
    public struct ContactValue: Codable, Sendable, Equatable {
        public var A: String
        public var B: String
    }

    public func contactToken(_ value: ContactValue) -> String {
        guard let plain = try? JSONEncoder().encode(value),
              let box = try? AES.GCM.seal(plain, using: encryptionKey, authenticating: Data("contact".utf8)),
              let combined = box.combined else { return "" }
        return Base64URL.encode(Array(combined))
    }

    public func decodeContactToken(_ token: String) -> ContactValue? {
        guard token.count < 4096, let raw = Base64URL.decode(token),
              let box = try? AES.GCM.SealedBox(combined: Data(raw)),
              let plain = try? AES.GCM.open(box, using: encryptionKey, authenticating: Data("contact".utf8)) else { return nil }
        return try? JSONDecoder().decode(ContactValue.self, from: plain)
    }

    /// Attestation = base64url(time ‖ HMAC(sessionSecret, "attestation", id, time) ‖ id), valid 300 s.
    public func attestation(id: String, now: Date = Date()) -> String {
        let ts = Self.timeBytes(now)
        let idBytes = Array(id.utf8)
        return Base64URL.encode(ts + mac("attestation", idBytes, ts) + idBytes)
    }

    public enum AttestationError: Error, CustomStringConvertible {
        case malformed, expired, forged
        public var description: String {
            switch self {
            case .malformed: return "the value is not valid"
            case .expired: return "expired timestamp"
            case .forged: return "the value is not valid"
            }
        }
    }

    public func validateAttestation(_ a: String, now: Date = Date()) throws -> String {
        guard a.count < 2048, let raw = Base64URL.decode(a), raw.count > 40 else { throw AttestationError.malformed }
        let ts = Array(raw[0..<8]), tag = Array(raw[8..<40]), idBytes = Array(raw[40...])
        guard constantTimeEqual(tag, mac("attestation", idBytes, ts)) else { throw AttestationError.forged }
        guard Self.fresh(ts, lifetime: Self.attestationLifetime, now: now) else { throw AttestationError.expired }
        return String(decoding: idBytes, as: UTF8.self)
    }

    private struct Stamped: Codable { var v: TokenValue; var t: Int64 }

    private static func timeBytes(_ d: Date) -> [UInt8] {
        withUnsafeBytes(of: UInt64(max(0, d.timeIntervalSince1970)).bigEndian, Array.init)
    }

    private static func fresh(_ ts: [UInt8], lifetime: TimeInterval, now: Date) -> Bool {
        let t = ts.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let age = now.timeIntervalSince1970 - TimeInterval(t)
        return age >= -60 && age <= lifetime
    }
}

public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}

public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ s: String) -> [UInt8]? {
        guard s.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 || $0 == 61 }) else { return nil }
        var t = s.replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t).map(Array.init)
    }
}
