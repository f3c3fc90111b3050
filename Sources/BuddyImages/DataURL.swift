/// Parsing of `buddyPicture` data URLs exactly as channeling-api §6.6 describes, plus content sniffing.
public enum DataURL {
    public enum Parsed: Equatable, Sendable {
        /// `data:` URL that parsed: MIME as given (before the first `;`) and the decoded bytes.
        case data(mimeType: String, bytes: [UInt8])
        /// Not a `data:` URL, or one that does not parse (encoding other than `base64`, bad base64): keep as is.
        case notParsed
        /// The payload decodes to more than the allowed number of bytes (decoding stopped early).
        case tooLarge
    }

    /// `data:<mime>;base64,<b64>` → bytes. Quirks kept from the original:
    /// - no `;` → MIME `image/x-unknown` and the whole rest is the data part;
    /// - no `,` in the data part → the raw rest (UTF-8) is taken as the bytes.
    /// The decoded size is checked while decoding, so an oversized payload is reported as `.tooLarge` even if
    /// it would turn out to be invalid base64 further on.
    public static func parse(_ value: String, maxBytes: Int) -> Parsed {
        // Byte-wise like the original (Go strings are bytes); "data:" is ASCII.
        let prefix = Array("data:".utf8)
        let all = Array(value.utf8)
        guard all.count >= prefix.count, Array(all[0..<prefix.count]) == prefix else { return .notParsed }
        var rest = all[prefix.count...]
        let mimeType: String
        if let semi = rest.firstIndex(of: UInt8(ascii: ";")) {
            mimeType = String(decoding: rest[..<semi], as: UTF8.self)
            rest = rest[(semi + 1)...]
        } else {
            mimeType = "image/x-unknown"
        }
        if let comma = rest.firstIndex(of: UInt8(ascii: ",")) {
            guard rest[..<comma].elementsEqual("base64".utf8) else { return .notParsed }
            switch Base64.decodeStandard(rest[(comma + 1)...], limit: maxBytes) {
            case .ok(let bytes): return .data(mimeType: mimeType, bytes: bytes)
            case .invalid: return .notParsed
            case .tooLarge: return .tooLarge
            }
        }
        guard rest.count <= maxBytes else { return .tooLarge }
        return .data(mimeType: mimeType, bytes: Array(rest))
    }
}

/// The raster types Rooms stores, with their file extension and magic-number check.
public enum ImageType: String, CaseIterable, Sendable {
    case png = "image/png"
    case jpeg = "image/jpeg"
    case gif = "image/gif"
    case webp = "image/webp"

    public var mimeType: String { rawValue }

    /// Suffix used in the rewritten `img:` value (`picture.<ext>`).
    public var fileExtension: String {
        switch self {
        case .png: return "png"
        case .jpeg: return "jpg"
        case .gif: return "gif"
        case .webp: return "webp"
        }
    }

    /// MIME types are case-insensitive; surrounding blanks are tolerated.
    public init?(mimeType: String) {
        let normalized = mimeType.trimmingBlanks().lowercased()
        guard let t = ImageType(rawValue: normalized) else { return nil }
        self = t
    }

    /// Whether `bytes` start like a file of this type.
    public func matches(_ bytes: [UInt8]) -> Bool {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }
        switch self {
        case .png:
            return starts(PNGCodec.signature)
        case .jpeg:
            return starts([0xFF, 0xD8, 0xFF])
        case .gif:
            return starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8))
        case .webp:
            return starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8)
        }
    }

    /// The type the bytes look like, if any of the four.
    public static func sniff(_ bytes: [UInt8]) -> ImageType? {
        allCases.first { $0.matches(bytes) }
    }
}

extension String {
    fileprivate func trimmingBlanks() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

/// Minimal base64 helpers (no Foundation dependency for the exact semantics we need).
public enum Base64 {
    public enum DecodeResult: Equatable {
        case ok([UInt8])
        case invalid
        case tooLarge
    }

    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let decodeTable: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in standardAlphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Standard (RFC 4648 §4) base64 with mandatory `=` padding, as Go's `base64.StdEncoding.DecodeString`:
    /// CR and LF are ignored, anything else outside the alphabet is an error, unused trailing bits are not checked.
    /// Decoding stops with `.tooLarge` once more than `limit` bytes would be produced.
    public static func decodeStandard<C: Collection>(_ input: C, limit: Int = .max) -> DecodeResult where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(min(limit, input.count / 4 * 3) &+ 3)
        var quad: (UInt32, Int) = (0, 0) // accumulated bits, number of symbols
        var padding = 0
        var finished = false
        for c in input {
            if c == 0x0D || c == 0x0A { continue }
            if finished { return .invalid } // data after a padded final quantum
            if c == UInt8(ascii: "=") {
                // "xx==" or "xxx=": padding only allowed in positions 3 and 4 of a quantum.
                guard quad.1 + padding >= 2 else { return .invalid }
                padding += 1
                if quad.1 + padding == 4 {
                    finished = true
                    let produced = quad.1 - 1
                    let bits = quad.0 << (6 * UInt32(4 - quad.1))
                    if out.count + produced > limit { return .tooLarge }
                    out.append(UInt8(truncatingIfNeeded: bits >> 16))
                    if produced == 2 { out.append(UInt8(truncatingIfNeeded: bits >> 8)) }
                }
                continue
            }
            if padding > 0 { return .invalid } // symbol after "="
            let v = decodeTable[Int(c)]
            if v == 0xFF { return .invalid }
            quad.0 = quad.0 << 6 | UInt32(v)
            quad.1 += 1
            if quad.1 == 4 {
                if out.count + 3 > limit { return .tooLarge }
                out.append(UInt8(truncatingIfNeeded: quad.0 >> 16))
                out.append(UInt8(truncatingIfNeeded: quad.0 >> 8))
                out.append(UInt8(truncatingIfNeeded: quad.0))
                quad = (0, 0)
            }
        }
        // Unpadded trailing symbols, or a padding sequence that did not complete a quantum.
        guard quad.1 == 0 || finished, padding == 0 || finished else { return .invalid }
        return .ok(out)
    }

    /// Standard base64 with padding.
    public static func encodeStandard(_ bytes: [UInt8]) -> String {
        encode(bytes, alphabet: standardAlphabet, pad: true)
    }

    /// URL-safe base64 (RFC 4648 §5) without padding.
    public static func encodeURL(_ bytes: [UInt8]) -> String {
        encode(bytes, alphabet: urlAlphabet, pad: false)
    }

    private static func encode(_ bytes: [UInt8], alphabet: [UInt8], pad: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)]); out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
            if rest == 2 { out.append(alphabet[Int(n >> 6 & 63)]) } else if pad { out.append(UInt8(ascii: "=")) }
            if pad { out.append(UInt8(ascii: "=")) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
