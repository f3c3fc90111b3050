// Settings of the SIP user agent, filled from server.conf by the server. Plain values: the UA copies them.

import NIOCore

public struct SIPConfiguration: Sendable {
    /// Address to bind UDP on; nil disables UDP.
    public var udpHost: String? = "0.0.0.0"
    /// 0 picks an ephemeral port (tests); read the bound one from `SIPUserAgent.udpPort`.
    public var udpPort = 5060
    /// Address to bind TCP on; nil disables TCP.
    public var tcpHost: String? = "0.0.0.0"
    public var tcpPort = 5060
    /// Host written into Via and Contact: the address phones and the PBX can reach us at.
    public var announcedHost = "127.0.0.1"
    /// Sources allowed to send requests. Empty allows every source (rely on digest auth or a firewall then).
    public var allowedSources: [CIDR] = []
    /// When set, INVITEs must authenticate with digest against these credentials (401 challenge).
    public var inboundCredentials: InboundCredentials?
    /// When set, the UA registers itself (a PBX then routes calls for `aorUser` to us).
    public var registration: RegistrationSettings?
    public var timers = SIPTimerSettings()
    public var userAgent = "Rooms"
    public var limits = SIPParserLimits()
    /// Session timers (RFC 4028): the interval we ask for when the caller proposes none (0 disables ours),
    /// and the smallest one we accept (Min-SE, ≥ 90 s per the RFC).
    public var sessionExpires = 1800
    public var minSessionExpires = 90
    /// Send in-dialog requests back to the address the INVITE came from when there is no route set, instead of
    /// the Contact (which is often a private address of a phone behind NAT).
    public var symmetricSignaling = true

    public struct InboundCredentials: Sendable {
        public var realm: String
        public var username: String
        public var secret: DigestSecret
        public var algorithm: DigestAlgorithm

        public init(realm: String, username: String, secret: DigestSecret, algorithm: DigestAlgorithm = .md5) {
            self.realm = realm
            self.username = username
            self.secret = secret
            self.algorithm = algorithm
        }
    }

    public struct RegistrationSettings: Sendable {
        /// `sip:pbx.example.org` or `sip:192.0.2.1:5060`.
        public var registrar: SIPURI
        /// User part of our address of record (`sip:<aorUser>@<registrar host>`).
        public var aorUser: String
        /// Digest username (defaults to `aorUser`) and password.
        public var authUsername: String?
        public var password: String?
        public var expires = 300
        public var transport: SIPTransportKind = .udp
        /// Send REGISTER through this proxy (with a loose route) instead of straight to the registrar.
        public var outboundProxy: SIPURI?
        /// Retry after a failure: first interval, doubled up to `retryMax`.
        public var retryBase: TimeAmount = .seconds(5)
        public var retryMax: TimeAmount = .seconds(60)

        public init(registrar: SIPURI, aorUser: String, authUsername: String? = nil, password: String? = nil,
                    expires: Int = 300, transport: SIPTransportKind = .udp, outboundProxy: SIPURI? = nil) {
            self.registrar = registrar
            self.aorUser = aorUser
            self.authUsername = authUsername
            self.password = password
            self.expires = expires
            self.transport = transport
            self.outboundProxy = outboundProxy
        }
    }

    public init() {}

    /// A configuration for tests and local use: loopback, ephemeral ports, the given T1.
    public static func loopback(t1: TimeAmount = .milliseconds(500)) -> SIPConfiguration {
        var c = SIPConfiguration()
        c.udpHost = "127.0.0.1"
        c.udpPort = 0
        c.tcpHost = "127.0.0.1"
        c.tcpPort = 0
        c.announcedHost = "127.0.0.1"
        c.timers = .scaled(t1: t1)
        return c
    }
}
