import XCTest
@testable import SFU

final class RTPTests: XCTestCase {
    /// A Chrome-style VP8 packet: marker, PT 96, one-byte extensions (abs-send-time id 2, transport-cc id 3, mid id 4).
    static let vp8Packet = hex("""
        90e0 1234 00011170 deadbeef
        bede 0003 22123456 31 5a41 40 30 000000
        90 80 01 02 03
        """)

    func testParseFixedHeaderAndExtensions() throws {
        let p = Self.vp8Packet
        let view = try RTPHeaderView(p)
        XCTAssertTrue(view.marker)
        XCTAssertEqual(view.payloadType, 96)
        XCTAssertEqual(view.sequenceNumber, 0x1234)
        XCTAssertEqual(view.timestamp, 0x0001_1170)
        XCTAssertEqual(view.ssrc, 0xDEAD_BEEF)
        XCTAssertEqual(view.extensionProfile, 0xBEDE)
        XCTAssertEqual(view.headerLength, 28)
        XCTAssertEqual(Array(p[view.payloadRange]), [0x90, 0x80, 0x01, 0x02, 0x03])
        XCTAssertEqual(view.extensionElement(id: 2, in: p), [0x12, 0x34, 0x56])
        XCTAssertEqual(view.extensionElement(id: 3, in: p), [0x5a, 0x41])
        XCTAssertEqual(view.extensionElement(id: 4, in: p), Array("0".utf8))
        XCTAssertNil(view.extensionElement(id: 5, in: p))

        let (header, payload) = try RTPHeader.parse(p)
        XCTAssertEqual(payload, view.payloadRange)
        XCTAssertEqual(header.headerExtension?.elements.map(\.id), [2, 3, 4])
        XCTAssertEqual(try header.serialize() + Array(p[payload]), p)
    }

    func testTwoByteExtensionsCSRCsAndPadding() throws {
        let ext = RTPHeaderExtension(profile: 0x1000, elements: [
            RTPExtensionElement(id: 1, data: []),
            RTPExtensionElement(id: 20, data: Array("high".utf8)),
            RTPExtensionElement(id: 3, data: Array(repeating: 7, count: 20)),
        ])
        let header = RTPHeader(payloadType: 111, sequenceNumber: 65535, timestamp: 0xFFFF_FFFF, ssrc: 1,
                               csrcs: [10, 20], headerExtension: ext)
        let bytes = try header.packet(payload: [1, 2, 3], paddingLength: 4)
        XCTAssertEqual(bytes[0], 0xB2)                      // V=2, P, X, CC=2
        let view = try RTPHeaderView(bytes)
        XCTAssertEqual(view.csrcCount, 2)
        XCTAssertEqual(view.paddingLength, 4)
        XCTAssertEqual(Array(bytes[view.payloadRange]), [1, 2, 3])
        XCTAssertEqual(view.extensionElement(id: 20, in: bytes), Array("high".utf8))
        XCTAssertEqual(view.extensionElement(id: 1, in: bytes), [])
        var parsed = try RTPHeader.parse(bytes).header
        XCTAssertEqual(parsed.csrcs, [10, 20])
        XCTAssertEqual(parsed.headerExtension?.element(id: 3), Array(repeating: 7, count: 20))
        parsed.padding = false
        XCTAssertEqual(parsed, header)
    }

    func testFittingPicksOneOrTwoByteForm() {
        XCTAssertTrue(RTPHeaderExtension.fitting([.init(id: 1, data: [1])]).isOneByte)
        XCTAssertTrue(RTPHeaderExtension.fitting([.init(id: 15, data: [1])]).isTwoByte)
        XCTAssertTrue(RTPHeaderExtension.fitting([.init(id: 1, data: Array(repeating: 0, count: 17))]).isTwoByte)
        XCTAssertThrowsError(try RTPHeader(payloadType: 1, sequenceNumber: 0, timestamp: 0, ssrc: 0,
                                           headerExtension: RTPHeaderExtension(elements: [.init(id: 15, data: [1])])).serialize())
    }

    func testOneByteStopsAtIDFifteenAndSkipsPadding() throws {
        // padding byte, element id 1 len 1, then id 15 which ends parsing.
        let p = hex("9000 0001 00000000 00000001 bede 0002 00 10 aa f0 bb 00 00 00")
        let view = try RTPHeaderView(p)
        XCTAssertEqual(view.extensionElement(id: 1, in: p), [0xaa])
        XCTAssertNil(view.extensionElement(id: 11, in: p))
        XCTAssertEqual(try RTPHeader.parse(p).header.headerExtension?.elements, [.init(id: 1, data: [0xaa])])
    }

    /// Found by RTPFuzz: a one-byte element with id 0 and a length is neither padding nor an element; parsing
    /// stops there (as libwebrtc does) in the view, the full parse and the id remap alike.
    func testOneByteIDZeroWithLengthStops() throws {
        let p = hex("90e0 1234 00011170 deadbeef bede 0003 22123456 315a41 4030 01 0014 1014 010203")
        let view = try RTPHeaderView(p)
        XCTAssertEqual(view.extensionElement(id: 4, in: p), Array("0".utf8))
        XCTAssertNil(view.extensionElement(id: 1, in: p))
        let (header, payload) = try RTPHeader.parse(p)
        XCTAssertEqual(header.headerExtension?.elements.map(\.id), [2, 3, 4])
        XCTAssertEqual(try RTPHeader.parse(try header.packet(payload: Array(p[payload]))).header, header)
    }

    func testInPlaceRewrite() throws {
        var p = Self.vp8Packet
        let original = p
        try RTP.rewrite(&p, ssrc: 0x0102_0304, sequenceNumber: 7, timestamp: 0xA0B0_C0D0, payloadType: 100)
        let view = try RTPHeaderView(p)
        XCTAssertEqual(view.ssrc, 0x0102_0304)
        XCTAssertEqual(view.sequenceNumber, 7)
        XCTAssertEqual(view.timestamp, 0xA0B0_C0D0)
        XCTAssertEqual(view.payloadType, 100)
        XCTAssertTrue(view.marker)
        XCTAssertEqual(Array(p[12...]), Array(original[12...]))
        try p.withUnsafeMutableBytes { b in
            try RTP.setSequenceNumber(9, in: b)
            try RTP.setTimestamp(1, in: b)
            try RTP.setSSRC(2, in: b)
            try RTP.setMarker(false, in: b)
            try RTP.setPayloadType(96, in: b)
        }
        let v2 = try RTPHeaderView(p)
        XCTAssertEqual([UInt32(v2.sequenceNumber), v2.timestamp, v2.ssrc, UInt32(v2.payloadType)], [9, 1, 2, 96])
        XCTAssertFalse(v2.marker)
        var short: [UInt8] = [0x80, 0, 0]
        XCTAssertThrowsError(try RTP.rewrite(&short, ssrc: 1, sequenceNumber: 1, timestamp: 1))
    }

    func testRemapExtensionIDs() throws {
        var p = Self.vp8Packet
        try p.withUnsafeMutableBytes { b in try RTP.remapExtensionIDs(in: b) { $0 == 3 ? 5 : ($0 == 2 ? 14 : nil) } }
        let view = try RTPHeaderView(p)
        XCTAssertEqual(view.extensionElement(id: 5, in: p), [0x5a, 0x41])
        XCTAssertEqual(view.extensionElement(id: 14, in: p), [0x12, 0x34, 0x56])
        XCTAssertEqual(view.extensionElement(id: 4, in: p), Array("0".utf8))
        XCTAssertNil(view.extensionElement(id: 3, in: p))
    }

    func testDemux() {
        XCTAssertTrue(RTP.isRtcp(packetType: 200))
        XCTAssertTrue(RTP.isRtcp(packetType: 223))
        XCTAssertFalse(RTP.isRtcp(packetType: 191))
        XCTAssertFalse(RTP.isRtcp(packetType: 224))
        XCTAssertFalse(RTP.isRtcp(Self.vp8Packet))          // 0xE0: marker + PT 96
        XCTAssertTrue(RTP.isRtcp(hex("81c90001")))
        XCTAssertFalse(RTP.isRtcp([0x80]))
    }

    func testAudioLevel() throws {
        XCTAssertEqual(try AudioLevel([0x85]), AudioLevel(voiceActivity: true, level: 5))
        XCTAssertEqual(try AudioLevel([0x7F, 0, 0]), AudioLevel(voiceActivity: false, level: 127))
        XCTAssertEqual(AudioLevel(voiceActivity: true, level: 200).byte, 0x80 | 72)
        XCTAssertThrowsError(try AudioLevel([UInt8]()))
        // From a packet: ssrc-audio-level as one-byte element id 1.
        let p = hex("9000 0001 00000000 00000001 bede 0001 10 d2 00 00 ff")
        let level = try AudioLevel(try RTPHeaderView(p).extensionElement(id: 1, in: p) ?? [])
        XCTAssertEqual(level, AudioLevel(voiceActivity: true, level: 0x52))
    }

    func testRTXWrapUnwrap() throws {
        let original = try RTPHeader(payloadType: 96, sequenceNumber: 1000, timestamp: 90000, ssrc: 0x1111,
                                     marker: true, headerExtension: .fitting([.init(id: 4, data: Array("1".utf8))]))
            .packet(payload: [9, 8, 7], paddingLength: 3)
        let rtx = try RTX.wrap(original, rtxPayloadType: 97, rtxSSRC: 0x2222, rtxSequenceNumber: 5)
        let view = try RTPHeaderView(rtx)
        XCTAssertEqual(view.payloadType, 97)
        XCTAssertEqual(view.ssrc, 0x2222)
        XCTAssertEqual(view.sequenceNumber, 5)
        XCTAssertEqual(view.timestamp, 90000)
        XCTAssertEqual(view.paddingLength, 0)
        XCTAssertEqual(Array(rtx[view.payloadRange]), [0x03, 0xE8, 9, 8, 7])
        XCTAssertEqual(try RTX.originalSequenceNumber(rtx), 1000)
        let restored = try RTX.unwrap(rtx, payloadType: 96, ssrc: 0x1111)
        let unpadded = try RTPHeader.parse(original)
        var expected = try unpadded.header.serialize()
        expected[0] &= ~0x20
        XCTAssertEqual(restored, expected + [9, 8, 7])
        // Padding-only RTX (bandwidth probe) has no OSN.
        let probe = try RTPHeader(payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 2).packet(payload: [], paddingLength: 200)
        XCTAssertThrowsError(try RTX.unwrap(probe, payloadType: 96, ssrc: 1))
        XCTAssertThrowsError(try RTX.originalSequenceNumber(probe))
    }

    func testMalformed() {
        func rejects(_ b: [UInt8], _ why: String, line: UInt = #line) {
            XCTAssertThrowsError(try RTPHeaderView(b), why, line: line)
            XCTAssertThrowsError(try RTPHeader.parse(b), why, line: line)
        }
        rejects([], "empty")
        rejects(hex("8060 0001 00000000 000000"), "11 bytes")
        rejects(hex("4060 0001 00000000 00000001"), "version 1")
        rejects(hex("8260 0001 00000000 00000001 00000001"), "CSRC count 2 with one CSRC")
        rejects(hex("9060 0001 00000000 00000001 bede"), "extension header cut")
        rejects(hex("9060 0001 00000000 00000001 bede 0002 10aa0000"), "extension length past end")
        rejects(hex("a060 0001 00000000 00000001 00"), "padding count 0")
        rejects(hex("a060 0001 00000000 00000001 0102 10"), "padding past the header")
        // Element length running past the extension block: the view just does not find it, the full parse throws.
        let overrun = hex("9060 0001 00000000 00000001 bede 0001 1f aa bb cc")
        XCTAssertNil(try RTPHeaderView(overrun).extensionElement(id: 1, in: overrun))
        XCTAssertThrowsError(try RTPHeader.parse(overrun))
        let overrun2 = hex("9060 0001 00000000 00000001 1000 0001 01 09 aa bb")
        XCTAssertNil(try RTPHeaderView(overrun2).extensionElement(id: 1, in: overrun2))
        XCTAssertThrowsError(try RTPHeader.parse(overrun2))
    }

    func testRandomBuffersNeverTrap() {
        var rng = SeededRandom(seed: 3550)
        for i in 0..<5000 {
            var b = rng.bytes(maxCount: 80)
            if i % 2 == 0, !b.isEmpty { b[0] = 0x80 | (b[0] & 0x3F) }          // version 2 half the time
            _ = try? RTPHeader.parse(b)
            if let view = try? RTPHeaderView(b) {
                for id: UInt8 in 0...15 { _ = view.extensionElement(id: id, in: b) }
            }
            _ = try? RTX.unwrap(b, payloadType: 1, ssrc: 1)
            _ = try? RTX.wrap(b, rtxPayloadType: 1, rtxSSRC: 1, rtxSequenceNumber: 1)
            var copy = b
            _ = try? copy.withUnsafeMutableBytes { try RTP.remapExtensionIDs(in: $0) { $0 &+ 1 } }
            _ = RTP.isRtcp(b)
        }
    }
}
