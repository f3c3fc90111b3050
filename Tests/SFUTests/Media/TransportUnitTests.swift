import NIOCore
import XCTest
@testable import SFU

final class IceLiteTests: XCTestCase {
    let source = try! SocketAddress(ipAddress: "192.0.2.7", port: 5000)

    func request(username: String, password: String, useCandidate: Bool = false) -> [UInt8] {
        var attributes: [STUNAttribute] = [.username(username), .priority(1234), .iceControlling(tieBreaker: 42)]
        if useCandidate { attributes.append(.useCandidate) }
        return STUNMessage(method: .binding, messageClass: .request, transactionID: Array(0 ..< 12), attributes: attributes)
            .encode(integrityKey: Array(password.utf8))
    }

    func testValidCheckIsAnsweredWithIntegrityFingerprintAndMappedAddress() throws {
        var ice = IceLite(localUfrag: "local", localPassword: "localpassword0123456789", remoteUfrag: "peer")
        guard case .respond(let response, let selected) = ice.handle(request(username: "local:peer", password: "localpassword0123456789"),
                                                                   from: source, now: .now()) else {
            return XCTFail("not answered")
        }
        XCTAssertTrue(selected)
        XCTAssertTrue(try STUNMessage.verifyIntegrity(response, key: Array("localpassword0123456789".utf8)))
        XCTAssertTrue(try STUNMessage.verifyFingerprint(response))
        let parsed = try STUNMessage.parse(response)
        XCTAssertEqual(parsed.messageClass, .successResponse)
        XCTAssertEqual(parsed.transactionID, Array(0 ..< 12))
        XCTAssertTrue(parsed.attributes.contains(.xorMappedAddress(STUNAddress(ip: [192, 0, 2, 7], port: 5000)!)))
        XCTAssertEqual(ice.selectedAddress, source)
    }

    func testWrongPasswordOrUfragIsDropped() {
        var ice = IceLite(localUfrag: "local", localPassword: "localpassword0123456789", remoteUfrag: "peer")
        XCTAssertEqual(ice.handle(request(username: "local:peer", password: "wrong-password-xxxxxxx"), from: source, now: .now()), .drop)
        XCTAssertEqual(ice.handle(request(username: "local:other", password: "localpassword0123456789"), from: source, now: .now()), .drop)
        XCTAssertEqual(ice.handle([0, 1, 0, 0], from: source, now: .now()), .drop)
        XCTAssertNil(ice.selectedAddress)
        XCTAssertEqual(ice.rejectedChecks, 3)
    }

    func testUseCandidateMovesTheSelectedAddressAndConsentExpires() throws {
        var ice = IceLite(localUfrag: "local", localPassword: "localpassword0123456789", remoteUfrag: nil)
        let start = NIODeadline.now()
        _ = ice.handle(request(username: "local:peer", password: "localpassword0123456789"), from: source, now: start)
        let other = try SocketAddress(ipAddress: "192.0.2.8", port: 6000)
        guard case .respond(_, let selected) = ice.handle(request(username: "local:peer", password: "localpassword0123456789", useCandidate: true),
                                                          from: other, now: start) else { return XCTFail() }
        XCTAssertTrue(selected)
        XCTAssertEqual(ice.selectedAddress, other)
        XCTAssertFalse(ice.consentExpired(now: start + .seconds(29), createdAt: start, timeout: .seconds(30)))
        XCTAssertTrue(ice.consentExpired(now: start + .seconds(31), createdAt: start, timeout: .seconds(30)))
    }
}

final class MediaUnitTests: XCTestCase {
    func testDatagramKindFollowsRFC7983() {
        XCTAssertEqual(DatagramKind(first: 0, second: 1), .stun)
        XCTAssertEqual(DatagramKind(first: 22, second: 0xFE), .dtls)
        XCTAssertEqual(DatagramKind(first: 0x80, second: 96), .rtp)
        XCTAssertEqual(DatagramKind(first: 0x80, second: 200), .rtcp)
        XCTAssertEqual(DatagramKind(first: 0x80, second: nil), .unknown)
        XCTAssertEqual(DatagramKind(first: 64, second: 0), .unknown)
        XCTAssertEqual(DatagramKind(first: 255, second: 0), .unknown)
    }

    func testPacketCacheReturnsOnlyTheSequenceNumberItHolds() {
        var cache = RtpPacketCache(capacity: 4)
        ([1, 2, 3] as [UInt8]).withUnsafeBytes { cache.store($0, sequenceNumber: 65_535) }
        ([4, 5] as [UInt8]).withUnsafeBytes { cache.store($0, sequenceNumber: 3) } // same slot as 65535 + 4 = 3 (wrapped)
        XCTAssertNil(cache.withPacket(65_535) { Array($0) })
        XCTAssertEqual(cache.withPacket(3) { Array($0) }, [4, 5] as [UInt8])
        XCTAssertNil(cache.withPacket(7) { Array($0) })
    }

    func testVP8KeyframeStart() {
        func check(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { VP8.isKeyframeStart($0) } }
        XCTAssertTrue(check([0x10, 0x00]))                    // S=1, PID=0, frame tag P=0
        XCTAssertFalse(check([0x10, 0x01]))                   // inter frame
        XCTAssertFalse(check([0x00, 0x00]))                   // not a partition start
        XCTAssertTrue(check([0x90, 0x80, 0x81, 0x23, 0x00]))  // X, I with 15-bit picture id
        XCTAssertFalse(check([0x90, 0x80, 0x81]))             // truncated
        XCTAssertFalse(check([]))
    }

    func testReceiveStatisticsCountsLossAcrossWrap() {
        var stats = ReceiveStatistics()
        for seq: UInt16 in [65_533, 65_534, 0, 1, 3] { stats.record(seq) } // 65535 and 2 lost
        let block = stats.reportBlock(ssrc: 9)!
        XCTAssertEqual(block.extendedHighestSequenceNumber, 0x1_0003)
        XCTAssertEqual(block.cumulativeLost, 2)
    }
}
