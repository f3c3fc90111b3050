// Lexical helpers shared by the header parsers (RFC 3261 §25.1): tokens, quoted strings, generic
// `;name=value` parameters and comma lists. They work on Swift strings whose CR/LF folding has already
// been removed by the message parser, and never trap on odd input.

/// A `;name` or `;name=value` parameter. Names keep their spelling; lookups ignore case.
public struct SIPParameter: Equatable, Hashable, Sendable {
    public var name: String
    public var value: String?
    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == SIPParameter {
    /// The first parameter named `name` (case-insensitive): `.some(nil)` for a flag such as `;lr`.
    public func lookup(_ name: String) -> String?? {
        let lower = name.lowercased()
        guard let p = first(where: { $0.name.lowercased() == lower }) else { return nil }
        return .some(p.value)
    }

    public func has(_ name: String) -> Bool { lookup(name) != nil }

    public mutating func set(_ name: String, _ value: String?) {
        let lower = name.lowercased()
        if let i = firstIndex(where: { $0.name.lowercased() == lower }) {
            self[i].value = value
        } else {
            append(SIPParameter(name, value))
        }
    }

    public mutating func remove(_ name: String) {
        let lower = name.lowercased()
        removeAll { $0.name.lowercased() == lower }
    }

    /// `;a=b;c` as written on the wire.
    var wireForm: String {
        map { p in p.value.map { ";\(p.name)=\($0)" } ?? ";\(p.name)" }.joined()
    }
}

enum SIPSyntax {
    /// RFC 3261 token characters: alphanumerics and `-.!%*_+`'~`.
    static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-.!%*_+`'~".utf8.contains(c)
        }
    }

    static func isToken(_ s: Substring) -> Bool { !s.isEmpty && s.utf8.allSatisfy(isTokenChar) }
    static func isToken(_ s: String) -> Bool { isToken(s[...]) }

    static func trim(_ s: Substring) -> Substring {
        var s = s
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }

    /// Splits at `separator` where it is outside double quotes and angle brackets; pieces are trimmed and
    /// empty pieces dropped (RFC 3261 §7.3.1 allows empty list elements and surrounding LWS).
    static func split(_ s: Substring, at separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var inQuotes = false, inAngle = false, escaped = false
        var start = s.startIndex
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if inQuotes {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inQuotes = false }
            } else if c == "\"" {
                inQuotes = true
            } else if c == "<" {
                inAngle = true
            } else if c == ">" {
                inAngle = false
            } else if c == separator && !inAngle {
                let piece = trim(s[start..<i])
                if !piece.isEmpty { parts.append(piece) }
                start = s.index(after: i)
            }
            i = s.index(after: i)
        }
        let piece = trim(s[start...])
        if !piece.isEmpty { parts.append(piece) }
        return parts
    }

    static func splitList(_ s: String) -> [String] { split(s[...], at: ",").map(String.init) }

    /// Parses `;a=b;c;d="x;y"` (the leading `;` optional) into parameters. Throws on an empty or non-token name.
    static func parseParameters(_ s: Substring) throws -> [SIPParameter] {
        var params: [SIPParameter] = []
        for piece in split(s, at: ";") {
            let parts = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = trim(parts[0])
            guard isToken(name) else { throw SIPSyntaxError("bad parameter name '\(name)'") }
            if parts.count == 2 {
                let value = trim(parts[1])
                guard !value.isEmpty else { throw SIPSyntaxError("empty value for parameter '\(name)'") }
                if value.first == "\"" {
                    guard value.count >= 2, value.last == "\"", (try? unquote(value)) != nil else {
                        throw SIPSyntaxError("bad quoted value for parameter '\(name)'")
                    }
                } else if value.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" }) {
                    throw SIPSyntaxError("bad value for parameter '\(name)'")
                }
                params.append(SIPParameter(String(name), String(value)))
            } else {
                params.append(SIPParameter(String(name), nil))
            }
        }
        return params
    }

    /// The content of a quoted string with `\x` escapes resolved. `s` must start and end with `"`.
    static func unquote(_ s: Substring) throws -> String {
        guard s.count >= 2, s.first == "\"", s.last == "\"" else { throw SIPSyntaxError("expected quoted string") }
        var out = ""
        var escaped = false
        for c in s.dropFirst().dropLast() {
            if escaped {
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                throw SIPSyntaxError("unescaped quote inside quoted string")
            } else {
                out.append(c)
            }
        }
        guard !escaped else { throw SIPSyntaxError("quoted string ends in a backslash") }
        return out
    }

    /// A quoted string for `s`, escaping `"` and `\`.
    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }

    /// Value of a parameter with surrounding quotes removed (nonce="abc" → abc).
    static func unquotedIfQuoted(_ s: String) -> String {
        if s.first == "\"", let v = try? unquote(s[...]) { return v }
        return s
    }

    /// Decodes `%XX` escapes; fails on a truncated or non-hex escape or on a result that is not UTF-8.
    static func percentDecode(_ s: Substring) throws -> String {
        guard s.contains("%") else { return String(s) }
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard let h = it.popFirst(), let l = it.popFirst(), let hv = hexValue(h), let lv = hexValue(l) else {
                    throw SIPSyntaxError("bad % escape")
                }
                bytes.append(hv << 4 | lv)
            } else {
                bytes.append(b)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw SIPSyntaxError("escape is not UTF-8") }
        return decoded
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Escapes every byte of `s` that is not in `allowed` (ASCII), as `%XX`.
    static func percentEncode(_ s: String, allowed: (UInt8) -> Bool) -> String {
        var out = ""
        for b in s.utf8 {
            if allowed(b) {
                out.append(Character(Unicode.Scalar(b)))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out.append("%")
                out.append(Character(Unicode.Scalar(hex[Int(b >> 4)])))
                out.append(Character(Unicode.Scalar(hex[Int(b & 15)])))
            }
        }
        return out
    }
}

/// A header value that does not follow its grammar; the message parser wraps it with the header name.
public struct SIPSyntaxError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
