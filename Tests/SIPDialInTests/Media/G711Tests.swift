@testable import SIPDialIn
import XCTest

final class G711Tests: XCTestCase {
    func testMuLawRoundTripIsCloseForAllMagnitudes() {
        for value in stride(from: -32000, through: 32000, by: 97) {
            let decoded = Int(G711.decodeMuLaw(G711.encodeMuLaw(Int16(value))))
            // µ-law's step grows with the magnitude: about 1/16 of the value, never less than a few units.
            XCTAssertLessThanOrEqual(abs(decoded - value), max(8, abs(value) / 14), "value \(value)")
        }
    }

    func testALawRoundTripIsCloseForAllMagnitudes() {
        for value in stride(from: -32000, through: 32000, by: 97) {
            let decoded = Int(G711.decodeALaw(G711.encodeALaw(Int16(value))))
            XCTAssertLessThanOrEqual(abs(decoded - value), max(16, abs(value) / 14), "value \(value)")
        }
    }

    func testKnownCodewords() {
        // Silence: µ-law 0xFF (and 0x7F) decode to 0; A-law 0xD5 decodes to +8 (its smallest step).
        XCTAssertEqual(G711.decodeMuLaw(0xFF), 0)
        XCTAssertEqual(G711.encodeMuLaw(0), 0xFF)
        XCTAssertEqual(G711.decodeALaw(0xD5), 8)
        XCTAssertEqual(G711.encodeALaw(0), 0xD5)
        // Full scale.
        // Full scale (ITU-T G.711 table 2a): 0x80 is the largest positive codeword, 0x00 the largest negative.
        XCTAssertEqual(G711.decodeMuLaw(0x80), 32124)
        XCTAssertEqual(G711.decodeMuLaw(0x00), -32124)
    }

    func testEveryByteDecodesAndReencodesToItself() {
        for byte in 0 ... 255 {
            let b = UInt8(byte)
            if b != 0x7F { XCTAssertEqual(G711.encodeMuLaw(G711.decodeMuLaw(b)), b, "µ \(b)") } // 0x7F is −0
            XCTAssertEqual(G711.encodeALaw(G711.decodeALaw(b)), b, "A \(b)")
        }
    }
}
