// Dialog state (RFC 3261 §12): identifiers, sequence numbers, the route set learned from Record-Route and the
// remote target from Contact, and construction of in-dialog requests with loose (`;lr`) or strict routing.

public struct SIPDialog: Equatable, Sendable {
    public var callID: String
    public var localTag: String
    public var remoteTag: String?
    /// Our address of record in the dialog (From of our requests).
    public var localURI: SIPNameAddress
    public var remoteURI: SIPNameAddress
    public var localSeq: UInt32
    /// Highest CSeq seen from the peer; nil until the first request (UAC side).
    public var remoteSeq: UInt32?
    /// Proxies our requests must traverse, nearest first.
    public var routeSet: [SIPNameAddress]
    /// Where our requests are addressed (the peer's Contact).
    public var remoteTarget: SIPURI
    public var localContact: SIPURI

    public enum DialogError: Error, Equatable, CustomStringConvertible {
        case missing(String)
        public var description: String {
            switch self {
            case .missing(let what): return "dialog cannot be formed: no usable \(what)"
            }
        }
    }

    public init(callID: String, localTag: String, remoteTag: String?, localURI: SIPNameAddress, remoteURI: SIPNameAddress,
                localSeq: UInt32, remoteSeq: UInt32?, routeSet: [SIPNameAddress], remoteTarget: SIPURI, localContact: SIPURI) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
        self.localURI = localURI
        self.remoteURI = remoteURI
        self.localSeq = localSeq
        self.remoteSeq = remoteSeq
        self.routeSet = routeSet
        self.remoteTarget = remoteTarget
        self.localContact = localContact
    }

    /// The UAS side of a dialog created by `request` (§12.1.1): route set = Record-Route in order.
    public init(uas request: SIPRequest, localTag: String, localContact: SIPURI, localSeq: UInt32 = 1) throws {
        guard let callID = request.callID else { throw DialogError.missing("Call-ID") }
        guard let from = request.from else { throw DialogError.missing("From") }
        guard var to = request.to else { throw DialogError.missing("To") }
        guard let target = request.contacts.first?.uri else { throw DialogError.missing("Contact") }
        guard let cseq = request.cseq else { throw DialogError.missing("CSeq") }
        to.tag = localTag
        self.init(callID: callID, localTag: localTag, remoteTag: from.tag, localURI: to, remoteURI: from,
                  localSeq: localSeq, remoteSeq: cseq.number, routeSet: request.recordRoutes, remoteTarget: target,
                  localContact: localContact)
    }

    /// The UAC side of a dialog established by `response` to our `request` (§12.1.2): route set = Record-Route reversed.
    public init(uac request: SIPRequest, response: SIPResponse) throws {
        guard let callID = request.callID else { throw DialogError.missing("Call-ID") }
        guard let from = request.from, let localTag = from.tag else { throw DialogError.missing("From tag") }
        guard let to = response.to else { throw DialogError.missing("To") }
        guard let target = response.contacts.first?.uri else { throw DialogError.missing("Contact") }
        guard let localContact = request.contacts.first?.uri else { throw DialogError.missing("our Contact") }
        self.init(callID: callID, localTag: localTag, remoteTag: to.tag, localURI: from, remoteURI: to,
                  localSeq: request.cseq?.number ?? 1, remoteSeq: nil, routeSet: response.recordRoutes.reversed(),
                  remoteTarget: target, localContact: localContact)
    }

    /// Where an in-dialog request goes first: the first route, or the remote target when there is none.
    public var nextHop: SIPURI { routeSet.first?.uri ?? remoteTarget }

    /// A new in-dialog request (§12.2.1.1). CSeq is incremented except for ACK and CANCEL, which reuse
    /// `cseq` of the request they belong to. The caller adds its Via (with a fresh branch) on top.
    public mutating func makeRequest(_ method: SIPMethod, cseq: UInt32? = nil) -> SIPRequest {
        let number: UInt32
        if let cseq {
            number = cseq
        } else {
            localSeq = (localSeq &+ 1) & 0x7FFF_FFFF
            number = localSeq
        }
        var headers = SIPHeaders()
        var to = remoteURI
        to.tag = remoteTag
        var from = localURI
        from.tag = localTag
        headers.add(SIPHeaderName.maxForwards, "70")
        headers.add(SIPHeaderName.from, from.description)
        headers.add(SIPHeaderName.to, to.description)
        headers.add(SIPHeaderName.callID, callID)
        headers.add(SIPHeaderName.cseq, "\(number) \(method.rawValue)")
        let uri: SIPURI
        if let first = routeSet.first, !first.uri.isLooseRouter {
            // Strict router (RFC 2543 style): it gets the Request-URI, the remote target goes last in Route.
            var strictURI = first.uri
            strictURI.parameters.removeAll { ["method", "maddr", "ttl", "transport", "lr"].contains($0.name.lowercased()) }
            strictURI.headers = []
            uri = strictURI
            for route in routeSet.dropFirst() { headers.add(SIPHeaderName.route, route.description) }
            headers.add(SIPHeaderName.route, SIPNameAddress(uri: remoteTarget).description)
        } else {
            uri = remoteTarget
            for route in routeSet { headers.add(SIPHeaderName.route, route.description) }
        }
        headers.add(SIPHeaderName.contact, SIPNameAddress(uri: localContact).description)
        return SIPRequest(method: method, uri: uri, headers: headers)
    }

    /// An in-dialog request from the peer: false when its CSeq is lower than one seen (§12.2.2: answer 500).
    public mutating func acceptRemoteCSeq(_ number: UInt32, method: SIPMethod) -> Bool {
        if method == .ack || method == .cancel { return true }
        if let remoteSeq, number <= remoteSeq { return false }
        remoteSeq = number
        return true
    }

    /// A target refresh (re-INVITE, UPDATE) may carry a new Contact (§12.2.2).
    public mutating func refreshTarget(from request: SIPRequest) {
        if let contact = request.contacts.first?.uri { remoteTarget = contact }
    }
}
