import XCTest
@testable import SFU

final class SrtpSessionTests: XCTestCase {
    private func keyPair(_ profile: SrtpProfile, seed: UInt64 = 1) throws -> SrtpKeys {
        var rng = CryptoTestRNG(seed: seed)
        let material = (0 ..< 2 * (profile.keyLength + profile.saltLength)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
        return try SrtpKeys(profile: profile, exporterOutput: material)
    }

    private func sessions(_ profile: SrtpProfile) throws -> (sender: SrtpSession, receiver: SrtpSession) {
        let keys = try keyPair(profile)
        return (try SrtpSession(profile: profile, keys: keys, role: .client),
                try SrtpSession(profile: profile, keys: keys, role: .server))
    }

    func testKeySplitFollowsRFC5764Layout() throws {
        let material = (0 ..< 60).map { UInt8($0) }
        let keys = try SrtpKeys(profile: .aes128CmHmacSha1_80, exporterOutput: material)
        XCTAssertEqual(keys.clientKey, Array(0 ..< 16))
        XCTAssertEqual(keys.serverKey, Array(16 ..< 32))
        XCTAssertEqual(keys.clientSalt, Array(32 ..< 46))
        XCTAssertEqual(keys.serverSalt, Array(46 ..< 60))
        XCTAssertEqual(keys.sendingKeyAndSalt(for: .client), Array(0 ..< 16) + Array(32 ..< 46))
        XCTAssertEqual(keys.receivingKeyAndSalt(for: .client), Array(16 ..< 32) + Array(46 ..< 60))
        let gcm = try SrtpKeys(profile: .aeadAes128Gcm, exporterOutput: Array(material.prefix(56)))
        XCTAssertEqual(gcm.clientSalt, Array(32 ..< 44))
        XCTAssertEqual(gcm.serverSalt, Array(44 ..< 56))
        XCTAssertThrowsError(try SrtpKeys(profile: .aeadAes128Gcm, exporterOutput: material))
    }

    func testRtpRoundTripAllProfiles() throws {
        for profile in SrtpProfile.allCases {
            let (sender, receiver) = try sessions(profile)
            for sequence in UInt16(0) ..< 50 {
                let rtp = CryptoFixtures.rtpPacket(sequence: sequence, payloadLength: Int(sequence) * 20)
                var packet = rtp
                try sender.protectRtp(&packet)
                let tag = profile == .aes128CmHmacSha1_80 ? 10 : 16
                XCTAssertEqual(packet.count, rtp.count + tag, "\(profile)")
                XCTAssertEqual(Array(packet.prefix(12)), Array(rtp.prefix(12)), "header stays clear")
                if rtp.count > 12 { XCTAssertNotEqual(Array(packet[12 ..< rtp.count]), Array(rtp[12...])) }
                try receiver.unprotectRtp(&packet)
                XCTAssertEqual(packet, rtp, "\(profile)")
            }
        }
    }

    func testTamperedPacketFailsAuthentication() throws {
        for profile in SrtpProfile.allCases {
            let (sender, receiver) = try sessions(profile)
            var packet = CryptoFixtures.rtpPacket(sequence: 7)
            try sender.protectRtp(&packet)
            for index in [3, 20, packet.count - 1] {
                var tampered = packet
                tampered[index] ^= 0x01
                XCTAssertThrowsError(try receiver.unprotectRtp(&tampered), "\(profile) byte \(index)") {
                    XCTAssertEqual($0 as? SrtpError, .authenticationFailed)
                }
            }
            // The genuine packet still passes afterwards (failed packets do not advance the replay window).
            try receiver.unprotectRtp(&packet)
        }
    }

    func testReplayedPacketIsRejected() throws {
        for profile in SrtpProfile.allCases {
            let (sender, receiver) = try sessions(profile)
            var packet = CryptoFixtures.rtpPacket(sequence: 100)
            try sender.protectRtp(&packet)
            var first = packet
            try receiver.unprotectRtp(&first)
            var replay = packet
            XCTAssertThrowsError(try receiver.unprotectRtp(&replay)) { XCTAssertEqual($0 as? SrtpError, .replayed) }
        }
    }

    func testReplayWindowAcceptsLatePacketsAndRejectsTooOld() throws {
        let (sender, receiver) = try sessions(.aeadAes128Gcm)
        var protected: [[UInt8]] = []
        for sequence in UInt16(1) ... 1200 {
            var packet = CryptoFixtures.rtpPacket(sequence: sequence, payloadLength: 20)
            try sender.protectRtp(&packet)
            protected.append(packet)
        }
        var newest = protected[1199] // sequence 1200
        try receiver.unprotectRtp(&newest)
        var late = protected[1199 - 1000] // 1000 packets late: inside the 1024 window
        try receiver.unprotectRtp(&late)
        var tooOld = protected[10] // 1189 behind
        XCTAssertThrowsError(try receiver.unprotectRtp(&tooOld)) { XCTAssertEqual($0 as? SrtpError, .replayTooOld) }
    }

    func testRetransmissionWithSameSequenceNumberMayBeProtectedTwice() throws {
        let (sender, receiver) = try sessions(.aeadAes128Gcm)
        let rtp = CryptoFixtures.rtpPacket(sequence: 5)
        var first = rtp
        try sender.protectRtp(&first)
        var again = rtp
        try sender.protectRtp(&again) // allow_repeat_tx: a NACK answered without RTX
        XCTAssertEqual(first, again)
        try receiver.unprotectRtp(&first)
    }

    func testRtcpRoundTripAllProfiles() throws {
        for profile in SrtpProfile.allCases {
            let (sender, receiver) = try sessions(profile)
            let rtcp = CryptoFixtures.rtcpReceiverReport()
            for _ in 0 ..< 3 {
                var packet = rtcp
                try sender.protectRtcp(&packet)
                let tag = profile == .aes128CmHmacSha1_80 ? 10 : 16
                XCTAssertEqual(packet.count, rtcp.count + tag + 4, "\(profile)")
                var tampered = packet
                tampered[10] ^= 0x80
                XCTAssertThrowsError(try receiver.unprotectRtcp(&tampered)) {
                    XCTAssertEqual($0 as? SrtpError, .authenticationFailed)
                }
                try receiver.unprotectRtcp(&packet)
                XCTAssertEqual(packet, rtcp)
            }
        }
    }

    func testRawBufferAPI() throws {
        let (sender, receiver) = try sessions(.aeadAes128Gcm)
        let rtp = CryptoFixtures.rtpPacket(sequence: 9, payloadLength: 1188)
        var storage = [UInt8](repeating: 0, count: rtp.count + SrtpSession.maxRtpTrailerLength)
        storage.replaceSubrange(0 ..< rtp.count, with: rtp)
        let protectedLength = try storage.withUnsafeMutableBytes { try sender.protectRtp($0, length: rtp.count) }
        XCTAssertEqual(protectedLength, rtp.count + 16)
        let plainLength = try storage.withUnsafeMutableBytes { try receiver.unprotectRtp($0, length: protectedLength) }
        XCTAssertEqual(Array(storage.prefix(plainLength)), rtp)

        var small = rtp
        XCTAssertThrowsError(try small.withUnsafeMutableBytes { try sender.protectRtp($0, length: rtp.count) }) {
            XCTAssertEqual($0 as? SrtpError, .insufficientCapacity(needed: rtp.count + SrtpSession.maxRtpTrailerLength,
                                                                   available: rtp.count))
        }
    }

    func testMalformedInputs() throws {
        let (sender, receiver) = try sessions(.aes128CmHmacSha1_80)
        var tiny: [UInt8] = [0x80, 0]
        XCTAssertThrowsError(try sender.protectRtp(&tiny)) { XCTAssertEqual($0 as? SrtpError, .malformedPacket) }
        XCTAssertEqual(tiny, [0x80, 0])
        var rng = CryptoTestRNG(seed: 42)
        for _ in 0 ..< 500 {
            var noise = (0 ..< Int.random(in: 0 ... 300, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            XCTAssertThrowsError(try receiver.unprotectRtp(&noise))
            XCTAssertThrowsError(try receiver.unprotectRtcp(&noise))
        }
        XCTAssertThrowsError(try SrtpSession(profile: .aeadAes128Gcm, sendingKeyAndSalt: [1, 2], receivingKeyAndSalt: [3])) {
            XCTAssertEqual($0 as? SrtpError, .badKeyLength(expected: 28, actual: 2))
        }
    }

    func testRemoveStream() throws {
        let (sender, receiver) = try sessions(.aeadAes128Gcm)
        var packet = CryptoFixtures.rtpPacket(sequence: 1, ssrc: 0xAABB_CCDD)
        try sender.protectRtp(&packet)
        let copy = packet
        try receiver.unprotectRtp(&packet)
        XCTAssertTrue(receiver.removeInboundStream(ssrc: 0xAABB_CCDD))
        XCTAssertFalse(receiver.removeInboundStream(ssrc: 0xAABB_CCDD))
        var again = copy // replay state was forgotten with the stream
        try receiver.unprotectRtp(&again)
        XCTAssertTrue(sender.removeOutboundStream(ssrc: 0xAABB_CCDD))
    }
}
