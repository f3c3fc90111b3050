import XCTest
@testable import SFU

/// Hex helper for test vectors: whitespace is ignored.
func hex(_ s: String) -> [UInt8] {
    let digits = s.filter { !$0.isWhitespace }.map { $0 }
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// Deterministic generator for the random-input loops (SplitMix64), so failures reproduce.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(maxCount: Int) -> [UInt8] {
        (0..<Int.random(in: 0...maxCount, using: &self)).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}

final class STUNTests: XCTestCase {
    static let password = Array("VOkJxbRl1RmTxUk/WvJxBt".utf8)
    static let transactionID = hex("b7e7a701 bc34d686 fa87dfae")

    // RFC 5769 §2.1: sample request.
    static let sampleRequest = hex("""
        00010058 2112a442 b7e7a701 bc34d686 fa87dfae
        80220010 5354554e 20746573 7420636c 69656e74
        00240004 6e0001ff
        80290008 932ff9b1 51263b36
        00060009 6576746a 3a683676 59202020
        00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2
        80280004 e57a3bcf
        """)
    // RFC 5769 §2.2: sample IPv4 response.
    static let sampleIPv4Response = hex("""
        0101003c 2112a442 b7e7a701 bc34d686 fa87dfae
        8022000b 74657374 20766563 746f7220
        00200008 0001a147 e112a643
        00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7
        80280004 c07d4c96
        """)
    // RFC 5769 §2.3: sample IPv6 response.
    static let sampleIPv6Response = hex("""
        01010048 2112a442 b7e7a701 bc34d686 fa87dfae
        8022000b 74657374 20766563 746f7220
        00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9
        00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41
        80280004 c8fb0b4c
        """)

    func testRFC5769RequestParsesAndVerifies() throws {
        let raw = Self.sampleRequest
        XCTAssertTrue(STUNMessage.isStun(raw))
        let m = try STUNMessage.parse(raw)
        XCTAssertEqual(m.method, .binding)
        XCTAssertEqual(m.messageClass, .request)
        XCTAssertEqual(m.transactionID, Self.transactionID)
        XCTAssertEqual(m.username, "evtj:h6vY")
        XCTAssertEqual(m.priority, 0x6e00_01ff)
        XCTAssertEqual(m.attribute(0x8029), .iceControlled(tieBreaker: 0x932f_f9b1_5126_3b36))
        XCTAssertEqual(m.attribute(0x8022), .other(type: 0x8022, value: Array("STUN test client".utf8)))
        XCTAssertFalse(m.hasUseCandidate)
        XCTAssertTrue(try STUNMessage.verifyIntegrity(raw, key: Self.password))
        XCTAssertTrue(try STUNMessage.verifyFingerprint(raw))
        XCTAssertFalse(try STUNMessage.verifyIntegrity(raw, key: Array("wrong".utf8)))
    }

    func testRFC5769ResponsesParseAndVerify() throws {
        let v4 = try STUNMessage.parse(Self.sampleIPv4Response)
        XCTAssertEqual(v4.messageClass, .successResponse)
        XCTAssertEqual(v4.attribute(0x0020), .xorMappedAddress(STUNAddress(ip: [192, 0, 2, 1], port: 32853)!))
        XCTAssertTrue(try STUNMessage.verifyIntegrity(Self.sampleIPv4Response, key: Self.password))
        XCTAssertTrue(try STUNMessage.verifyFingerprint(Self.sampleIPv4Response))

        let v6 = try STUNMessage.parse(Self.sampleIPv6Response)
        let ip6 = hex("20010db8 12345678 00112233 44556677")
        XCTAssertEqual(v6.attribute(0x0020), .xorMappedAddress(STUNAddress(ip: ip6, port: 32853)!))
        XCTAssertEqual(STUNAddress(ip: ip6, port: 32853)!.description, "[2001:db8:1234:5678:11:2233:4455:6677]:32853")
        XCTAssertTrue(try STUNMessage.verifyIntegrity(Self.sampleIPv6Response, key: Self.password))
        XCTAssertTrue(try STUNMessage.verifyFingerprint(Self.sampleIPv6Response))
    }

    func testTamperedBytesFailVerification() throws {
        var raw = Self.sampleRequest
        raw[40] ^= 0x01                                   // inside PRIORITY
        XCTAssertFalse(try STUNMessage.verifyIntegrity(raw, key: Self.password))
        XCTAssertFalse(try STUNMessage.verifyFingerprint(raw))
    }

    /// Expected bytes computed independently (Python hmac + zlib.crc32) for the RFC 5769 transaction and address.
    func testBindingSuccessMatchesIndependentVector() throws {
        let request = try STUNMessage.parse(Self.sampleRequest)
        let response = STUNMessage.bindingSuccess(for: request, mappedAddress: STUNAddress(ip: [192, 0, 2, 1], port: 32853)!)
        let bytes = response.encode(integrityKey: Self.password)
        XCTAssertEqual(bytes, hex("""
            0101002c 2112a442 b7e7a701 bc34d686 fa87dfae 00200008 0001a147 e112a643
            00080014 74c9371e bf314854 8518699c 3e3174c2 0dd9e68a 80280004 fae4043a
            """))
        XCTAssertTrue(try STUNMessage.verifyIntegrity(bytes, key: Self.password))
        XCTAssertTrue(try STUNMessage.verifyFingerprint(bytes))
        XCTAssertEqual(try STUNMessage.parse(bytes).serialize(), bytes)
    }

    func testIPv6ResponseAndSHA256RoundTrip() throws {
        let tid = (0..<12).map { UInt8($0 * 7) }
        let ip6 = hex("fe800000 00000000 02000000 0000abcd")
        let request = STUNMessage(method: .binding, messageClass: .request, transactionID: tid,
                                  attributes: [.username("abcd:efgh"), .priority(1), .useCandidate,
                                               .iceControlling(tieBreaker: 42)])
        let reqBytes = request.encode(integrityKey: Array("passwordpasswordpassword".utf8), sha256: true)
        XCTAssertTrue(try STUNMessage.verifyIntegrity(reqBytes, key: Array("passwordpasswordpassword".utf8)))
        let parsed = try STUNMessage.parse(reqBytes)
        XCTAssertTrue(parsed.hasUseCandidate)
        XCTAssertEqual(parsed.username, "abcd:efgh")

        let resp = STUNMessage.bindingSuccess(for: parsed, mappedAddress: STUNAddress(ip: ip6, port: 5000)!)
        let respBytes = resp.encode(integrityKey: Array("pw".utf8))
        let back = try STUNMessage.parse(respBytes)
        XCTAssertEqual(back.attribute(0x0020), .xorMappedAddress(STUNAddress(ip: ip6, port: 5000)!))
        XCTAssertEqual(back.transactionID, tid)
    }

    func testErrorCodeRoundTrip() throws {
        let request = try STUNMessage.parse(Self.sampleRequest)
        let err = STUNMessage.bindingError(for: request, code: 487, reason: "Role Conflict")
        let bytes = err.encode(integrityKey: nil)
        XCTAssertEqual(Array(bytes[0..<2]), [0x01, 0x11])
        let back = try STUNMessage.parse(bytes)
        XCTAssertEqual(back.messageClass, .errorResponse)
        XCTAssertEqual(back.attribute(0x0009), .errorCode(code: 487, reason: "Role Conflict"))
        XCTAssertTrue(try STUNMessage.verifyFingerprint(bytes))
        XCTAssertFalse(try STUNMessage.verifyIntegrity(bytes, key: [1]))   // no MESSAGE-INTEGRITY at all
    }

    func testMessageTypeBits() {
        for m: UInt16 in [0x001, 0x003, 0x00F, 0x0A5, 0xFFF] {
            for c in [STUNClass.request, .indication, .successResponse, .errorResponse] {
                let t = STUNMessage.messageType(STUNMethod(rawValue: m), c)
                let (m2, c2) = STUNMessage.split(t)
                XCTAssertEqual(m2.rawValue, m)
                XCTAssertEqual(c2, c)
                XCTAssertEqual(t & 0xC000, 0)
            }
        }
        XCTAssertEqual(STUNMessage.messageType(.binding, .indication), 0x0011)
        XCTAssertEqual(STUNMessage.messageType(.binding, .errorResponse), 0x0111)
    }

    func testIsStun() {
        XCTAssertFalse(STUNMessage.isStun([]))
        XCTAssertTrue(STUNMessage.isStun([0x00, 0x01]))
        XCTAssertFalse(STUNMessage.isStun([0x80, 0x60, 0, 0, 0x21, 0x12, 0xA4, 0x42]))     // RTP
        XCTAssertFalse(STUNMessage.isStun([0x16, 0xFE, 0xFD, 0, 0, 0, 0, 0]))             // DTLS
        XCTAssertFalse(STUNMessage.isStun([0x00, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x43]))     // wrong cookie
    }

    func testCRC32KnownValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)[...]), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([][...]), 0)
    }

    // MARK: malformed input

    func testMalformed() {
        let r = Self.sampleRequest
        func rejects(_ bytes: [UInt8], _ why: String, line: UInt = #line) {
            XCTAssertThrowsError(try STUNMessage.parse(bytes), why, line: line)
        }
        rejects([], "empty")
        rejects(Array(r.prefix(19)), "header truncated")
        rejects(Array(r.prefix(20)), "length says 88, no body")
        rejects(Array(r.dropLast(4)), "shorter than the length field")
        rejects(r + [0, 0, 0, 0], "longer than the length field")
        var bad = r; bad[0] = 0x40
        rejects(bad, "top bits set")
        bad = r; bad[5] = 0
        rejects(bad, "bad cookie")
        bad = r; bad[3] = 0x57
        rejects(bad, "length not a multiple of 4")
        // An attribute whose length runs past the end.
        bad = hex("00010008 2112a442 000000000000000000000000 00060010 61626364")
        rejects(bad, "attribute overflow")
        // Attribute with bad fixed lengths.
        rejects(hex("00010008 2112a442 000000000000000000000000 00240003 01020300"), "PRIORITY length 3")
        rejects(hex("00010008 2112a442 000000000000000000000000 00250004 00000000"), "USE-CANDIDATE with value")
        rejects(hex("00010008 2112a442 000000000000000000000000 80280002 00000000"), "FINGERPRINT length 2")
        rejects(hex("0001000c 2112a442 000000000000000000000000 00200008 00030000 00000000"), "address family 3")
        rejects(hex("0001000c 2112a442 000000000000000000000000 00200008 00020000 00000000"), "IPv6 in 8 bytes")
        rejects(hex("00010008 2112a442 000000000000000000000000 00060002 ffff0000"), "USERNAME not UTF-8")
        rejects(hex("00010008 2112a442 000000000000000000000000 00090004 00000163"), "ERROR-CODE class 1")
        XCTAssertThrowsError(try STUNMessage.verifyIntegrity([0, 1, 0], key: []))
        XCTAssertThrowsError(try STUNMessage.verifyFingerprint(Array(r.prefix(30))))
    }

    func testZeroLengthMessageAndUnknownAttributes() throws {
        let empty = hex("00010000 2112a442 000000000000000000000000")
        XCTAssertEqual(try STUNMessage.parse(empty).attributes, [])
        XCTAssertFalse(try STUNMessage.verifyIntegrity(empty, key: [1]))
        XCTAssertFalse(try STUNMessage.verifyFingerprint(empty))
        // Unknown comprehension-optional attribute with 0 and 5 byte values, kept raw and written back.
        let raw = hex("00010010 2112a442 000000000000000000000000 c0010000 c0020005 0102030405000000")
        let m = try STUNMessage.parse(raw)
        XCTAssertEqual(m.attributes, [.other(type: 0xC001, value: []), .other(type: 0xC002, value: [1, 2, 3, 4, 5])])
        XCTAssertEqual(m.serialize(), raw)
    }

    func testRandomBuffersNeverTrap() {
        var rng = SeededRandom(seed: 0x5354_554E)
        for i in 0..<5000 {
            var b = rng.bytes(maxCount: 120)
            if i % 2 == 0, b.count >= 20 {
                // Make half of them look like STUN so that attribute parsing is reached.
                b[0] &= 0x01; b[2] = 0; b[3] = UInt8((b.count - 20) & ~3)
                b.replaceSubrange(4..<8, with: [0x21, 0x12, 0xA4, 0x42])
                b = Array(b.prefix(20 + Int(b[3])))
            }
            _ = try? STUNMessage.parse(b)
            _ = try? STUNMessage.verifyIntegrity(b, key: [1, 2, 3])
            _ = try? STUNMessage.verifyFingerprint(b)
            _ = STUNMessage.isStun(b)
        }
    }

    /// Mutating single bytes of a valid message must never trap either.
    func testBitFlipsOfValidMessage() {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<3000 {
            var b = Self.sampleRequest
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? STUNMessage.parse(b)
            _ = try? STUNMessage.verifyIntegrity(b, key: Self.password)
            _ = try? STUNMessage.verifyFingerprint(b)
        }
    }
}
