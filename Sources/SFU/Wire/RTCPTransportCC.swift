// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1):
// RTPFB FMT 15. The browser's send-side estimator needs it from us for every transport-wide sequence number.
// Parsed chunks and deltas are kept as they came so that parse → serialize gives back the same bytes;
// `packets` expands them into one status per sequence number.

public enum TransportCCStatus: UInt8, Sendable {
    case notReceived = 0
    /// Received; delta in one unsigned byte (0 ... 63.75 ms in 250 µs ticks).
    case smallDelta = 1
    /// Received; delta in two signed bytes (negative or large).
    case largeDelta = 2
}

public enum TransportCCChunk: Equatable, Sendable {
    /// One status repeated `count` times (13 bits: up to 8191).
    case runLength(TransportCCStatus, count: Int)
    /// 14 one-bit symbols (not received / small delta) or 7 two-bit symbols; all symbols kept, even past the end.
    case statusVector([TransportCCStatus], twoBit: Bool)

    var statuses: [TransportCCStatus] {
        switch self {
        case .runLength(let s, let n): return Array(repeating: s, count: n)
        case .statusVector(let symbols, _): return symbols
        }
    }
}

public struct RTCPTransportCC: Equatable, Sendable {
    public struct Packet: Equatable, Sendable {
        public var sequenceNumber: UInt16
        public var status: TransportCCStatus
        /// Receive delta in 250 µs ticks; nil when not received.
        public var delta: Int?
    }

    public static let tickMicroseconds = 250
    public static let referenceTimeMicroseconds = 64_000

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var baseSequenceNumber: UInt16
    public var packetStatusCount: UInt16
    /// 24-bit signed, in multiples of 64 ms.
    public var referenceTime: Int32
    public var feedbackPacketCount: UInt8
    public var chunks: [TransportCCChunk]
    /// One delta (in 250 µs ticks) per received packet, in order.
    public var deltas: [Int]

    /// Builds feedback from per-packet receive deltas (nil = not received), choosing small or large encodings and
    /// compact chunks. Deltas must fit a signed 16-bit tick count.
    public init(senderSSRC: UInt32, mediaSSRC: UInt32, baseSequenceNumber: UInt16, referenceTime: Int32,
                feedbackPacketCount: UInt8, deltas: [Int?]) throws {
        guard deltas.count <= Int(UInt16.max) else { throw WireError.badValue("transport-cc packet count") }
        guard (-0x80_0000...0x7F_FFFF).contains(referenceTime) else { throw WireError.badValue("reference time") }
        var statuses: [TransportCCStatus] = []
        var received: [Int] = []
        for d in deltas {
            guard let d else { statuses.append(.notReceived); continue }
            if (0...255).contains(d) {
                statuses.append(.smallDelta)
            } else if (-32768...32767).contains(d) {
                statuses.append(.largeDelta)
            } else {
                throw WireError.badValue("transport-cc delta out of range")
            }
            received.append(d)
        }
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.baseSequenceNumber = baseSequenceNumber
        self.packetStatusCount = UInt16(deltas.count)
        self.referenceTime = referenceTime
        self.feedbackPacketCount = feedbackPacketCount
        self.chunks = Self.encodeChunks(statuses)
        self.deltas = received
    }

    init(senderSSRC: UInt32, mediaSSRC: UInt32, baseSequenceNumber: UInt16, packetStatusCount: UInt16,
         referenceTime: Int32, feedbackPacketCount: UInt8, chunks: [TransportCCChunk], deltas: [Int]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.baseSequenceNumber = baseSequenceNumber
        self.packetStatusCount = packetStatusCount
        self.referenceTime = referenceTime
        self.feedbackPacketCount = feedbackPacketCount
        self.chunks = chunks
        self.deltas = deltas
    }

    /// One entry per sequence number from the base, `packetStatusCount` in all.
    public var packets: [Packet] {
        var out: [Packet] = []
        var deltaIndex = 0
        let statuses = chunks.lazy.flatMap(\.statuses).prefix(Int(packetStatusCount))
        for (i, s) in statuses.enumerated() {
            var delta: Int?
            if s != .notReceived, deltaIndex < deltas.count {
                delta = deltas[deltaIndex]
                deltaIndex += 1
            }
            out.append(Packet(sequenceNumber: baseSequenceNumber &+ UInt16(truncatingIfNeeded: i), status: s, delta: delta))
        }
        return out
    }

    /// Greedy chunking: long runs as run-length chunks, the rest as 1-bit vectors when only "not received" and
    /// "small" occur in the next 14 statuses, else 2-bit vectors of 7.
    static func encodeChunks(_ statuses: [TransportCCStatus]) -> [TransportCCChunk] {
        var chunks: [TransportCCChunk] = []
        var i = 0
        while i < statuses.count {
            var run = 1
            while i + run < statuses.count, statuses[i + run] == statuses[i], run < 8191 { run += 1 }
            if run >= 14 || i + run == statuses.count {
                chunks.append(.runLength(statuses[i], count: run))
                i += run
                continue
            }
            let next14 = statuses[i..<min(i + 14, statuses.count)]
            if !next14.contains(.largeDelta) {
                var symbols = Array(next14)
                symbols += Array(repeating: .notReceived, count: 14 - symbols.count)
                chunks.append(.statusVector(symbols, twoBit: false))
                i += next14.count
            } else {
                var symbols = Array(statuses[i..<min(i + 7, statuses.count)])
                let used = symbols.count
                symbols += Array(repeating: .notReceived, count: 7 - used)
                chunks.append(.statusVector(symbols, twoBit: true))
                i += used
            }
        }
        return chunks
    }

    static func parse(_ r: inout ByteReader) throws -> RTCPTransportCC {
        let sender = try r.u32("transport-cc")
        let media = try r.u32("transport-cc")
        let base = try r.u16("transport-cc")
        let count = try r.u16("transport-cc")
        let ref24 = try r.u24("transport-cc")
        let reference = Int32(bitPattern: ref24 & 0x80_0000 != 0 ? ref24 | 0xFF00_0000 : ref24)
        let fbCount = try r.u8("transport-cc")
        var chunks: [TransportCCChunk] = []
        var covered = 0
        while covered < Int(count) {
            let word = try r.u16("transport-cc chunk")
            let chunk: TransportCCChunk
            if word & 0x8000 == 0 {
                guard let s = TransportCCStatus(rawValue: UInt8((word >> 13) & 0x3)) else {
                    throw WireError.badValue("transport-cc reserved status")
                }
                chunk = .runLength(s, count: Int(word & 0x1FFF))
            } else if word & 0x4000 == 0 {
                let symbols = (0..<14).map { bit -> TransportCCStatus in
                    word & (1 << (13 - bit)) != 0 ? .smallDelta : .notReceived
                }
                chunk = .statusVector(symbols, twoBit: false)
            } else {
                var symbols: [TransportCCStatus] = []
                for k in 0..<7 {
                    guard let s = TransportCCStatus(rawValue: UInt8((word >> (12 - 2 * k)) & 0x3)) else {
                        throw WireError.badValue("transport-cc reserved status")
                    }
                    symbols.append(s)
                }
                chunk = .statusVector(symbols, twoBit: true)
            }
            let n = chunk.statuses.count
            guard n > 0 else { throw WireError.badValue("transport-cc empty run") }
            covered += n
            chunks.append(chunk)
        }
        var deltas: [Int] = []
        for s in chunks.lazy.flatMap(\.statuses).prefix(Int(count)) {
            switch s {
            case .notReceived: continue
            case .smallDelta: deltas.append(Int(try r.u8("transport-cc delta")))
            case .largeDelta: deltas.append(Int(Int16(bitPattern: try r.u16("transport-cc delta"))))
            }
        }
        // What remains is zero padding to the 32-bit boundary.
        return RTCPTransportCC(senderSSRC: sender, mediaSSRC: media, baseSequenceNumber: base, packetStatusCount: count,
                               referenceTime: reference, feedbackPacketCount: fbCount, chunks: chunks, deltas: deltas)
    }

    func write(_ out: inout [UInt8]) throws {
        out.appendU32(senderSSRC)
        out.appendU32(mediaSSRC)
        out.appendU16(baseSequenceNumber)
        out.appendU16(packetStatusCount)
        out.appendU24(UInt32(bitPattern: referenceTime) & 0xFF_FFFF)
        out.append(feedbackPacketCount)
        for chunk in chunks {
            switch chunk {
            case .runLength(let s, let n):
                guard (1...0x1FFF).contains(n) else { throw WireError.badValue("transport-cc run length") }
                out.appendU16(UInt16(s.rawValue) << 13 | UInt16(n))
            case .statusVector(let symbols, let twoBit):
                guard symbols.count == (twoBit ? 7 : 14) else { throw WireError.badValue("transport-cc vector size") }
                var word: UInt16 = twoBit ? 0xC000 : 0x8000
                for (k, s) in symbols.enumerated() {
                    if twoBit {
                        word |= UInt16(s.rawValue) << (12 - 2 * k)
                    } else {
                        guard s != .largeDelta else { throw WireError.badValue("large delta in 1-bit vector") }
                        word |= UInt16(s.rawValue) << (13 - k)
                    }
                }
                out.appendU16(word)
            }
        }
        var deltaIndex = 0
        for s in chunks.lazy.flatMap(\.statuses).prefix(Int(packetStatusCount)) where s != .notReceived {
            guard deltaIndex < deltas.count else { throw WireError.badValue("transport-cc missing delta") }
            let d = deltas[deltaIndex]
            deltaIndex += 1
            if s == .smallDelta {
                guard (0...255).contains(d) else { throw WireError.badValue("transport-cc small delta") }
                out.append(UInt8(d))
            } else {
                guard (-32768...32767).contains(d) else { throw WireError.badValue("transport-cc large delta") }
                out.appendU16(UInt16(bitPattern: Int16(d)))
            }
        }
    }
}
