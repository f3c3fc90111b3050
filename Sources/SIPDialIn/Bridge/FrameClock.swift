// The 20 ms clock of the mixer and the IVR. NIO's repeated tasks wait their delay *after* each run, so a loop that
// spends 4 ms per frame ticks every 24 ms: phones then get 42 frames a second instead of 50 (their jitter buffers
// run dry) and their own 50 packets a second pile up here until the jitter buffer skips 200 ms of speech. This
// clock keeps frames on wall-clock deadlines instead: start + n × 20 ms, catching up after a late wake-up.

import NIOCore

struct FrameClock: Equatable {
    let interval: TimeAmount
    /// After a stall longer than this many frames the backlog is dropped instead of mixed in a burst.
    let maxCatchUp: Int
    /// When the next frame is due.
    private(set) var next: NIODeadline

    init(start: NIODeadline, interval: TimeAmount = .milliseconds(20), maxCatchUp: Int = 5) {
        precondition(interval.nanoseconds > 0 && maxCatchUp >= 1)
        self.interval = interval
        self.maxCatchUp = maxCatchUp
        self.next = start
    }

    /// How many frames are due at `now`, advancing the clock past them.
    mutating func due(at now: NIODeadline) -> Int {
        guard now >= next else { return 0 }
        let frames = Int((now - next).nanoseconds / interval.nanoseconds) + 1
        guard frames <= maxCatchUp else {
            // The loop stalled (or the machine slept): resume from now rather than replay a second of audio at once.
            next = now + interval
            return 1
        }
        next = next + .nanoseconds(interval.nanoseconds * Int64(frames))
        return frames
    }
}

/// Runs `body` once per frame of a FrameClock on `eventLoop` until cancelled. Loop-confined.
final class FrameTicker {
    private let eventLoop: EventLoop
    private var clock: FrameClock
    private var scheduled: Scheduled<Void>?
    private var body: (() -> Void)?

    init(eventLoop: EventLoop, interval: TimeAmount = .milliseconds(20), _ body: @escaping () -> Void) {
        self.eventLoop = eventLoop
        self.clock = FrameClock(start: .now() + interval, interval: interval)
        self.body = body
        schedule()
    }

    private func schedule() {
        scheduled = eventLoop.scheduleTask(deadline: clock.next) { [weak self] in self?.fire() }
    }

    private func fire() {
        guard body != nil else { return }
        for _ in 0 ..< clock.due(at: .now()) {
            guard let body else { return }  // cancelled by the body itself
            body()
        }
        if body != nil { schedule() }
    }

    func cancel() {
        body = nil
        scheduled?.cancel()
        scheduled = nil
    }
}

extension FrameTicker: @unchecked Sendable {}
