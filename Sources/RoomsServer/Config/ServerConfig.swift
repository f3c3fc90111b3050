import Foundation
import SFU

/// Rooms' own version: published as `Cfg.Version` and `Self.Version` (they must agree).
let roomsVersion = "0.1.0"

/// A start-up failure of the configuration, naming file, line and key.
struct ConfigError: Error, CustomStringConvertible {
    var file: String
    var line: Int
    var key: String
    var message: String
    var description: String {
        line > 0 ? "\(file):\(line): \(key): \(message)" : "\(file): \(key): \(message)"
    }
}

/// The typed configuration: every Spreed `server.conf` key (shared/spec/server-conf.md) plus Rooms' own sections.
struct ServerConfig: Sendable {
    struct RoomType: Sendable {
        var pattern: String
        var regex: NSRegularExpression
        var type: String
    }

    // [http]
    var httpListen: [String] = []
    var root: String = FileManager.default.currentDirectoryPath
    var basePath: String = "/"
    var readTimeout = 10
    var writeTimeout = 10
    var stats = false
    // [https]
    var httpsListen: [String] = []
    var httpsCertificate: String = ""
    var httpsKey: String = ""
    // [app]
    var title = "Spreed WebRTC"
    var ver = ""
    var stunURIs: [String] = []
    var turnURIs: [String] = []
    var turnSecret: [UInt8] = []
    var renegotiation = false
    var sessionSecret: [UInt8] = []
    var encryptionSecret: [UInt8] = []
    var tokenFile: String? = nil
    var globalRoom = ""
    var defaultRoomEnabled = true
    var authorizeRoomJoin = false
    var authorizeRoomCreation = false
    var serverToken = "i-did-not-change-the-public-token-boo"
    var serverRealm = "local"
    var plugin = ""
    var contentSecurityPolicy = ""
    var contentSecurityPolicyReportOnly = ""
    // [modules]
    var modules: [String: Bool] = ["screensharing": true, "youtube": true, "presentation": true, "contacts": true]
    // [log]
    var logFile: String? = nil
    // [users]
    var usersEnabled = false
    var usersMode = ""
    var usersAllowRegistration = false
    var sharedSecret: [UInt8] = []
    var httpHeaderName = "x-users"
    var certificateCertificate = ""
    var certificateKey = ""
    var certificateVerifiedHeader = ""
    var certificateVerifiedHeaderValue = ""
    var certificateHeader = ""
    var certificateValidForDays = 365
    var certificateOrganization = "My Spreed Server"
    // [roomtypes]
    var roomTypes: [RoomType] = []
    // [rooms] (Rooms' own)
    var dataDirectory = "./data"
    var maxBodyBytes = 1 << 20
    var buddyImageMaxBytes = 1 << 20
    // [sfu] (Rooms' own)
    var sfuEnabled = true
    var sfuPort = 0
    var sfuBind = "0.0.0.0"  // default: the host of the first [http] listen address
    var sfuAnnounced: [String] = []
    /// ICE-TCP (RFC 6544) for clients whose networks block UDP; `sfuTcpPort` 0: the UDP port's number.
    var sfuTcp = true
    var sfuTcpPort = 0
    /// Video codecs publishers may use, most preferred first (the SFU forwards, never transcodes).
    var sfuVideoCodecs = VideoCodecPreference.default
    // [conferences] (Rooms' own)
    var conferences = ConferencesConfig()
    // [sip] (Rooms' own): dial-in by phone
    var sip = SIPDialInConfig()

    /// Secrets that the file lacked and that were generated (name → value) for the caller to persist.
    var generatedSecretNames: [String] = []
    var warnings: [String] = []

    var version: String { roomsVersion }
    /// `ver` as the original derives it for release builds: `[app] ver` + version without dots.
    var staticVersion: String { ver + roomsVersion.replacingOccurrences(of: ".", with: "") }
    var staticPrefix: String { "static/ver=\(staticVersion)" }
    var tokenRealm: String { "\(serverRealm).\(serverToken)" }
    var enabledModules: [String] {
        ["screensharing", "youtube", "presentation", "contacts"].filter { modules[$0] ?? true }
    }
    var cspEnabled: Bool { !contentSecurityPolicy.isEmpty || !contentSecurityPolicyReportOnly.isEmpty }

    /// Room type for a room name: the first `[roomtypes]` pattern that matches anywhere, else `Room`.
    func roomType(for name: String) -> String {
        let range = NSRange(name.startIndex..., in: name)
        for rt in roomTypes where rt.regex.firstMatch(in: name, range: range) != nil { return rt.type }
        return "Room"
    }
}

/// Reads an `IniFile` into a `ServerConfig`, with the validation and warnings of server-conf.md §1, §3, §5.
struct ConfigLoader {
    var ini: IniFile
    var file: String { ini.path }
    private(set) var warnings: [String] = []

    init(ini: IniFile) { self.ini = ini }

    static let knownKeys: [String: Set<String>] = [
        "http": ["listen", "root", "readtimeout", "writetimeout", "basepath", "maxfd", "stats", "pproflisten"],
        "https": ["listen", "certificate", "key", "minversion", "readtimeout", "writetimeout"],
        "app": ["title", "ver", "stunuris", "turnuris", "turnsecret", "renegotiation", "sessionsecret", "encryptionsecret",
                "tokenfile", "globalroom", "defaultroomenabled", "authorizeroomjoin", "authorizeroomcreation",
                "pipelinesenabled", "servertoken", "serverrealm", "extra", "extra.d", "plugin",
                "contentsecuritypolicy", "contentsecuritypolicyreportonly"],
        "modules": ["screensharing", "youtube", "presentation", "contacts"],
        "log": ["logfile"],
        "users": ["enabled", "mode", "allowregistration", "sharedsecret_secret", "httpheader_header",
                  "certificate_certificate", "certificate_key", "certificate_verifiedheader",
                  "certificate_verifiedheadervalue", "certificate_certificateheader", "certificate_validfordays",
                  "certificate_organization"],
        "nats": ["channelling_trigger", "channelling_trigger_subject", "url", "establishtimeout", "client_id"],
        "rooms": ["data", "maxbodybytes", "buddyimagemaxbytes"],
        "sfu": ["enabled", "port", "bind", "announcedaddresses", "tcp", "tcpport", "videocodecs"],
        "conferences": conferenceKeys,
        "sip": sipKeys,
    ]

    private func line(_ section: String, _ key: String) -> Int { ini.entry(section, key)?.line ?? 0 }

    func fail(_ section: String, _ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: line(section, key), key: "[\(section)] \(key)", message: message)
    }

    mutating func warn(_ section: String, _ key: String, _ message: String) {
        let l = line(section, key)
        warnings.append(l > 0 ? "\(file):\(l): [\(section)] \(key): \(message)" : "\(file): [\(section)] \(key): \(message)")
    }

    func string(_ section: String, _ key: String) -> String? { ini.value(section, key) }

    mutating func bool(_ section: String, _ key: String, _ fallback: Bool) -> Bool {
        guard let raw = string(section, key) else { return fallback }
        switch raw.lowercased() {
        case "1", "t", "true", "y", "yes", "on": return true
        case "0", "f", "false", "n", "no", "off": return false
        default:
            warn(section, key, "'\(raw)' is not a boolean; using the default \(fallback)")
            return fallback
        }
    }

    mutating func int(_ section: String, _ key: String, _ fallback: Int) -> Int {
        guard let raw = string(section, key) else { return fallback }
        guard let v = Int(raw) else {
            warn(section, key, "'\(raw)' is not an integer; using the default \(fallback)")
            return fallback
        }
        return v
    }

    func list(_ section: String, _ key: String) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for item in (string(section, key) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            let s = String(item)
            if seen.insert(s).inserted { out.append(s) }
        }
        return out
    }

    /// The hex-or-raw rule of `sessionSecret` / `encryptionSecret`.
    mutating func secretBytes(_ section: String, _ key: String, _ raw: String) -> [UInt8] {
        if raw.count % 2 == 0, !raw.isEmpty, raw.allSatisfy(\.isHexDigit), let bytes = [UInt8](hex: raw) { return bytes }
        warn(section, key, "value is not hex; its raw bytes are used")
        return Array(raw.utf8)
    }

    /// Builds the config. `storedSecret` returns a secret kept in the data folder from an earlier start,
    /// `makeSecret` generates a fresh one; both are used only when the file lacks the key.
    mutating func load(storedSecret: (String) throws -> [UInt8]?, makeSecret: (String, Int) -> [UInt8]) throws -> ServerConfig {
        var c = ServerConfig()
        for (section, keys) in ini.sections where section != "default" && section != "roomtypes" {
            guard let known = Self.knownKeys[section] else {
                if !["sip"].contains(section) { warnings.append("\(file): unknown section [\(section)] ignored") }
                continue
            }
            for (key, entry) in keys where !known.contains(key) {
                warnings.append("\(file):\(entry.line): [\(section)] unknown key '\(key)' ignored")
            }
        }

        c.httpListen = list("http", "listen")
        c.httpsListen = list("https", "listen")
        if let root = string("http", "root"), !root.isEmpty { c.root = root }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: c.root, isDirectory: &isDir), isDir.boolValue else {
            throw fail("http", "root", "'\(c.root)' is not a directory")
        }
        var base = string("http", "basePath") ?? "/"
        if base.isEmpty { base = "/" }
        guard base.hasPrefix("/") else { throw fail("http", "basePath", "must start with '/'") }
        if !base.hasSuffix("/") { base += "/" }
        c.basePath = base
        c.readTimeout = int("http", "readtimeout", 10)
        c.writeTimeout = int("http", "writetimeout", 10)
        c.stats = bool("http", "stats", false)
        c.httpsCertificate = string("https", "certificate") ?? ""
        c.httpsKey = string("https", "key") ?? ""
        if !c.httpsListen.isEmpty {
            // Native TLS is not served yet: say so instead of silently not listening.
            throw fail("https", "listen", "native HTTPS is not supported yet; terminate TLS in a reverse proxy and use [http] listen")
        }
        if c.httpListen.isEmpty {
            throw ConfigError(file: file, line: 0, key: "[http] listen", message: "no listener configured: set [http] listen (e.g. 127.0.0.1:8080)")
        }
        for addr in c.httpListen where parseListen(addr) == nil {
            throw fail("http", "listen", "'\(addr)' is not ip:port")
        }

        c.title = string("app", "title") ?? c.title
        c.ver = string("app", "ver") ?? ""
        c.stunURIs = list("app", "stunURIs")
        c.turnURIs = list("app", "turnURIs")
        c.turnSecret = Array((string("app", "turnSecret") ?? "").utf8)
        if c.turnSecret.isEmpty && !c.turnURIs.isEmpty {
            warn("app", "turnURIs", "TURN URIs are configured without turnSecret: clients cannot use them (no credentials)")
        }
        c.renegotiation = bool("app", "renegotiation", false)

        if let raw = string("app", "sessionSecret"), !raw.isEmpty {
            c.sessionSecret = secretBytes("app", "sessionSecret", raw)
            if raw == "the-default-secret-do-not-keep-me" { warn("app", "sessionSecret", "the shipped placeholder is still in use: replace it") }
        } else {
            c.sessionSecret = try storedSecret("sessionSecret") ?? makeSecret("sessionSecret", 32)
            c.generatedSecretNames.append("sessionSecret")
        }
        guard c.sessionSecret.count >= 32 else {
            throw fail("app", "sessionSecret", "must be at least 32 bytes (64 hex characters), got \(c.sessionSecret.count)")
        }
        if let raw = string("app", "encryptionSecret"), !raw.isEmpty {
            c.encryptionSecret = secretBytes("app", "encryptionSecret", raw)
            if raw == "tne-default-encryption-block-key" { warn("app", "encryptionSecret", "the shipped placeholder is still in use: replace it") }
        } else {
            c.encryptionSecret = try storedSecret("encryptionSecret") ?? makeSecret("encryptionSecret", 32)
            c.generatedSecretNames.append("encryptionSecret")
        }
        guard [16, 24, 32].contains(c.encryptionSecret.count) else {
            throw fail("app", "encryptionSecret", "must be 16, 24 or 32 bytes (AES-128/192/256), got \(c.encryptionSecret.count)")
        }
        if string("app", "turnSecret") == "the-default-turn-shared-secret-do-not-keep" {
            warn("app", "turnSecret", "the shipped placeholder is still in use: replace it")
        }

        if let tf = string("app", "tokenFile"), !tf.isEmpty {
            guard FileManager.default.fileExists(atPath: tf) else { throw fail("app", "tokenFile", "file '\(tf)' does not exist") }
            c.tokenFile = tf
        }
        c.globalRoom = string("app", "globalRoom") ?? ""
        c.defaultRoomEnabled = bool("app", "defaultRoomEnabled", true)
        c.authorizeRoomJoin = bool("app", "authorizeRoomJoin", false)
        c.authorizeRoomCreation = bool("app", "authorizeRoomCreation", false)
        c.serverToken = string("app", "serverToken") ?? c.serverToken
        if c.serverToken == "i-did-not-change-the-public-token-boo" {
            warn("app", "serverToken", "the shipped placeholder public token is in use")
        }
        c.serverRealm = string("app", "serverRealm") ?? c.serverRealm
        c.plugin = string("app", "plugin") ?? ""
        c.contentSecurityPolicy = string("app", "contentSecurityPolicy") ?? ""
        c.contentSecurityPolicyReportOnly = string("app", "contentSecurityPolicyReportOnly") ?? ""
        for key in ["extra", "extra.d"] {
            if let dir = string("app", key), !dir.isEmpty {
                var d: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir, isDirectory: &d), d.boolValue else {
                    throw fail("app", key, "'\(dir)' is not a directory")
                }
                warn("app", key, "extra templates are not supported by Rooms' own client; ignored")
            }
        }

        for m in ["screensharing", "youtube", "presentation", "contacts"] { c.modules[m] = bool("modules", m, true) }
        c.logFile = string("log", "logfile").flatMap { $0.isEmpty ? nil : $0 }

        c.usersEnabled = bool("users", "enabled", false)
        c.usersMode = string("users", "mode") ?? ""
        c.usersAllowRegistration = bool("users", "allowRegistration", false)
        c.sharedSecret = Array((string("users", "sharedsecret_secret") ?? "").utf8)
        if let h = string("users", "httpheader_header"), !h.isEmpty { c.httpHeaderName = h.lowercased() }
        c.certificateCertificate = string("users", "certificate_certificate") ?? ""
        c.certificateKey = string("users", "certificate_key") ?? ""
        c.certificateVerifiedHeader = string("users", "certificate_verifiedHeader") ?? ""
        c.certificateVerifiedHeaderValue = string("users", "certificate_verifiedHeaderValue") ?? ""
        c.certificateHeader = string("users", "certificate_certificateHeader") ?? ""
        let days = int("users", "certificate_validForDays", 365)
        c.certificateValidForDays = days <= 0 ? 365 : days
        c.certificateOrganization = string("users", "certificate_organization") ?? c.certificateOrganization
        if c.usersEnabled {
            switch c.usersMode.lowercased() {
            case "sharedsecret" where c.sharedSecret.isEmpty:
                warn("users", "sharedsecret_secret", "sharedsecret mode without a secret: logins and registration are disabled")
            case "certificate" where c.certificateCertificate.isEmpty:
                warn("users", "certificate_certificate", "certificate mode without a CA certificate: logins and registration are disabled")
            case "sharedsecret", "httpheader", "certificate": break
            default: warn("users", "mode", "unknown users mode '\(c.usersMode)': logins and registration are disabled")
            }
        }

        for (pattern, entry) in ini.sectionKeys("roomtypes") {
            let type = entry.value
            if type.isEmpty { continue }
            guard type == "Room" || type == "Conference" else {
                throw ConfigError(file: file, line: entry.line, key: "[roomtypes] \(pattern)", message: "unsupported room type '\(type)' (Room or Conference)")
            }
            guard let re = try? NSRegularExpression(pattern: pattern) else {
                throw ConfigError(file: file, line: entry.line, key: "[roomtypes] \(pattern)", message: "invalid regular expression")
            }
            if type == "Conference" { c.roomTypes.append(.init(pattern: pattern, regex: re, type: type)) }
        }

        c.dataDirectory = string("rooms", "data") ?? c.dataDirectory
        c.maxBodyBytes = int("rooms", "maxBodyBytes", 1 << 20)
        c.buddyImageMaxBytes = int("rooms", "buddyImageMaxBytes", 1 << 20)
        c.sfuEnabled = bool("sfu", "enabled", true)
        c.sfuPort = int("sfu", "port", 0)
        guard (0...65535).contains(c.sfuPort) else { throw fail("sfu", "port", "must be 0-65535") }
        // By default media binds where HTTP listens: a server on 127.0.0.1 keeps its media on loopback too.
        let httpHost = c.httpListen.first.flatMap(parseListen)?.host ?? "0.0.0.0"
        c.sfuBind = string("sfu", "bind").flatMap { $0.isEmpty ? nil : $0 } ?? httpHost
        c.sfuAnnounced = list("sfu", "announcedAddresses")
        c.sfuTcp = bool("sfu", "tcp", true)
        c.sfuTcpPort = int("sfu", "tcpPort", 0)
        guard (0...65535).contains(c.sfuTcpPort) else { throw fail("sfu", "tcpPort", "must be 0-65535") }
        if let codecs = string("sfu", "videoCodecs"), !codecs.isEmpty {
            let names = codecs.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
            do { c.sfuVideoCodecs = try VideoCodecPreference(names: names) } catch { throw fail("sfu", "videoCodecs", "\(error)") }
        }
        c.conferences = try loadConferences()
        c.sip = try loadSIP(httpHost: httpHost)
        c.warnings = warnings
        return c
    }
}

/// `ip:port` → (host, port); `:8080` means all interfaces.
func parseListen(_ s: String) -> (host: String, port: Int)? {
    guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else { return nil }
    var host = String(s[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return (host.isEmpty ? "0.0.0.0" : host, port)
}

extension Array where Element == UInt8 {
    init?(hex: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var it = hex.utf8.makeIterator()
        while let a = it.next() {
            guard let b = it.next(), let hi = Self.nibble(a), let lo = Self.nibble(b) else { return nil }
            bytes.append(hi << 4 | lo)
        }
        self = bytes
    }
    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}
