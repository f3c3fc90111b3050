import NIOCore
import NIOPosix
@testable import SIPDialIn
import XCTest

final class FrameClockTests: XCTestCase {
    private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private func ms(_ v: Int64) -> NIODeadline { t0 + .milliseconds(v) }

    func testLateWakeUpsDoNotSlowTheClock() {
        // Every wake-up comes 4 ms after its deadline (a busy loop): the deadlines stay on the 20 ms grid, 50 a second
        // (a fixed-delay timer drifted by those 4 ms per frame: 42 frames a second).
        var clock = FrameClock(start: ms(20))
        var frames = 0
        while clock.next <= ms(1000) {
            frames += clock.due(at: clock.next + .milliseconds(4))
        }
        XCTAssertEqual(frames, 50)
        XCTAssertEqual(clock.next, ms(1020))
    }

    func testNothingDueBeforeTheDeadline() {
        var clock = FrameClock(start: ms(20))
        XCTAssertEqual(clock.due(at: ms(19)), 0)
        XCTAssertEqual(clock.next, ms(20))
        XCTAssertEqual(clock.due(at: ms(20)), 1)
        XCTAssertEqual(clock.next, ms(40))
    }

    func testALateWakeUpCatchesUp() {
        var clock = FrameClock(start: ms(20))
        XCTAssertEqual(clock.due(at: ms(65)), 3)  // 20, 40, 60
        XCTAssertEqual(clock.next, ms(80))
    }

    func testALongStallResyncsInsteadOfBursting() {
        var clock = FrameClock(start: ms(20), maxCatchUp: 5)
        XCTAssertEqual(clock.due(at: ms(1020)), 1)
        XCTAssertEqual(clock.next, ms(1040))
    }

    func testTickerRunsFiftyFramesASecondDespiteSlowFrames() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let done = loop.makePromise(of: Int.self)
        let started = NIODeadline.now()
        let ticker = try loop.submit { () -> FrameTicker in
            var count = 0
            var ticker: FrameTicker?
            ticker = FrameTicker(eventLoop: loop) {
                count += 1
                let busy = NIODeadline.now() + .milliseconds(5)  // a slow mix
                while NIODeadline.now() < busy {}
                if count == 50 { ticker?.cancel(); done.succeed(count) }
            }
            return ticker!
        }.wait()
        XCTAssertEqual(try done.futureResult.wait(), 50)
        let elapsed = NIODeadline.now() - started
        // 50 frames of 20 ms: 1 s (a fixed-delay timer would take 50 × 25 ms = 1.25 s).
        XCTAssertLessThan(elapsed, .milliseconds(1150))
        XCTAssertGreaterThan(elapsed, .milliseconds(950))
        _ = ticker
    }
}
