// Server transactions (RFC 3261 §17.2). INVITE: Proceeding → Completed (Timer G retransmits a non-2xx final
// until the ACK, Timer H gives up) → Confirmed (Timer I) ; after a 2xx the transaction waits in Accepted
// (RFC 6026 §7.1, Timer L) so retransmitted INVITEs are absorbed while the call layer retransmits the 2xx.
// Non-INVITE: Trying → Proceeding → Completed (Timer J), answering retransmissions with the last response.

import NIOCore

final class SIPServerTransaction {
    enum State: Equatable { case trying, proceeding, completed, confirmed, accepted, terminated }

    let request: SIPRequest
    let key: String
    let kind: SIPTransportKind
    let timers: SIPTimerSettings
    let eventLoop: EventLoop
    private let sendResponse: (SIPResponse) -> Void
    private(set) var state: State
    private(set) var lastResponse: SIPResponse?

    /// Timer H fired: a non-2xx final was never ACKed.
    var onAckTimeout: (() -> Void)?
    var onTerminated: (() -> Void)?

    private var retransmitTimer: Scheduled<Void>?
    private var timeoutTimer: Scheduled<Void>?
    private var interval: TimeAmount

    var isInvite: Bool { request.method == .invite }

    /// Matching key (§17.2.3): branch, sent-by and method, with ACK matching its INVITE. Requests without an
    /// RFC 3261 branch fall back to Call-ID, CSeq number and From tag (the §17.2.3 RFC 2543 rules, simplified).
    static func key(for request: SIPRequest) -> String {
        let method = request.method == .ack ? SIPMethod.invite : request.method
        if let via = request.topVia, let branch = via.branch, branch.hasPrefix(SIPVia.magicCookie) {
            return "\(branch)|\(via.sentBy)|\(method.rawValue)"
        }
        let number = request.cseq?.number ?? 0
        return "2543|\(request.callID ?? "")|\(number)|\(request.from?.tag ?? "")|\(method.rawValue)"
    }

    init(request: SIPRequest, kind: SIPTransportKind, timers: SIPTimerSettings, eventLoop: EventLoop,
         send: @escaping (SIPResponse) -> Void) {
        self.request = request
        self.kind = kind
        self.timers = timers
        self.eventLoop = eventLoop
        self.sendResponse = send
        self.key = Self.key(for: request)
        self.state = request.method == .invite ? .proceeding : .trying
        self.interval = timers.t1
    }

    /// True while a final response can still be sent.
    var canRespond: Bool { state == .trying || state == .proceeding }

    /// The TU's response. Finals after the first are ignored (a TU race such as CANCEL against answer).
    @discardableResult
    func respond(_ response: SIPResponse) -> Bool {
        guard canRespond else { return false }
        lastResponse = response
        sendResponse(response)
        if response.isProvisional {
            if state == .trying { state = .proceeding }
            return true
        }
        if isInvite && response.isSuccess {
            state = .accepted
            // Timer L: keep absorbing INVITE retransmissions; the 2xx itself is retransmitted by the call.
            timeoutTimer = eventLoop.scheduleTask(in: timers.transactionTimeout) { [weak self] in self?.terminate() }
        } else if isInvite {
            state = .completed
            if !kind.isReliable { scheduleRetransmit() }
            // Timer H.
            timeoutTimer = eventLoop.scheduleTask(in: timers.transactionTimeout) { [weak self] in
                guard let self, self.state == .completed else { return }
                let callback = self.onAckTimeout
                self.terminate()
                callback?()
            }
        } else {
            state = .completed
            // Timer J: 64·T1 on UDP to answer retransmissions, zero on TCP.
            let wait = kind.isReliable ? .zero : timers.transactionTimeout
            timeoutTimer = eventLoop.scheduleTask(in: wait) { [weak self] in self?.terminate() }
        }
        return true
    }

    /// Timer G: retransmit the final response, doubling up to T2.
    private func scheduleRetransmit() {
        retransmitTimer = eventLoop.scheduleTask(in: interval) { [weak self] in
            guard let self, self.state == .completed, let response = self.lastResponse else { return }
            self.sendResponse(response)
            self.interval = self.timers.doubled(self.interval, capped: true)
            self.scheduleRetransmit()
        }
    }

    /// The same request again: resend the last response (a provisional one too, §17.2.1).
    func receiveRetransmission() {
        switch state {
        case .proceeding, .completed:
            if let lastResponse { sendResponse(lastResponse) }
        case .trying, .confirmed, .accepted, .terminated:
            return
        }
    }

    /// An ACK matching this INVITE transaction. Returns false when it is the ACK of a 2xx (for the dialog).
    func receiveAck() -> Bool {
        switch state {
        case .completed:
            state = .confirmed
            retransmitTimer?.cancel()
            timeoutTimer?.cancel()
            // Timer I: absorb further ACK retransmissions.
            let wait = kind.isReliable ? .zero : timers.t4
            timeoutTimer = eventLoop.scheduleTask(in: wait) { [weak self] in self?.terminate() }
            return true
        case .confirmed:
            return true
        default:
            return false
        }
    }

    func terminate() {
        guard state != .terminated else { return }
        state = .terminated
        retransmitTimer?.cancel()
        timeoutTimer?.cancel()
        let callback = onTerminated
        onTerminated = nil
        onAckTimeout = nil
        callback?()
    }
}

// Loop-confined: created, driven and terminated on the user agent's event loop only.
extension SIPServerTransaction: @unchecked Sendable {}
