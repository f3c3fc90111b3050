import Crypto
import Foundation
import Logging

/// The access-code file of `[app] tokenFile` (rest-api §7.2): re-read when its modification time changes; a malformed
/// file is rejected with a log line and the last good list is kept (the original panicked on every request).
final class AccessTokens: @unchecked Sendable {
    private let path: String
    private let lock = NSLock()
    private var codes: Set<String> = []
    private var loadedModification: Date?
    private let cookieKey: SymmetricKey
    private let logger: Logger
    static let cookieName = "spreed_access"
    static let cookieLifetime: TimeInterval = 24 * 3600

    init(path: String, cookieSecret: [UInt8], logger: Logger) throws {
        self.path = path
        self.cookieKey = SymmetricKey(data: cookieSecret)
        self.logger = logger
        let (codes, modified) = try Self.read(path)
        self.codes = codes
        self.loadedModification = modified
    }

    struct FormatError: Error, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    /// CSV with `:` as separator, `#` comment lines, leading spaces of fields trimmed, `"` quoting; all lines must
    /// have the same number of fields; the first field, lower-cased, is a code.
    static func read(_ path: String) throws -> (Set<String>, Date?) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        var codes = Set<String>()
        var fieldCount: Int? = nil
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = try csvFields(line, line: i + 1)
            if let n = fieldCount, n != fields.count {
                throw FormatError(line: i + 1, message: "has \(fields.count) fields, earlier lines have \(n)")
            }
            fieldCount = fields.count
            if let code = fields.first, !code.isEmpty { codes.insert(code.lowercased()) }
        }
        return (codes, modified)
    }

    private static func csvFields(_ line: String, line number: Int) throws -> [String] {
        var fields: [String] = [], current = "", quoted = false, atFieldStart = true
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { current.append("\""); chars.removeFirst() } else { quoted = false }
                } else { current.append(c) }
            } else if c == ":" {
                fields.append(current); current = ""; atFieldStart = true
            } else if atFieldStart && (c == " " || c == "\t") {
                continue
            } else if atFieldStart && c == "\"" {
                quoted = true; atFieldStart = false
            } else {
                current.append(c); atFieldStart = false
            }
        }
        if quoted { throw FormatError(line: number, message: "unterminated quote") }
        fields.append(current)
        return fields
    }

    private func reloadIfChanged() {
        let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        guard modified != loadedModification else { return }
        do {
            let (codes, m) = try Self.read(path)
            self.codes = codes
            self.loadedModification = m
            logger.info("token file reloaded", metadata: ["file": "\(path)", "codes": "\(codes.count)"])
        } catch {
            loadedModification = modified
            logger.error("token file is malformed; keeping the previous list", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }

    func isValid(_ code: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        reloadIfChanged()
        return codes.contains(code.lowercased())
    }

    /// `<expiry>.<base64url HMAC>`: proves that this browser presented a valid access code recently.
    func cookieValue(now: Date = Date()) -> String {
        let expiry = String(Int64(now.timeIntervalSince1970 + Self.cookieLifetime))
        let tag = HMAC<SHA256>.authenticationCode(for: Array("access:\(expiry)".utf8), using: cookieKey)
        return expiry + "." + Data(tag).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    func validCookie(_ value: String, now: Date = Date()) -> Bool {
        let parts = value.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let expiry = Int64(parts[0]), TimeInterval(expiry) > now.timeIntervalSince1970 else { return false }
        let expected = HMAC<SHA256>.authenticationCode(for: Array("access:\(expiry)".utf8), using: cookieKey)
        let got = String(parts[1])
        let want = Data(expected).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return got.utf8.count == want.utf8.count && zip(got.utf8, want.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Reads one cookie from a `Cookie` header.
func cookie(named name: String, in header: String?) -> String? {
    guard let header else { return nil }
    for part in header.split(separator: ";") {
        let kv = part.split(separator: "=", maxSplits: 1)
        if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == name {
            return kv[1].trimmingCharacters(in: .whitespaces)
        }
    }
    return nil
}
