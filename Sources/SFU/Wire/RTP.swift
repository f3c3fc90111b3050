// RTP (RFC 3550) headers, header extensions (RFC 8285), audio level (RFC 6464) and RTX (RFC 4588).
// Two shapes: `RTPHeaderView` reads a packet in place without allocating (the forwarding path), and `RTPHeader`
// is a full value type for building packets and for tests. The `RTP` functions rewrite fields in place.

/// Namespace for demux and in-place rewriting helpers.
public enum RTP {
    public static let version: UInt8 = 2
    public static let fixedHeaderLength = 12

    /// RFC 5761 §4: with rtcp-mux, the second byte of RTCP (its packet type) is 192...223; RTP payload types
    /// 64...95 are avoided for that reason, so a marker bit plus such a type never reaches this range.
    public static func isRtcp(packetType: UInt8) -> Bool { (192...223).contains(packetType) }

    /// Demux on a whole datagram (already known to be RTP/RTCP by its first byte, RFC 7983).
    public static func isRtcp(_ packet: UnsafeRawBufferPointer) -> Bool {
        packet.count >= 2 && isRtcp(packetType: packet[1])
    }

    public static func isRtcp(_ packet: [UInt8]) -> Bool {
        packet.count >= 2 && isRtcp(packetType: packet[1])
    }

    // MARK: in-place rewriting (no allocation; callers pass the packet's own buffer)

    public static func setSequenceNumber(_ seq: UInt16, in p: UnsafeMutableRawBufferPointer) throws {
        guard p.count >= fixedHeaderLength else { throw WireError.truncated("RTP header") }
        p[2] = UInt8(truncatingIfNeeded: seq >> 8)
        p[3] = UInt8(truncatingIfNeeded: seq)
    }

    public static func setTimestamp(_ ts: UInt32, in p: UnsafeMutableRawBufferPointer) throws {
        guard p.count >= fixedHeaderLength else { throw WireError.truncated("RTP header") }
        store32(ts, p, 4)
    }

    public static func setSSRC(_ ssrc: UInt32, in p: UnsafeMutableRawBufferPointer) throws {
        guard p.count >= fixedHeaderLength else { throw WireError.truncated("RTP header") }
        store32(ssrc, p, 8)
    }

    public static func setPayloadType(_ pt: UInt8, in p: UnsafeMutableRawBufferPointer) throws {
        guard p.count >= fixedHeaderLength else { throw WireError.truncated("RTP header") }
        p[1] = (p[1] & 0x80) | (pt & 0x7F)
    }

    public static func setMarker(_ marker: Bool, in p: UnsafeMutableRawBufferPointer) throws {
        guard p.count >= fixedHeaderLength else { throw WireError.truncated("RTP header") }
        p[1] = marker ? p[1] | 0x80 : p[1] & 0x7F
    }

    /// The usual per-consumer rewrite in one call.
    public static func rewrite(_ p: UnsafeMutableRawBufferPointer, ssrc: UInt32, sequenceNumber: UInt16,
                               timestamp: UInt32, payloadType: UInt8? = nil) throws {
        guard p.count >= fixedHeaderLength else { throw WireError.truncated("RTP header") }
        if let pt = payloadType { p[1] = (p[1] & 0x80) | (pt & 0x7F) }
        p[2] = UInt8(truncatingIfNeeded: sequenceNumber >> 8)
        p[3] = UInt8(truncatingIfNeeded: sequenceNumber)
        store32(timestamp, p, 4)
        store32(ssrc, p, 8)
    }

    public static func rewrite(_ packet: inout [UInt8], ssrc: UInt32, sequenceNumber: UInt16,
                               timestamp: UInt32, payloadType: UInt8? = nil) throws {
        try packet.withUnsafeMutableBytes {
            try rewrite($0, ssrc: ssrc, sequenceNumber: sequenceNumber, timestamp: timestamp, payloadType: payloadType)
        }
    }

    /// Renumbers header extension ids in place (ids are negotiated per peer connection): `map` returns the new id,
    /// or nil to leave an element unchanged. New ids must fit the packet's form (1...14 for one-byte elements).
    public static func remapExtensionIDs(in p: UnsafeMutableRawBufferPointer, _ map: (UInt8) -> UInt8?) throws {
        let view = try RTPHeaderView(UnsafeRawBufferPointer(p))
        guard let ext = view.extensionRange else { return }
        let twoByte = view.extensionProfile & 0xFFF0 == 0x1000
        guard twoByte || view.extensionProfile == 0xBEDE else { return }
        var i = ext.lowerBound
        while i < ext.upperBound {
            let first = p[i]
            if first == 0 { i += 1; continue }                     // padding
            if twoByte {
                guard i + 1 < ext.upperBound else { return }
                if let n = map(first), n != 0 { p[i] = n }
                i += 2 + Int(p[i + 1])
            } else {
                let id = first >> 4
                if id == 15 || id == 0 { return }                  // reserved, or id 0 with a length: stop
                if let n = map(id), (1...14).contains(n) { p[i] = n << 4 | first & 0x0F }
                i += 2 + Int(first & 0x0F)
            }
        }
    }

    @inline(__always) static func store32(_ v: UInt32, _ p: UnsafeMutableRawBufferPointer, _ at: Int) {
        p[at] = UInt8(truncatingIfNeeded: v >> 24)
        p[at + 1] = UInt8(truncatingIfNeeded: v >> 16)
        p[at + 2] = UInt8(truncatingIfNeeded: v >> 8)
        p[at + 3] = UInt8(truncatingIfNeeded: v)
    }

    @inline(__always) static func load16(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        UInt16(p[at]) << 8 | UInt16(p[at + 1])
    }

    @inline(__always) static func load32(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(p[at]) << 24 | UInt32(p[at + 1]) << 16 | UInt32(p[at + 2]) << 8 | UInt32(p[at + 3])
    }
}

/// A validated, allocation-free reading of an RTP packet's header: fields plus byte ranges into the same buffer.
public struct RTPHeaderView: Equatable, Sendable {
    public let marker: Bool
    public let payloadType: UInt8
    public let sequenceNumber: UInt16
    public let timestamp: UInt32
    public let ssrc: UInt32
    public let csrcCount: Int
    /// 0xBEDE (one-byte), 0x100X (two-byte) or another profile; 0 when there is no extension.
    public let extensionProfile: UInt16
    /// Bytes of the extension elements (after the 4-byte extension header), if the X bit is set.
    public let extensionRange: Range<Int>?
    /// Payload bytes, padding excluded.
    public let payloadRange: Range<Int>
    public let paddingLength: Int

    public var headerLength: Int { payloadRange.lowerBound }

    public init(_ p: UnsafeRawBufferPointer) throws {
        guard p.count >= RTP.fixedHeaderLength else { throw WireError.truncated("RTP header") }
        guard p[0] >> 6 == RTP.version else { throw WireError.badVersion(p[0] >> 6) }
        let hasPadding = p[0] & 0x20 != 0
        let hasExtension = p[0] & 0x10 != 0
        csrcCount = Int(p[0] & 0x0F)
        marker = p[1] & 0x80 != 0
        payloadType = p[1] & 0x7F
        sequenceNumber = RTP.load16(p, 2)
        timestamp = RTP.load32(p, 4)
        ssrc = RTP.load32(p, 8)
        var offset = RTP.fixedHeaderLength + 4 * csrcCount
        guard p.count >= offset else { throw WireError.badLength("RTP CSRC list") }
        if hasExtension {
            guard p.count >= offset + 4 else { throw WireError.truncated("RTP extension header") }
            extensionProfile = RTP.load16(p, offset)
            let words = Int(RTP.load16(p, offset + 2))
            let start = offset + 4, end = start + 4 * words
            guard p.count >= end else { throw WireError.badLength("RTP extension length") }
            extensionRange = start..<end
            offset = end
        } else {
            extensionProfile = 0
            extensionRange = nil
        }
        var end = p.count
        if hasPadding {
            let pad = Int(p[p.count - 1])
            guard pad >= 1, end - pad >= offset else { throw WireError.badLength("RTP padding") }
            end -= pad
        }
        paddingLength = p.count - end
        payloadRange = offset..<end
    }

    public init(_ bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try RTPHeaderView($0) }
    }

    /// Range of the value of extension element `id` in `p` (the buffer this view was made from), without allocating.
    public func extensionElement(id: UInt8, in p: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let ext = extensionRange, ext.upperBound <= p.count, id != 0 else { return nil }
        let twoByte = extensionProfile & 0xFFF0 == 0x1000
        guard twoByte || extensionProfile == 0xBEDE else { return nil }
        var i = ext.lowerBound
        while i < ext.upperBound {
            let first = p[i]
            if first == 0 { i += 1; continue }
            let elementID: UInt8, length: Int, start: Int
            if twoByte {
                guard i + 1 < ext.upperBound else { return nil }
                elementID = first; length = Int(p[i + 1]); start = i + 2
            } else {
                elementID = first >> 4; length = Int(first & 0x0F) + 1; start = i + 1
                if elementID == 15 || elementID == 0 { return nil }
            }
            guard start + length <= ext.upperBound else { return nil }
            if elementID == id { return start..<(start + length) }
            i = start + length
        }
        return nil
    }

    public func extensionElement(id: UInt8, in bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBytes { p in extensionElement(id: id, in: p).map { Array(p[$0]) } }
    }
}

/// One RFC 8285 header extension element.
public struct RTPExtensionElement: Equatable, Sendable {
    public var id: UInt8
    public var data: [UInt8]
    public init(id: UInt8, data: [UInt8]) { self.id = id; self.data = data }
}

/// The RTP header extension block: one-byte (0xBEDE) or two-byte (0x100X) elements, or opaque data of another profile.
public struct RTPHeaderExtension: Equatable, Sendable {
    public static let oneByteProfile: UInt16 = 0xBEDE
    public static let twoByteProfile: UInt16 = 0x1000

    public var profile: UInt16
    public var elements: [RTPExtensionElement]
    /// The data of a profile that is neither one- nor two-byte; empty otherwise.
    public var opaque: [UInt8]

    public var isTwoByte: Bool { profile & 0xFFF0 == Self.twoByteProfile }
    public var isOneByte: Bool { profile == Self.oneByteProfile }

    public init(profile: UInt16 = oneByteProfile, elements: [RTPExtensionElement] = [], opaque: [UInt8] = []) {
        self.profile = profile
        self.elements = elements
        self.opaque = opaque
    }

    /// The smallest form that can carry `elements`: one-byte unless an id > 14 or a length outside 1...16 needs two.
    public static func fitting(_ elements: [RTPExtensionElement]) -> RTPHeaderExtension {
        let oneByte = elements.allSatisfy { (1...14).contains($0.id) && (1...16).contains($0.data.count) }
        return RTPHeaderExtension(profile: oneByte ? oneByteProfile : twoByteProfile, elements: elements)
    }

    public func element(id: UInt8) -> [UInt8]? { elements.first { $0.id == id }?.data }

    static func parse(profile: UInt16, data: ArraySlice<UInt8>) throws -> RTPHeaderExtension {
        var ext = RTPHeaderExtension(profile: profile)
        guard ext.isOneByte || ext.isTwoByte else {
            ext.opaque = Array(data)
            return ext
        }
        var r = ByteReader(data)
        while !r.isAtEnd {
            let first = try r.u8("RTP extension element")
            if first == 0 { continue }                                   // padding between elements
            if ext.isTwoByte {
                let length = Int(try r.u8("RTP extension element length"))
                ext.elements.append(RTPExtensionElement(id: first, data: try r.bytes(length, "RTP extension element")))
            } else {
                // Id 15 means stop (RFC 8285 §4.2); id 0 with a length is not padding either: stop as libwebrtc does.
                if first >> 4 == 15 || first >> 4 == 0 { break }
                let length = Int(first & 0x0F) + 1
                ext.elements.append(RTPExtensionElement(id: first >> 4, data: try r.bytes(length, "RTP extension element")))
            }
        }
        return ext
    }

    /// Elements plus zero padding to a 32-bit boundary (without the 4-byte profile/length header).
    func serializedData() throws -> [UInt8] {
        var out: [UInt8] = []
        if !(isOneByte || isTwoByte) {
            out = opaque
        } else {
            for e in elements {
                if isTwoByte {
                    guard e.id != 0, e.data.count <= 255 else { throw WireError.badValue("two-byte extension element") }
                    out.append(e.id)
                    out.append(UInt8(e.data.count))
                } else {
                    guard (1...14).contains(e.id), (1...16).contains(e.data.count) else {
                        throw WireError.badValue("one-byte extension element")
                    }
                    out.append(e.id << 4 | UInt8(e.data.count - 1))
                }
                out.append(contentsOf: e.data)
            }
        }
        out.padTo4()
        return out
    }
}

/// A whole RTP header as a value: parse from bytes, change, serialize. Allocates; the forwarding path uses
/// `RTPHeaderView` and the `RTP` rewrite functions instead.
public struct RTPHeader: Equatable, Sendable {
    public var padding: Bool = false
    public var marker: Bool = false
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var csrcs: [UInt32] = []
    public var headerExtension: RTPHeaderExtension?

    public init(payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, marker: Bool = false,
                csrcs: [UInt32] = [], headerExtension: RTPHeaderExtension? = nil) {
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.marker = marker
        self.csrcs = csrcs
        self.headerExtension = headerExtension
    }

    /// Parses the header of `packet`; returns it with the payload range (padding excluded).
    public static func parse(_ packet: [UInt8]) throws -> (header: RTPHeader, payload: Range<Int>) {
        let view = try RTPHeaderView(packet)
        var h = RTPHeader(payloadType: view.payloadType, sequenceNumber: view.sequenceNumber,
                          timestamp: view.timestamp, ssrc: view.ssrc, marker: view.marker)
        h.padding = view.paddingLength > 0
        var r = ByteReader(packet)
        try r.skip(RTP.fixedHeaderLength, "RTP header")
        for _ in 0..<view.csrcCount { h.csrcs.append(try r.u32("RTP CSRC")) }
        if let ext = view.extensionRange {
            h.headerExtension = try RTPHeaderExtension.parse(profile: view.extensionProfile, data: packet[ext])
        }
        return (h, view.payloadRange)
    }

    /// The header bytes (padding flag as set; the caller appends payload and padding).
    public func serialize() throws -> [UInt8] {
        guard csrcs.count <= 15 else { throw WireError.badValue("more than 15 CSRCs") }
        var out: [UInt8] = []
        out.reserveCapacity(RTP.fixedHeaderLength + 4 * csrcs.count + 32)
        out.append(RTP.version << 6 | (padding ? 0x20 : 0) | (headerExtension != nil ? 0x10 : 0) | UInt8(csrcs.count))
        out.append((marker ? 0x80 : 0) | payloadType & 0x7F)
        out.appendU16(sequenceNumber)
        out.appendU32(timestamp)
        out.appendU32(ssrc)
        for c in csrcs { out.appendU32(c) }
        if let ext = headerExtension {
            let data = try ext.serializedData()
            guard data.count / 4 <= Int(UInt16.max) else { throw WireError.badValue("extension too long") }
            out.appendU16(ext.profile)
            out.appendU16(UInt16(data.count / 4))
            out.append(contentsOf: data)
        }
        return out
    }

    /// A whole packet: header, payload, and `paddingLength` bytes of padding (the last one being the count).
    public func packet(payload: [UInt8], paddingLength: Int = 0) throws -> [UInt8] {
        guard (0...255).contains(paddingLength) else { throw WireError.badValue("RTP padding length") }
        var h = self
        h.padding = paddingLength > 0
        var out = try h.serialize()
        out.append(contentsOf: payload)
        if paddingLength > 0 {
            out.append(contentsOf: repeatElement(0, count: paddingLength - 1))
            out.append(UInt8(paddingLength))
        }
        return out
    }
}

/// RFC 6464 client-to-mixer audio level: level in -dBov (0 loudest ... 127 silence) and the voice activity flag.
public struct AudioLevel: Equatable, Sendable {
    public var voiceActivity: Bool
    public var level: UInt8

    public init(voiceActivity: Bool, level: UInt8) {
        self.voiceActivity = voiceActivity
        self.level = level & 0x7F
    }

    /// Parses the extension element's value (one byte; a two-byte-form element may carry padding after it).
    public init(_ data: some Collection<UInt8>) throws {
        guard let b = data.first else { throw WireError.truncated("audio level") }
        self.init(voiceActivity: b & 0x80 != 0, level: b & 0x7F)
    }

    public var byte: UInt8 { (voiceActivity ? 0x80 : 0) | level }
}

/// RFC 4588 retransmission payload: the original sequence number (OSN) in front of the original payload.
public enum RTX {
    /// The OSN of an RTX packet (the first two payload bytes).
    public static func originalSequenceNumber(_ rtxPacket: [UInt8]) throws -> UInt16 {
        let view = try RTPHeaderView(rtxPacket)
        guard view.payloadRange.count >= 2 else { throw WireError.truncated("RTX original sequence number") }
        return UInt16(rtxPacket[view.payloadRange.lowerBound]) << 8 | UInt16(rtxPacket[view.payloadRange.lowerBound + 1])
    }

    /// Builds the RTX packet for `original`: same header (extensions kept) with the RTX payload type, SSRC and
    /// sequence number, the OSN prepended to the payload, original padding dropped.
    public static func wrap(_ original: [UInt8], rtxPayloadType: UInt8, rtxSSRC: UInt32,
                            rtxSequenceNumber: UInt16) throws -> [UInt8] {
        let view = try RTPHeaderView(original)
        var out = Array(original[0..<view.headerLength])
        out[0] &= ~0x20
        out.append(UInt8(truncatingIfNeeded: view.sequenceNumber >> 8))
        out.append(UInt8(truncatingIfNeeded: view.sequenceNumber))
        out.append(contentsOf: original[view.payloadRange])
        try RTP.rewrite(&out, ssrc: rtxSSRC, sequenceNumber: rtxSequenceNumber, timestamp: view.timestamp,
                        payloadType: rtxPayloadType)
        return out
    }

    /// Restores the original packet from an RTX packet, given the original stream's payload type and SSRC
    /// (known from `apt=` and the FID group or the repaired-rtp-stream-id).
    public static func unwrap(_ rtxPacket: [UInt8], payloadType: UInt8, ssrc: UInt32) throws -> [UInt8] {
        let view = try RTPHeaderView(rtxPacket)
        guard view.payloadRange.count >= 2 else { throw WireError.truncated("RTX original sequence number") }
        let osnAt = view.payloadRange.lowerBound
        let osn = UInt16(rtxPacket[osnAt]) << 8 | UInt16(rtxPacket[osnAt + 1])
        var out = Array(rtxPacket[0..<view.headerLength])
        out[0] &= ~0x20
        out.append(contentsOf: rtxPacket[(osnAt + 2)..<view.payloadRange.upperBound])
        try RTP.rewrite(&out, ssrc: ssrc, sequenceNumber: osn, timestamp: view.timestamp, payloadType: payloadType)
        return out
    }
}
