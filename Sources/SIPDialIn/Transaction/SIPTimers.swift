// RFC 3261 §17 timer values (table 4 in Appendix A). T1 is configurable: tests use 50 ms, and a deployment on
// a high-latency network may raise it; every derived timer follows.

import NIOCore

public struct SIPTimerSettings: Sendable, Equatable {
    /// RTT estimate: first retransmission interval.
    public var t1: TimeAmount
    /// Cap of the non-INVITE and 2xx retransmission interval.
    public var t2: TimeAmount
    /// Longest time a message stays in the network: Timers I and K.
    public var t4: TimeAmount
    /// Timer D, how long an INVITE client transaction absorbs retransmitted final responses (≥ 32 s on UDP).
    public var timerD: TimeAmount

    public init(t1: TimeAmount = .milliseconds(500), t2: TimeAmount = .seconds(4), t4: TimeAmount = .seconds(5),
                timerD: TimeAmount? = nil) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
        // D must outlast the server's Timer G/H exchange (64·T1); 32 s is the RFC value for the default T1.
        self.timerD = timerD ?? .nanoseconds(max(t1.nanoseconds * 64, TimeAmount.seconds(32).nanoseconds))
    }

    /// A test-friendly profile: everything scaled from `t1` (T2 = 8·T1, T4 = 10·T1, D = 64·T1).
    public static func scaled(t1: TimeAmount) -> SIPTimerSettings {
        SIPTimerSettings(t1: t1, t2: .nanoseconds(t1.nanoseconds * 8), t4: .nanoseconds(t1.nanoseconds * 10),
                         timerD: .nanoseconds(t1.nanoseconds * 64))
    }

    /// 64·T1: Timers B, F, H, J (UDP), L, and the 2xx-without-ACK give-up.
    public var transactionTimeout: TimeAmount { .nanoseconds(t1.nanoseconds * 64) }

    /// The next interval of a doubling retransmission timer, capped at T2 when `capped`.
    func doubled(_ interval: TimeAmount, capped: Bool) -> TimeAmount {
        let next = TimeAmount.nanoseconds(interval.nanoseconds * 2)
        return capped ? min(next, t2) : next
    }
}
