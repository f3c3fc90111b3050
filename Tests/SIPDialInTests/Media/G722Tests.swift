@testable import SIPDialIn
import XCTest

final class G722Tests: XCTestCase {
    /// Encodes `input` frame by frame with G.722 and decodes every payload, as a phone on the other end would.
    private func roundTrip(_ input: [Float]) throws -> (output: [Float], payloadSizes: Set<Int>) {
        let encoder = try AudioEncoder(codec: .g722), decoder = try AudioDecoder(codec: .g722)
        var output: [Float] = []
        var sizes = Set<Int>()
        for start in stride(from: 0, to: input.count, by: mixFrameSamples) {
            encoder.encode(input[start ..< start + mixFrameSamples]) { payload in
                sizes.insert(payload.count)
                decoder.decode(payload, appendingTo: &output)
            }
        }
        return (output, sizes)
    }

    /// Signal-to-noise ratio in dB after aligning the codec's delay (the QMF pair delays by a few samples).
    private func snr(_ input: [Float], _ output: [Float], skip: Int) -> Double {
        var best = -Double.infinity
        for lag in 0 ..< 64 {
            var signal = 0.0, noise = 0.0
            for i in skip ..< min(input.count, output.count - lag) {
                let x = Double(input[i]), e = Double(output[i + lag]) - x
                signal += x * x; noise += e * e
            }
            if noise > 0 { best = max(best, 10 * log10(signal / noise)) }
        }
        return best
    }

    func testTonesKeepTheirFrequencyAndLevelAcrossTheWholeBand() throws {
        // 1 kHz sits in the lower sub-band; 6 kHz exists only in wideband (G.711 would cut it at 4 kHz).
        for frequency in [1000.0, 6000.0] {
            let input = tone(frequency, seconds: 0.5)
            let (output, sizes) = try roundTrip(input)
            XCTAssertEqual(sizes, [160], "64 kbit/s: 20 ms is 160 bytes")
            XCTAssertEqual(output.count, input.count, "two 16 kHz samples per byte")
            let steady = Array(output.dropFirst(mixFrameSamples))
            XCTAssertGreaterThan(relativePower(of: frequency, in: steady), 0.9, "\(frequency) Hz")
            let rms = { (x: [Float]) in (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)).squareRoot() }
            XCTAssertEqual(rms(steady) / rms(Array(input.dropFirst(mixFrameSamples))), 1, accuracy: 0.1, "\(frequency) Hz level")
        }
        // Waveform fidelity at 1 kHz (spandsp's ITU-exact codec gives well above 30 dB on a clean tone).
        let input = tone(1000, seconds: 0.5)
        XCTAssertGreaterThan(snr(input, try roundTrip(input).output, skip: mixFrameSamples), 25)
    }

    func testRtpClockIsEightKilohertzAsRFC3551Says() {
        XCTAssertEqual(PhoneCodec.g722.clockRate, 8000)
        XCTAssertEqual(PhoneCodec.g722.ticksPerFrame, 160) // 20 ms, though 320 samples went in
        XCTAssertEqual(PhoneCodec.g722.staticPayloadType, 9)
    }

    func testOddEmptyAndGarbagePayloadsDoNotCrash() throws {
        let decoder = try AudioDecoder(codec: .g722)
        var output: [Float] = []
        [UInt8]().withUnsafeBytes { decoder.decode($0, appendingTo: &output) }
        XCTAssertEqual(output.count, 0)
        [UInt8](repeating: 0x5A, count: 3).withUnsafeBytes { decoder.decode($0, appendingTo: &output) }
        XCTAssertEqual(output.count, 6)
        var random = SystemRandomNumberGenerator()
        let garbage = (0 ..< 1400).map { _ in UInt8.random(in: 0 ... 255, using: &random) }
        garbage.withUnsafeBytes { decoder.decode($0, appendingTo: &output) }
        XCTAssertEqual(output.count, 6 + 2800)
        XCTAssertTrue(output.allSatisfy { $0.isFinite && abs($0) <= 32768 })
        // A lost packet is concealed by one faded 20 ms frame.
        decoder.decode(nil, appendingTo: &output)
        XCTAssertEqual(output.count, 6 + 2800 + mixFrameSamples)
    }

    func testEncoderStateCarriesAcrossFrames() throws {
        // A frame cut in the middle of a tone must not click: the second half of the output keeps the tone
        // as pure as a one-shot encode would.
        let input = tone(440, seconds: 1)
        let (output, _) = try roundTrip(input)
        XCTAssertGreaterThan(relativePower(of: 440, in: Array(output[8000 ..< 16000])), 0.95)
    }
}
