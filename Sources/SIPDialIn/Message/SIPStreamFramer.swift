// Cuts a TCP byte stream into SIP messages (RFC 3261 §18.3: on streams Content-Length is mandatory and
// frames the body) and recognises the RFC 5626 §4.4.1 keep-alive: a double CRLF "ping" that is answered
// with a single CRLF "pong". Bytes arrive in arbitrary pieces; nothing is parsed twice beyond the header scan.

public struct SIPStreamFramer {
    public enum Frame: Equatable, Sendable {
        /// One complete message, ready for `SIPParser.parse`.
        case message([UInt8])
        /// CRLFCRLF between messages: answer with CRLF.
        case keepAlivePing
        /// A message larger than the limit whose header block is complete: its header (to answer 513 with) and
        /// its declared size. Its body is skipped as it arrives, so the stream stays in step.
        case oversized(head: [UInt8], size: Int)
    }

    public enum FramingError: Error, Equatable, CustomStringConvertible {
        case tooLarge(limit: Int)
        case missingContentLength
        case badContentLength(String)

        public var description: String {
            switch self {
            case .tooLarge(let limit): return "message exceeds \(limit) bytes"
            case .missingContentLength: return "no Content-Length on a stream"
            case .badContentLength(let v): return "bad Content-Length '\(v.prefix(30))'"
            }
        }
    }

    public let limits: SIPParserLimits
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Where the CRLFCRLF search resumes, so a slowly arriving header block is scanned once.
    private var scanFrom = 0
    /// Bytes of an oversized message still to be skipped.
    private var discarding = 0

    public init(limits: SIPParserLimits = SIPParserLimits()) {
        self.limits = limits
    }

    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next frame, nil when more bytes are needed. After a thrown error the stream cannot be resynchronised:
    /// close the connection.
    public mutating func next() throws -> Frame? {
        if discarding > 0 {
            let n = min(discarding, bufferedByteCount)
            consume(n)
            discarding -= n
            if discarding > 0 { return nil }
        }
        // Keep-alives and stray line breaks between messages.
        while bufferedByteCount >= 2, buffer[readIndex] == 13, buffer[readIndex + 1] == 10 {
            if bufferedByteCount >= 4, buffer[readIndex + 2] == 13, buffer[readIndex + 3] == 10 {
                consume(4)
                return .keepAlivePing
            }
            if bufferedByteCount == 2 || (bufferedByteCount == 3 && buffer[readIndex + 2] == 13) {
                return nil  // could still become a ping
            }
            consume(2)
        }
        guard bufferedByteCount > 0 else { return nil }
        let searchStart = max(readIndex, scanFrom)
        guard let end = SIPParser.find([13, 10, 13, 10], in: buffer, from: searchStart) else {
            guard bufferedByteCount <= limits.maxMessageSize else { throw FramingError.tooLarge(limit: limits.maxMessageSize) }
            scanFrom = max(readIndex, buffer.count - 3)
            return nil
        }
        let headerLength = end + 4 - readIndex
        guard headerLength <= limits.maxMessageSize else { throw FramingError.tooLarge(limit: limits.maxMessageSize) }
        let bodyLength = try Self.contentLength(in: buffer[readIndex..<end])
        guard headerLength + bodyLength <= limits.maxMessageSize else {
            // Too large, but its length is known: skip it whole (the sender gets a 513) rather than drop the connection.
            let head = Array(buffer[readIndex..<(readIndex + headerLength)])
            discarding = headerLength + bodyLength
            let n = min(discarding, bufferedByteCount)
            consume(n)
            discarding -= n
            return .oversized(head: head, size: headerLength + bodyLength)
        }
        guard bufferedByteCount >= headerLength + bodyLength else {
            scanFrom = readIndex  // the header end is known; rescan is cheap and keeps the state simple
            return nil
        }
        let frame = Array(buffer[readIndex..<(readIndex + headerLength + bodyLength)])
        consume(headerLength + bodyLength)
        return .message(frame)
    }

    private mutating func consume(_ n: Int) {
        readIndex += n
        scanFrom = readIndex
        // Compact once the consumed prefix dominates, so the buffer does not grow over a long connection.
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
            scanFrom = 0
        } else if readIndex > 4096 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            scanFrom -= readIndex
            readIndex = 0
        }
    }

    /// Finds `Content-Length:` or `l:` at a line start in the header block (case-insensitive).
    static func contentLength(in header: ArraySlice<UInt8>) throws -> Int {
        var found: Int?
        var lineStart = header.startIndex
        var i = header.startIndex
        while i <= header.endIndex {
            if i == header.endIndex || (header[i] == 13 && i + 1 < header.endIndex && header[i + 1] == 10) {
                let line = header[lineStart..<i]
                if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                    let name = String(decoding: line[lineStart..<colon], as: UTF8.self)
                        .sipTrimmed(" \t").lowercased()
                    if name == "content-length" || name == "l" {
                        let value = String(decoding: line[(colon + 1)...], as: UTF8.self).sipTrimmed(" \t")
                        guard !value.isEmpty, value.utf8.count <= 9, value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                              let n = Int(value) else { throw FramingError.badContentLength(value) }
                        if let found, found != n { throw FramingError.badContentLength(value) }
                        found = n
                    }
                }
                lineStart = i + 2
                i += 2
            } else {
                i += 1
            }
        }
        guard let found else { throw FramingError.missingContentLength }
        return found
    }
}

extension String {
    /// Strips the given ASCII characters from both ends (Foundation-free).
    func sipTrimmed(_ set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(s)
    }
}
