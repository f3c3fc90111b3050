// Registration with a PBX or SIP provider (RFC 3261 §10): REGISTER with digest, refresh at half the granted
// expiry, retry with exponential backoff after a failure, de-REGISTER (Expires: 0) on stop. A registrar that
// restarted and lost its bindings is healed by the next refresh; one that is down shows as `failed` until
// a retry gets through.

import NIOCore

public enum SIPRegistrationState: Equatable, Sendable {
    case unregistered
    case registering
    /// Bound for this many seconds (as granted by the registrar).
    case registered(expires: Int)
    case failed(reason: String)
}

final class SIPRegistration {
    private unowned let ua: SIPUserAgent
    let settings: SIPConfiguration.RegistrationSettings
    private(set) var state: SIPRegistrationState = .unregistered
    /// REGISTERs that got a 2xx with a binding (tests watch refreshes with it).
    private(set) var successfulRegistrations = 0

    private let callID: String
    private let fromTag: String
    private var cseq: UInt32 = 0
    private var digest: DigestClient
    private var requestedExpires: Int
    /// Challenges answered for the current REGISTER; a second plain 401 means wrong credentials.
    private var challengesAnswered = 0
    private var timer: Scheduled<Void>?
    private var retryDelay: TimeAmount
    private var stopping = false
    private var stopPromise: EventLoopPromise<Void>?

    init(ua: SIPUserAgent, settings: SIPConfiguration.RegistrationSettings) {
        self.ua = ua
        self.settings = settings
        self.callID = ua.newCallID()
        self.fromTag = ua.newTag()
        self.digest = DigestClient(username: settings.authUsername ?? settings.aorUser, password: settings.password ?? "")
        self.requestedExpires = settings.expires
        self.retryDelay = settings.retryBase
    }

    var aor: SIPURI { SIPURI(secure: settings.registrar.secure, user: settings.aorUser, host: settings.registrar.host) }

    func start() {
        stopping = false
        setState(.registering)
        sendRegister(expires: requestedExpires, authorization: nil)
    }

    /// De-registers; the future completes when the registrar answered or the transaction gave up.
    func stop() -> EventLoopFuture<Void> {
        timer?.cancel()
        stopping = true
        guard case .registered = state else {
            setState(.unregistered)
            return ua.eventLoop.makeSucceededVoidFuture()
        }
        let promise = ua.eventLoop.makePromise(of: Void.self)
        stopPromise = promise
        challengesAnswered = 0
        sendRegister(expires: 0, authorization: nil)
        return promise.futureResult
    }

    private func setState(_ newState: SIPRegistrationState) {
        var notify = newState != state
        if case .registered = newState { notify = true }  // a successful refresh is news too
        state = newState
        if notify {
            ua.delegate?.sipUserAgent(ua, registrationStateDidChange: newState)
        }
    }

    private func sendRegister(expires: Int, authorization: (name: String, value: String)?) {
        let target = settings.outboundProxy ?? settings.registrar
        let destination: (SocketAddress, SIPTransportKind)
        do { destination = try ua.destination(for: target, defaultKind: settings.transport) } catch {
            failed("\(error)")
            return
        }
        cseq += 1
        var requestURI = settings.registrar
        requestURI.user = nil
        var headers = SIPHeaders()
        headers.add(SIPHeaderName.via, ua.makeVia(destination.1).description)
        headers.add(SIPHeaderName.maxForwards, "70")
        headers.add(SIPHeaderName.from, SIPNameAddress(uri: aor, parameters: [SIPParameter("tag", fromTag)]).description)
        headers.add(SIPHeaderName.to, SIPNameAddress(uri: aor).description)
        headers.add(SIPHeaderName.callID, callID)
        headers.add(SIPHeaderName.cseq, "\(cseq) REGISTER")
        if let proxy = settings.outboundProxy {
            var route = proxy
            route.parameters.set("lr", nil)
            headers.add(SIPHeaderName.route, SIPNameAddress(uri: route).description)
        }
        headers.add(SIPHeaderName.contact, SIPNameAddress(uri: contact(destination.1)).description)
        headers.add(SIPHeaderName.expires, "\(expires)")
        headers.add(SIPHeaderName.allow, SIPUserAgent.allowHeader)
        headers.add(SIPHeaderName.userAgent, ua.configuration.userAgent)
        if let authorization { headers.add(authorization.name, authorization.value) }
        let request = SIPRequest(method: .register, uri: requestURI, headers: headers)
        ua.startClientTransaction(request, to: destination.0, kind: destination.1, onResponse: { [weak self] response in
            self?.handle(response, to: request, expires: expires)
        }, onFailure: { [weak self] failure in
            self?.failed("\(failure)")
        })
    }

    private func contact(_ kind: SIPTransportKind) -> SIPURI { ua.contactURI(user: settings.aorUser, kind: kind) }

    private func handle(_ response: SIPResponse, to request: SIPRequest, expires: Int) {
        guard !response.isProvisional else { return }
        switch response.status {
        case 200..<300:
            challengesAnswered = 0
            if expires == 0 {
                setState(.unregistered)
                finishStop()
                return
            }
            let granted = grantedExpires(response) ?? expires
            guard granted > 0 else {
                failed("registrar returned no binding")
                return
            }
            successfulRegistrations += 1
            retryDelay = settings.retryBase
            ua.logger.info("sip registered", metadata: ["aor": "\(aor)", "expires": "\(granted)"])
            setState(.registered(expires: granted))
            // Refresh at half the granted time (at least 1 s), well before the binding lapses.
            schedule(after: .milliseconds(Int64(max(1, granted)) * 500)) { [weak self] in
                guard let self else { return }
                self.sendRegister(expires: self.requestedExpires, authorization: nil)
            }
        case 401, 407:
            let stale = response.headers.values(response.status == 401 ? SIPHeaderName.wwwAuthenticate : SIPHeaderName.proxyAuthenticate)
                .compactMap { try? DigestChallenge(parsing: $0) }.contains { $0.stale }
            guard challengesAnswered == 0 || (stale && challengesAnswered < 3), settings.password != nil else {
                failed("authentication rejected (\(response.status))")
                return
            }
            do {
                let authorization = try digest.authorize(response, method: .register, uri: request.uri.description)
                challengesAnswered += 1
                sendRegister(expires: expires, authorization: authorization)
            } catch {
                failed("\(error)")
            }
        case 423:
            // Interval Too Brief: the registrar names its minimum.
            if let minimum = response.headers["Min-Expires"].flatMap({ Int(SIPSyntax.trim($0[...])) }), minimum > requestedExpires {
                requestedExpires = minimum
                sendRegister(expires: minimum, authorization: nil)
            } else {
                failed("423 without a usable Min-Expires")
            }
        default:
            failed("\(response.status) \(response.reason)")
        }
    }

    /// The expiry the registrar granted to our contact: its `expires` parameter, else the Expires header.
    private func grantedExpires(_ response: SIPResponse) -> Int? {
        let ours = [contact(.udp), contact(.tcp)]
        for c in response.contacts where ours.contains(where: { $0.host == c.uri.host && $0.port == c.uri.port && $0.user == c.uri.user }) {
            if let v = c.parameters.lookup("expires").flatMap({ $0 }).flatMap({ Int($0) }) { return v }
        }
        return response.headers[SIPHeaderName.expires].flatMap { Int(SIPSyntax.trim($0[...])) }
    }

    private func failed(_ reason: String) {
        challengesAnswered = 0
        if stopping {
            setState(.unregistered)
            finishStop()
            return
        }
        ua.logger.warning("sip registration failed: \(reason); retrying in \(retryDelay.nanoseconds / 1_000_000) ms")
        setState(.failed(reason: reason))
        let delay = retryDelay
        retryDelay = min(.nanoseconds(retryDelay.nanoseconds * 2), settings.retryMax)
        schedule(after: delay) { [weak self] in
            guard let self else { return }
            self.sendRegister(expires: self.requestedExpires, authorization: nil)
        }
    }

    private func schedule(after delay: TimeAmount, _ body: @escaping () -> Void) {
        timer?.cancel()
        guard !stopping else { return }
        timer = ua.eventLoop.scheduleTask(in: delay) { body() }
    }

    private func finishStop() {
        stopPromise?.succeed(())
        stopPromise = nil
    }
}

// Loop-confined: driven by the UA on its event loop only.
extension SIPRegistration: @unchecked Sendable {}
