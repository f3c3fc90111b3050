// Janus's videoroom over its HTTP API (janus.transport.http): one Janus session for the whole load, one plugin
// handle per peer. Plugin requests that need the peer (join, configure, start) are answered with "ack" and their
// result arrives later as an event on the session's long poll, matched to the request by its transaction.
import Foundation
import SFU
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

final class JanusSignaling: SFUSignaling, @unchecked Sendable {
    static let eventTimeout: Duration = .seconds(30)

    private let baseURL: URL
    private let sessionID: Int
    private let room = Int.random(in: 1_000_000 ... 9_999_999)
    private let events = JanusEvents()
    private let lock = NSLock()
    private var publisherID: Int?
    private var poller: Task<Void, Never>?

    /// Creates a session and a fresh room for VP8 + Opus. `baseURL` is Janus's base path, e.g. http://host:port/janus.
    static func connect(baseURL: URL) async throws -> JanusSignaling {
        let created = try await janusRequest(baseURL, ["janus": "create"])
        guard let id = (created["data"] as? [String: Any])?["id"] as? Int else {
            throw LoadError.signaling("Janus create: no session id in \(created)")
        }
        let janus = JanusSignaling(baseURL: baseURL, sessionID: id)
        janus.poller = Task { await janus.pollEvents() }
        let admin = try await janus.attach()
        // bitrate 0: no REMB cap (the synthetic publisher ignores it anyway); fir_freq 0: no periodic keyframe requests.
        let result = try await janus.message(handle: admin, [
            "request": "create", "room": janus.room, "publishers": 1, "bitrate": 0, "fir_freq": 0,
            "audiocodec": "opus", "videocodec": "vp8", "notify_joining": false,
        ])
        guard result.pluginData["videoroom"] as? String == "created" else {
            throw LoadError.signaling("Janus could not create the room: \(result.pluginData)")
        }
        return janus
    }

    private init(baseURL: URL, sessionID: Int) {
        self.baseURL = baseURL
        self.sessionID = sessionID
    }

    func publish(_ peer: WebRtcPeer, streams: PublishedStreams) async throws {
        let handle = try await attach()
        let joined = try await message(handle: handle, ["request": "join", "ptype": "publisher", "room": room,
                                                        "display": "sfuload"])
        guard let id = joined.pluginData["id"] as? Int else { throw LoadError.signaling("Janus join: \(joined.pluginData)") }
        lock.withLock { publisherID = id }
        let offer = LocalDescription.offer(peer.local, publishing: streams)
        let configured = try await message(handle: handle, ["request": "configure", "audio": true, "video": true],
                                           jsep: ["type": "offer", "sdp": offer])
        guard let answer = configured.sdp else { throw LoadError.signaling("Janus configure: no answer in \(configured.pluginData)") }
        try await peer.loop.submit { try peer.setRemote(answer, weOffered: true) }.get()
    }

    func subscribe(_ peer: WebRtcPeer) async throws {
        guard let feed = lock.withLock({ publisherID }) else { throw LoadError.signaling("subscribe before publish") }
        let handle = try await attach()
        let attached = try await message(handle: handle, ["request": "join", "ptype": "subscriber", "room": room,
                                                          "streams": [["feed": feed]]])
        guard let offer = attached.sdp else { throw LoadError.signaling("Janus subscribe: no offer in \(attached.pluginData)") }
        let answer = try await peer.loop.submit { () throws -> String in
            let answer = try LocalDescription.answer(to: try SFU.SessionDescription.parse(offer), peer.local)
            try peer.setRemote(offer, weOffered: false)
            return answer
        }.get()
        _ = try await message(handle: handle, ["request": "start"], jsep: ["type": "answer", "sdp": answer])
    }

    func close() async {
        poller?.cancel()
        _ = try? await Self.janusRequest(baseURL.appendingPathComponent(String(sessionID)), ["janus": "destroy"])
    }

    // MARK: - Janus API

    private func attach() async throws -> Int {
        let reply = try await Self.janusRequest(baseURL.appendingPathComponent(String(sessionID)),
                                                ["janus": "attach", "plugin": "janus.plugin.videoroom"])
        guard let id = (reply["data"] as? [String: Any])?["id"] as? Int else {
            throw LoadError.signaling("Janus attach: no handle id in \(reply)")
        }
        return id
    }

    /// A plugin request: its synchronous result, or (after "ack") the event carrying the same transaction.
    private func message(handle: Int, _ body: [String: Any], jsep: [String: String]? = nil) async throws -> JanusMessage {
        var request: [String: Any] = ["janus": "message", "body": body]
        if let jsep { request["jsep"] = jsep }
        let transaction = UUID().uuidString
        let url = baseURL.appendingPathComponent(String(sessionID)).appendingPathComponent(String(handle))
        let reply = try await Self.janusRequest(url, request, transaction: transaction)
        let result = reply["janus"] as? String == "ack"
            ? try await events.wait(for: transaction, timeout: Self.eventTimeout)
            : JanusMessage(reply)
        if let error = result.pluginData["error"] { throw LoadError.signaling("Janus \(body["request"] ?? ""): \(error)") }
        return result
    }

    private static func janusRequest(_ url: URL, _ body: [String: Any], transaction: String = UUID().uuidString)
        async throws -> [String: Any] {
        var body = body
        body["transaction"] = transaction
        let (data, status) = try await HTTP.post(url, body: try JSONSerialization.data(withJSONObject: body),
                                                 contentType: "application/json")
        guard status == 200, let reply = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LoadError.signaling("Janus \(url) answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
        if reply["janus"] as? String == "error" { throw LoadError.signaling("Janus \(body["janus"] ?? ""): \(reply["error"] ?? reply)") }
        return reply
    }

    /// The session's long poll; also what keeps the session alive (Janus times out idle sessions after 60 s).
    private func pollEvents() async {
        let url = URL(string: "\(baseURL.absoluteString)/\(sessionID)?maxev=20")!
        while !Task.isCancelled {
            guard let (data, status) = try? await HTTP.get(url), status == 200,
                  let json = try? JSONSerialization.jsonObject(with: data) else {
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            let list = (json as? [[String: Any]]) ?? [json as? [String: Any]].compactMap { $0 }
            for event in list {
                if let transaction = event["transaction"] as? String { events.deliver(JanusMessage(event), for: transaction) }
            }
        }
    }
}

/// One decoded Janus message (JSON objects are not Sendable; each is created once and only read).
struct JanusMessage: @unchecked Sendable {
    let object: [String: Any]
    init(_ object: [String: Any]) { self.object = object }

    var pluginData: [String: Any] { ((object["plugindata"] as? [String: Any])?["data"] as? [String: Any]) ?? [:] }
    var sdp: String? { (object["jsep"] as? [String: Any])?["sdp"] as? String }
}

/// Events by transaction; an event that arrives before its waiter is kept for it.
final class JanusEvents: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: [String: CheckedContinuation<JanusMessage, Error>] = [:]
    private var early: [String: JanusMessage] = [:]

    func deliver(_ message: JanusMessage, for transaction: String) {
        let waiter: CheckedContinuation<JanusMessage, Error>? = lock.withLock {
            if let waiter = waiting.removeValue(forKey: transaction) { return waiter }
            early[transaction] = message
            return nil
        }
        waiter?.resume(returning: message)
    }

    func wait(for transaction: String, timeout: Duration) async throws -> JanusMessage {
        let timer = Task {
            try await Task.sleep(for: timeout)
            let waiter = lock.withLock { waiting.removeValue(forKey: transaction) }
            waiter?.resume(throwing: LoadError.signaling("no Janus event for transaction \(transaction) in \(timeout)"))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let message: JanusMessage? = lock.withLock {
                if let message = early.removeValue(forKey: transaction) { return message }
                waiting[transaction] = continuation
                return nil
            }
            if let message { continuation.resume(returning: message) }
        }
    }
}
