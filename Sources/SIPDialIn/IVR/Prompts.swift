// The spoken prompts (Sources/SIPDialIn/Prompts, made by scripts/make-prompts), decoded once to 16 kHz.

import Foundation

public enum Prompt: String, CaseIterable, Sendable {
    case welcome, invalid, goodbyeInvalid = "goodbye-invalid", notYetOpen = "not-yet-open", ended, joining, unavailable
    case waitingForOwner = "waiting-for-owner", ownerLeft = "owner-left"
}

final class PromptLibrary: @unchecked Sendable {
    // Immutable after init.
    private let samples: [Prompt: [Float]]

    init(directory: URL? = nil) throws {
        let folder = directory ?? Bundle.module.resourceURL!.appendingPathComponent("Prompts")
        var samples: [Prompt: [Float]] = [:]
        for prompt in Prompt.allCases {
            let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(prompt.rawValue + ".wav")))
            samples[prompt] = try WAV.decode(bytes)
        }
        self.samples = samples
    }

    func samples(_ prompt: Prompt) -> [Float] { samples[prompt] ?? [] }
}

/// Plays prompts one after another, 20 ms at a time.
struct PromptPlayer {
    private var queue: [[Float]] = []
    private var position = 0

    var isPlaying: Bool { !queue.isEmpty }

    mutating func play(_ samples: [Float]) { queue.append(samples) }

    mutating func stop() { queue.removeAll(); position = 0 }

    /// The next 20 ms (silence once everything has played).
    mutating func nextFrame(into frame: inout [Float]) {
        frame.removeAll(keepingCapacity: true)
        while frame.count < mixFrameSamples, let current = queue.first {
            let take = min(mixFrameSamples - frame.count, current.count - position)
            frame.append(contentsOf: current[position ..< position + take])
            position += take
            if position >= current.count { queue.removeFirst(); position = 0 }
        }
        while frame.count < mixFrameSamples { frame.append(0) }
    }
}
