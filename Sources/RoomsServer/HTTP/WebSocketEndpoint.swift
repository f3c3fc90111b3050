import Channeling
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// A channeling WebSocket as the hub sees it. Frames queue in a bounded stream (2048, as the original's outbound
/// queue); when it is full new frames for this connection are dropped and the connection is kept.
final class WebSocketConnection: ChannelingConnection, @unchecked Sendable {
    private let continuation: AsyncStream<String>.Continuation
    private let lock = NSLock()
    private var closeRequest: (UInt16, String)?

    init(_ continuation: AsyncStream<String>.Continuation) {
        self.continuation = continuation
    }

    func send(_ frame: String) {
        continuation.yield(frame)
    }

    func close(code: UInt16, reason: String) {
        lock.lock()
        if closeRequest == nil { closeRequest = (code, reason) }
        lock.unlock()
        continuation.finish()
    }

    var requestedClose: (UInt16, String)? {
        lock.lock(); defer { lock.unlock() }
        return closeRequest
    }
}

/// Incoming throttle (channeling-api §1): a sliding window of 20 messages per second; further messages wait,
/// they are never dropped.
struct Throttle {
    private var times: [UInt64] = []
    private var next = 0
    static let window = 20
    static let period: UInt64 = 1_000_000_000

    mutating func admit() async {
        let now = DispatchTime.now().uptimeNanoseconds
        if times.count < Self.window {
            times.append(now)
            return
        }
        let oldest = times[next]
        if now < oldest + Self.period {
            try? await Task.sleep(nanoseconds: oldest + Self.period - now)
        }
        times[next] = DispatchTime.now().uptimeNanoseconds
        next = (next + 1) % Self.window
    }
}

struct WebSocketEndpoint: Sendable {
    let config: ServerConfig
    let hub: Hub
    let users: UserModes
    let responder: AppResponder
    let logger: Logger
    static let maxMessageBytes = 1 << 20

    var serverConfiguration: HTTP1WebSocketUpgradeChannel.Configuration {
        // Request heads up to 1 MiB, as the original; idle keep-alive connections close after the read timeout.
        .init(http1: .init(idleTimeout: .seconds(Int64(max(config.readTimeout, 1))),
                           httpDecoderConfiguration: .init(maxHeaderFieldSize: 1 << 20, maxHeaderListSize: 1 << 20, maxHeaderFieldCount: 10_000)),
              ws: .init(maxFrameSize: Self.maxMessageBytes, autoPing: .enabled(timePeriod: .seconds(30))))
    }

    /// Hummingbird answers every refused upgrade with a bare 400; the access-cookie check must answer 403 with a JSON
    /// error, so that response is written here, through the pipeline's HTTP/1 encoder, and the connection closed.
    static func refuse(_ channel: any Channel, _ response: Response) async throws {
        var headers = HTTPHeaders()
        for field in response.headers { headers.add(name: field.name.rawName, value: field.value) }
        var body = ByteBuffer()
        let json = Array(JSONValue.object([("code", .string("access_required")), ("message", .string("A valid access code is required")),
                                           ("success", .bool(false))]).serialized(indent: true).utf8)
        body.writeBytes(json)
        headers.replaceOrAdd(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.replaceOrAdd(name: "Content-Length", value: String(json.count))
        headers.replaceOrAdd(name: "Connection", value: "close")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: Int(response.status.code)), headers: headers)
        try await channel.eventLoop.flatSubmit {
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
            return channel.writeAndFlush(HTTPServerResponsePart.end(nil)).flatMap { channel.close() }
        }.get()
    }

    func shouldUpgrade(_ head: HTTPRequest, _ channel: any Channel, _ logger: Logger) async throws
        -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    {
        let target = head.path ?? ""
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        if head.method == .get, path == config.basePath + "ws", let refusal = responder.webSocketRefusal(head.headerFields, authority: head.authority) {
            try await Self.refuse(channel, refusal)
            return .dontUpgrade
        }
        // A malformed handshake is answered by the HTTP responder (400) instead of a dropped connection.
        let key = head.headerFields[.secWebSocketKey] ?? ""
        guard head.method == .get, path == config.basePath + "ws",
              head.headerFields[.secWebSocketVersion] == "13", key.count == 24, Data(base64Encoded: key)?.count == 16
        else { return .dontUpgrade }
        let query = target.contains("?") ? String(target[target.index(after: target.firstIndex(of: "?")!)...]) : ""
        let token = FormDecoding.parse(query)?["t"]
        let headerUserid = users.headerUserid(head.headerFields)
        let hub = self.hub
        return .upgrade([:]) { inbound, outbound, _ in
            let (stream, continuation) = AsyncStream.makeStream(of: String.self,
                                                                bufferingPolicy: .bufferingOldest(2048))
            let connection = WebSocketConnection(continuation)
            let handle = await hub.connect(connection, token: token, headerUserid: headerUserid)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await text in stream {
                        do { try await outbound.write(.text(text)) } catch { break }
                    }
                    if let (code, reason) = connection.requestedClose {
                        try? await outbound.close(.init(codeNumber: Int(code)), reason: reason)
                    }
                }
                group.addTask {
                    var throttle = Throttle()
                    // Messages are reassembled here rather than with `messages(maxSize:)` so that a fragmented
                    // message over the limit is answered with close code 1009, like a single oversized frame.
                    var pending = ByteBuffer()
                    var pendingIsText = false
                    do {
                        for try await frame in inbound {
                            switch frame.opcode {
                            case .text, .binary:
                                pending.clear()
                                pendingIsText = frame.opcode == .text
                            case .continuation:
                                break
                            }
                            var data = frame.data
                            guard pending.readableBytes + data.readableBytes <= Self.maxMessageBytes else {
                                connection.close(code: 1009, reason: "message too large")
                                break
                            }
                            pending.writeBuffer(&data)
                            guard frame.fin else { continue }
                            guard pendingIsText, let text = pending.readString(length: pending.readableBytes) else { continue }
                            await throttle.admit()
                            await hub.receive(handle, text: text)
                        }
                    } catch {}
                    continuation.finish()
                }
                // Both end on their own: the reader when the peer or the channel closes (it then finishes the
                // queue), the writer when the queue is finished, after it has sent any requested close frame.
                // Cancelling the writer early could drop that close frame (e.g. 1009 for an oversized message).
                await group.waitForAll()
            }
            await hub.disconnect(handle)
        }
    }
}
