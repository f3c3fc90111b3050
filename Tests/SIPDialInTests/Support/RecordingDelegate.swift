// A SIPCallDelegate that records what the stack tells it and answers calls with a fixed SDP when asked to.

import Foundation
@testable import SIPDialIn

final class RecordingDelegate: SIPCallDelegate, @unchecked Sendable {
    static let answerSDP = Array("v=0\r\no=rooms 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n".utf8)

    private let lock = NSLock()
    private var _calls: [SIPCall] = []
    private var _ends: [SIPCallEndReason] = []
    private var _digits: [(Character, Int)] = []
    private var _registrations: [SIPRegistrationState] = []
    private var _reoffers: [[UInt8]] = []
    private var _ackAnswers: [[UInt8]] = []
    /// Answer incoming calls with `answerSDP` at once (else ring and wait).
    var autoAnswer = true

    func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    var calls: [SIPCall] { locked { _calls } }
    var ends: [SIPCallEndReason] { locked { _ends } }
    var digits: [Character] { locked { _digits.map(\.0) } }
    var durations: [Int] { locked { _digits.map(\.1) } }
    var registrations: [SIPRegistrationState] { locked { _registrations } }
    var reoffers: [[UInt8]] { locked { _reoffers } }
    var ackAnswers: [[UInt8]] { locked { _ackAnswers } }

    func sipUserAgent(_ ua: SIPUserAgent, incomingCall call: SIPCall) {
        locked { _calls.append(call) }
        if autoAnswer {
            call.answer(sdp: Self.answerSDP)
        } else {
            call.ring()
        }
    }

    func sipCall(_ call: SIPCall, didReceiveReoffer sdp: [UInt8]) -> [UInt8]? {
        locked { _reoffers.append(sdp) }
        return Self.answerSDP
    }

    func sipCall(_ call: SIPCall, didReceiveInfoDigit digit: Character, durationMs: Int) {
        locked { _digits.append((digit, durationMs)) }
    }

    func sipCallDidEnd(_ call: SIPCall, reason: SIPCallEndReason) {
        locked { _ends.append(reason) }
    }

    func sipCall(_ call: SIPCall, didReceiveAckAnswer sdp: [UInt8]) {
        locked { _ackAnswers.append(sdp) }
    }

    func sipUserAgent(_ ua: SIPUserAgent, registrationStateDidChange state: SIPRegistrationState) {
        locked { _registrations.append(state) }
    }
}
