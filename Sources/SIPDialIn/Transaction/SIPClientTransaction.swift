// Client transactions (RFC 3261 §17.1): the INVITE state machine (Calling → Proceeding → Completed, which
// ACKs non-2xx finals itself) and the non-INVITE one (Trying → Proceeding → Completed). Retransmissions only
// over UDP. A 2xx to INVITE ends the transaction at once: its ACK belongs to the dialog (§13.2.2.4).

import NIOCore

public enum SIPClientTransactionFailure: Error, Equatable, CustomStringConvertible {
    /// Timer B or F: no final response within 64·T1.
    case timeout
    case transport(String)

    public var description: String {
        switch self {
        case .timeout: return "transaction timed out"
        case .transport(let why): return "transport error: \(why)"
        }
    }
}

final class SIPClientTransaction {
    enum State: Equatable { case calling, trying, proceeding, completed, terminated }

    let request: SIPRequest
    let key: String
    let kind: SIPTransportKind
    let timers: SIPTimerSettings
    let eventLoop: EventLoop
    private let sendMessage: (SIPMessage) -> EventLoopFuture<Void>
    private(set) var state: State

    /// Provisional and final responses for the TU; a final one is delivered once (retransmissions absorbed).
    var onResponse: ((SIPResponse) -> Void)?
    /// Timeout or transport error; the TU treats it like a 408/503 (§8.1.3.1).
    var onFailure: ((SIPClientTransactionFailure) -> Void)?
    /// The transaction reached Terminated: remove it from the table.
    var onTerminated: (() -> Void)?

    private var retransmitTimer: Scheduled<Void>?
    private var timeoutTimer: Scheduled<Void>?
    private var waitTimer: Scheduled<Void>?
    private var interval: TimeAmount
    /// The ACK this transaction generated for a non-2xx final, resent on each retransmitted final.
    private(set) var ack: SIPRequest?

    var isInvite: Bool { request.method == .invite }

    /// Table key: top Via branch plus CSeq method (§17.1.3).
    static func key(branch: String, method: SIPMethod) -> String { "\(branch)|\(method.rawValue)" }

    init(request: SIPRequest, kind: SIPTransportKind, timers: SIPTimerSettings, eventLoop: EventLoop,
         send: @escaping (SIPMessage) -> EventLoopFuture<Void>) {
        self.request = request
        self.kind = kind
        self.timers = timers
        self.eventLoop = eventLoop
        self.sendMessage = send
        self.key = Self.key(branch: request.topVia?.branch ?? "", method: request.method)
        self.state = request.method == .invite ? .calling : .trying
        self.interval = timers.t1
    }

    func start() {
        transmit(.request(request))
        if !kind.isReliable { scheduleRetransmit() }
        // Timer B (INVITE) / Timer F (non-INVITE).
        timeoutTimer = eventLoop.scheduleTask(in: timers.transactionTimeout) { [weak self] in
            guard let self, self.state == .calling || self.state == .trying || (!self.isInvite && self.state == .proceeding) else { return }
            self.fail(.timeout)
        }
    }

    private func transmit(_ message: SIPMessage) {
        sendMessage(message).whenFailure { [weak self] error in
            guard let self, self.state != .terminated, self.state != .completed else { return }
            self.fail(.transport("\(error)"))
        }
    }

    /// Timer A (INVITE, doubling without cap) / Timer E (non-INVITE, capped at T2; T2 once Proceeding).
    private func scheduleRetransmit() {
        retransmitTimer = eventLoop.scheduleTask(in: interval) { [weak self] in
            guard let self else { return }
            // INVITE stops retransmitting once Proceeding; non-INVITE goes on at T2.
            let retransmits = self.state == .calling || self.state == .trying || (self.state == .proceeding && !self.isInvite)
            guard retransmits else { return }
            self.transmit(.request(self.request))
            self.interval = self.state == .proceeding ? self.timers.t2 : self.timers.doubled(self.interval, capped: !self.isInvite)
            self.scheduleRetransmit()
        }
    }

    func receive(_ response: SIPResponse) {
        switch state {
        case .calling, .trying, .proceeding:
            if response.isProvisional {
                if state == .calling {
                    // No more retransmissions and no Timer B once the server has answered.
                    retransmitTimer?.cancel()
                    timeoutTimer?.cancel()
                } else if state == .trying {
                    interval = timers.t2
                }
                state = .proceeding
                onResponse?(response)
            } else if isInvite && response.isSuccess {
                onResponse?(response)
                terminate()
            } else {
                cancelTimers()
                if isInvite {
                    let ack = makeAck(for: response)
                    self.ack = ack
                    transmit(.request(ack))
                }
                state = .completed
                onResponse?(response)
                // Timer D (INVITE) / Timer K (non-INVITE): absorb retransmissions, zero on reliable transports.
                let wait = kind.isReliable ? .zero : (isInvite ? timers.timerD : timers.t4)
                waitTimer = eventLoop.scheduleTask(in: wait) { [weak self] in self?.terminate() }
            }
        case .completed:
            // A retransmitted final: the ACK was lost (INVITE) — send it again.
            if isInvite, !response.isProvisional, let ack { transmit(.request(ack)) }
        case .terminated:
            return
        }
    }

    /// ACK for a non-2xx final (§17.1.1.3): same Request-URI, top Via, From, Call-ID and CSeq number as the INVITE,
    /// the To of the response, and the INVITE's Route headers.
    func makeAck(for response: SIPResponse) -> SIPRequest {
        var headers = SIPHeaders()
        if let via = request.headers.listValues(SIPHeaderName.via).first { headers.add(SIPHeaderName.via, via) }
        for name in [SIPHeaderName.maxForwards, SIPHeaderName.from] {
            if let v = request.headers[name] { headers.add(name, v) }
        }
        if let to = response.headers[SIPHeaderName.to] { headers.add(SIPHeaderName.to, to) }
        if let callID = request.headers[SIPHeaderName.callID] { headers.add(SIPHeaderName.callID, callID) }
        headers.add(SIPHeaderName.cseq, "\(request.cseq?.number ?? 0) ACK")
        for route in request.headers.values(SIPHeaderName.route) { headers.add(SIPHeaderName.route, route) }
        return SIPRequest(method: .ack, uri: request.uri, headers: headers)
    }

    func transportFailed(_ why: String) {
        guard state != .terminated, state != .completed else { return }
        fail(.transport(why))
    }

    private func fail(_ failure: SIPClientTransactionFailure) {
        guard state != .terminated else { return }
        let callback = onFailure
        terminate()
        callback?(failure)
    }

    private func cancelTimers() {
        retransmitTimer?.cancel()
        timeoutTimer?.cancel()
        waitTimer?.cancel()
    }

    func terminate() {
        guard state != .terminated else { return }
        state = .terminated
        cancelTimers()
        onTerminated?()
        onResponse = nil
        onFailure = nil
        onTerminated = nil
    }
}

// Loop-confined: created, driven and terminated on the user agent's event loop only.
extension SIPClientTransaction: @unchecked Sendable {}
