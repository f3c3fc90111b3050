// The SIP user agent of the server: owns the transport, the transaction tables, the calls and the
// registration, all on one event loop. Public entry points hop onto that loop; nothing on the message
// path takes a lock. Request dispatch is in SIPUserAgent+Requests.swift.

import Logging
import NIOCore
import NIOPosix

public final class SIPUserAgent {
    public let configuration: SIPConfiguration
    public let eventLoop: EventLoop
    /// Receives calls and registration changes. Set it before `start()`; it is held weakly.
    public weak var delegate: SIPCallDelegate?

    let logger: Logger
    let transport: SIPTransport
    let digestServer: DigestServer?
    var clientTransactions: [String: SIPClientTransaction] = [:]
    var serverTransactions: [String: SIPServerTransaction] = [:]
    /// Calls by `callID|localTag`.
    var calls: [String: SIPCall] = [:]
    /// Calls whose INVITE transaction is still open, by its server transaction key (for CANCEL).
    var callsByInviteKey: [String: SIPCall] = [:]
    var registration: SIPRegistration?
    private(set) var started = false

    /// Bound ports, known once `start()` returned (0 asked → the ephemeral port chosen).
    public private(set) var udpPort: Int?
    public private(set) var tcpPort: Int?

    public init(configuration: SIPConfiguration, eventLoopGroup: EventLoopGroup, logger: Logger = Logger(label: "rooms.sip")) {
        self.configuration = configuration
        self.eventLoop = eventLoopGroup.next()
        self.logger = logger
        self.transport = SIPTransport(eventLoop: eventLoop, limits: configuration.limits, logger: logger)
        if let credentials = configuration.inboundCredentials {
            digestServer = DigestServer(realm: credentials.realm, algorithm: credentials.algorithm)
        } else {
            digestServer = nil
        }
        transport.onMessage = { [unowned self] inbound in self.receive(inbound) }
        transport.onConnectionClosed = { [unowned self] remote in self.connectionClosed(remote) }
    }

    // MARK: - Lifecycle

    /// Binds the sockets and starts registering when configured.
    public func start() async throws {
        try await eventLoop.flatSubmit { [self] in
            transport.start(udpHost: configuration.udpHost, udpPort: configuration.udpPort,
                            tcpHost: configuration.tcpHost, tcpPort: configuration.tcpPort)
        }.get()
        try await eventLoop.submit { [self] in
            started = true
            udpPort = transport.udpAddress?.port
            tcpPort = transport.tcpAddress?.port
            logger.info("sip listening", metadata: ["udp": "\(udpPort.map(String.init) ?? "-")",
                                                    "tcp": "\(tcpPort.map(String.init) ?? "-")"])
            if let settings = configuration.registration {
                let registration = SIPRegistration(ua: self, settings: settings)
                self.registration = registration
                registration.start()
            }
        }.get()
    }

    /// De-registers (waiting at most a few seconds), hangs up every call and closes the sockets.
    public func stop() async {
        let deregistered: EventLoopFuture<Void>? = try? await eventLoop.submit { [self] in
            for call in Array(calls.values) { call.hangupOnLoop() }
            return registration?.stop() ?? eventLoop.makeSucceededVoidFuture()
        }.get()
        try? await deregistered?.get()
        try? await eventLoop.flatSubmit { [self] in
            // Let the BYEs leave before the sockets close.
            eventLoop.scheduleTask(in: .milliseconds(20)) {}.futureResult
        }.get()
        try? await eventLoop.flatSubmit { [self] in
            started = false
            for tx in Array(clientTransactions.values) { tx.terminate() }
            for tx in Array(serverTransactions.values) { tx.terminate() }
            return transport.stop()
        }.get()
    }

    public func registrationState() async -> SIPRegistrationState? {
        try? await eventLoop.submit { self.registration?.state }.get()
    }

    /// REGISTERs (first ones and refreshes) that the registrar accepted; nil without a registration.
    public func successfulRegistrations() async -> Int? {
        try? await eventLoop.submit { self.registration?.successfulRegistrations }.get()
    }

    public func transportStatistics() async -> SIPTransportStatistics {
        (try? await eventLoop.submit { self.transport.statistics }.get()) ?? SIPTransportStatistics()
    }

    /// Calls not yet ended.
    public func activeCalls() async -> [SIPCall] {
        (try? await eventLoop.submit { Array(self.calls.values) }.get()) ?? []
    }

    // MARK: - Identifiers and addressing

    static func randomHex(_ bytes: Int) -> String { Digest.hex((0..<bytes).map { _ in UInt8.random(in: 0...255) }) }
    func newBranch() -> String { SIPVia.magicCookie + Self.randomHex(10) }
    func newTag() -> String { Self.randomHex(6) }
    func newCallID() -> String { "\(Self.randomHex(12))@\(configuration.announcedHost)" }

    func localPort(_ kind: SIPTransportKind) -> Int? { kind == .udp ? udpPort : tcpPort }

    /// Our Via for a new request over `kind`, asking for rport (RFC 3581) so responses find us through NAT.
    func makeVia(_ kind: SIPTransportKind) -> SIPVia {
        SIPVia(transport: kind.rawValue, host: configuration.announcedHost, port: localPort(kind),
               parameters: [SIPParameter("branch", newBranch()), SIPParameter("rport")])
    }

    func contactURI(user: String?, kind: SIPTransportKind) -> SIPURI {
        SIPURI(user: user, host: configuration.announcedHost, port: localPort(kind),
               parameters: kind == .tcp ? [SIPParameter("transport", "tcp")] : [])
    }

    /// Address and transport for a URI (RFC 3263 reduced to what a server with configured peers needs:
    /// `;transport=`, explicit port or 5060, IP literals or names from the system resolver).
    func destination(for uri: SIPURI, defaultKind: SIPTransportKind) throws -> (SocketAddress, SIPTransportKind) {
        let kind = uri.transport.flatMap(SIPTransportKind.init(token:)) ?? defaultKind
        let host = uri.parameters.lookup("maddr").flatMap { $0 } ?? uri.host
        return (try SIPTransport.resolve(host: host, port: uri.port ?? 5060), kind)
    }

    /// Adds the common headers to a response we generate.
    func decorate(_ response: inout SIPResponse) {
        if !response.headers.contains(SIPHeaderName.server) { response.headers.add(SIPHeaderName.server, configuration.userAgent) }
    }

    // MARK: - Transactions

    /// Starts a client transaction for `request` (whose top Via carries a fresh branch) towards `address`.
    @discardableResult
    func startClientTransaction(_ request: SIPRequest, to address: SocketAddress, kind: SIPTransportKind,
                                onResponse: @escaping (SIPResponse) -> Void,
                                onFailure: @escaping (SIPClientTransactionFailure) -> Void) -> SIPClientTransaction {
        let tx = SIPClientTransaction(request: request, kind: kind, timers: configuration.timers, eventLoop: eventLoop) {
            [transport] message in transport.send(message, to: address, kind: kind)
        }
        tx.onResponse = onResponse
        tx.onFailure = onFailure
        let key = tx.key
        tx.onTerminated = { [weak self, weak tx] in
            guard let self, let tx, self.clientTransactions[key] === tx else { return }
            self.clientTransactions[key] = nil
        }
        clientTransactions[key] = tx
        tx.start()
        return tx
    }

    /// Sends `request` outside any transaction (ACK for a 2xx).
    func sendStateless(_ request: SIPRequest, to address: SocketAddress, kind: SIPTransportKind) {
        transport.send(.request(request), to: address, kind: kind).whenFailure { [logger] error in
            logger.debug("sip could not send \(request.method): \(error)")
        }
    }

    func makeServerTransaction(_ request: SIPRequest, _ inbound: SIPInbound) -> SIPServerTransaction {
        let tx = SIPServerTransaction(request: request, kind: inbound.kind, timers: configuration.timers, eventLoop: eventLoop) {
            [weak self] response in
            guard let self else { return }
            var response = response
            self.decorate(&response)
            self.transport.sendResponse(response, source: inbound.source, kind: inbound.kind)
        }
        let key = tx.key
        tx.onTerminated = { [weak self, weak tx] in
            guard let self, let tx, self.serverTransactions[key] === tx else { return }
            self.serverTransactions[key] = nil
        }
        serverTransactions[key] = tx
        return tx
    }

    // MARK: - Calls

    static func callKey(callID: String, localTag: String) -> String { "\(callID)|\(localTag)" }

    func removeCall(_ call: SIPCall) {
        let key = Self.callKey(callID: call.callID, localTag: call.localTag)
        if calls[key] === call { calls[key] = nil }
        if callsByInviteKey[call.inviteKey] === call { callsByInviteKey[call.inviteKey] = nil }
    }

    private func connectionClosed(_ remote: SocketAddress) {
        for call in Array(calls.values) where call.transportKind == .tcp && call.remoteAddress == remote {
            call.transportFailed("TCP connection closed")
        }
    }
}

// Loop-confined: the tables, calls and registration are only touched on `eventLoop`; public methods hop there.
extension SIPUserAgent: @unchecked Sendable {}
