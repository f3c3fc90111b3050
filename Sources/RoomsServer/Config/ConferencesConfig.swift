import Crypto
import Foundation
import SIPDialIn

/// `[conferences]`: the MX-style conference scheduling API under `<basePath>api/mx/` (docs/conferences.md).
struct ConferencesConfig: Sendable {
    /// A password-grant account's password: as written, or its SHA-256 (`name:sha256:<hex>`).
    enum Password: Sendable, Equatable {
        case plain(String)
        case sha256([UInt8])

        /// Compares digests, so the comparison takes the same time whatever the password.
        func matches(_ candidate: String) -> Bool {
            let given = Array(SHA256.hash(data: Array(candidate.utf8)))
            switch self {
            case .plain(let p): return constantTimeMatch(given, Array(SHA256.hash(data: Array(p.utf8))))
            case .sha256(let digest): return constantTimeMatch(given, digest)
            }
        }
    }

    var enabled = true
    /// OAuth2 client id → secret (HTTP Basic on POST /auth).
    var apps: [String: String] = [:]
    /// Accounts of the password grant: user name → password.
    var users: [String: Password] = [:]
    var tokenTTL: TimeInterval = 3600
    var signKeyTTL: TimeInterval = 6 * 3600
    var joinEarly: TimeInterval = ConferenceSchedule.defaultEarlyJoin
    /// The dial-in number and extension shown by `GET /conferences/info`.
    var did = ""
    var ext = ""
    var subject = "Conference Call: %Date% @ %Time% - %Subject%"
    var body = """
        Please join my conference call

        Subject: %Subject%

        Date: %Date%
        Time: %Time% %Timezone%
        Duration: %Duration%

        At the scheduled date and time please call - %DID%
        Internal participants please call - %Extension%-%ID%

        If prompted, enter the following Conference ID: %ID%, followed by # key.
        """
    /// `%URL%` is the conference's `meeting` link (its Rooms room).
    var meeting = "View the web conference session at: %URL%"
    /// Scheme and host of meeting links (`https://meet.example.com`); empty: taken from the request's Host.
    var publicURL = ""
}

private func constantTimeMatch(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}

extension ConfigLoader {
    static let conferenceKeys: Set<String> = ["enabled", "apps", "users", "tokenttl", "signkeyttl", "joinearly", "did", "ext",
                                              "subject", "body", "meeting", "publicurl"]

    mutating func loadConferences() throws -> ConferencesConfig {
        var c = ConferencesConfig()
        c.enabled = bool("conferences", "enabled", true)
        c.apps = try pairs("apps") { id, secret in
            guard !secret.isEmpty else { throw fail("conferences", "apps", "client '\(id)' has an empty secret") }
            return secret
        }
        c.users = try pairs("users") { name, password in
            if password.hasPrefix("sha256:") {
                let hex = String(password.dropFirst("sha256:".count))
                guard hex.count == 64, let digest = [UInt8](hex: hex) else {
                    throw fail("conferences", "users", "user '\(name)': sha256: must be followed by 64 hex digits")
                }
                return .sha256(digest)
            }
            guard !password.isEmpty else { throw fail("conferences", "users", "user '\(name)' has an empty password") }
            return .plain(password)
        }
        c.tokenTTL = try duration("tokenTTL", c.tokenTTL)
        c.signKeyTTL = try duration("signKeyTTL", c.signKeyTTL)
        c.joinEarly = try duration("joinEarly", c.joinEarly, allowZero: true)
        c.did = string("conferences", "did") ?? ""
        c.ext = string("conferences", "ext") ?? ""
        // A one-line INI value writes line breaks of the mail templates as \n.
        for (key, path) in [("subject", \ConferencesConfig.subject), ("body", \.body), ("meeting", \.meeting)] {
            if let v = string("conferences", key) { c[keyPath: path] = v.replacingOccurrences(of: "\\n", with: "\n") }
        }
        if let url = string("conferences", "publicURL"), !url.isEmpty {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw fail("conferences", "publicURL", "'\(url)' is not an http(s) URL")
            }
            c.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        // Only worth a warning when someone is meant to log in: a server without conferences stays quiet.
        if c.enabled && c.apps.isEmpty && !c.users.isEmpty {
            warn("conferences", "users", "users but no OAuth2 apps configured: POST api/mx/auth answers 503 until apps = client:secret is set")
        }
        return c
    }

    /// `a:x, b:y` (commas and/or white space between items; each item splits at its first colon).
    private func pairs<V>(_ key: String, _ value: (String, String) throws -> V) throws -> [String: V] {
        var out: [String: V] = [:]
        let raw = string("conferences", key) ?? ""
        for item in raw.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\t" }) {
            guard let colon = item.firstIndex(of: ":"), colon != item.startIndex else {
                throw fail("conferences", key, "'\(item.prefix(40))' is not name:secret")
            }
            let name = String(item[..<colon])
            guard out[name] == nil else { throw fail("conferences", key, "'\(name)' is listed twice") }
            out[name] = try value(name, String(item[item.index(after: colon)...]))
        }
        return out
    }

    private func duration(_ key: String, _ fallback: TimeInterval, allowZero: Bool = false) throws -> TimeInterval {
        guard let raw = string("conferences", key) else { return fallback }
        guard let seconds = GoDuration.seconds(raw), seconds > 0 || (allowZero && seconds == 0) else {
            throw fail("conferences", key, "'\(raw)' is not a duration (e.g. 1h, 90m, 3m50s or seconds)")
        }
        return seconds
    }
}
