// Dispatch of received messages (on the UA's loop): responses to client transactions, requests to existing
// server transactions (retransmissions), to calls (in-dialog), or to the handlers of new requests. Policy
// checks come first: source allow list (403), Require (420), Max-Forwards (483), digest on INVITE (401).

import NIOCore

extension SIPUserAgent {
    static let allowedMethods: [SIPMethod] = [.invite, .ack, .cancel, .bye, .options, .info, .update]
    static var allowHeader: String { allowedMethods.map(\.rawValue).joined(separator: ", ") }
    /// Methods we know but do not serve (405 rather than 501).
    static let knownMethods: [SIPMethod] = [.register, .prack, .subscribe, .notify, .refer, .message, .publish]
    static let supportedExtensions = ["timer"]

    func receive(_ inbound: SIPInbound) {
        guard started else { return }
        switch inbound.message {
        case .response(let response): receiveResponse(response)
        case .request(let request): receiveRequest(request, inbound)
        }
    }

    private func receiveResponse(_ response: SIPResponse) {
        guard let branch = response.topVia?.branch, let cseq = response.cseq else { return }
        if let tx = clientTransactions[SIPClientTransaction.key(branch: branch, method: cseq.method)] {
            tx.receive(response)
            return
        }
        // A retransmitted 2xx to our re-INVITE after its transaction ended: the dialog ACKs it again (§13.2.2.4).
        if cseq.method == .invite, response.isSuccess, let callID = response.callID, let tag = response.from?.tag,
           let call = calls[Self.callKey(callID: callID, localTag: tag)] {
            call.receiveRetransmitted2xx(response)
            return
        }
        logger.debug("sip dropped unmatched response \(response.status) \(cseq)")
    }

    private func receiveRequest(_ request: SIPRequest, _ inbound: SIPInbound) {
        let key = SIPServerTransaction.key(for: request)
        if request.method == .ack {
            if let tx = serverTransactions[key], tx.receiveAck() { return }
            // The ACK of a 2xx is a request of its own in the dialog.
            if let tag = request.to?.tag, let callID = request.callID,
               let call = calls[Self.callKey(callID: callID, localTag: tag)] {
                call.receiveAck(request)
            }
            return
        }
        if let tx = serverTransactions[key] {
            tx.receiveRetransmission()
            return
        }
        let tx = makeServerTransaction(request, inbound)
        if !configuration.allowedSources.isEmpty && !configuration.allowedSources.contains(where: { $0.contains(inbound.source) }) {
            logger.info("sip rejected \(request.method) from \(inbound.source): not in the allowed sources")
            tx.respond(SIPResponse(replyingTo: request, status: 403, reason: "Forbidden (source not allowed)", toTag: newTag()))
            return
        }
        if let mf = request.headers[SIPHeaderName.maxForwards], mf == "0", request.method != .options {
            tx.respond(SIPResponse(replyingTo: request, status: 483, toTag: newTag()))
            return
        }
        let unsupported = request.optionTags(SIPHeaderName.require).filter { !Self.supportedExtensions.contains($0) }
        if !unsupported.isEmpty, request.method != .cancel {
            var response = SIPResponse(replyingTo: request, status: 420, toTag: newTag())
            response.headers.add(SIPHeaderName.unsupported, unsupported.joined(separator: ", "))
            tx.respond(response)
            return
        }
        if request.method == .cancel {
            receiveCancel(request, tx)
            return
        }
        if let toTag = request.to?.tag {
            guard let callID = request.callID, let call = calls[Self.callKey(callID: callID, localTag: toTag)] else {
                tx.respond(SIPResponse(replyingTo: request, status: 481))
                return
            }
            call.receiveInDialog(request, tx, inbound)
            return
        }
        switch request.method {
        case .invite:
            receiveInvite(request, tx, inbound)
        case .options:
            tx.respond(optionsResponse(request))
        case .bye, .info, .update:
            tx.respond(SIPResponse(replyingTo: request, status: 481, toTag: newTag()))
        default:
            let known = Self.knownMethods.contains(request.method)
            var response = SIPResponse(replyingTo: request, status: known ? 405 : 501, toTag: newTag())
            response.headers.add(SIPHeaderName.allow, Self.allowHeader)
            tx.respond(response)
        }
    }

    func optionsResponse(_ request: SIPRequest) -> SIPResponse {
        var response = SIPResponse(replyingTo: request, status: 200, toTag: request.to?.tag == nil ? newTag() : nil)
        response.headers.add(SIPHeaderName.allow, Self.allowHeader)
        response.headers.add(SIPHeaderName.accept, "application/sdp, application/dtmf-relay, application/dtmf")
        response.headers.add(SIPHeaderName.supported, Self.supportedExtensions.joined(separator: ", "))
        return response
    }

    /// CANCEL (§9.2): 200 to the CANCEL itself, then 487 to the INVITE if it is still unanswered.
    private func receiveCancel(_ request: SIPRequest, _ tx: SIPServerTransaction) {
        var inviteRequest = request
        inviteRequest.method = .invite
        let inviteKey = SIPServerTransaction.key(for: inviteRequest)
        guard let inviteTx = serverTransactions[inviteKey] else {
            tx.respond(SIPResponse(replyingTo: request, status: 481, toTag: newTag()))
            return
        }
        let call = callsByInviteKey[inviteKey]
        tx.respond(SIPResponse(replyingTo: request, status: 200, toTag: call?.localTag ?? newTag()))
        if let call {
            call.receiveCancel()
        } else if inviteTx.canRespond {
            inviteTx.respond(SIPResponse(replyingTo: inviteTx.request, status: 487, toTag: newTag()))
        }
    }

    /// A new INVITE: authenticate, check the session timer and the Contact, send 100 and hand the call out.
    private func receiveInvite(_ request: SIPRequest, _ tx: SIPServerTransaction, _ inbound: SIPInbound) {
        tx.respond(SIPResponse(replyingTo: request, status: 100))
        if let digestServer, let credentials = configuration.inboundCredentials {
            guard authorize(request, tx, digestServer, credentials) else { return }
        }
        let session: SIPSessionTimer.Negotiation
        switch SIPSessionTimer.negotiate(request, preferred: configuration.sessionExpires, minimum: configuration.minSessionExpires) {
        case .tooSmall(let minimum):
            var response = SIPResponse(replyingTo: request, status: 422, toTag: newTag())
            response.headers.add(SIPHeaderName.minSE, "\(minimum)")
            tx.respond(response)
            return
        case .accepted(let negotiation):
            session = negotiation
        }
        let localTag = newTag()
        let call: SIPCall
        do {
            call = try SIPCall(ua: self, invite: request, transaction: tx, inbound: inbound, localTag: localTag, session: session)
        } catch {
            tx.respond(SIPResponse(replyingTo: request, status: 400, reason: "Bad Request (\(error))", toTag: localTag))
            return
        }
        calls[Self.callKey(callID: call.callID, localTag: localTag)] = call
        callsByInviteKey[tx.key] = call
        call.logger.info("sip incoming call", metadata: ["from": "\(call.remoteUser ?? "?")", "to": "\(call.requestURIUser ?? "?")",
                                                        "source": "\(inbound.source)"])
        guard let delegate else {
            call.reject(status: 480, reason: "No Service")
            return
        }
        delegate.sipUserAgent(self, incomingCall: call)
    }

    /// Digest check of an INVITE (RFC 3261 §22.2). Returns true when it may proceed; otherwise answered.
    private func authorize(_ request: SIPRequest, _ tx: SIPServerTransaction, _ server: DigestServer,
                           _ credentials: SIPConfiguration.InboundCredentials) -> Bool {
        func challenge(stale: Bool) {
            var response = SIPResponse(replyingTo: request, status: 401, toTag: newTag())
            response.headers.add(SIPHeaderName.wwwAuthenticate, server.challenge(stale: stale).description)
            tx.respond(response)
        }
        // Only credentials for our realm count; others (for a proxy on the way) are ignored.
        let ours = request.headers.values(SIPHeaderName.authorization).compactMap { try? DigestCredentials(parsing: $0) }
            .first { $0.realm == credentials.realm }
        guard let provided = ours else {
            challenge(stale: false)
            return false
        }
        let verdict = server.verify(provided, method: request.method.rawValue) { username in
            username == credentials.username ? credentials.secret : nil
        }
        switch verdict {
        case .authorized:
            return true
        case .stale:
            challenge(stale: true)
        case .replay:
            logger.info("sip replayed digest credentials from \(request.topVia?.received ?? "?")")
            challenge(stale: false)
        case .rejected(let why):
            logger.info("sip digest rejected: \(why)")
            tx.respond(SIPResponse(replyingTo: request, status: 403, reason: "Forbidden (bad credentials)", toTag: newTag()))
        }
        return false
    }
}
