import Channeling
import Foundation
import Hummingbird

/// WHIP (RFC 9725) and WHEP: `POST <B>api/v1/whip/<room>` publishes into a room, `POST <B>api/v1/whep/<room>`
/// watches it; the SDP answer comes back with 201 and a `Location` to `DELETE` when done. No trickle ICE: the
/// server's candidates are in the answer and, being ICE-lite, it needs none from the client.
struct WHIPEndpoints: Sendable {
    let config: ServerConfig
    let hub: Hub

    /// `rest` is the path after `api/v1/`: `whip/<room>` or `whip/<room>/<resource>`.
    func handle(_ request: Request, rest: String, body: () async throws -> [UInt8]) async -> Response {
        let parts = rest.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[1].isEmpty, let name = parts[1].removingPercentEncoding else {
            return Reply.error(.notFound, "not_found", "WHIP/WHEP needs a room name")
        }
        let roomId = "\(config.roomType(for: name)):\(name)"
        let publish = parts[0] == "whip"
        if parts.count == 3 {
            guard request.method == .delete else { return Reply.empty(.methodNotAllowed) }
            await hub.endExternal(roomId: roomId, transportID: parts[2])
            return Reply.empty(.ok)
        }
        guard request.method == .post else { return Reply.empty(.methodNotAllowed) }
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/sdp") == true else {
            return Reply.error(.unsupportedMediaType, "bad_content_type", "Content-Type must be application/sdp")
        }
        guard hub.media != nil else { return Reply.error(.serviceUnavailable, "sfu_unavailable", "The SFU is disabled") }
        do {
            let offer = String(decoding: try await body(), as: UTF8.self)
            let result = publish ? try await hub.publishExternal(roomId: roomId, offer: offer)
                                 : try await hub.subscribeExternal(roomId: roomId, offer: offer)
            var h = HTTPFields()
            h[.location] = "\(config.basePath)api/v1/\(parts[0])/\(parts[1])/\(result.transportID)"
            return Reply.bytes(.created, Array(result.answer.utf8), type: "application/sdp", headers: h)
        } catch is RestAPI.BodyTooLarge {
            return Reply.error(.contentTooLarge, "request_too_large", "SDP offer too large")
        } catch {
            return Reply.error(.badRequest, "sdp_rejected", "The offer cannot be answered: \(error)")
        }
    }
}
