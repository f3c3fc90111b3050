// DTMF carried in SIP INFO bodies, as phones that do not send RFC 4733 events do it:
// `application/dtmf-relay` (Cisco style: `Signal=5\r\nDuration=160`) and `application/dtmf` (just `5`).

public struct DTMFInfo: Equatable, Sendable {
    /// 0-9, *, #, A-D.
    public var digit: Character
    /// Key press length in ms; the body's Duration, or `defaultDurationMs` when it names none.
    public var durationMs: Int

    /// Phones that omit Duration mean "a normal key press"; 250 ms is what Cisco and Asterisk assume.
    public static let defaultDurationMs = 250

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case unsupportedContentType(String)
        case noSignal
        case badSignal(String)
        case badDuration(String)

        public var description: String {
            switch self {
            case .unsupportedContentType(let t): return "INFO body type '\(t.prefix(60))' is not DTMF"
            case .noSignal: return "no Signal in DTMF INFO"
            case .badSignal(let s): return "bad DTMF signal '\(s.prefix(20))'"
            case .badDuration(let d): return "bad DTMF duration '\(d.prefix(20))'"
            }
        }
    }

    public static let contentTypes = ["application/dtmf-relay", "application/dtmf"]

    public init(digit: Character, durationMs: Int) {
        self.digit = digit
        self.durationMs = durationMs
    }

    /// Parses an INFO body given its Content-Type (parameters after `;` are ignored).
    public init(contentType: String, body: [UInt8]) throws {
        let type = SIPSyntax.trim(contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0])
            .lowercased()
        let text = String(decoding: body, as: UTF8.self)
        switch type {
        case "application/dtmf-relay":
            var signal: String?
            var duration: Int?
            for rawLine in text.split(whereSeparator: \.isNewline) {
                let kv = rawLine.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2 else { continue }
                let key = SIPSyntax.trim(kv[0]).lowercased(), value = String(SIPSyntax.trim(kv[1]))
                if key == "signal" {
                    signal = value
                } else if key == "duration" {
                    guard value.utf8.count <= 6, value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let d = Int(value), d > 0 else {
                        throw ParseError.badDuration(value)
                    }
                    duration = d
                }
            }
            guard let signal else { throw ParseError.noSignal }
            self.init(digit: try Self.digit(signal), durationMs: duration ?? Self.defaultDurationMs)
        case "application/dtmf":
            let value = String(SIPSyntax.trim(Substring(text.filter { !$0.isNewline })))
            guard !value.isEmpty else { throw ParseError.noSignal }
            self.init(digit: try Self.digit(value), durationMs: Self.defaultDurationMs)
        default:
            throw ParseError.unsupportedContentType(contentType)
        }
    }

    /// A digit from its character or its RFC 4733 event number (10 = *, 11 = #, 12-15 = A-D).
    static func digit(_ signal: String) throws -> Character {
        let upper = signal.uppercased()
        if upper.count == 1, let c = upper.first, "0123456789*#ABCD".contains(c) { return c }
        switch upper {
        case "10": return "*"
        case "11": return "#"
        case "12": return "A"
        case "13": return "B"
        case "14": return "C"
        case "15": return "D"
        default: throw ParseError.badSignal(signal)
        }
    }
}
