@testable import SIPDialIn
import XCTest

final class AvatarVideoTests: XCTestCase {
    func testTileHasTheNameWrittenInWhite() {
        let plain = AvatarTile.render(name: "")
        let named = AvatarTile.render(name: "Phone +49•••5678")
        XCTAssertEqual(named.count, 320 * 240 * 4)
        // The text band (below the avatar) has white pixels only when there is a name.
        func whiteInTextBand(_ p: [UInt8]) -> Int {
            var n = 0
            for y in 180 ..< 240 { for x in 0 ..< 320 where p[(y * 320 + x) * 4] == 255 && p[(y * 320 + x) * 4 + 1] == 255 { n += 1 } }
            return n
        }
        XCTAssertEqual(whiteInTextBand(plain), 0)
        XCTAssertGreaterThan(whiteInTextBand(named), 200)
    }

    func testEncoderMakesAKeyframeOnRequestAndSmallFramesOtherwise() throws {
        let encoder = try VP8Encoder(width: 320, height: 240, fps: 2)
        encoder.setPicture(rgba: AvatarTile.render(name: "Alice"))
        var frames: [(bytes: [UInt8], key: Bool)] = []
        for i in 0 ..< 4 {
            try encoder.encode(keyframe: i == 0 || i == 3) { bytes, key in frames.append((Array(bytes), key)) }
        }
        XCTAssertEqual(frames.map(\.key), [true, false, false, true])
        // A VP8 keyframe carries the start code 9d 01 2a and the size (RFC 6386 §9.1).
        XCTAssertEqual(Array(frames[0].bytes[3 ..< 6]), [0x9D, 0x01, 0x2A])
        XCTAssertEqual(Int(frames[0].bytes[6]) | Int(frames[0].bytes[7] & 0x3F) << 8, 320)
        XCTAssertLessThan(frames[1].bytes.count, frames[0].bytes.count / 4, "a still picture costs little between keyframes")
    }

    func testPacketizerWritesHeaderAndAudioLevel() {
        var packetizer = RtpPacketizer(ssrc: 0x01020304, payloadType: 111, audioLevelID: 1)
        let payload: [UInt8] = [9, 8, 7]
        var packets: [[UInt8]] = []
        payload.withUnsafeBytes { p in
            packetizer.packetize(p, ticks: 960, marker: true, level: 30) { packets.append(Array($0)) }
            packetizer.packetize(p, ticks: 960) { packets.append(Array($0)) }
        }
        XCTAssertEqual(packets[0].count, 20 + 3)
        XCTAssertEqual(packets[0][0], 0x90) // version 2 + extension
        XCTAssertEqual(packets[0][1], 0x80 | 111)
        XCTAssertEqual(Array(packets[0][8 ..< 12]), [1, 2, 3, 4])
        XCTAssertEqual(Array(packets[0][12 ..< 18]), [0xBE, 0xDE, 0, 1, 0x10, 30])
        XCTAssertEqual(packets[1].count, 12 + 3)
        let seq0 = UInt16(packets[0][2]) << 8 | UInt16(packets[0][3]), seq1 = UInt16(packets[1][2]) << 8 | UInt16(packets[1][3])
        XCTAssertEqual(seq1, seq0 &+ 1)
        let ts = { (p: [UInt8]) in p[4 ..< 8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
        XCTAssertEqual(ts(packets[1]), ts(packets[0]) &+ 960)
    }

    func testAudioLevelOfSilenceAndFullScale() {
        XCTAssertEqual(audioLevel(of: [Float](repeating: 0, count: 320)[...]), 127)
        XCTAssertEqual(audioLevel(of: [Float](repeating: 32767, count: 320)[...]), 0)
    }

    func testMaskedNumbers() {
        XCTAssertEqual(DialInService.maskedNumber("+4917012345678"), "+49•••••••5678")
        XCTAssertEqual(DialInService.maskedNumber("0301234567"), "03••••4567")
        XCTAssertEqual(DialInService.maskedNumber("1234"), "1234")
        XCTAssertEqual(DialInService.maskedNumber(""), "unknown")
    }
}
