// Registration through a real registrar/proxy: kamailio (stock config, in-memory location table) on loopback.
// We register, a sipp UAC calls sip:rooms@<kamailio> and the call reaches our delegate through the proxy
// (Record-Route, two Vias); after a kamailio restart (bindings lost) our refresh registers again and calls work.

import Foundation
import XCTest
@testable import SIPDialIn

final class KamailioTests: UserAgentTestCase {
    var runDirectory: URL!
    var kamailioPort = 0

    func startKamailio() throws -> PeerProcess {
        let kamailio = try Peers.require("kamailio")
        var cfg = try String(contentsOfFile: "/etc/kamailio/kamailio.cfg", encoding: .utf8)
        cfg = cfg.replacingOccurrences("####### Modules Section ########",
                                       "listen=udp:127.0.0.1:\(kamailioPort)\nlisten=tcp:127.0.0.1:\(kamailioPort)\n\n####### Modules Section ########")
        // Two workers per listener are plenty for one call and keep the 2-core machine free.
        cfg = cfg.replacingOccurrences("\nchildren=8\n", "\nchildren=2\n")
        // Short bindings so that the test sees refreshes within seconds (stock minimum is 60 s).
        cfg = cfg.replacingOccurrences("modparam(\"registrar\", \"max_expires\", 3600)",
                                       "modparam(\"registrar\", \"max_expires\", 3600)\nmodparam(\"registrar\", \"min_expires\", 2)")
        let file = runDirectory.appendingPathComponent("k.cfg")
        try cfg.write(to: file, atomically: true, encoding: .utf8)
        let process = try PeerProcess(kamailio, ["-f", file.path, "-P", runDirectory.appendingPathComponent("k.pid").path,
                                                 "-Y", runDirectory.path, "-E", "-DD"],
                                      directory: runDirectory, logName: "kamailio-\(processes.count).log")
        processes.append(process)
        return process
    }

    /// Waits until kamailio answers on UDP (an OPTIONS to itself gets a reply from the stock config).
    func waitForKamailio() async throws {
        let peer = try await RawSIPPeer.udp(group: group, to: kamailioPort)
        defer { peer.close() }
        let ready = await eventually(timeout: 10) {
            if peer.datagrams.isEmpty { peer.send(rawRequest("OPTIONS", port: peer.localPort, uri: "sip:127.0.0.1:\(kamailioPort)")) }
            usleep(100_000)
            return !peer.datagrams.isEmpty
        }
        XCTAssertTrue(ready, "kamailio did not start")
    }

    func callThroughKamailio() async throws -> (Int32?, String) {
        let sipp = try Peers.require("sipp")
        let file = runDirectory.appendingPathComponent("uac.xml")
        try SippScenario.callWithInfoDigits.write(to: file, atomically: true, encoding: .utf8)
        let process = try PeerProcess(sipp, ["127.0.0.1:\(kamailioPort)", "-sf", file.path, "-m", "1", "-i", "127.0.0.1",
                                             "-p", "\(Peers.freePort())", "-s", "rooms", "-nostdin", "-timeout", "10s",
                                             "-timeout_error", "-mp", "\(Peers.freePort())"],
                                      directory: runDirectory, logName: "sipp-\(processes.count).log")
        processes.append(process)
        let status = await process.wait(timeout: 15)
        return (status, String(process.output.suffix(1500)))
    }

    func registeredCount() -> Int {
        delegate.registrations.filter { if case .registered = $0 { return true } else { return false } }.count
    }

    func testRegisterCallThroughProxyAndReregisterAfterRestart() async throws {
        _ = try Peers.require("sipp")
        runDirectory = try Peers.temporaryDirectory()
        kamailioPort = Peers.freePort()
        var kamailio = try startKamailio()
        try await waitForKamailio()

        var settings = SIPConfiguration.RegistrationSettings(registrar: try SIPURI(parsing: "sip:127.0.0.1:\(kamailioPort)"),
                                                              aorUser: "rooms", expires: 4)
        settings.retryBase = .milliseconds(200)
        settings.retryMax = .seconds(1)
        let ua = try await startAgent { $0.registration = settings }
        await expectEventually("registered with kamailio") { registeredCount() >= 1 }
        XCTAssertEqual(delegate.registrations.last, .registered(expires: 4))

        let (status, log) = try await callThroughKamailio()
        XCTAssertEqual(status, 0, log + kamailio.output.suffix(2000))
        XCTAssertEqual(delegate.calls.count, 1)
        XCTAssertEqual(delegate.calls.first?.remoteUser, "alice")
        XCTAssertEqual(delegate.digits, ["5", "#"], "in-dialog requests came through the route set")
        await expectEventually("BYE through the proxy") { delegate.ends == [.remoteHangup] }

        // Restart: kamailio forgets the binding; the next refresh (every 2 s) or a retry restores it.
        kamailio.stop()
        let before = registeredCount()
        kamailio = try startKamailio()
        try await waitForKamailio()
        await expectEventually("registered again after the restart", timeout: 10) { registeredCount() > before }
        let (again, againLog) = try await callThroughKamailio()
        XCTAssertEqual(again, 0, againLog)
        XCTAssertEqual(delegate.calls.count, 2)
        _ = ua
    }
}
