import Channeling
import Crypto
import Foundation

/// The configured OAuth2 clients and password-grant users, and the MX identity (`GET /auth`) of each user.
struct MXAccounts: Sendable {
    /// What `GET /auth` returns. MX numbers are derived from the user name so they stay the same across restarts
    /// and machines without a user table; `softPhonePwd` is keyed by a random server secret (kept in the data
    /// folder), so it is unguessable, differs per user and per server, and needs no per-user storage.
    struct Identity: Sendable, Equatable {
        var mx: String
        var ext: String
        var jid: Int64
        var softPhonePwd: String
    }

    let config: ConferencesConfig
    let realm: String
    /// `mx.softPhoneKey` from the SecretStore (32 random bytes generated on first start).
    let softPhoneKey: [UInt8]

    func clientIsValid(id: String, secret: String) -> Bool {
        guard let expected = config.apps[id] else { return false }
        return ConferencesConfig.Password.plain(expected).matches(secret)
    }

    func userIsValid(name: String, password: String) -> Bool {
        config.users[name]?.matches(password) ?? false
    }

    /// A token stays usable only while its user is still configured.
    func userExists(_ name: String) -> Bool { config.users[name] != nil }

    func identity(of user: String) -> Identity {
        Identity(mx: String(Self.number(realm, label: "mx", digits: 5)),
                 ext: String(Self.number(user, label: "ext", digits: 4)),
                 jid: Self.jid(of: user),
                 softPhonePwd: softPhonePassword(of: user))
    }

    /// 17 digits like the MX jids (`43884851428118509`): a number, because conferences carry `ownerId` as one.
    static func jid(of user: String) -> Int64 { number(user, label: "jid", digits: 17) }

    /// A `digits`-long decimal number (no leading zero) from a hash of `value`. Extensions (4 digits) of different
    /// users can collide; they are informational here, as Rooms has no PBX of its own.
    static func number(_ value: String, label: String, digits: Int) -> Int64 {
        let hash = SHA256.hash(data: Array("rooms-mx-\(label)\u{0}\(value)".utf8))
        let first8 = hash.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = UInt64(pow(10, Double(digits - 1)))
        return Int64(low + first8 % (9 * low))
    }

    /// 32 characters of [A-Za-z0-9] from HMAC-SHA256(key, user), the shape of the MX passwords.
    private func softPhonePassword(of user: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var out = ""
        var block = 0
        while out.count < 32 {
            let mac = HMAC<SHA256>.authenticationCode(for: Array("\(block)\u{0}\(user)".utf8), using: SymmetricKey(data: softPhoneKey))
            // 248 = 4 × 62: bytes above it are skipped so every character is equally likely.
            for byte in mac where byte < 248 && out.count < 32 { out.append(alphabet[Int(byte % 62)]) }
            block += 1
        }
        return out
    }
}
