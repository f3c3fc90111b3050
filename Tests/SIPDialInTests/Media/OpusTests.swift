@testable import SIPDialIn
import XCTest

final class OpusTests: XCTestCase {
    func testToneSurvivesEncodeAndDecode() throws {
        let encoder = try AudioEncoder(codec: .opus), decoder = try AudioDecoder(codec: .opus)
        let input = tone(440, seconds: 1)
        var output: [Float] = []
        for start in stride(from: 0, to: input.count, by: mixFrameSamples) {
            encoder.encode(input[start ..< start + mixFrameSamples]) { payload in
                XCTAssertLessThan(payload.count, 200)
                decoder.decode(payload, appendingTo: &output)
            }
        }
        XCTAssertEqual(output.count, input.count)
        XCTAssertGreaterThan(relativePower(of: 440, in: Array(output.dropFirst(3200))), 0.8)
        // Concealment gives one frame of audio for a lost packet.
        let before = output.count
        decoder.decode(nil, appendingTo: &output)
        XCTAssertEqual(output.count - before, mixFrameSamples)
    }

    func testG711EncoderDecoderKeepTone() throws {
        for codec in [PhoneCodec.pcmu, .pcma] {
            let encoder = try AudioEncoder(codec: codec), decoder = try AudioDecoder(codec: codec)
            let input = tone(1000, seconds: 0.5)
            var output: [Float] = []
            for start in stride(from: 0, to: input.count, by: mixFrameSamples) {
                encoder.encode(input[start ..< start + mixFrameSamples]) { payload in
                    XCTAssertEqual(payload.count, 160)
                    decoder.decode(payload, appendingTo: &output)
                }
            }
            XCTAssertGreaterThan(relativePower(of: 1000, in: Array(output.dropFirst(320))), 0.85, "\(codec)")
        }
    }

    func testGarbageOpusPacketDoesNotCrash() throws {
        let decoder = try AudioDecoder(codec: .opus)
        var output: [Float] = []
        for garbage: [UInt8] in [[0xFF, 0xFF, 0xFF], [0x00], Array(repeating: 0xAB, count: 1400)] {
            garbage.withUnsafeBytes { decoder.decode($0, appendingTo: &output) }
        }
    }
}
