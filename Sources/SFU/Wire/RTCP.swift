// RTCP (RFC 3550) compound packets and the feedback messages an SFU exchanges with browsers:
// SR, RR, SDES, BYE, generic NACK (RFC 4585), PLI, FIR (RFC 5104), REMB (draft-alvestrand-rmcat-remb) and
// transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01).
// Packets of other types or formats are kept as raw bytes and written back unchanged.

public enum RTCPPacketType {
    public static let senderReport: UInt8 = 200
    public static let receiverReport: UInt8 = 201
    public static let sourceDescription: UInt8 = 202
    public static let goodbye: UInt8 = 203
    public static let transportFeedback: UInt8 = 205   // RTPFB
    public static let payloadFeedback: UInt8 = 206     // PSFB
}

public enum RTCPPacket: Equatable, Sendable {
    case senderReport(RTCPSenderReport)
    case receiverReport(RTCPReceiverReport)
    case sourceDescription(RTCPSourceDescription)
    case goodbye(RTCPGoodbye)
    case nack(RTCPNack)
    case pictureLossIndication(RTCPPictureLossIndication)
    case fullIntraRequest(RTCPFullIntraRequest)
    case remb(RTCPRemb)
    case transportCC(RTCPTransportCC)
    case unknown(RTCPRawPacket)
}

/// A packet this layer does not interpret: its complete bytes, header included.
public struct RTCPRawPacket: Equatable, Sendable {
    public var packetType: UInt8
    /// The 5-bit count/FMT field.
    public var countOrFormat: UInt8
    public var bytes: [UInt8]
}

public struct RTCPReportBlock: Equatable, Sendable {
    public var ssrc: UInt32
    public var fractionLost: UInt8
    /// 24-bit signed on the wire (RFC 3550 §6.4.1: may go negative with duplicates).
    public var cumulativeLost: Int32
    public var extendedHighestSequenceNumber: UInt32
    public var jitter: UInt32
    public var lastSenderReport: UInt32
    public var delaySinceLastSenderReport: UInt32

    public init(ssrc: UInt32, fractionLost: UInt8 = 0, cumulativeLost: Int32 = 0, extendedHighestSequenceNumber: UInt32 = 0,
                jitter: UInt32 = 0, lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequenceNumber = extendedHighestSequenceNumber
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    static func parse(_ r: inout ByteReader) throws -> RTCPReportBlock {
        let ssrc = try r.u32("report block")
        let fraction = try r.u8("report block")
        let lost24 = try r.u24("report block")
        // Sign-extend the 24-bit field.
        let lost = Int32(bitPattern: lost24 & 0x80_0000 != 0 ? lost24 | 0xFF00_0000 : lost24)
        return RTCPReportBlock(ssrc: ssrc, fractionLost: fraction, cumulativeLost: lost,
                               extendedHighestSequenceNumber: try r.u32("report block"), jitter: try r.u32("report block"),
                               lastSenderReport: try r.u32("report block"),
                               delaySinceLastSenderReport: try r.u32("report block"))
    }

    func write(_ out: inout [UInt8]) {
        out.appendU32(ssrc)
        out.append(fractionLost)
        out.appendU24(UInt32(bitPattern: max(-0x80_0000, min(0x7F_FFFF, cumulativeLost))) & 0xFF_FFFF)
        out.appendU32(extendedHighestSequenceNumber)
        out.appendU32(jitter)
        out.appendU32(lastSenderReport)
        out.appendU32(delaySinceLastSenderReport)
    }
}

public struct RTCPSenderReport: Equatable, Sendable {
    public var ssrc: UInt32
    /// 64-bit NTP timestamp (seconds since 1900 in the high word, fraction in the low word).
    public var ntpTimestamp: UInt64
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    public var reports: [RTCPReportBlock]
    public var profileExtension: [UInt8] = []

    public init(ssrc: UInt32, ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
                reports: [RTCPReportBlock] = []) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reports = reports
    }

    /// The middle 32 bits of the NTP timestamp, echoed as LSR in report blocks.
    public var compactNTP: UInt32 { UInt32(truncatingIfNeeded: ntpTimestamp >> 16) }
}

public struct RTCPReceiverReport: Equatable, Sendable {
    public var ssrc: UInt32
    public var reports: [RTCPReportBlock]
    public var profileExtension: [UInt8] = []

    public init(ssrc: UInt32, reports: [RTCPReportBlock] = []) {
        self.ssrc = ssrc
        self.reports = reports
    }
}

public struct RTCPSourceDescription: Equatable, Sendable {
    public struct Item: Equatable, Sendable {
        public static let cname: UInt8 = 1
        public var type: UInt8
        public var value: [UInt8]
        public init(type: UInt8, value: [UInt8]) { self.type = type; self.value = value }
    }

    public struct Chunk: Equatable, Sendable {
        public var ssrc: UInt32
        public var items: [Item]
        public init(ssrc: UInt32, items: [Item]) { self.ssrc = ssrc; self.items = items }

        public var cname: String? {
            items.first { $0.type == Item.cname }.flatMap { String(validating: $0.value, as: UTF8.self) }
        }
    }

    public var chunks: [Chunk]
    public init(chunks: [Chunk]) { self.chunks = chunks }

    public static func cname(ssrc: UInt32, _ cname: String) -> RTCPSourceDescription {
        RTCPSourceDescription(chunks: [Chunk(ssrc: ssrc, items: [Item(type: Item.cname, value: Array(cname.utf8))])])
    }
}

public struct RTCPGoodbye: Equatable, Sendable {
    public var ssrcs: [UInt32]
    public var reason: String?
    public init(ssrcs: [UInt32], reason: String? = nil) { self.ssrcs = ssrcs; self.reason = reason }
}

/// Generic NACK (RFC 4585 §6.2.1): each pair names a lost packet (PID) and a bitmask of the 16 after it (BLP).
public struct RTCPNack: Equatable, Sendable {
    public struct Pair: Equatable, Sendable {
        public var packetID: UInt16
        public var lostBitmask: UInt16
        public init(packetID: UInt16, lostBitmask: UInt16) { self.packetID = packetID; self.lostBitmask = lostBitmask }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var pairs: [Pair]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32, pairs: [Pair]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.pairs = pairs
    }

    /// Packs sequence numbers (in sending order, wrap-around allowed) into as few pairs as a greedy pass allows.
    public init(senderSSRC: UInt32, mediaSSRC: UInt32, sequenceNumbers: [UInt16]) {
        var pairs: [Pair] = []
        for seq in sequenceNumbers {
            if let last = pairs.last {
                let distance = seq &- last.packetID
                if distance == 0 { continue }
                if distance <= 16 {
                    pairs[pairs.count - 1].lostBitmask |= 1 << (distance - 1)
                    continue
                }
            }
            pairs.append(Pair(packetID: seq, lostBitmask: 0))
        }
        self.init(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, pairs: pairs)
    }

    /// Every sequence number the pairs name, in order.
    public var sequenceNumbers: [UInt16] {
        var out: [UInt16] = []
        for p in pairs {
            out.append(p.packetID)
            for bit in 0..<16 where p.lostBitmask & (1 << bit) != 0 { out.append(p.packetID &+ UInt16(bit + 1)) }
        }
        return out
    }
}

public struct RTCPPictureLossIndication: Equatable, Sendable {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public init(senderSSRC: UInt32, mediaSSRC: UInt32) { self.senderSSRC = senderSSRC; self.mediaSSRC = mediaSSRC }
}

/// Full Intra Request (RFC 5104 §4.3.1): the media SSRC field is unused; targets are in the entries.
public struct RTCPFullIntraRequest: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var ssrc: UInt32
        public var sequenceNumber: UInt8
        public init(ssrc: UInt32, sequenceNumber: UInt8) { self.ssrc = ssrc; self.sequenceNumber = sequenceNumber }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32 = 0
    public var entries: [Entry]
    public init(senderSSRC: UInt32, entries: [Entry]) { self.senderSSRC = senderSSRC; self.entries = entries }
}

/// Receiver Estimated Max Bitrate: application-layer feedback with the 'REMB' identifier.
public struct RTCPRemb: Equatable, Sendable {
    public var senderSSRC: UInt32
    /// Bits per second; on the wire an 18-bit mantissa and 6-bit exponent, so large values are rounded down.
    public var bitrate: UInt64
    public var ssrcs: [UInt32]

    public init(senderSSRC: UInt32, bitrate: UInt64, ssrcs: [UInt32]) {
        self.senderSSRC = senderSSRC
        self.bitrate = bitrate
        self.ssrcs = ssrcs
    }

    static let identifier: [UInt8] = Array("REMB".utf8)

    /// The (exponent, mantissa) encoding of `bitrate`, rounded down to what 18 bits of mantissa can carry.
    var exponentAndMantissa: (UInt8, UInt32) {
        var exponent: UInt8 = 0
        var mantissa = bitrate
        while mantissa > 0x3_FFFF && exponent < 63 {
            mantissa >>= 1
            exponent += 1
        }
        return (exponent, UInt32(min(mantissa, 0x3_FFFF)))
    }
}

// MARK: - Compound parse and serialize

public enum RTCP {
    /// Parses a compound packet (or a single reduced-size one, RFC 5506) into its packets, in order.
    public static func parseCompound(_ bytes: [UInt8]) throws -> [RTCPPacket] {
        guard !bytes.isEmpty else { throw WireError.truncated("RTCP header") }
        var r = ByteReader(bytes)
        var packets: [RTCPPacket] = []
        while !r.isAtEnd {
            let start = r.offset
            let first = try r.u8("RTCP header")
            guard first >> 6 == 2 else { throw WireError.badVersion(first >> 6) }
            let packetType = try r.u8("RTCP header")
            let words = Int(try r.u16("RTCP header"))
            let body = try r.slice(4 * words, "RTCP length")
            var payload = body
            if first & 0x20 != 0 {
                guard let pad = body.last, pad >= 1, Int(pad) <= body.count else {
                    throw WireError.badLength("RTCP padding")
                }
                payload = body.dropLast(Int(pad))
            }
            let count = first & 0x1F
            let whole = Array(bytes[start..<(start + 4 + 4 * words)])
            packets.append(try parsePacket(type: packetType, count: count, payload: payload, whole: whole))
        }
        return packets
    }

    static func parsePacket(type: UInt8, count: UInt8, payload: ArraySlice<UInt8>, whole: [UInt8]) throws -> RTCPPacket {
        var r = ByteReader(payload)
        switch (type, count) {
        case (RTCPPacketType.senderReport, _):
            var sr = RTCPSenderReport(ssrc: try r.u32("SR"), ntpTimestamp: try r.u64("SR"), rtpTimestamp: try r.u32("SR"),
                                      packetCount: try r.u32("SR"), octetCount: try r.u32("SR"))
            for _ in 0..<count { sr.reports.append(try RTCPReportBlock.parse(&r)) }
            sr.profileExtension = r.rest()
            return .senderReport(sr)
        case (RTCPPacketType.receiverReport, _):
            var rr = RTCPReceiverReport(ssrc: try r.u32("RR"))
            for _ in 0..<count { rr.reports.append(try RTCPReportBlock.parse(&r)) }
            rr.profileExtension = r.rest()
            return .receiverReport(rr)
        case (RTCPPacketType.sourceDescription, _):
            return .sourceDescription(try parseSDES(&r, count: Int(count)))
        case (RTCPPacketType.goodbye, _):
            var bye = RTCPGoodbye(ssrcs: [])
            for _ in 0..<count { bye.ssrcs.append(try r.u32("BYE")) }
            if !r.isAtEnd {
                let length = Int(try r.u8("BYE reason"))
                let text = try r.slice(length, "BYE reason")
                bye.reason = String(decoding: text, as: UTF8.self)
            }
            return .goodbye(bye)
        case (RTCPPacketType.transportFeedback, 1):
            var nack = RTCPNack(senderSSRC: try r.u32("NACK"), mediaSSRC: try r.u32("NACK"), pairs: [])
            guard r.remaining % 4 == 0, r.remaining > 0 else { throw WireError.badLength("NACK FCI") }
            while !r.isAtEnd {
                nack.pairs.append(RTCPNack.Pair(packetID: try r.u16("NACK"), lostBitmask: try r.u16("NACK")))
            }
            return .nack(nack)
        case (RTCPPacketType.transportFeedback, 15):
            return .transportCC(try RTCPTransportCC.parse(&r))
        case (RTCPPacketType.payloadFeedback, 1):
            return .pictureLossIndication(RTCPPictureLossIndication(senderSSRC: try r.u32("PLI"), mediaSSRC: try r.u32("PLI")))
        case (RTCPPacketType.payloadFeedback, 4):
            var fir = RTCPFullIntraRequest(senderSSRC: try r.u32("FIR"), entries: [])
            fir.mediaSSRC = try r.u32("FIR")
            guard r.remaining % 8 == 0, r.remaining > 0 else { throw WireError.badLength("FIR FCI") }
            while !r.isAtEnd {
                let ssrc = try r.u32("FIR entry")
                let seq = try r.u8("FIR entry")
                try r.skip(3, "FIR entry")
                fir.entries.append(.init(ssrc: ssrc, sequenceNumber: seq))
            }
            return .fullIntraRequest(fir)
        case (RTCPPacketType.payloadFeedback, 15) where payload.count >= 12
            && Array(payload.dropFirst(8).prefix(4)) == RTCPRemb.identifier:
            let sender = try r.u32("REMB")
            try r.skip(8, "REMB")                                  // media SSRC (0) and 'REMB'
            let numSSRC = Int(try r.u8("REMB"))
            let bits = try r.u24("REMB")
            let exponent = UInt64(bits >> 18), mantissa = UInt64(bits & 0x3_FFFF)
            // A mantissa shifted by up to 63 bits can exceed UInt64; saturate rather than trap.
            let bitrate = mantissa == 0 ? 0 : (mantissa.leadingZeroBitCount >= exponent ? mantissa << exponent : .max)
            var ssrcs: [UInt32] = []
            for _ in 0..<numSSRC { ssrcs.append(try r.u32("REMB SSRC")) }
            return .remb(RTCPRemb(senderSSRC: sender, bitrate: bitrate, ssrcs: ssrcs))
        default:
            return .unknown(RTCPRawPacket(packetType: type, countOrFormat: count, bytes: whole))
        }
    }

    static func parseSDES(_ r: inout ByteReader, count: Int) throws -> RTCPSourceDescription {
        var sdes = RTCPSourceDescription(chunks: [])
        for _ in 0..<count {
            let chunkStart = r.offset
            var chunk = RTCPSourceDescription.Chunk(ssrc: try r.u32("SDES chunk"), items: [])
            while true {
                let type = try r.u8("SDES item")
                if type == 0 { break }                             // END item; the chunk is then padded
                let length = Int(try r.u8("SDES item"))
                chunk.items.append(.init(type: type, value: try r.bytes(length, "SDES item")))
            }
            let used = r.offset - chunkStart
            try r.skip(min(paddedTo4(used) - used, r.remaining), "SDES padding")
            sdes.chunks.append(chunk)
        }
        return sdes
    }

    /// Serializes packets back to back into one compound packet.
    public static func serialize(_ packets: [RTCPPacket]) throws -> [UInt8] {
        var out: [UInt8] = []
        for p in packets { try serialize(p, into: &out) }
        return out
    }

    public static func serialize(_ packet: RTCPPacket, into out: inout [UInt8]) throws {
        let start = out.count
        func header(_ count: Int, _ type: UInt8) throws {
            guard count <= 31 else { throw WireError.badValue("RTCP count over 31") }
            out.append(0x80 | UInt8(count))
            out.append(type)
            out.appendU16(0)                                       // length, filled in below
        }
        switch packet {
        case .unknown(let raw):
            out.append(contentsOf: raw.bytes)
            return
        case .senderReport(let sr):
            try header(sr.reports.count, RTCPPacketType.senderReport)
            out.appendU32(sr.ssrc)
            out.appendU64(sr.ntpTimestamp)
            out.appendU32(sr.rtpTimestamp)
            out.appendU32(sr.packetCount)
            out.appendU32(sr.octetCount)
            for b in sr.reports { b.write(&out) }
            out.append(contentsOf: sr.profileExtension)
        case .receiverReport(let rr):
            try header(rr.reports.count, RTCPPacketType.receiverReport)
            out.appendU32(rr.ssrc)
            for b in rr.reports { b.write(&out) }
            out.append(contentsOf: rr.profileExtension)
        case .sourceDescription(let sdes):
            try header(sdes.chunks.count, RTCPPacketType.sourceDescription)
            for chunk in sdes.chunks {
                out.appendU32(chunk.ssrc)
                for item in chunk.items {
                    guard item.type != 0, item.value.count <= 255 else { throw WireError.badValue("SDES item") }
                    out.append(item.type)
                    out.append(UInt8(item.value.count))
                    out.append(contentsOf: item.value)
                }
                out.append(0)                                      // END, then pad with more zeros
                out.padTo4()
            }
        case .goodbye(let bye):
            try header(bye.ssrcs.count, RTCPPacketType.goodbye)
            for s in bye.ssrcs { out.appendU32(s) }
            if let reason = bye.reason {
                let text = Array(reason.utf8.prefix(255))
                out.append(UInt8(text.count))
                out.append(contentsOf: text)
            }
        case .nack(let nack):
            try header(1, RTCPPacketType.transportFeedback)
            out.appendU32(nack.senderSSRC)
            out.appendU32(nack.mediaSSRC)
            for p in nack.pairs {
                out.appendU16(p.packetID)
                out.appendU16(p.lostBitmask)
            }
        case .pictureLossIndication(let pli):
            try header(1, RTCPPacketType.payloadFeedback)
            out.appendU32(pli.senderSSRC)
            out.appendU32(pli.mediaSSRC)
        case .fullIntraRequest(let fir):
            try header(4, RTCPPacketType.payloadFeedback)
            out.appendU32(fir.senderSSRC)
            out.appendU32(fir.mediaSSRC)
            for e in fir.entries {
                out.appendU32(e.ssrc)
                out.append(e.sequenceNumber)
                out.append(contentsOf: [0, 0, 0])
            }
        case .remb(let remb):
            guard remb.ssrcs.count <= 255 else { throw WireError.badValue("REMB SSRC count") }
            try header(15, RTCPPacketType.payloadFeedback)
            out.appendU32(remb.senderSSRC)
            out.appendU32(0)
            out.append(contentsOf: RTCPRemb.identifier)
            out.append(UInt8(remb.ssrcs.count))
            let (exponent, mantissa) = remb.exponentAndMantissa
            out.appendU24(UInt32(exponent) << 18 | mantissa)
            for s in remb.ssrcs { out.appendU32(s) }
        case .transportCC(let tcc):
            try header(15, RTCPPacketType.transportFeedback)
            try tcc.write(&out)
        }
        out.padTo4()
        let words = (out.count - start) / 4 - 1
        guard words <= Int(UInt16.max) else { throw WireError.badValue("RTCP packet too long") }
        out.setU16(UInt16(words), at: start + 2)
    }
}
