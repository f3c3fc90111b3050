import Foundation

/// A sine tone at 16 kHz (or `rate`), amplitude in sample units.
func tone(_ frequency: Double, seconds: Double, rate: Double = 16000, amplitude: Double = 8000) -> [Float] {
    (0 ..< Int(seconds * rate)).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / rate)) }
}

/// Goertzel power of `frequency` in `samples`, normalised by the signal's energy (1 ≈ a pure tone of it).
func relativePower(of frequency: Double, in samples: [Float], rate: Double = 16000) -> Double {
    guard !samples.isEmpty else { return 0 }
    let k = 2 * cos(2 * Double.pi * frequency / rate)
    var s1 = 0.0, s2 = 0.0
    for x in samples {
        let s0 = Double(x) + k * s1 - s2
        s2 = s1; s1 = s0
    }
    let power = s1 * s1 + s2 * s2 - k * s1 * s2
    let energy = samples.reduce(0.0) { $0 + Double($1) * Double($1) }
    guard energy > 0 else { return 0 }
    return 2 * power / (Double(samples.count) * energy)
}
