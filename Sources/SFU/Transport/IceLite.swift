// ICE-lite (RFC 8445 §2.5) for one transport: answer the peer's connectivity checks, remember which
// candidate pair the controlling peer nominated, and track consent freshness (RFC 7675).
// Pure logic over STUN bytes: the caller owns the socket and the clock.

import NIOCore

/// ICE state of one transport. The SFU never sends checks; it only answers them.
struct IceLite {
    /// Default consent lifetime: browsers check about every 5 s and give up after about 30 s without answers.
    static let defaultConsentTimeout: TimeAmount = .seconds(30)

    let localUfrag: String
    let localPassword: String
    private let passwordKey: [UInt8]
    /// The peer's ufrag from its SDP; checks naming another one are from a stale (pre-restart) session.
    let remoteUfrag: String?

    /// Where media goes: the address of the nominated pair, else of the last valid check.
    private(set) var selectedAddress: SocketAddress?
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
        guard let message = try? STUNMessage.parse(raw),
              message.method == .binding, message.messageClass == .request,
              let username = message.username, Self.matches(username: username, local: localUfrag, remote: remoteUfrag),
              (try? STUNMessage.verifyFingerprint(raw)) == true,
              (try? STUNMessage.verifyIntegrity(raw, key: passwordKey)) == true,
              let mapped = STUNAddress(source)
        else {
            rejectedChecks += 1
            return .drop
        }
        lastValidCheck = now
        var selected = false
        if message.hasUseCandidate {
            // The controlling peer nominated this pair: it carries media from now on (RFC 8445 §8.2).
            selected = selectedAddress != source || !nominated
            nominated = true
            selectedAddress = source
        } else if !nominated && selectedAddress == nil {
            // Before nomination, answer media to the first authenticated address (aggressive peers send early).
            selectedAddress = source
            selected = true
        }
        let response = STUNMessage.bindingSuccess(for: message, mappedAddress: mapped)
            .encode(integrityKey: passwordKey, fingerprint: true)
        return .respond(response: response, selected: selected)
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
