@testable import SIPDialIn
import XCTest

final class ResamplerTests: XCTestCase {
    func testUpAndDownKeepsAVoiceBandTone() {
        let narrow = tone(1000, seconds: 0.5, rate: 8000).map(clampToInt16)
        var up = Upsampler(), down = Downsampler()
        var wide: [Float] = [], back: [Int16] = []
        up.process(narrow, into: &wide)
        XCTAssertEqual(wide.count, narrow.count * 2)
        XCTAssertGreaterThan(relativePower(of: 1000, in: Array(wide.dropFirst(64))), 0.9)
        down.process(wide[...], into: &back)
        XCTAssertEqual(back.count, narrow.count)
        XCTAssertGreaterThan(relativePower(of: 1000, in: back.dropFirst(64).map(Float.init), rate: 8000), 0.9)
    }

    func testDownsamplingRejectsWhatWouldAlias() {
        // 6 kHz at 16 kHz would fold to 2 kHz at 8 kHz; the filter must remove it.
        let input = tone(6000, seconds: 0.5)
        var down = Downsampler(), out: [Int16] = []
        down.process(input[...], into: &out)
        let inEnergy = input.reduce(0.0) { $0 + Double($1 * $1) } / Double(input.count)
        let outEnergy = out.dropFirst(32).reduce(0.0) { $0 + Double($1) * Double($1) } / Double(out.count - 32)
        XCTAssertLessThan(outEnergy, inEnergy / 1000, "less than −30 dB of the input must fold back")
    }

    func testLevelIsKept() {
        let input = tone(500, seconds: 0.5)
        var down = Downsampler(), out: [Int16] = []
        down.process(input[...], into: &out)
        let peak = out.dropFirst(64).map { abs(Int($0)) }.max() ?? 0
        XCTAssertEqual(Double(peak), 8000, accuracy: 400)
    }
}
