// End to end with a real browser: SFUService in this process on 127.0.0.1, headless Chromium driven by Selenium
// (Tests/EndToEnd/sfu_chromium_peers.py) in a subprocess exchanging SDP with this test over JSON lines.
// One Chromium publishes its fake camera and microphone; a second Chromium subscribes on two peer connections
// (and an aiortc peer subscribes too: Chromium -> SFU -> aiortc). Checked with getStats(): video frames decoded
// keep increasing over several seconds at the publisher's resolution, audio bytes keep arriving.

import Foundation
import XCTest
@testable import SFU

final class ChromiumEndToEndTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EndToEnd/sfu_chromium_peers.py")

    func testChromiumPublisherToTwoChromiumSubscribersAndAiortc() async throws {
        try Self.ensureChromium()
        let service = try SFUService()
        try await service.start(port: 0, host: "127.0.0.1")
        defer { Task { await service.shutdown() } }
        let room = "chromium-e2e"
        // Lose every 50th video packet on the way to subscribers: Chromium NACKs, and gets RTX retransmissions.
        let router = try await service.router(for: room)
        try await router.eventLoop.submit { router.simulatedForwardingLossInterval = 50 }.get()

        let run = try await runPeers(service: service, room: room, arguments: ["--aiortc", "--measure", "6"])
        let result = run.result
        let stats = try await service.statistics()
        let feedback = try await service.statistics(room: room)
        print("chromium result: \(Self.json(result))\nmux: \(stats)\nrouter: \(feedback)")

        XCTAssertEqual(result["ok"] as? Bool, true, "peer script failed: \(result["error"] ?? "")")
        let elapsed = result["elapsed"] as? Double ?? 0
        XCTAssertGreaterThanOrEqual(elapsed, 5.0)

        // The publisher: connected, sending VP8 at 640x480.
        let publisher = result["publisher"] as? [String: Any] ?? [:]
        XCTAssertEqual(publisher["state"] as? String, "connected")
        let outVideo = (publisher["outbound"] as? [String: Any])?["video"] as? [String: Any] ?? [:]
        let publishedWidth = outVideo["frameWidth"] as? Int ?? -1
        let publishedHeight = outVideo["frameHeight"] as? Int ?? -1
        XCTAssertEqual(publishedWidth, 640, "publisher outbound video: \(outVideo)")
        XCTAssertEqual(publishedHeight, 480, "publisher outbound video: \(outVideo)")
        let transport = publisher["transport"] as? [String: Any] ?? [:]
        XCTAssertEqual(transport["dtlsState"] as? String, "connected")

        // Two Chromium subscribers.
        let subscribers = result["subscribers"] as? [[String: Any]] ?? []
        XCTAssertEqual(subscribers.count, 2)
        for subscriber in subscribers {
            let name = subscriber["name"] as? String ?? "?"
            let first = subscriber["first"] as? [String: Any] ?? [:]
            let second = subscriber["second"] as? [String: Any] ?? [:]
            XCTAssertEqual(second["state"] as? String, "connected", name)
            func inbound(_ summary: [String: Any], _ kind: String) -> [String: Any] {
                (summary["inbound"] as? [String: Any])?[kind] as? [String: Any] ?? [:]
            }
            let v0 = inbound(first, "video"), v1 = inbound(second, "video")
            let a0 = inbound(first, "audio"), a1 = inbound(second, "audio")
            let framesBefore = v0["framesDecoded"] as? Int ?? 0, framesAfter = v1["framesDecoded"] as? Int ?? 0
            XCTAssertGreaterThan(framesBefore, 0, "\(name): no video decoded before measuring: \(v0)")
            // Chromium's fake camera runs at 30 fps (the encoder may drop some on 2 cores): ≥ 10 fps decoded.
            XCTAssertGreaterThanOrEqual(framesAfter - framesBefore, Int(elapsed * 10),
                                        "\(name): frames decoded \(framesBefore) -> \(framesAfter) in \(elapsed) s")
            XCTAssertEqual(v1["frameWidth"] as? Int, publishedWidth, "\(name): \(v1)")
            XCTAssertEqual(v1["frameHeight"] as? Int, publishedHeight, "\(name): \(v1)")
            XCTAssertEqual(second["videoElement"] as? [Int], [publishedWidth, publishedHeight], name)
            XCTAssertEqual((v1["codec"] as? String)?.lowercased(), "video/vp8", name)
            XCTAssertGreaterThan(v1["nackCount"] as? Int ?? 0, 0, "\(name): no NACKs despite forwarding loss: \(v1)")
            XCTAssertGreaterThan(v1["retransmittedPacketsReceived"] as? Int ?? 0, 0, "\(name): no RTX received: \(v1)")
            let bytesBefore = a0["bytesReceived"] as? Int ?? 0, bytesAfter = a1["bytesReceived"] as? Int ?? 0
            // Opus from the fake microphone: tens of kbit/s; demand at least 1 kB/s of growth.
            XCTAssertGreaterThan(bytesAfter - bytesBefore, Int(elapsed * 1000),
                                 "\(name): audio bytes \(bytesBefore) -> \(bytesAfter)")
            XCTAssertEqual((a1["codec"] as? String)?.lowercased(), "audio/opus", name)
        }

        XCTAssertGreaterThan(feedback.nacksReceived, 0)
        XCTAssertGreaterThan(feedback.packetsRetransmitted, 0)

        // Chromium -> SFU -> aiortc.
        let aiortc = result["aiortc"] as? [String: Any] ?? [:]
        XCTAssertEqual(aiortc["state"] as? String, "connected", "aiortc: \(aiortc)")
        XCTAssertGreaterThanOrEqual(aiortc["videoFrames"] as? Int ?? 0, 30, "aiortc: \(aiortc)")
        XCTAssertGreaterThanOrEqual(aiortc["audioFrames"] as? Int ?? 0, 100, "aiortc: \(aiortc)")
        XCTAssertEqual(aiortc["size"] as? [Int], [publishedWidth, publishedHeight], "aiortc: \(aiortc)")
        // Chromium's fake microphone beeps: the decoded Opus is not silence.
        XCTAssertGreaterThan(aiortc["audioPeak"] as? Int ?? 0, 1000, "aiortc: \(aiortc)")

        // The new signaling API: every subscriber mid maps to a producer of the publisher's transport.
        XCTAssertEqual(run.publisherTransportIDs.count, 1)
        let producers = try await service.producers(room: room)
        XCTAssertEqual(Set(producers.map(\.kind)), ["audio", "video"])
        XCTAssertEqual(Set(producers.map(\.publisherTransportID)), Set(run.publisherTransportIDs))
        XCTAssertEqual(run.subscriptions.count, 3)
        for (name, tracks) in run.subscriptions {
            XCTAssertEqual(tracks.map(\.kind).sorted(), ["audio", "video"], name)
            for track in tracks {
                let producer = producers.first { $0.producerID == track.producerID }
                XCTAssertNotNil(producer, "\(name): mid \(track.mid) carries unknown producer \(track.producerID)")
                XCTAssertEqual(producer?.kind, track.kind, name)
                XCTAssertEqual(track.publisherTransportID, run.publisherTransportIDs.first, name)
            }
        }
    }

    // MARK: - Driving the script

    struct Run {
        var result: [String: Any]
        var publisherTransportIDs: [String] = []
        var subscriptions: [String: [SFUSubscribedTrack]] = [:]
    }

    /// Runs the script, answers its publish/subscribe requests through `service`, returns its result object.
    private func runPeers(service: SFUService, room: String, arguments: [String]) async throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path] + arguments
        let toScript = Pipe(), fromScript = Pipe()
        let stderrURL = FileManager.default.temporaryDirectory.appendingPathComponent("sfu-chromium-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardInput = toScript
        process.standardOutput = fromScript
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        let watchdog = Task {
            try await Task.sleep(nanoseconds: 180_000_000_000)
            if process.isRunning { process.terminate() }
        }
        defer {
            watchdog.cancel()
            if process.isRunning { process.terminate() }
            let log = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
            print("--- chromium driver stderr (tail) ---\n" + log.suffix(6000))
            try? FileManager.default.removeItem(at: stderrURL)
        }

        var run = Run(result: ["ok": false, "error": "script ended without a result"])
        for await line in PeerProcess.lines(of: fromScript.fileHandleForReading) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let op = object["op"] as? String else { continue }
            if op == "result" { run.result = object; return run }
            let offer = object["offer"] as? String ?? ""
            let name = object["name"] as? String ?? "?"
            var reply: [String: Any]
            do {
                if op == "publish" {
                    let (transportID, answer) = try await service.publish(room: room, offer: offer)
                    run.publisherTransportIDs.append(transportID)
                    reply = ["answer": answer]
                } else {
                    let subscription = try await service.subscribeDetailed(room: room, offer: offer)
                    run.subscriptions[name] = subscription.tracks
                    reply = ["answer": subscription.answer]
                }
                print("--- \(op) \(name) offer ---\n\(offer)\n--- answer ---\n\(reply["answer"] ?? "")")
            } catch {
                reply = ["error": "\(error)"]
            }
            var data = try JSONSerialization.data(withJSONObject: reply)
            data.append(0x0A)
            toScript.fileHandleForWriting.write(data)
        }
        return run
    }

    private static func json(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "\(object)" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Chromium, chromedriver, selenium and aiortc, installed on first use (CI machines start bare, TESTING.md);
    /// fails when that is impossible.
    private static func ensureChromium() throws {
        let browser = ["sh", "-c", "test -x /usr/bin/chromium && test -x /usr/bin/chromedriver"]
        if PeerProcess.run(browser) != 0 {
            _ = PeerProcess.run(["sh", "-c", "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver"])
        }
        let python = ["python3", "-c", "import selenium, aiortc"]
        if PeerProcess.run(python) != 0 {
            _ = PeerProcess.run(["python3", "-m", "pip", "install", "-q", "selenium", "aiortc"])
        }
        guard PeerProcess.run(browser) == 0, PeerProcess.run(python) == 0 else {
            XCTFail("chromium, chromium-driver, selenium or aiortc is not available and could not be installed")
            throw CancellationError()
        }
    }
}
