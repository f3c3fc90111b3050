// What the media side sees of SIP: calls, offers and answers as SDP bytes, INFO digits, and why a call ended.

public protocol SIPCallDelegate: AnyObject {
    /// A new call (all callbacks run on the UA's event loop). Call `call.answer(sdp:)` (sends 200 OK and retransmits
    /// it until the ACK) or `call.reject(status:reason:)`, possibly later; 100 Trying has already been sent, and
    /// 180 Ringing is optional through `call.ring()`.
    func sipUserAgent(_ ua: SIPUserAgent, incomingCall call: SIPCall)
    /// A re-INVITE or an UPDATE with SDP inside the dialog: return the SDP answer, or nil to reject it with 488.
    func sipCall(_ call: SIPCall, didReceiveReoffer sdp: [UInt8]) -> [UInt8]?
    /// A DTMF digit from SIP INFO (RFC 4733 events arrive over RTP and are the media side's business).
    func sipCall(_ call: SIPCall, didReceiveInfoDigit digit: Character, durationMs: Int)
    /// The call ended: BYE from the phone, CANCEL, no ACK within 64·T1, session timer expiry, transport failure,
    /// our own hangup or reject. Called exactly once per call handed out by `incomingCall`.
    func sipCallDidEnd(_ call: SIPCall, reason: SIPCallEndReason)

    /// Late offer: the INVITE had no SDP, our answer(sdp:) was the offer, and the phone's answer came in the ACK
    /// (also after a re-INVITE without SDP).
    func sipCall(_ call: SIPCall, didReceiveAckAnswer sdp: [UInt8])
    /// The SDP to offer in a session refresh re-INVITE when the phone does not allow UPDATE. nil (the default)
    /// re-offers the last SDP we sent unchanged, which RFC 3264 §8 permits.
    func sipCallSDPForRefresh(_ call: SIPCall) -> [UInt8]?
    /// Registration changed state, or a refresh succeeded (`registered` again).
    func sipUserAgent(_ ua: SIPUserAgent, registrationStateDidChange state: SIPRegistrationState)
}

extension SIPCallDelegate {
    public func sipCall(_ call: SIPCall, didReceiveAckAnswer sdp: [UInt8]) {}
    public func sipCallSDPForRefresh(_ call: SIPCall) -> [UInt8]? { nil }
    public func sipUserAgent(_ ua: SIPUserAgent, registrationStateDidChange state: SIPRegistrationState) {}
}

public enum SIPCallState: Equatable, Sendable {
    /// INVITE received, 100 Trying sent.
    case incoming
    /// 180 Ringing sent.
    case ringing
    /// 200 OK sent, waiting for the ACK.
    case answering
    case confirmed
    case ended
}

public enum SIPCallEndReason: Equatable, Sendable {
    /// BYE from the phone.
    case remoteHangup
    /// CANCEL before we answered.
    case cancelled
    /// `hangup()` on our side.
    case localHangup
    /// `reject(status:)` on our side (or no delegate to take the call).
    case rejected(status: Int)
    /// The 200 OK was never acknowledged within 64·T1.
    case ackTimeout
    /// RFC 4028: no refresh arrived (or ours failed) before the session interval ran out.
    case sessionExpired
    /// The TCP connection went away or an in-dialog request could not be delivered.
    case transportFailure(String)
    /// An in-dialog request of ours got 481 or 408: the peer no longer knows the dialog.
    case dialogGone(status: Int)
}
