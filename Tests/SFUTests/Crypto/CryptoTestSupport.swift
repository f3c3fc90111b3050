import XCTest
@testable import SFU

/// Deterministic PRNG for fuzz loops (SplitMix64).
struct CryptoTestRNG: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum CryptoFixtures {
    /// One certificate per test process (key generation is cheap, but there is no need to repeat it).
    static let serverCertificate = try! DtlsCertificate(commonName: "test-server")
    static let clientCertificate = try! DtlsCertificate(commonName: "test-client")

    static func endpoints(
        verify: Bool = true,
        serverProfiles: [SrtpProfile] = SrtpProfile.defaultPreference,
        clientProfiles: [SrtpProfile] = SrtpProfile.defaultPreference
    ) throws -> (server: DtlsEndpoint, client: DtlsEndpoint) {
        let server = try DtlsEndpoint(
            certificate: serverCertificate, role: .server,
            expectedRemoteFingerprint: verify ? clientCertificate.fingerprintSHA256 : nil,
            srtpProfiles: serverProfiles)
        let client = try DtlsEndpoint(
            certificate: clientCertificate, role: .client,
            expectedRemoteFingerprint: verify ? serverCertificate.fingerprintSHA256 : nil,
            srtpProfiles: clientProfiles)
        return (server, client)
    }

    /// A minimal RTP packet: V=2, PT 96, the given sequence number, timestamp and SSRC, then `payloadLength` bytes.
    static func rtpPacket(sequence: UInt16, ssrc: UInt32 = 0x1234_5678, timestamp: UInt32 = 90_000, payloadLength: Int = 160) -> [UInt8] {
        var packet: [UInt8] = [0x80, 96, UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        packet += withUnsafeBytes(of: timestamp.bigEndian, Array.init)
        packet += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
        packet += (0 ..< payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(sequence)) }
        return packet
    }

    /// A receiver report (PT 201) with one report block.
    static func rtcpReceiverReport(ssrc: UInt32 = 0xCAFE_BABE) -> [UInt8] {
        var packet: [UInt8] = [0x81, 201, 0x00, 0x07]
        packet += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
        packet += (0 ..< 24).map { UInt8($0) }
        return packet
    }
}

/// Shuttles datagrams between two endpoints in memory until neither has anything left to send.
/// Returns every datagram each side sent (for size checks) and the application data each side received.
@discardableResult
func shuttleDtls(
    server: DtlsEndpoint, client: DtlsEndpoint, initial: [[UInt8]],
    file: StaticString = #filePath, line: UInt = #line
) throws -> (fromClient: [[UInt8]], fromServer: [[UInt8]], serverReceived: [[UInt8]], clientReceived: [[UInt8]]) {
    var toServer = initial
    var toClient: [[UInt8]] = []
    var fromClient = initial, fromServer: [[UInt8]] = []
    var serverReceived: [[UInt8]] = [], clientReceived: [[UInt8]] = []
    var rounds = 0
    while !toServer.isEmpty || !toClient.isEmpty {
        rounds += 1
        guard rounds < 50 else { XCTFail("handshake did not settle", file: file, line: line); break }
        for datagram in toServer {
            let output = try server.feed(datagram)
            toClient += output.datagrams
            fromServer += output.datagrams
            serverReceived += output.applicationData
        }
        toServer = []
        for datagram in toClient {
            let output = try client.feed(datagram)
            toServer += output.datagrams
            fromClient += output.datagrams
            clientReceived += output.applicationData
        }
        toClient = []
    }
    return (fromClient, fromServer, serverReceived, clientReceived)
}
