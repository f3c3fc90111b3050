import Foundation
import XCTest
@testable import SFU
#if canImport(Glibc)
import Glibc
#endif

/// DTLS-SRTP against the `openssl` command-line tool over real UDP on 127.0.0.1: our server against
/// `openssl s_client -dtls1_2`, our client against `openssl s_server -dtls1_2` (which adds the HelloVerifyRequest
/// cookie exchange). Both sides print their exported keying material (`-keymatexport EXTRACTOR-dtls_srtp`),
/// which must equal ours byte for byte. Each test finishes in well under a second and gives up after 8 s.
final class OpenSSLInteropTests: XCTestCase {
    private var workDirectory: URL!

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("sfu-dtls-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workDirectory)
    }

    func testOurServerAgainstOpenSSLClient() throws {
        let (cert, key, fingerprint) = try makePeerCertificate()
        let socket = try UDPSocket()
        let server = try DtlsEndpoint(certificate: CryptoFixtures.serverCertificate, role: .server,
                                      expectedRemoteFingerprint: fingerprint)
        let peer = try OpenSSLProcess(arguments: [
            "s_client", "-dtls1_2", "-connect", "127.0.0.1:\(socket.port)", "-cert", cert, "-key", key,
            "-use_srtp", "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
            "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "56", "-mtu", "1200",
        ])
        defer { peer.stop() }

        let deadline = Date().addingTimeInterval(8)
        var peerAddress: sockaddr_in?
        var received: [[UInt8]] = []
        var pingSent = false, pongSent = false
        while Date() < deadline {
            if let (datagram, from) = socket.receive(timeoutMilliseconds: 20) {
                peerAddress = from
                let output = try server.feed(datagram)
                received += output.applicationData
                for d in output.datagrams { socket.send(d, to: from) }
            }
            if let to = peerAddress { for d in server.handleTimeout() { socket.send(d, to: to) } }
            if server.isConnected, !pingSent, peer.output.contains("Keying material: ") {
                peer.write("ping\n")
                pingSent = true
            }
            if received.contains(Array("ping\n".utf8)), !pongSent, let to = peerAddress {
                for d in try server.send(Array("pong-from-rooms\n".utf8)) { socket.send(d, to: to) }
                pongSent = true
            }
            if pongSent, peer.output.contains("pong-from-rooms") { break }
        }
        XCTAssertTrue(server.isConnected, "s_client output:\n\(peer.output)")
        XCTAssertEqual(server.remoteFingerprintSHA256, fingerprint)
        XCTAssertEqual(server.selectedProfile, .aeadAes128Gcm)
        XCTAssertTrue(peer.output.contains("SRTP Extension negotiated, profile=SRTP_AEAD_AES_128_GCM"), peer.output)
        let keys = try server.srtpKeyingMaterial()
        XCTAssertEqual(peer.keyingMaterial, hex(keys.clientKey + keys.serverKey + keys.clientSalt + keys.serverSalt))
        XCTAssertTrue(received.contains(Array("ping\n".utf8)), "application data from s_client")
        XCTAssertTrue(peer.output.contains("pong-from-rooms"), "application data to s_client")
    }

    func testOurClientAgainstOpenSSLServer() throws {
        let (cert, key, fingerprint) = try makePeerCertificate()
        let socket = try UDPSocket()
        let port = try UDPSocket.freePort()
        let client = try DtlsEndpoint(certificate: CryptoFixtures.clientCertificate, role: .client,
                                      expectedRemoteFingerprint: fingerprint)
        let peer = try OpenSSLProcess(arguments: [
            "s_server", "-dtls1_2", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-verify", "1",
            "-use_srtp", "SRTP_AES128_CM_SHA1_80",
            "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60",
        ])
        defer { peer.stop() }
        var serverAddress = sockaddr_in()
        serverAddress.sin_family = sa_family_t(AF_INET)
        serverAddress.sin_port = port.bigEndian
        serverAddress.sin_addr.s_addr = inet_addr("127.0.0.1")

        let deadline = Date().addingTimeInterval(8)
        while Date() < deadline, !peer.output.contains("ACCEPT") { usleep(10_000) }
        XCTAssertTrue(peer.output.contains("ACCEPT"), "s_server did not start:\n\(peer.output)")
        for d in client.start() { socket.send(d, to: serverAddress) }

        var received: [[UInt8]] = []
        var helloSent = false, replyRequested = false
        while Date() < deadline {
            if let (datagram, _) = socket.receive(timeoutMilliseconds: 20) {
                let output = try client.feed(datagram)
                received += output.applicationData
                for d in output.datagrams { socket.send(d, to: serverAddress) }
            }
            for d in client.handleTimeout() { socket.send(d, to: serverAddress) }
            if client.isConnected, !helloSent {
                for d in try client.send(Array("hello-from-rooms\n".utf8)) { socket.send(d, to: serverAddress) }
                helloSent = true
            }
            if helloSent, !replyRequested, peer.output.contains("hello-from-rooms") {
                peer.write("reply\n")
                replyRequested = true
            }
            if received.contains(Array("reply\n".utf8)) { break }
        }
        XCTAssertTrue(client.isConnected, "s_server output:\n\(peer.output)")
        XCTAssertEqual(client.remoteFingerprintSHA256, fingerprint)
        XCTAssertEqual(client.selectedProfile, .aes128CmHmacSha1_80)
        let keys = try client.srtpKeyingMaterial()
        XCTAssertEqual(keys.clientSalt.count, 14)
        XCTAssertEqual(peer.keyingMaterial, hex(keys.clientKey + keys.serverKey + keys.clientSalt + keys.serverSalt))
        XCTAssertTrue(peer.output.contains("hello-from-rooms"), "application data to s_server")
        XCTAssertTrue(received.contains(Array("reply\n".utf8)), "application data from s_server")
    }

    // MARK: - Helpers

    /// An ECDSA P-256 certificate for the openssl peer, and its SHA-256 fingerprint as `openssl x509` prints it.
    private func makePeerCertificate() throws -> (cert: String, key: String, fingerprint: String) {
        let cert = workDirectory.appendingPathComponent("peer.pem").path
        let key = workDirectory.appendingPathComponent("peer.key").path
        _ = try runOpenSSL(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=openssl-peer"])
        let text = try runOpenSSL(["x509", "-in", cert, "-noout", "-fingerprint", "-sha256"])
        guard let value = text.split(separator: "=").last.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) else {
            throw POSIXError(.EINVAL) // unexpected `openssl x509` output
        }
        return (cert, key, value)
    }

    private func runOpenSSL(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = OpenSSLProcess.executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "openssl \(arguments.joined(separator: " "))")
        return String(decoding: data, as: UTF8.self)
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02X", $0) }.joined()
    }
}

/// `openssl s_client` / `s_server` as a child process with stdin kept open and stdout+stderr collected.
private final class OpenSSLProcess: @unchecked Sendable {
    static let executable = URL(fileURLWithPath: "/usr/bin/openssl")
    private let process = Process()
    private let input = Pipe()
    private let outputPipe = Pipe()
    private let lock = NSLock()
    private var collected = Data()

    init(arguments: [String]) throws {
        // stdbuf: line-buffer the tool's stdio so its status lines reach us while it runs.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/stdbuf")
        process.arguments = ["-oL", "-eL", Self.executable.path] + arguments
        process.standardInput = input
        process.standardOutput = outputPipe
        process.standardError = outputPipe
        outputPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.collected.append(data)
            self.lock.unlock()
        }
        try process.run()
    }

    var output: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    /// The hex string after "Keying material: ".
    var keyingMaterial: String? {
        guard let range = output.range(of: "Keying material: ") else { return nil }
        return String(output[range.upperBound...].prefix { $0.isHexDigit })
    }

    func write(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        outputPipe.fileHandleForReading.readabilityHandler = nil
        try? input.fileHandleForWriting.close()
    }
}

/// A blocking UDP socket on 127.0.0.1 with poll-based receive timeouts.
private final class UDPSocket {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { Glibc.close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { Glibc.close(fd) }

    /// A port that was free a moment ago (for the child process to bind).
    static func freePort() throws -> UInt16 {
        try UDPSocket().port
    }

    func send(_ datagram: [UInt8], to address: sockaddr_in) {
        var address = address
        _ = datagram.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    func receive(timeoutMilliseconds: Int32) -> ([UInt8], sockaddr_in)? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, timeoutMilliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
            }
        }
        guard count > 0 else { return nil }
        return (Array(buffer.prefix(count)), from)
    }
}
