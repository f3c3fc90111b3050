@testable import SIPDialIn
import XCTest

final class WAVTests: XCTestCase {
    private func wav(format: UInt16, rate: UInt32, bits: UInt16, channels: UInt16 = 1, data: [UInt8]) -> [UInt8] {
        func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }
        let fmt = le16(format) + le16(channels) + le32(rate) + le32(rate * UInt32(bits / 8)) + le16(bits / 8) + le16(bits)
        let body = Array("WAVE".utf8) + Array("fmt ".utf8) + le32(16) + fmt + Array("data".utf8) + le32(UInt32(data.count)) + data
        return Array("RIFF".utf8) + le32(UInt32(body.count)) + body
    }

    func testPCM16At16kPassesThrough() throws {
        let samples = try WAV.decode(wav(format: 1, rate: 16000, bits: 16, data: [0x10, 0x00, 0xF0, 0xFF]))
        XCTAssertEqual(samples, [16, -16])
    }

    func testMuLawAt8kIsUpsampled() throws {
        let samples = try WAV.decode(wav(format: 7, rate: 8000, bits: 8, data: [UInt8](repeating: 0xFF, count: 80)))
        XCTAssertEqual(samples.count, 160)
    }

    func testMalformedFiles() {
        XCTAssertThrowsError(try WAV.decode([])) { XCTAssertEqual($0 as? WAVError, .notRIFF) }
        XCTAssertThrowsError(try WAV.decode(Array("RIFF0000WAVX".utf8))) { XCTAssertEqual($0 as? WAVError, .notRIFF) }
        let good = wav(format: 1, rate: 16000, bits: 16, data: [1, 2, 3, 4])
        XCTAssertThrowsError(try WAV.decode(Array(good.prefix(good.count - 2)))) { XCTAssertEqual($0 as? WAVError, .truncated) }
        XCTAssertThrowsError(try WAV.decode(wav(format: 3, rate: 16000, bits: 32, data: [])))
        XCTAssertThrowsError(try WAV.decode(wav(format: 1, rate: 44100, bits: 16, data: [])))
        XCTAssertThrowsError(try WAV.decode(wav(format: 1, rate: 16000, bits: 16, channels: 2, data: [])))
        // No data chunk.
        XCTAssertThrowsError(try WAV.decode(Array(good.prefix(36)))) { XCTAssertEqual($0 as? WAVError, .missingChunk("data")) }
        // A chunk size pointing far past the end.
        var huge = good
        huge[40] = 0xFF; huge[41] = 0xFF; huge[42] = 0xFF; huge[43] = 0x7F
        XCTAssertThrowsError(try WAV.decode(huge)) { XCTAssertEqual($0 as? WAVError, .truncated) }
    }

    func testShippedPromptsLoad() throws {
        let library = try PromptLibrary()
        for prompt in Prompt.allCases {
            let seconds = Double(library.samples(prompt).count) / 16000
            XCTAssert((1.0 ... 12.0).contains(seconds), "\(prompt) lasts \(seconds) s")
        }
    }
}
