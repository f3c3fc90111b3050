// One incoming call (we are the UAS of its INVITE dialog). The media side sees SDP bytes and events only;
// this class keeps the dialog, retransmits our 2xx until the ACK (RFC 3261 §13.3.1.4), answers in-dialog
// requests, and runs the RFC 4028 session timer. It lives on the UA's event loop; public methods hop there.

import Logging
import NIOCore

public final class SIPCall {
    public let callID: String
    /// Display name of the caller (From), if any.
    public let remoteDisplayName: String?
    /// User part of the From URI (usually the caller's number).
    public let remoteUser: String?
    /// User part of the Request-URI: the number or name that was dialled.
    public let requestURIUser: String?
    /// Where the INVITE came from (a phone or the PBX), and over what.
    public let remoteAddress: SocketAddress
    public let transportKind: SIPTransportKind
    /// The INVITE's SDP offer; nil for a late-offer INVITE (then `answer(sdp:)` sends the offer and the phone's
    /// answer arrives through `sipCall(_:didReceiveAckAnswer:)`).
    public let offer: [UInt8]?
    /// Read on the UA's event loop (delegate callbacks run there).
    public private(set) var state: SIPCallState = .incoming
    /// The session timer agreed with the caller (interval nil: none).
    public private(set) var session: SIPSessionTimer.Negotiation

    let localTag: String
    let inviteKey: String
    let logger: Logger
    private weak var ua: SIPUserAgent?
    private(set) var dialog: SIPDialog
    private let inviteTransaction: SIPServerTransaction
    private let peerAllowsUpdate: Bool
    /// The last SDP we sent (answer or offer), re-offered by refreshes.
    private var localSDP: [UInt8]?

    /// A 2xx being retransmitted until its ACK.
    private struct Pending2xx {
        var response: SIPResponse
        var cseq: UInt32
        var source: SocketAddress
        var kind: SIPTransportKind
        var interval: TimeAmount
        var timer: Scheduled<Void>?
        var giveUp: Scheduled<Void>?
        /// Our SDP was an offer (late offer): the ACK carries the answer.
        var answerInAck: Bool
    }
    private var pending2xx: Pending2xx?
    /// hangup() while waiting for the ACK: BYE as soon as the dialog is confirmed.
    private var byeAfterAck = false
    /// A re-INVITE of either side is in progress (a second one gets 491, §14.2).
    private var reinviteInProgress = false
    /// Our last refresh re-INVITE's CSeq and the ACK we sent for its 2xx (resent on retransmitted 2xx).
    private var lastReinviteAck: SIPRequest?
    private var refreshTimer: Scheduled<Void>?
    private var expiryTimer: Scheduled<Void>?

    init(ua: SIPUserAgent, invite: SIPRequest, transaction: SIPServerTransaction, inbound: SIPInbound, localTag: String,
         session: SIPSessionTimer.Negotiation) throws {
        self.ua = ua
        self.callID = invite.callID ?? ""
        self.localTag = localTag
        self.inviteKey = transaction.key
        self.inviteTransaction = transaction
        let from = invite.from
        self.remoteDisplayName = from?.displayName
        self.remoteUser = from?.uri.user
        self.requestURIUser = invite.uri.user
        self.remoteAddress = inbound.source
        self.transportKind = inbound.kind
        self.offer = invite.body.isEmpty ? nil : invite.body
        self.session = session
        self.peerAllowsUpdate = invite.optionTags(SIPHeaderName.allow).contains("update")
        self.dialog = try SIPDialog(uas: invite, localTag: localTag, localContact: ua.contactURI(user: invite.uri.user, kind: inbound.kind),
                                    localSeq: UInt32.random(in: 1...10_000))
        var logger = ua.logger
        logger[metadataKey: "call-id"] = "\(callID)"
        self.logger = logger
    }

    // MARK: - Public API (any thread)

    /// Answers with `sdp` (200 OK, retransmitted until the ACK).
    public func answer(sdp: [UInt8]) { onLoop { $0.answerOnLoop(sdp) } }

    /// Rejects the unanswered call with a final status ≥ 300 (486 Busy Here, 404, 603 …).
    public func reject(status: Int, reason: String? = nil) { onLoop { $0.rejectOnLoop(status: status, reason: reason) } }

    /// Sends 180 Ringing.
    public func ring() { onLoop { $0.ringOnLoop() } }

    /// Ends the call: BYE when answered, 480 when still ringing.
    public func hangup() { onLoop { $0.hangupOnLoop() } }

    private func onLoop(_ body: @escaping (SIPCall) -> Void) {
        guard let ua else { return }
        if ua.eventLoop.inEventLoop { body(self) } else { ua.eventLoop.execute { body(self) } }
    }

    // MARK: - UAS responses to the INVITE

    private func answerOnLoop(_ sdp: [UInt8]) {
        guard let ua, state == .incoming || state == .ringing, inviteTransaction.canRespond else {
            logger.debug("sip answer ignored in state \(state)")
            return
        }
        localSDP = sdp
        var ok = SIPResponse(replyingTo: inviteTransaction.request, status: 200, toTag: localTag)
        addDialogHeaders(&ok, ua)
        session.apply(to: &ok)
        ok.headers.add(SIPHeaderName.contentType, "application/sdp")
        ok.body = sdp
        ua.decorate(&ok)
        inviteTransaction.respond(ok)
        state = .answering
        callsByInviteDone()
        startRetransmitting(ok, cseq: dialog.remoteSeq ?? 0, source: remoteAddress, kind: transportKind, answerInAck: offer == nil)
        logger.info("sip call answered")
    }

    private func rejectOnLoop(status: Int, reason: String?) {
        guard state == .incoming || state == .ringing, inviteTransaction.canRespond else { return }
        let status = (300...699).contains(status) ? status : 603
        inviteTransaction.respond(SIPResponse(replyingTo: inviteTransaction.request, status: status, reason: reason, toTag: localTag))
        end(.rejected(status: status))
    }

    private func ringOnLoop() {
        guard let ua, state == .incoming, inviteTransaction.canRespond else { return }
        var ringing = SIPResponse(replyingTo: inviteTransaction.request, status: 180, toTag: localTag)
        addDialogHeaders(&ringing, ua)
        inviteTransaction.respond(ringing)
        state = .ringing
    }

    func hangupOnLoop() {
        switch state {
        case .incoming, .ringing:
            if inviteTransaction.canRespond {
                inviteTransaction.respond(SIPResponse(replyingTo: inviteTransaction.request, status: 480, toTag: localTag))
            }
            end(.localHangup)
        case .answering:
            // No BYE before the ACK (§15): it follows the ACK, or the ACK timeout sends it.
            byeAfterAck = true
            endNotifying(.localHangup, keepDialog: true)
        case .confirmed:
            sendBye()
            end(.localHangup)
        case .ended:
            return
        }
    }

    /// Contact, Record-Route (copied, §12.1.1), Allow and Supported for a dialog-creating response.
    private func addDialogHeaders(_ response: inout SIPResponse, _ ua: SIPUserAgent) {
        for rr in inviteTransaction.request.headers.values(SIPHeaderName.recordRoute) {
            response.headers.add(SIPHeaderName.recordRoute, rr)
        }
        response.headers.add(SIPHeaderName.contact, SIPNameAddress(uri: dialog.localContact).description)
        response.headers.add(SIPHeaderName.allow, SIPUserAgent.allowHeader)
        response.headers.add(SIPHeaderName.supported, SIPUserAgent.supportedExtensions.joined(separator: ", "))
    }

    private func callsByInviteDone() {
        if let ua, ua.callsByInviteKey[inviteKey] === self { ua.callsByInviteKey[inviteKey] = nil }
    }

    // MARK: - 2xx retransmission (§13.3.1.4)

    private func startRetransmitting(_ response: SIPResponse, cseq: UInt32, source: SocketAddress, kind: SIPTransportKind,
                                     answerInAck: Bool) {
        guard let ua else { return }
        stopRetransmitting()
        pending2xx = Pending2xx(response: response, cseq: cseq, source: source, kind: kind, interval: ua.configuration.timers.t1,
                                timer: nil, giveUp: nil, answerInAck: answerInAck)
        scheduleRetransmit()
        pending2xx?.giveUp = ua.eventLoop.scheduleTask(in: ua.configuration.timers.transactionTimeout) { [weak self] in
            self?.ackTimedOut()
        }
    }

    private func scheduleRetransmit() {
        guard let ua, let pending = pending2xx else { return }
        pending2xx?.timer = ua.eventLoop.scheduleTask(in: pending.interval) { [weak self] in
            guard let self, let ua = self.ua, let pending = self.pending2xx else { return }
            ua.transport.sendResponse(pending.response, source: pending.source, kind: pending.kind)
            self.pending2xx?.interval = ua.configuration.timers.doubled(pending.interval, capped: true)
            self.scheduleRetransmit()
        }
    }

    private func stopRetransmitting() {
        pending2xx?.timer?.cancel()
        pending2xx?.giveUp?.cancel()
        pending2xx = nil
    }

    private func ackTimedOut() {
        logger.warning("sip no ACK for 2xx within 64*T1, ending the call")
        stopRetransmitting()
        reinviteInProgress = false
        // The dialog is confirmed all the same; the session must be torn down with a BYE (§13.3.1.4).
        sendBye()
        end(.ackTimeout)
    }

    func receiveAck(_ request: SIPRequest) {
        guard let pending = pending2xx, request.cseq?.number == pending.cseq else { return }
        stopRetransmitting()
        reinviteInProgress = false
        if byeAfterAck {
            sendBye()
            finishAfterLocalHangup()
            return
        }
        if state == .answering { state = .confirmed }
        if pending.answerInAck, !request.body.isEmpty {
            ua?.delegate?.sipCall(self, didReceiveAckAnswer: request.body)
        }
        restartSessionTimer()
    }

    // MARK: - CANCEL

    func receiveCancel() {
        guard state == .incoming || state == .ringing, inviteTransaction.canRespond else { return }
        inviteTransaction.respond(SIPResponse(replyingTo: inviteTransaction.request, status: 487, toTag: localTag))
        logger.info("sip call cancelled by the caller")
        end(.cancelled)
    }

    // MARK: - In-dialog requests from the phone

    func receiveInDialog(_ request: SIPRequest, _ tx: SIPServerTransaction, _ inbound: SIPInbound) {
        guard let cseq = request.cseq, dialog.acceptRemoteCSeq(cseq.number, method: request.method) else {
            tx.respond(SIPResponse(replyingTo: request, status: 500, reason: "Server Internal Error (CSeq out of order)"))
            return
        }
        if state == .ended && request.method != .bye {
            tx.respond(SIPResponse(replyingTo: request, status: 481))
            return
        }
        switch request.method {
        case .bye:
            tx.respond(SIPResponse(replyingTo: request, status: 200))
            stopRetransmitting()
            if state == .ended {
                finishAfterLocalHangup()
            } else {
                logger.info("sip call ended by the phone")
                end(.remoteHangup)
            }
        case .info:
            receiveInfo(request, tx)
        case .invite:
            receiveReinvite(request, tx, inbound)
        case .update:
            receiveUpdate(request, tx)
        case .options:
            if let ua { tx.respond(ua.optionsResponse(request)) }
        default:
            let known = SIPUserAgent.knownMethods.contains(request.method)
            var response = SIPResponse(replyingTo: request, status: known ? 405 : 501)
            response.headers.add(SIPHeaderName.allow, SIPUserAgent.allowHeader)
            tx.respond(response)
        }
    }

    private func receiveInfo(_ request: SIPRequest, _ tx: SIPServerTransaction) {
        // An empty INFO is a keep-alive probe some PBXes send.
        guard !request.body.isEmpty else {
            tx.respond(SIPResponse(replyingTo: request, status: 200))
            return
        }
        do {
            let info = try DTMFInfo(contentType: request.contentType ?? "", body: request.body)
            tx.respond(SIPResponse(replyingTo: request, status: 200))
            ua?.delegate?.sipCall(self, didReceiveInfoDigit: info.digit, durationMs: info.durationMs)
        } catch DTMFInfo.ParseError.unsupportedContentType(let type) {
            var response = SIPResponse(replyingTo: request, status: 415, reason: "Unsupported Media Type (\(SIPTransport.sanitizedReason(type)))")
            response.headers.add(SIPHeaderName.accept, DTMFInfo.contentTypes.joined(separator: ", "))
            tx.respond(response)
        } catch {
            tx.respond(SIPResponse(replyingTo: request, status: 400, reason: "Bad Request (\(error))"))
        }
    }

    /// re-INVITE (§14.2): a new offer (or none: we offer, the answer comes in the ACK), a session refresh, a
    /// target refresh. Only one at a time.
    private func receiveReinvite(_ request: SIPRequest, _ tx: SIPServerTransaction, _ inbound: SIPInbound) {
        guard let ua else { return }
        guard !reinviteInProgress, pending2xx == nil else {
            var response = SIPResponse(replyingTo: request, status: 491)
            response.headers.add(SIPHeaderName.retryAfter, "\(Int.random(in: 1...4))")
            tx.respond(response)
            return
        }
        tx.respond(SIPResponse(replyingTo: request, status: 100))
        let refreshed: SIPSessionTimer.Negotiation
        switch SIPSessionTimer.negotiate(request, preferred: 0, minimum: ua.configuration.minSessionExpires) {
        case .tooSmall(let minimum):
            var response = SIPResponse(replyingTo: request, status: 422)
            response.headers.add(SIPHeaderName.minSE, "\(minimum)")
            tx.respond(response)
            return
        case .accepted(let negotiation):
            refreshed = negotiation
        }
        let answerSDP: [UInt8]
        let answerInAck = request.body.isEmpty
        if answerInAck {
            answerSDP = ua.delegate?.sipCallSDPForRefresh(self) ?? localSDP ?? []
        } else {
            guard let sdp = ua.delegate?.sipCall(self, didReceiveReoffer: request.body) else {
                tx.respond(SIPResponse(replyingTo: request, status: 488))
                return
            }
            answerSDP = sdp
        }
        dialog.refreshTarget(from: request)
        localSDP = answerSDP
        session = refreshed
        var ok = SIPResponse(replyingTo: request, status: 200)
        addDialogHeaders(&ok, ua)
        ok.headers.remove(SIPHeaderName.recordRoute)  // the route set is fixed at dialog creation
        session.apply(to: &ok)
        ok.headers.add(SIPHeaderName.contentType, "application/sdp")
        ok.body = answerSDP
        ua.decorate(&ok)
        tx.respond(ok)
        reinviteInProgress = true
        startRetransmitting(ok, cseq: request.cseq?.number ?? 0, source: inbound.source, kind: inbound.kind, answerInAck: answerInAck)
    }

    /// UPDATE (RFC 3311): with SDP a new offer, without one a session refresh.
    private func receiveUpdate(_ request: SIPRequest, _ tx: SIPServerTransaction) {
        guard let ua else { return }
        var refreshed = session
        if case .accepted(let negotiation) = SIPSessionTimer.negotiate(request, preferred: 0, minimum: ua.configuration.minSessionExpires) {
            refreshed = negotiation
        } else {
            var response = SIPResponse(replyingTo: request, status: 422)
            response.headers.add(SIPHeaderName.minSE, "\(ua.configuration.minSessionExpires)")
            tx.respond(response)
            return
        }
        var ok = SIPResponse(replyingTo: request, status: 200)
        if !request.body.isEmpty {
            guard let sdp = ua.delegate?.sipCall(self, didReceiveReoffer: request.body) else {
                tx.respond(SIPResponse(replyingTo: request, status: 488))
                return
            }
            localSDP = sdp
            ok.headers.add(SIPHeaderName.contentType, "application/sdp")
            ok.body = sdp
        }
        dialog.refreshTarget(from: request)
        ok.headers.add(SIPHeaderName.contact, SIPNameAddress(uri: dialog.localContact).description)
        session = refreshed
        session.apply(to: &ok)
        tx.respond(ok)
        restartSessionTimer()
    }

    // MARK: - Our in-dialog requests

    /// Where our in-dialog requests go: the first route, the remote target, or back to the INVITE's source
    /// (symmetric signalling for phones behind NAT whose Contact is unreachable).
    private func requestDestination() throws -> (SocketAddress, SIPTransportKind) {
        guard let ua else { throw SIPTransportError.notStarted }
        if dialog.routeSet.isEmpty && ua.configuration.symmetricSignaling {
            return (remoteAddress, transportKind)
        }
        return try ua.destination(for: dialog.nextHop, defaultKind: transportKind)
    }

    /// Sends a request in the dialog through a client transaction.
    @discardableResult
    func sendInDialog(_ method: SIPMethod, headers extra: [(String, String)] = [], body: [UInt8] = [], contentType: String? = nil,
                      onResponse: @escaping (SIPResponse) -> Void = { _ in },
                      onFailure: @escaping (SIPClientTransactionFailure) -> Void = { _ in }) -> SIPRequest? {
        guard let ua else { return nil }
        let destination: (SocketAddress, SIPTransportKind)
        do { destination = try requestDestination() } catch {
            logger.warning("sip cannot send \(method): \(error)")
            onFailure(.transport("\(error)"))
            return nil
        }
        var request = dialog.makeRequest(method)
        request.headers.prepend(SIPHeaderName.via, ua.makeVia(destination.1).description)
        request.headers.add(SIPHeaderName.userAgent, ua.configuration.userAgent)
        for (name, value) in extra { request.headers.add(name, value) }
        if let contentType { request.headers.add(SIPHeaderName.contentType, contentType) }
        request.body = body
        ua.startClientTransaction(request, to: destination.0, kind: destination.1, onResponse: onResponse, onFailure: onFailure)
        return request
    }

    private func sendBye() {
        sendInDialog(.bye, onFailure: { [logger] failure in logger.debug("sip BYE failed: \(failure)") })
    }

    /// An ACK for a 2xx to our re-INVITE (a new transaction of its own, §13.2.2.4).
    private func sendAck(for response: SIPResponse, cseq: UInt32) {
        guard let ua, let destination = try? requestDestination() else { return }
        var ack = dialog.makeRequest(.ack, cseq: cseq)
        ack.headers.prepend(SIPHeaderName.via, ua.makeVia(destination.1).description)
        lastReinviteAck = ack
        ua.sendStateless(ack, to: destination.0, kind: destination.1)
    }

    func receiveRetransmitted2xx(_ response: SIPResponse) {
        guard let ack = lastReinviteAck, ack.cseq?.number == response.cseq?.number, let ua,
              let destination = try? requestDestination() else { return }
        ua.sendStateless(ack, to: destination.0, kind: destination.1)
    }

    // MARK: - Session timer (RFC 4028 §10)

    private func restartSessionTimer() {
        refreshTimer?.cancel()
        expiryTimer?.cancel()
        guard let ua, let interval = session.interval, state == .confirmed else { return }
        let loop = ua.eventLoop
        if session.weRefresh {
            refreshTimer = loop.scheduleTask(in: .milliseconds(Int64(interval) * 500)) { [weak self] in self?.refreshSession() }
            expiryTimer = loop.scheduleTask(in: .seconds(Int64(interval))) { [weak self] in self?.sessionExpired() }
        } else {
            // The refresher has until the interval minus min(32 s, interval/3) (§10).
            let ms = Int64(interval) * 1000 - min(32_000, Int64(interval) * 1000 / 3)
            expiryTimer = loop.scheduleTask(in: .milliseconds(ms)) { [weak self] in self?.sessionExpired() }
        }
    }

    private func sessionExpired() {
        guard state == .confirmed else { return }
        logger.info("sip session timer expired")
        sendBye()
        end(.sessionExpired)
    }

    /// We refresh: UPDATE without SDP when the phone allows it (no media renegotiation), else a re-INVITE with
    /// the same SDP.
    private func refreshSession() {
        guard state == .confirmed, let ua, let interval = session.interval else { return }
        let headers = [(SIPHeaderName.sessionExpires, "\(interval);refresher=uas"), (SIPHeaderName.supported, "timer")]
        let onFailure: (SIPClientTransactionFailure) -> Void = { [weak self] failure in
            self?.logger.info("sip session refresh failed: \(failure)")
        }
        if peerAllowsUpdate {
            sendInDialog(.update, headers: headers, onResponse: { [weak self] response in
                self?.refreshAnswered(response)
            }, onFailure: onFailure)
            return
        }
        guard !reinviteInProgress else { return }
        let sdp = ua.delegate?.sipCallSDPForRefresh(self) ?? localSDP ?? []
        reinviteInProgress = true
        var sentCSeq: UInt32 = 0
        let request = sendInDialog(.invite, headers: headers, body: sdp, contentType: sdp.isEmpty ? nil : "application/sdp",
                                   onResponse: { [weak self] response in
            guard let self, !response.isProvisional else { return }
            self.reinviteInProgress = false
            if response.isSuccess { self.sendAck(for: response, cseq: sentCSeq) }
            self.refreshAnswered(response)
        }, onFailure: { [weak self] failure in
            self?.reinviteInProgress = false
            onFailure(failure)
        })
        sentCSeq = request?.cseq?.number ?? 0
        if !sdp.isEmpty { localSDP = sdp }
    }

    private func refreshAnswered(_ response: SIPResponse) {
        guard !response.isProvisional, state == .confirmed else { return }
        if response.isSuccess {
            if let header = response.headers[SIPHeaderName.sessionExpires],
               let (interval, refresher) = SIPSessionTimer.parseSessionExpires(header) {
                session.interval = interval
                session.refresher = refresher ?? .uas
            }
            restartSessionTimer()
        } else if response.status == 481 || response.status == 408 {
            // §12.2.1.2: the dialog is gone on the other side.
            end(.dialogGone(status: response.status))
        }
        // Other failures leave the expiry timer running: the session ends when it runs out.
    }

    // MARK: - Ending

    func transportFailed(_ why: String) {
        guard state != .ended else { return }
        end(.transportFailure(why))
    }

    /// Ends the call once: timers stopped, removed from the UA, delegate told.
    private func end(_ reason: SIPCallEndReason) {
        endNotifying(reason, keepDialog: false)
    }

    private var endNotified = false

    /// `keepDialog`: the delegate is told now but the dialog stays to finish the BYE handshake after the ACK.
    private func endNotifying(_ reason: SIPCallEndReason, keepDialog: Bool) {
        if !keepDialog {
            state = .ended
            stopRetransmitting()
            refreshTimer?.cancel()
            expiryTimer?.cancel()
            ua?.removeCall(self)
        } else {
            state = .ended
            refreshTimer?.cancel()
            expiryTimer?.cancel()
        }
        callsByInviteDone()
        guard !endNotified else { return }
        endNotified = true
        ua?.delegate?.sipCallDidEnd(self, reason: reason)
    }

    /// After a local hangup during the ACK wait: the BYE is out (or the phone hung up): forget the dialog.
    private func finishAfterLocalHangup() {
        stopRetransmitting()
        ua?.removeCall(self)
    }
}

// Loop-confined: every mutable property is touched only on the UA's event loop (public methods hop there).
extension SIPCall: @unchecked Sendable {}

extension SIPCall: CustomStringConvertible {
    public var description: String { "SIPCall(\(callID), from: \(remoteUser ?? "?"), to: \(requestURIUser ?? "?"))" }
}
