// The user agent against sipp over loopback: calls answered with 200/ACK/BYE (UDP and TCP), INFO DTMF, CANCEL,
// OPTIONS, the source allow list, inbound digest (sipp's [authentication], and a replay by hand), and a
// registration with a challenging registrar. T1 = 50 ms.

import Foundation
import NIOCore
import XCTest
@testable import SIPDialIn

final class SIPPeerTests: UserAgentTestCase {
    /// Runs `scenario` with sipp as UAC towards `port` and returns its exit status and output.
    func runSipp(_ scenario: String, port: Int, transport: String = "u1", extra: [String] = [], timeout: TimeInterval = 20,
                 background: Bool = false) async throws -> (Int32?, String) {
        let sipp = try Peers.require("sipp")
        let dir = try Peers.temporaryDirectory()
        let file = dir.appendingPathComponent("scenario.xml")
        try scenario.write(to: file, atomically: true, encoding: .utf8)
        let args = ["127.0.0.1:\(port)", "-sf", file.path, "-m", "1", "-i", "127.0.0.1", "-p", "\(Peers.freePort())", "-s", "rooms",
                    "-t", transport, "-nostdin", "-timeout", "\(Int(timeout))s", "-timeout_error", "-trace_err", "-mp", "\(Peers.freePort())"]
            + extra
        let process = try PeerProcess(sipp, args, directory: dir, logName: "sipp.log")
        processes.append(process)
        let status = await process.wait(timeout: timeout + 5)
        let errors = (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.filter { $0.hasSuffix("errors.log") }
            .compactMap { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }.joined() ?? ""
        return (status, String(process.output.suffix(1500)) + errors)
    }

    func testCallAnsweredWithInfoDigitsAndByeOverUDP() async throws {
        let ua = try await startAgent()
        let (status, log) = try await runSipp(SippScenario.callWithInfoDigits, port: ua.udpPort!)
        XCTAssertEqual(status, 0, log)
        XCTAssertEqual(delegate.calls.count, 1)
        let call = try XCTUnwrap(delegate.calls.first)
        XCTAssertEqual(call.remoteUser, "alice")
        XCTAssertEqual(call.remoteDisplayName, "Alice")
        XCTAssertEqual(call.requestURIUser, "rooms")
        XCTAssertEqual(call.transportKind, .udp)
        XCTAssertTrue(text(call.offer ?? []).hasPrefix("v=0"), "the INVITE's SDP is the offer: \(text(call.offer ?? []).debugDescription)")
        XCTAssertEqual(delegate.digits, ["5", "#"])
        XCTAssertEqual(delegate.durations, [160, DTMFInfo.defaultDurationMs])
        await expectEventually("call ended by BYE") { delegate.ends == [.remoteHangup] }
        let remaining = await ua.activeCalls()
        XCTAssertTrue(remaining.isEmpty)
    }

    func testCallOverTCP() async throws {
        let ua = try await startAgent()
        let (status, log) = try await runSipp(SippScenario.callWithInfoDigits, port: ua.tcpPort!, transport: "t1")
        XCTAssertEqual(status, 0, log)
        XCTAssertEqual(delegate.calls.first?.transportKind, .tcp)
        XCTAssertEqual(delegate.digits, ["5", "#"])
        await expectEventually("call ended by BYE") { delegate.ends.first == .remoteHangup }
    }

    func testCancelBeforeAnswer() async throws {
        let ua = try await startAgent()
        delegate.autoAnswer = false
        let (status, log) = try await runSipp(SippScenario.cancel, port: ua.udpPort!)
        XCTAssertEqual(status, 0, log)
        await expectEventually("call cancelled") { delegate.ends == [.cancelled] }
    }

    func testRejectAndOptions() async throws {
        let ua = try await startAgent()
        delegate.autoAnswer = false
        let running = Task { try await runSipp(SippScenario.refused(486), port: ua.udpPort!) }
        await expectEventually("call offered") { delegate.calls.count == 1 }
        delegate.calls.first?.reject(status: 486)
        let (status, log) = try await running.value
        XCTAssertEqual(status, 0, log)
        XCTAssertEqual(delegate.ends, [.rejected(status: 486)])
        let (optionsStatus, optionsLog) = try await runSipp(SippScenario.options, port: ua.udpPort!)
        XCTAssertEqual(optionsStatus, 0, optionsLog)
    }

    func testSourceOutsideAllowListGets403() async throws {
        let ua = try await startAgent { $0.allowedSources = [try! CIDR("10.0.0.0/8"), try! CIDR("2001:db8::/32")] }
        let (status, log) = try await runSipp(SippScenario.refused(403), port: ua.udpPort!)
        XCTAssertEqual(status, 0, log)
        XCTAssertTrue(delegate.calls.isEmpty, "the delegate never sees a refused source")
        let allowing = try await startAgent { $0.allowedSources = [try! CIDR("127.0.0.0/8")] }
        let (okStatus, okLog) = try await runSipp(SippScenario.callWithInfoDigits, port: allowing.udpPort!)
        XCTAssertEqual(okStatus, 0, okLog)
    }

    func testInboundDigestWithSipp() async throws {
        let ua = try await startAgent {
            $0.inboundCredentials = .init(realm: "rooms.test", username: "pbx", secret: .password("s3cret"))
        }
        let (status, log) = try await runSipp(SippScenario.authenticatedCall, port: ua.udpPort!, extra: ["-au", "pbx", "-ap", "s3cret"])
        XCTAssertEqual(status, 0, log)
        XCTAssertEqual(delegate.calls.count, 1)
        // Wrong password: 403 after the challenge.
        let (badStatus, _) = try await runSipp(SippScenario.authenticatedCall, port: ua.udpPort!, extra: ["-au", "pbx", "-ap", "wrong"],
                                              timeout: 3)
        XCTAssertNotEqual(badStatus, 0)
        XCTAssertEqual(delegate.calls.count, 1)
    }

    func testReplayedAuthorizationIsRejected() async throws {
        let ua = try await startAgent {
            $0.inboundCredentials = .init(realm: "rooms.test", username: "pbx",
                                          secret: .ha1(Digest.ha1(username: "pbx", realm: "rooms.test", password: "pw", algorithm: .md5)))
        }
        let peer = try await udpPeer(ua)
        peer.send(rawRequest("INVITE", port: peer.localPort, callID: "first", body: "v=0\r\n"))
        let challengeResponse = await expectResponse(peer, 401)
        let challenge = try XCTUnwrap(challengeResponse)
        var client = DigestClient(username: "pbx", password: "pw")
        let authorization = try client.authorize(challenge, method: .invite, uri: "sip:rooms@127.0.0.1")
        let line = "\(authorization.name): \(authorization.value)"
        peer.send(rawRequest("INVITE", port: peer.localPort, callID: "first", cseq: 2, extra: [line], body: "v=0\r\n"))
        await expectResponse(peer, 200)
        XCTAssertEqual(delegate.calls.count, 1)
        // The same Authorization (same nonce and nc) on a new INVITE is a replay: challenged again, no call.
        peer.send(rawRequest("INVITE", port: peer.localPort, callID: "second", extra: [line], body: "v=0\r\n"))
        await expectResponse(peer, 401, count: 2)
        XCTAssertEqual(delegate.calls.count, 1)
    }

    func testRegistrationWithChallengingRegistrar() async throws {
        let sipp = try Peers.require("sipp")
        let registrarPort = Peers.freePort()
        let dir = try Peers.temporaryDirectory()
        let file = dir.appendingPathComponent("registrar.xml")
        try SippScenario.challengingRegistrar.write(to: file, atomically: true, encoding: .utf8)
        let registrar = try PeerProcess(sipp, ["-sf", file.path, "-i", "127.0.0.1", "-p", "\(registrarPort)", "-m", "1", "-nostdin",
                                               "-timeout", "15s", "-timeout_error", "-trace_err"], directory: dir, logName: "sipp.log")
        processes.append(registrar)
        try await Task.sleep(nanoseconds: 300_000_000)  // let sipp bind
        var settings = SIPConfiguration.RegistrationSettings(registrar: try SIPURI(parsing: "sip:127.0.0.1:\(registrarPort)"),
                                                              aorUser: "rooms", password: "secret", expires: 120)
        settings.retryBase = .milliseconds(200)
        let ua = try await startAgent { $0.registration = settings }
        await expectEventually("registered after the challenge") { delegate.registrations.contains(.registered(expires: 60)) }
        let state = await ua.registrationState()
        XCTAssertEqual(state, .registered(expires: 60), "the granted expiry, not the requested one")
        await ua.stop()
        XCTAssertEqual(delegate.registrations.last, .unregistered)
        let status = await registrar.wait(timeout: 5)
        XCTAssertEqual(status, 0, registrar.output.suffix(1500).description)
    }
}
