// End to end: SFUService in this process on 127.0.0.1, aiortc peers (Tests/EndToEnd/sfu_aiortc_peers.py) in
// a subprocess exchanging SDP with this test over JSON lines. One publisher (red video + 440 Hz tone), two
// subscribers that decode and check the content, and a flood of 10,000 garbage datagrams mid-call.
// Plain loopback is enough: the script patches aioice to gather 127.0.0.1, so no network namespace is needed.

import Foundation
import XCTest
@testable import SFU

final class AiortcEndToEndTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EndToEnd/sfu_aiortc_peers.py")

    func testPublisherToTwoSubscribersSurvivesGarbageFlood() async throws {
        try Self.ensurePythonPeers()
        let service = try SFUService()
        try await service.start(port: 0, host: "127.0.0.1")
        defer { Task { await service.shutdown() } }
        let port = try XCTUnwrap(service.port)

        // Lose every 40th video packet on the way to subscribers: their NACKs must be answered from the cache.
        let router = try await service.router(for: "e2e")
        try await router.eventLoop.submit {
            router.simulatedForwardingLossInterval = 40
            // Loss on the way in too: the SFU must NACK the publisher, and the retransmissions must arrive.
            router.simulatedIngressLossInterval = 30
        }.get()

        let result = try await runPeers(service: service, port: port, room: "e2e")
        let stats = try await service.statistics()
        let feedback = try await router.eventLoop.submit { router.statistics }.get()
        print("aiortc result: \(result)\nmux: \(stats)\nrouter: \(feedback)")
        XCTAssertGreaterThan(feedback.nacksReceived, 0)
        XCTAssertGreaterThan(feedback.packetsRetransmitted, 0)
        XCTAssertGreaterThan(feedback.nacksSent, 0, "no NACK to the publisher for ingress loss")
        XCTAssertGreaterThan(feedback.packetsRecovered, 0, "the publisher's retransmissions did not arrive")
        XCTAssertGreaterThan(feedback.keyframeRequestsSent, 0) // subscribers joined mid-stream

        XCTAssertEqual(result["ok"] as? Bool, true, "peer script failed: \(result["error"] ?? "")")
        XCTAssertGreaterThanOrEqual(result["floodSent"] as? Int ?? 0, 10_000)
        XCTAssertEqual(result["connectionStates"] as? [String], ["connected", "connected", "connected"])
        let subscribers = result["subscribers"] as? [[String: Any]] ?? []
        XCTAssertEqual(subscribers.count, 2)
        for s in subscribers {
            let name = s["name"] as? String ?? "?"
            XCTAssertGreaterThanOrEqual(s["videoFrames"] as? Int ?? 0, 30, name)
            XCTAssertGreaterThanOrEqual(s["videoFramesAfterFlood"] as? Int ?? 0, 20, "\(name): video stalled after flood")
            XCTAssertGreaterThanOrEqual(s["audioFramesAfterFlood"] as? Int ?? 0, 50, "\(name): audio stalled after flood")
            XCTAssertEqual(s["size"] as? [Int], [320, 240], name)
            let rgb = s["meanRGB"] as? [Double] ?? [0, 255, 255]
            XCTAssertGreaterThan(rgb[0], 200, "\(name): not red: \(rgb)")
            XCTAssertLessThan(rgb[1], 60, "\(name): not red: \(rgb)")
            XCTAssertLessThan(rgb[2], 60, "\(name): not red: \(rgb)")
            let hz = s["audioDominantHz"] as? Double ?? 0
            XCTAssertEqual(hz, 440, accuracy: 10, "\(name): tone")
        }
        // Every flood datagram came from an address no transport selected: dropped at the mux.
        XCTAssertGreaterThanOrEqual(stats.datagramsDropped, 9_000)
    }

    // MARK: - Driving the script

    /// Runs the script, answers its publish/subscribe requests through `service`, returns its result object.
    private func runPeers(service: SFUService, port: Int, room: String) async throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--port", String(port)]
        let toScript = Pipe(), fromScript = Pipe()
        let stderrURL = FileManager.default.temporaryDirectory.appendingPathComponent("sfu-aiortc-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardInput = toScript
        process.standardOutput = fromScript
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        let watchdog = Task {
            try await Task.sleep(nanoseconds: 150_000_000_000)
            if process.isRunning { process.terminate() }
        }
        defer {
            watchdog.cancel()
            if process.isRunning { process.terminate() }
            let log = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
            print("--- aiortc stderr (tail) ---\n" + log.suffix(4000))
            try? FileManager.default.removeItem(at: stderrURL)
        }

        for await line in PeerProcess.lines(of: fromScript.fileHandleForReading) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let op = object["op"] as? String else { continue }
            if op == "result" { return object }
            let offer = object["offer"] as? String ?? ""
            var reply: [String: Any]
            do {
                let answer = op == "publish"
                    ? try await service.publish(room: room, offer: offer).answer
                    : try await service.subscribe(room: room, offer: offer).answer
                reply = ["answer": answer]
            } catch {
                reply = ["error": "\(error)"]
            }
            var data = try JSONSerialization.data(withJSONObject: reply)
            data.append(0x0A)
            toScript.fileHandleForWriting.write(data)
        }
        return ["ok": false, "error": "script ended without a result"]
    }

    /// aiortc and numpy, installed on first use (CI machines start bare); fails when that is impossible.
    private static func ensurePythonPeers() throws {
        let check = ["python3", "-c", "import aiortc, numpy"]
        if PeerProcess.run(check) == 0 { return }
        _ = PeerProcess.run(["python3", "-m", "pip", "install", "-q", "aiortc", "numpy"])
        guard PeerProcess.run(check) == 0 else {
            XCTFail("python3 with aiortc and numpy is not available (scripts/install-deps test installs them)")
            throw CancellationError()
        }
    }
}
