// ICE-lite (RFC 8445 §2.5) for one transport: answer the peer's connectivity checks, remember which
// candidate pair the controlling peer nominated, and track consent freshness (RFC 7675).
// Pure logic over STUN bytes: the caller owns the sockets and the clock.

import NIOCore

/// How a check reached us, which is where media for that candidate pair goes: an address on the shared UDP socket,
/// or one ICE-TCP connection (RFC 6544), which stands for its pair by itself.
enum IceRoute {
    case udp(SocketAddress)
    case tcp(IceTcpConnection)

    /// The peer's side of the pair, as XOR-MAPPED-ADDRESS reports it.
    var remoteAddress: SocketAddress? {
        switch self {
        case .udp(let address): return address
        case .tcp(let connection): return connection.remoteAddress
        }
    }

    var isTcp: Bool { if case .tcp = self { return true } else { return false } }
}

extension IceRoute: CustomStringConvertible {
    var description: String {
        switch self {
        case .udp(let address): return "udp \(address)"
        case .tcp(let connection): return "tcp \(connection.remoteAddress.map { "\($0)" } ?? "?")"
        }
    }
}

extension IceRoute: Equatable {
    static func == (lhs: IceRoute, rhs: IceRoute) -> Bool {
        switch (lhs, rhs) {
        case (.udp(let a), .udp(let b)): return a == b
        case (.tcp(let a), .tcp(let b)): return a === b
        default: return false
        }
    }
}

/// ICE state of one transport. The SFU never sends checks; it only answers them.
struct IceLite {
    /// Default consent lifetime: browsers check about every 5 s and give up after about 30 s without answers.
    static let defaultConsentTimeout: TimeAmount = .seconds(30)

    let localUfrag: String
    let localPassword: String
    private let passwordKey: [UInt8]
    /// The peer's ufrag from its SDP; checks naming another one are from a stale (pre-restart) session.
    let remoteUfrag: String?

    /// Where media goes: the route of the nominated pair, else of the first valid check.
    private(set) var selectedRoute: IceRoute?
    /// The selected UDP address (nil when the selected pair is ICE-TCP).
    var selectedAddress: SocketAddress? {
        if case .udp(let address) = selectedRoute { return address } else { return nil }
    }
    private(set) var nominated = false
    private(set) var lastValidCheck: NIODeadline?
    private(set) var rejectedChecks = 0

    init(localUfrag: String, localPassword: String, remoteUfrag: String?) {
        self.localUfrag = localUfrag
        self.localPassword = localPassword
        self.passwordKey = Array(localPassword.utf8)
        self.remoteUfrag = remoteUfrag
    }

    /// What to do with one received STUN message.
    enum Outcome: Equatable {
        /// Send `response` back to the source; `selected` says the source is now the media address.
        case respond(response: [UInt8], selected: Bool)
        /// Not for us, or failed authentication: drop silently (answering would help an attacker probe).
        case drop
    }

    /// Handles a datagram that the mux classified as STUN and routed here by USERNAME.
    mutating func handle(_ raw: [UInt8], from source: SocketAddress, now: NIODeadline) -> Outcome {
        handle(raw, over: .udp(source), now: now)
    }

    /// Handles a STUN message that arrived over `route` (a UDP datagram or an ICE-TCP frame).
    mutating func handle(_ raw: [UInt8], over route: IceRoute, now: NIODeadline) -> Outcome {
        guard let message = try? STUNMessage.parse(raw),
              message.method == .binding, message.messageClass == .request,
              let username = message.username, Self.matches(username: username, local: localUfrag, remote: remoteUfrag),
              (try? STUNMessage.verifyFingerprint(raw)) == true,
              (try? STUNMessage.verifyIntegrity(raw, key: passwordKey)) == true,
              let source = route.remoteAddress, let mapped = STUNAddress(source)
        else {
            rejectedChecks += 1
            return .drop
        }
        lastValidCheck = now
        var selected = false
        if message.hasUseCandidate {
            // The controlling peer nominated this pair: it carries media from now on (RFC 8445 §8.2).
            selected = selectedRoute != route || !nominated
            nominated = true
            selectedRoute = route
        } else if !nominated && selectedRoute == nil {
            // Before nomination, answer media to the first authenticated route (aggressive peers send early).
            selectedRoute = route
            selected = true
        }
        let response = STUNMessage.bindingSuccess(for: message, mappedAddress: mapped)
            .encode(integrityKey: passwordKey, fingerprint: true)
        return .respond(response: response, selected: selected)
    }

    /// The route can carry nothing any more (its TCP connection closed). If it was the selected one, media stops
    /// until the peer nominates another pair or, failing that, consent expires; meanwhile the next valid check
    /// selects its route, as before the first nomination.
    mutating func routeFailed(_ route: IceRoute) {
        guard selectedRoute == route else { return }
        selectedRoute = nil
        nominated = false
    }

    /// True when the peer has not sent a valid check for `timeout` (or never did, counted from `createdAt`).
    func consentExpired(now: NIODeadline, createdAt: NIODeadline, timeout: TimeAmount) -> Bool {
        now - (lastValidCheck ?? createdAt) > timeout
    }

    /// USERNAME is "<our ufrag>:<their ufrag>" in requests the peer sends us.
    static func matches(username: String, local: String, remote: String?) -> Bool {
        guard let colon = username.firstIndex(of: ":") else { return false }
        guard username[..<colon] == local else { return false }
        guard let remote else { return true }
        return username[username.index(after: colon)...] == remote
    }

    /// The local ufrag named by a request's USERNAME, without parsing the whole message (mux routing).
    static func localUfrag(ofUsername username: String) -> Substring? {
        guard let colon = username.firstIndex(of: ":") else { return nil }
        return username[..<colon]
    }
}

extension STUNAddress {
    /// The STUN form of a NIO socket address (IPv4 / IPv6 only).
    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let a):
            let ip = withUnsafeBytes(of: a.address.sin_addr) { Array($0) } // already network order
            self.init(ip: ip, port: UInt16(bigEndian: a.address.sin_port))
        case .v6(let a):
            let ip = withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }
            self.init(ip: ip, port: UInt16(bigEndian: a.address.sin6_port))
        default:
            return nil
        }
    }
}
