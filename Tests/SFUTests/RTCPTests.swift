import XCTest
@testable import SFU

final class RTCPTests: XCTestCase {
    // Hand-assembled from RFC 3550 §6.4.1, §6.5, §6.6 field by field.
    static let sr = hex("""
        81c8000c 00000001 e8a1b2c3 d4e5f607 00015f90 0000000a 00000fa0
        00000002 05fffffe 00010064 00000020 b2c3d4e5 00010000
        """)
    static let sdes = hex("81ca0003 00000001 01046162 63640000")
    static let bye = hex("81cb0002 00000001 03627965")

    func testCompoundSRSDESBYE() throws {
        let packets = try RTCP.parseCompound(Self.sr + Self.sdes + Self.bye)
        XCTAssertEqual(packets.count, 3)
        guard case .senderReport(let sr) = packets[0] else { return XCTFail("not SR") }
        XCTAssertEqual(sr.ssrc, 1)
        XCTAssertEqual(sr.ntpTimestamp, 0xe8a1_b2c3_d4e5_f607)
        XCTAssertEqual(sr.compactNTP, 0xb2c3_d4e5)
        XCTAssertEqual(sr.rtpTimestamp, 90000)
        XCTAssertEqual(sr.packetCount, 10)
        XCTAssertEqual(sr.octetCount, 4000)
        XCTAssertEqual(sr.reports, [RTCPReportBlock(ssrc: 2, fractionLost: 5, cumulativeLost: -2,
                                                    extendedHighestSequenceNumber: 0x10064, jitter: 32,
                                                    lastSenderReport: 0xb2c3_d4e5, delaySinceLastSenderReport: 65536)])
        guard case .sourceDescription(let sdes) = packets[1] else { return XCTFail("not SDES") }
        XCTAssertEqual(sdes.chunks.first?.cname, "abcd")
        XCTAssertEqual(sdes, .cname(ssrc: 1, "abcd"))
        XCTAssertEqual(packets[2], .goodbye(RTCPGoodbye(ssrcs: [1], reason: "bye")))
        XCTAssertEqual(try RTCP.serialize(packets), Self.sr + Self.sdes + Self.bye)
    }

    func testReceiverReportAndPadding() throws {
        let rr = hex("81c90007 00000009 00000002 00000010 0000ffff 00000000 00000000 00000000")
        let parsed = try RTCP.parseCompound(rr)
        guard case .receiverReport(let r) = parsed.first else { return XCTFail("not RR") }
        XCTAssertEqual(r.ssrc, 9)
        XCTAssertEqual(r.reports.first?.cumulativeLost, 16)
        XCTAssertEqual(try RTCP.serialize(parsed), rr)
        // Empty RR with the P bit and 4 bytes of padding.
        XCTAssertEqual(try RTCP.parseCompound(hex("a0c90002 00000001 00000004")),
                       [.receiverReport(RTCPReceiverReport(ssrc: 1))])
    }

    func testNackExpandAndBuild() throws {
        let bytes = hex("81cd0003 00000001 00000002 00640005")
        let parsed = try RTCP.parseCompound(bytes)
        guard case .nack(let nack) = parsed.first else { return XCTFail("not NACK") }
        XCTAssertEqual(nack.sequenceNumbers, [100, 101, 103])
        XCTAssertEqual(try RTCP.serialize(parsed), bytes)

        let built = RTCPNack(senderSSRC: 1, mediaSSRC: 2, sequenceNumbers: [100, 101, 103])
        XCTAssertEqual(built, nack)
        // Wrap-around and a gap beyond 16 start new pairs.
        let wrap = RTCPNack(senderSSRC: 1, mediaSSRC: 2, sequenceNumbers: [65534, 65535, 0, 1, 30, 46, 47])
        XCTAssertEqual(wrap.pairs, [.init(packetID: 65534, lostBitmask: 0b111), .init(packetID: 30, lostBitmask: 0x8000),
                                    .init(packetID: 47, lostBitmask: 0)])
        XCTAssertEqual(wrap.sequenceNumbers, [65534, 65535, 0, 1, 30, 46, 47])
        let again = try RTCP.parseCompound(try RTCP.serialize([.nack(wrap)]))
        XCTAssertEqual(again, [.nack(wrap)])
    }

    func testPLIAndFIR() throws {
        let pli = hex("81ce0002 00000001 00000002")
        XCTAssertEqual(try RTCP.parseCompound(pli), [.pictureLossIndication(.init(senderSSRC: 1, mediaSSRC: 2))])
        XCTAssertEqual(try RTCP.serialize([.pictureLossIndication(.init(senderSSRC: 1, mediaSSRC: 2))]), pli)
        let fir = hex("84ce0004 00000001 00000000 00000002 07000000")
        let f = RTCPFullIntraRequest(senderSSRC: 1, entries: [.init(ssrc: 2, sequenceNumber: 7)])
        XCTAssertEqual(try RTCP.parseCompound(fir), [.fullIntraRequest(f)])
        XCTAssertEqual(try RTCP.serialize([.fullIntraRequest(f)]), fir)
    }

    func testREMB() throws {
        let bytes = hex("8fce0005 00000001 00000000 52454d42 010bd090 12345678")
        let remb = RTCPRemb(senderSSRC: 1, bitrate: 1_000_000, ssrcs: [0x1234_5678])
        XCTAssertEqual(try RTCP.parseCompound(bytes), [.remb(remb)])
        XCTAssertEqual(try RTCP.serialize([.remb(remb)]), bytes)
        // Values beyond an 18-bit mantissa round down.
        let big = RTCPRemb(senderSSRC: 1, bitrate: 123_456_789, ssrcs: [])
        guard case .remb(let back) = try RTCP.parseCompound(try RTCP.serialize([.remb(big)])).first else {
            return XCTFail("not REMB")
        }
        XCTAssertLessThanOrEqual(back.bitrate, 123_456_789)
        XCTAssertGreaterThan(back.bitrate, 123_456_789 - 123_456_789 / 100_000)
        // Maximum exponent saturates instead of overflowing.
        let huge = hex("8fce0004 00000001 00000000 52454d42 00ffffff")
        guard case .remb(let h) = try RTCP.parseCompound(huge).first else { return XCTFail("not REMB") }
        XCTAssertEqual(h.bitrate, .max)
        // Other AFB messages stay raw.
        let afb = hex("8fce0003 00000001 00000000 41424344")
        XCTAssertEqual(try RTCP.parseCompound(afb), [.unknown(RTCPRawPacket(packetType: 206, countOrFormat: 15, bytes: afb))])
    }

    /// A transport-cc packet assembled by hand from the draft: one 2-bit status vector chunk
    /// [small, small, not received, large, small, (not received × 2 past the count)], deltas 4, 8, -100, 16.
    static let tcc = hex("8fcd0006 00000001 00000002 0064 0005 000010 03 d490 04 08 ff9c 10 00")

    func testTransportCCParse() throws {
        let parsed = try RTCP.parseCompound(Self.tcc)
        guard case .transportCC(let t) = parsed.first else { return XCTFail("not transport-cc") }
        XCTAssertEqual(t.baseSequenceNumber, 100)
        XCTAssertEqual(t.packetStatusCount, 5)
        XCTAssertEqual(t.referenceTime, 16)
        XCTAssertEqual(t.feedbackPacketCount, 3)
        XCTAssertEqual(t.packets.map(\.status), [.smallDelta, .smallDelta, .notReceived, .largeDelta, .smallDelta])
        XCTAssertEqual(t.packets.map(\.delta), [4, 8, nil, -100, 16])
        XCTAssertEqual(t.packets.map(\.sequenceNumber), [100, 101, 102, 103, 104])
        XCTAssertEqual(try RTCP.serialize(parsed), Self.tcc)
    }

    func testTransportCCRunLengthAndOneBitChunks() throws {
        // Run of 10 small deltas (0x200a), then a 1-bit vector of 14: received, lost × 12, received (0xa001).
        var fci = hex("0001 0018 fffffe 00 200a a001")
        fci += Array(repeating: 1, count: 10) + [2, 3]
        fci.padTo4()
        var bytes = hex("8fcd0000 00000001 00000002") + fci
        bytes.setU16(UInt16(bytes.count / 4 - 1), at: 2)
        guard case .transportCC(let t) = try RTCP.parseCompound(bytes).first else { return XCTFail("not transport-cc") }
        XCTAssertEqual(t.referenceTime, -2)
        XCTAssertEqual(t.packets.count, 24)
        XCTAssertEqual(t.packets.filter { $0.status == .notReceived }.count, 12)
        XCTAssertEqual(t.packets.last?.delta, 3)
        XCTAssertEqual(t.packets.last?.sequenceNumber, 24)
        XCTAssertEqual(try RTCP.serialize([.transportCC(t)]), bytes)
    }

    func testTransportCCBuilder() throws {
        var deltas: [Int?] = Array(repeating: 4, count: 20)              // a long run
        deltas += [nil, 1, nil, 2, 300, -5, nil, 7]                       // mixed with large
        deltas += [1, nil, 1, nil, 1]                                     // a short 1-bit tail
        let t = try RTCPTransportCC(senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 65530, referenceTime: -100,
                                    feedbackPacketCount: 9, deltas: deltas)
        let bytes = try RTCP.serialize([.transportCC(t)])
        XCTAssertEqual(bytes.count % 4, 0)
        guard case .transportCC(let back) = try RTCP.parseCompound(bytes).first else { return XCTFail("not transport-cc") }
        XCTAssertEqual(back, t)
        XCTAssertEqual(back.packets.map(\.delta), deltas)
        XCTAssertEqual(back.packets.last?.sequenceNumber, 65530 &+ UInt16(deltas.count - 1))
        XCTAssertThrowsError(try RTCPTransportCC(senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 0, referenceTime: 0,
                                                 feedbackPacketCount: 0, deltas: [40000]))
    }

    func testUnknownKeptRaw() throws {
        let app = hex("80cc0002 00000001 6e616d65")
        let compound = app + Self.bye
        let parsed = try RTCP.parseCompound(compound)
        XCTAssertEqual(parsed.first, .unknown(RTCPRawPacket(packetType: 204, countOrFormat: 0, bytes: app)))
        XCTAssertEqual(try RTCP.serialize(parsed), compound)
    }

    func testMalformed() {
        func rejects(_ b: [UInt8], _ why: String, line: UInt = #line) {
            XCTAssertThrowsError(try RTCP.parseCompound(b), why, line: line)
        }
        rejects([], "empty")
        rejects([0x81, 0xc9, 0x00], "header cut")
        rejects(hex("41c90001 00000001"), "version 1")
        rejects(hex("81c90007 00000001"), "length past end")
        rejects(Self.sr + [0x81], "trailing garbage")
        rejects(hex("82c90007 00000009 00000002 00000010 0000ffff 00000000 00000000 00000000"), "RR count 2, one block")
        rejects(hex("81c80001 00000001"), "SR without sender info")
        rejects(hex("a0c90001 00000000"), "padding count 0")
        rejects(hex("a0c90001 000000ff"), "padding past the packet")
        rejects(hex("81ca0002 00000001 01106162"), "SDES item past end")
        rejects(hex("81ca0001 00000001"), "SDES without END")
        rejects(hex("81cb0002 00000001 09627965"), "BYE reason past end")
        rejects(hex("81cd0002 00000001 00000002"), "NACK without FCI")
        rejects(hex("84ce0003 00000001 00000000 00000002"), "FIR entry cut")
        rejects(hex("81ce0001 00000001"), "PLI without media SSRC")
        rejects(hex("8fce0004 00000001 00000000 52454d42 05000000"), "REMB 5 SSRCs, none present")
        rejects(hex("8fcd0004 00000001 00000002 00640005 00001003"), "transport-cc without chunks")
        rejects(hex("8fcd0005 00000001 00000002 00640005 00001003 60050000"), "reserved run status")
        rejects(hex("8fcd0005 00000001 00000002 00640005 00001003 00000000"), "run of zero")
        rejects(hex("8fcd0005 00000001 00000002 00640005 00001003 40050000"), "missing large deltas")
        rejects(hex("8fcd0005 00000001 00000002 00640005 00001003 f0000000"), "reserved 2-bit symbol")
    }

    func testRandomBuffersNeverTrap() {
        var rng = SeededRandom(seed: 3551)
        let types: [UInt8] = [200, 201, 202, 203, 204, 205, 206]
        for i in 0..<6000 {
            var b = rng.bytes(maxCount: 100)
            if i % 3 != 0, b.count >= 4 {
                // Plausible header so that the packet bodies are reached.
                b[0] = 0x80 | (b[0] & 0x3F)
                b[1] = types[Int(b[1]) % types.count]
                let words = (b.count / 4) - 1
                b[2] = 0; b[3] = UInt8(words)
                if i % 2 == 0 { b[0] = 0x80 | [1, 4, 15][Int(b[0]) % 3] }
            }
            if let packets = try? RTCP.parseCompound(b) {
                _ = try? RTCP.serialize(packets)
                for case .transportCC(let t) in packets { _ = t.packets }
                for case .nack(let n) in packets { _ = n.sequenceNumbers }
            }
        }
    }
}
