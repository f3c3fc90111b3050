// How a peer gets its SDP exchanged with a server. Rooms: the client offers both ways (WHIP, WHEP). Janus's
// videoroom: the publisher offers, but a subscriber gets the server's offer and answers it.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

protocol SFUSignaling: Sendable {
    /// Negotiates `peer` as the publisher of `streams`; returns once the server's SDP is applied.
    func publish(_ peer: WebRtcPeer, streams: PublishedStreams) async throws
    /// Negotiates `peer` as a receiver of the publisher's tracks.
    func subscribe(_ peer: WebRtcPeer) async throws
    func close() async
}

/// WHIP and WHEP (docs/sfu-signaling.md): POST the offer as application/sdp, the answer comes back with 201.
struct RoomsSignaling: SFUSignaling {
    let baseURL: URL
    let room: String

    func publish(_ peer: WebRtcPeer, streams: PublishedStreams) async throws {
        let offer = LocalDescription.offer(peer.local, publishing: streams)
        let answer = try await post("whip", offer)
        try await peer.loop.submit { try peer.setRemote(answer, weOffered: true) }.get()
    }

    func subscribe(_ peer: WebRtcPeer) async throws {
        let offer = LocalDescription.offer(peer.local, publishing: nil)
        let answer = try await post("whep", offer)
        try await peer.loop.submit { try peer.setRemote(answer, weOffered: true) }.get()
    }

    func close() async {}

    private func post(_ kind: String, _ offer: String) async throws -> String {
        let url = baseURL.appendingPathComponent("api/v1/\(kind)/\(room)")
        let (body, status) = try await HTTP.post(url, body: Data(offer.utf8), contentType: "application/sdp")
        guard status == 201 else {
            throw LoadError.signaling("\(kind.uppercased()) \(url) answered \(status): \(String(decoding: body, as: UTF8.self))")
        }
        return String(decoding: body, as: UTF8.self)
    }
}

enum HTTP {
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration)
    }()

    static func post(_ url: URL, body: Data, contentType: String) async throws -> (Data, Int) {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        return try await send(request)
    }

    static func get(_ url: URL) async throws -> (Data, Int) {
        try await send(URLRequest(url: url))
    }

    private static func send(_ request: URLRequest) async throws -> (Data, Int) {
        let (data, response) = try await session.data(for: request)
        return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
    }
}
