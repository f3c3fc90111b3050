// The SIP message parser (RFC 3261 §7, §18.3, RFC 4475 torture cases). Input comes from anyone on the
// network, so every size is bounded before it is used, every error is a thrown value that names what is
// wrong (it becomes the reason phrase of a 400), and nothing traps.

/// Bounds applied before anything is allocated per header or body.
public struct SIPParserLimits: Sendable, Equatable {
    /// Whole message, headers plus body. 64 KiB: more than any UDP datagram, far more than any real INVITE.
    public var maxMessageSize = 65536
    public var maxHeaderCount = 256
    /// One physical line, folded continuation lines counted separately.
    public var maxLineLength = 8192

    public init(maxMessageSize: Int = 65536, maxHeaderCount: Int = 256, maxLineLength: Int = 8192) {
        self.maxMessageSize = maxMessageSize
        self.maxHeaderCount = maxHeaderCount
        self.maxLineLength = maxLineLength
    }
}

public enum SIPParseError: Error, Equatable, CustomStringConvertible {
    case messageTooLarge(size: Int, limit: Int)
    case empty
    case noEndOfHeaders
    case nulByte
    case notUTF8
    case lineTooLong(length: Int, limit: Int)
    case tooManyHeaders(limit: Int)
    case badStartLine(String)
    case unsupportedVersion(String)
    case badRequestURI(String)
    case unsupportedURIScheme(String)
    case badHeaderLine(String)
    case badHeaderValue(header: String, reason: String)
    case missingHeader(String)
    case badContentLength(String)
    case bodyShorterThanContentLength(declared: Int, available: Int)
    case methodMismatch(requestLine: String, cseq: String)

    /// The status a UAS answers a request that failed with this error (RFC 3261 §8.2, §21.4).
    public var status: Int {
        switch self {
        case .messageTooLarge: return 513
        case .unsupportedVersion: return 505
        case .unsupportedURIScheme: return 416
        default: return 400
        }
    }

    public var description: String {
        switch self {
        case .messageTooLarge(let size, let limit): return "message of \(size) bytes exceeds \(limit)"
        case .empty: return "empty message"
        case .noEndOfHeaders: return "no empty line after the headers"
        case .nulByte: return "NUL byte in the headers"
        case .notUTF8: return "headers are not UTF-8"
        case .lineTooLong(let length, let limit): return "line of \(length) bytes exceeds \(limit)"
        case .tooManyHeaders(let limit): return "more than \(limit) headers"
        case .badStartLine(let line): return "bad start line '\(line.prefix(80))'"
        case .unsupportedVersion(let v): return "unsupported version '\(v.prefix(20))'"
        case .badRequestURI(let why): return "bad Request-URI: \(why.prefix(100))"
        case .unsupportedURIScheme(let s): return "unsupported URI scheme '\(s.prefix(20))'"
        case .badHeaderLine(let line): return "bad header line '\(line.prefix(80))'"
        case .badHeaderValue(let header, let reason): return "bad \(header) header: \(reason.prefix(100))"
        case .missingHeader(let name): return "missing \(name) header"
        case .badContentLength(let v): return "bad Content-Length '\(v.prefix(30))'"
        case .bodyShorterThanContentLength(let declared, let available):
            return "Content-Length \(declared) but only \(available) body bytes"
        case .methodMismatch(let line, let cseq): return "CSeq method \(cseq) does not match \(line)"
        }
    }
}

public enum SIPParser {
    /// The start line and headers of a message, not yet checked for the mandatory headers.
    public enum StartLine: Equatable, Sendable {
        case request(method: SIPMethod, uri: String, version: String)
        case response(status: Int, reason: String)
    }

    public struct Head: Equatable, Sendable {
        public var startLine: StartLine
        public var headers: SIPHeaders
        /// Index of the first body byte in the input.
        public var bodyStart: Int
        /// Every Content-Length value seen (compact `l` included), as written.
        public var contentLengths: [String]
    }

    static let crlf: [UInt8] = [13, 10]

    /// Parses one whole message: a UDP datagram or a frame cut by `SIPStreamFramer`.
    /// Body bytes beyond Content-Length are discarded (RFC 3261 §18.3); fewer is an error.
    public static func parse(_ bytes: [UInt8], limits: SIPParserLimits = SIPParserLimits()) throws -> SIPMessage {
        guard bytes.count <= limits.maxMessageSize else {
            throw SIPParseError.messageTooLarge(size: bytes.count, limit: limits.maxMessageSize)
        }
        let head = try parseHead(bytes, limits: limits)
        let available = bytes.count - head.bodyStart
        var bodyLength = available
        if let declared = try contentLength(head.contentLengths) {
            guard declared <= available else {
                throw SIPParseError.bodyShorterThanContentLength(declared: declared, available: available)
            }
            bodyLength = declared
        }
        let body = Array(bytes[head.bodyStart..<(head.bodyStart + bodyLength)])
        switch head.startLine {
        case .request(let method, let uriText, let version):
            guard version.uppercased() == "SIP/2.0" else { throw SIPParseError.unsupportedVersion(version) }
            let uri: SIPURI
            do {
                uri = try SIPURI(parsing: uriText)
            } catch SIPURIError.unsupportedScheme(let scheme) {
                throw SIPParseError.unsupportedURIScheme(scheme)
            } catch {
                throw SIPParseError.badRequestURI("\(error)")
            }
            let request = SIPRequest(method: method, uri: uri, headers: head.headers, body: body)
            try validateCommonHeaders(head.headers)
            if let cseq = request.cseq, cseq.method != method {
                throw SIPParseError.methodMismatch(requestLine: method.rawValue, cseq: cseq.method.rawValue)
            }
            if let mf = head.headers[SIPHeaderName.maxForwards] {
                guard mf.utf8.count <= 9, mf.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), !mf.isEmpty, Int(mf)! <= 255 else {
                    throw SIPParseError.badHeaderValue(header: SIPHeaderName.maxForwards, reason: "'\(mf)' is not 0-255")
                }
            }
            return .request(request)
        case .response(let status, let reason):
            try validateCommonHeaders(head.headers)
            return .response(SIPResponse(status: status, reason: reason, headers: head.headers, body: body))
        }
    }

    /// Start line and headers only, with the size limits of `limits` on lines and header count but not on the
    /// whole message: used to answer 400/513 to a request that `parse` rejected.
    public static func parseHead(_ bytes: [UInt8], limits: SIPParserLimits = SIPParserLimits()) throws -> Head {
        // RFC 3261 §7.5: empty lines before the start line are ignored.
        var start = 0
        while start + 1 < bytes.count, bytes[start] == 13, bytes[start + 1] == 10 { start += 2 }
        guard start < bytes.count else { throw SIPParseError.empty }
        guard let end = find(crlf + crlf, in: bytes, from: start) else {
            // A header block that never ends is either truncated or absurdly long.
            if bytes.count - start > limits.maxLineLength * limits.maxHeaderCount {
                throw SIPParseError.messageTooLarge(size: bytes.count, limit: limits.maxMessageSize)
            }
            throw SIPParseError.noEndOfHeaders
        }
        let headerBytes = bytes[start..<end]
        guard !headerBytes.contains(0) else { throw SIPParseError.nulByte }
        guard let text = String(validating: headerBytes, as: UTF8.self) else { throw SIPParseError.notUTF8 }
        var lines: [Substring] = []
        var lineStart = text.startIndex
        var rawLines: [Substring] = []
        // Split on CRLF; a bare CR or LF inside a line is not a line break and is rejected below.
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i < utf8.endIndex {
            if utf8[i] == 13, utf8.index(after: i) < utf8.endIndex, utf8[utf8.index(after: i)] == 10 {
                rawLines.append(text[lineStart..<i])
                i = utf8.index(i, offsetBy: 2)
                lineStart = i
            } else {
                i = utf8.index(after: i)
            }
        }
        rawLines.append(text[lineStart...])
        for raw in rawLines {
            guard raw.utf8.count <= limits.maxLineLength else {
                throw SIPParseError.lineTooLong(length: raw.utf8.count, limit: limits.maxLineLength)
            }
            guard !raw.utf8.contains(13), !raw.utf8.contains(10) else { throw SIPParseError.badHeaderLine(String(raw)) }
            if let first = raw.first, first == " " || first == "\t", !lines.isEmpty {
                // Folding (RFC 3261 §7.3.1): a continuation line joins the previous one with one space.
                let joined = String(SIPSyntax.trim(lines[lines.count - 1])) + " " + String(SIPSyntax.trim(raw))
                guard joined.utf8.count <= limits.maxLineLength * 4 else {
                    throw SIPParseError.lineTooLong(length: joined.utf8.count, limit: limits.maxLineLength)
                }
                lines[lines.count - 1] = joined[...]
            } else {
                lines.append(raw)
            }
        }
        guard lines.count - 1 <= limits.maxHeaderCount else { throw SIPParseError.tooManyHeaders(limit: limits.maxHeaderCount) }
        let startLine = try parseStartLine(lines[0])
        var headers = SIPHeaders()
        var contentLengths: [String] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw SIPParseError.badHeaderLine(String(line)) }
            let name = SIPSyntax.trim(line[..<colon])
            guard SIPSyntax.isToken(name) else { throw SIPParseError.badHeaderLine(String(line)) }
            let value = String(SIPSyntax.trim(line[line.index(after: colon)...]))
            let canonical = SIPHeaderName.canonical(String(name))
            if canonical == SIPHeaderName.contentLength {
                contentLengths.append(value)
            } else {
                headers.add(canonical, value)
            }
        }
        return Head(startLine: startLine, headers: headers, bodyStart: end + 4, contentLengths: contentLengths)
    }

    static func parseStartLine(_ line: Substring) throws -> StartLine {
        if line.hasPrefix("SIP/") || line.hasPrefix("sip/") {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2 else { throw SIPParseError.badStartLine(String(line)) }
            guard parts[0].uppercased() == "SIP/2.0" else { throw SIPParseError.unsupportedVersion(String(parts[0])) }
            guard parts[1].utf8.count == 3, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let status = Int(parts[1]),
                  status >= 100, status <= 699 else { throw SIPParseError.badStartLine(String(line)) }
            let reason = parts.count == 3 ? String(parts[2]) : ""
            return .response(status: status, reason: reason)
        }
        // Request-Line = Method SP Request-URI SP SIP-Version: exactly single spaces (RFC 4475 §3.1.2.11).
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, SIPSyntax.isToken(parts[0]), !parts[1].isEmpty else {
            throw SIPParseError.badStartLine(String(line))
        }
        // Another SIP version is checked by `parse` (505), so that `parseHead` still yields headers to answer with.
        guard parts[2].uppercased().hasPrefix("SIP/") else { throw SIPParseError.badStartLine(String(line)) }
        return .request(method: SIPMethod(String(parts[0])), uri: String(parts[1]), version: String(parts[2]))
    }

    /// The agreed Content-Length, nil when absent. Repeated values must agree.
    static func contentLength(_ values: [String]) throws -> Int? {
        var result: Int?
        for value in values {
            guard !value.isEmpty, value.utf8.count <= 9, value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(value) else {
                throw SIPParseError.badContentLength(value)
            }
            if let result, result != n { throw SIPParseError.badContentLength(values.joined(separator: ", ")) }
            result = n
        }
        return result
    }

    /// RFC 3261 §8.1.1: To, From, CSeq, Call-ID and Via are mandatory and must parse.
    static func validateCommonHeaders(_ headers: SIPHeaders) throws {
        for name in [SIPHeaderName.via, SIPHeaderName.from, SIPHeaderName.to, SIPHeaderName.callID, SIPHeaderName.cseq] {
            guard headers.contains(name) else { throw SIPParseError.missingHeader(name) }
        }
        for name in [SIPHeaderName.from, SIPHeaderName.to, SIPHeaderName.callID, SIPHeaderName.cseq] {
            guard headers.values(name).count == 1 else {
                throw SIPParseError.badHeaderValue(header: name, reason: "appears more than once")
            }
        }
        let vias = headers.listValues(SIPHeaderName.via)
        guard !vias.isEmpty else { throw SIPParseError.missingHeader(SIPHeaderName.via) }
        for via in vias {
            do { _ = try SIPVia(parsing: via) } catch {
                throw SIPParseError.badHeaderValue(header: SIPHeaderName.via, reason: "\(error)")
            }
        }
        for name in [SIPHeaderName.from, SIPHeaderName.to] {
            do { _ = try SIPNameAddress(parsing: headers[name]!) } catch {
                throw SIPParseError.badHeaderValue(header: name, reason: "\(error)")
            }
        }
        let callID = headers[SIPHeaderName.callID]!
        guard !callID.isEmpty, !callID.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw SIPParseError.badHeaderValue(header: SIPHeaderName.callID, reason: "'\(callID)'")
        }
        do { _ = try SIPCSeq(parsing: headers[SIPHeaderName.cseq]!) } catch {
            throw SIPParseError.badHeaderValue(header: SIPHeaderName.cseq, reason: "\(error)")
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == needle[0] {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
