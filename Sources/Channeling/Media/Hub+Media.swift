import Foundation

/// The SFU signaling messages of docs/sfu-signaling.md. The SFU itself is behind `RoomMedia`; this layer keeps
/// who published which track in which room and tells room members when that changes.
extension Hub {
    struct SdpDocument: Codable { var type: String?; var sdp: String? }
    struct PublishPayload: Decodable {
        struct Track: Decodable { var Mid: String?; var Kind: String?; var Source: String? }
        var Offer: SdpDocument?
        var Tracks: [Track]?
    }
    struct SubscribePayload: Decodable { var Offer: SdpDocument? }
    struct MutePayload: Decodable { var Mid: String?; var Muted: Bool? }
    /// SfuLayer: the tile size (device pixels) a subscriber shows a track at, or an explicit layer (rid or q/h/f).
    struct LayerPayload: Decodable {
        var Track: String?
        var MaxWidth: Int?
        var MaxHeight: Int?
        var Layer: String?
        var Rid: String?
    }
    struct AnswerDocument: Encodable {
        var `Type` = "SfuAnswer"
        var Answer: SdpDocument
        var Tracks: [TrackInfo]
        /// Subscribe only: tracks left out because the offer has no format that carries their codec.
        var Unsupported: [UnsupportedTrack]? = nil
        /// The offer renegotiated the existing connection (same transport) rather than making a new one.
        var Renegotiated: Bool? = nil
    }
    struct UnsupportedTrack: Encodable {
        var Track: String
        var Session: String
        var Kind: String
        var Source: String
        var Codec: String
    }
    struct TracksDocument: Encodable {
        var `Type` = "SfuTracks"
        var Tracks: [TrackInfo]
    }

    func sfuMessage(_ session: Session, _ message: Incoming, iid: String?) async {
        guard let roomId = session.roomId, let room = room(roomId) else {
            return sendError(session, "not_in_room", "SFU messages need a current room", iid: iid)
        }
        guard let media else { return sendError(session, "sfu_unavailable", "the SFU is disabled", iid: iid) }
        switch message.Type {
        case "SfuPublish":
            guard let p = message.SfuPublish, let sdp = p.Offer?.sdp else { return sendError(session, "bad_request", "SfuPublish needs an Offer", iid: iid) }
            // An offer from the current publisher connection renegotiates it (tracks added or removed on the same
            // connection); any other offer replaces the publication with a new connection.
            let old = publication(of: session.id, in: roomId)
            do {
                let result = try await media.publish(room: roomId, offer: sdp, participant: session.id,
                                                     renegotiating: old?.transportID)
                if let old, !result.renegotiated { await media.close(room: roomId, transportID: old.transportID) }
                var tracks: [String: TrackInfo] = [:]
                for section in result.sections {
                    // A kept track the offer's Tracks does not mention keeps its source (a re-offer may list only new ones).
                    let kept = result.renegotiated ? old?.tracks[section.mid]?.Source : nil
                    let source = p.Tracks?.first { $0.Mid == section.mid }?.Source ?? kept
                        ?? (section.kind == "audio" ? "microphone" : "camera")
                    var info = TrackInfo(Track: section.trackID, Mid: nil, Session: session.id, Kind: section.kind, Source: source, Muted: false)
                    // A kept track keeps its mute state.
                    if result.renegotiated, let kept = old?.tracks[section.mid], kept.Track == section.trackID { info.Muted = kept.Muted }
                    tracks[section.mid] = info
                }
                setPublication(Publication(transportID: result.transportID, tracks: tracks), of: session.id, in: roomId)
                send(session, AnswerDocument(Answer: SdpDocument(type: "answer", sdp: result.answer), Tracks: Array(tracks.values),
                                             Renegotiated: result.renegotiated ? true : nil), iid: iid)
                await announceTracks(in: room)
            } catch {
                sendError(session, "sdp_rejected", "\(error)", iid: iid)
            }
        case "SfuSubscribe":
            guard let sdp = message.SfuSubscribe?.Offer?.sdp else {
                // Without an offer: the current track list, so the client can offer one transceiver per track.
                return send(session, TracksDocument(Tracks: tracks(in: roomId, except: session.id)), iid: iid)
            }
            let own: Set<String> = publication(of: session.id, in: roomId).map { [$0.transportID] } ?? []
            // An offer from the current subscriber connection renegotiates it (docs/sfu-signaling.md).
            let current = locked { subscriberTransports[session.id] }
            do {
                let result = try await media.subscribe(room: roomId, offer: sdp, excludingTransports: own, participant: session.id,
                                                       renegotiating: current?.room == roomId ? current?.transportID : nil)
                let byTrack = Dictionary(tracks(in: roomId, except: session.id).map { ($0.Track, $0) }, uniquingKeysWith: { a, _ in a })
                let mapped: [TrackInfo] = result.sections.compactMap { s in
                    guard var t = byTrack[s.trackID] else { return nil }
                    t.Mid = s.mid
                    return t
                }
                let unsupported: [UnsupportedTrack] = result.unsupported.map { u in
                    let t = byTrack[u.trackID]
                    return UnsupportedTrack(Track: u.trackID, Session: t?.Session ?? "", Kind: u.kind,
                                            Source: t?.Source ?? (u.kind == "audio" ? "microphone" : "camera"), Codec: u.codec)
                }
                let previous = result.renegotiated ? nil : swapSubscriber(of: session.id, to: (roomId, result.transportID))
                send(session, AnswerDocument(Answer: SdpDocument(type: "answer", sdp: result.answer), Tracks: mapped,
                                             Unsupported: unsupported.isEmpty ? nil : unsupported,
                                             Renegotiated: result.renegotiated ? true : nil), iid: iid)
                // The client sends each wish once; a new subscriber connection must keep them.
                for wish in layerWishes(of: session.id) { await applyLayer(wish, room: roomId, transportID: result.transportID, media: media) }
                if let previous {
                    // The client switches to its new connection once media arrives there; close the old one after.
                    Task {
                        try? await Task.sleep(nanoseconds: 3_000_000_000)
                        await media.close(room: previous.room, transportID: previous.transportID)
                    }
                }
            } catch {
                sendError(session, "sdp_rejected", "\(error)", iid: iid)
            }
        case "SfuMute", "SfuUnpublish":
            guard let p = message.Type == "SfuMute" ? message.SfuMute : message.SfuUnpublish, let mid = p.Mid else {
                return sendError(session, "bad_request", "missing Mid", iid: iid)
            }
            updatePublication(of: session.id, in: roomId) { pub in
                if message.Type == "SfuMute" { pub.tracks[mid]?.Muted = p.Muted ?? false } else { pub.tracks[mid] = nil }
            }
            await announceTracks(in: room)
        case "SfuLayer":
            guard let p = message.SfuLayer, let track = p.Track, !track.isEmpty else {
                return sendError(session, "bad_request", "SfuLayer needs a Track", iid: iid)
            }
            locked { layerPreferences[session.id, default: [:]][track] = p }
            guard let subscriber = locked({ subscriberTransports[session.id] }), subscriber.room == roomId else { return }
            await applyLayer(p, room: roomId, transportID: subscriber.transportID, media: media)
        default:
            return
        }
    }

    private func applyLayer(_ p: LayerPayload, room: String, transportID: String, media: RoomMedia) async {
        guard let track = p.Track else { return }
        await media.setLayer(room: room, transportID: transportID, trackID: track,
                             maxWidth: p.MaxWidth.map { max(0, $0) }, maxHeight: p.MaxHeight.map { max(0, $0) },
                             layer: p.Layer ?? p.Rid)
    }

    private func layerWishes(of id: String) -> [LayerPayload] { locked { Array((layerPreferences[id] ?? [:]).values) } }

    /// Tells every member of the room the current track list (after a publish, mute, unpublish or departure).
    func announceTracks(in room: Room) async {
        let frame = Wire.frame(TracksDocument(Tracks: tracks(in: room.id, except: nil)))
        await room.broadcast(frame, except: nil)
    }

    /// Ends a session's media in a room (it left or disconnected).
    func endMedia(of session: Session, roomId: String) async {
        let (pub, sub) = locked { () -> (Publication?, (room: String, transportID: String)?) in
            let p = publications[roomId]?.removeValue(forKey: session.id)
            let s = subscriberTransports.removeValue(forKey: session.id)
            layerPreferences[session.id] = nil
            return (p, s)
        }
        guard let media else { return }
        if let pub { await media.close(room: roomId, transportID: pub.transportID) }
        if let sub { await media.close(room: sub.room, transportID: sub.transportID) }
        if pub != nil, let room = room(roomId) { await announceTracks(in: room) }
    }

    // MARK: registry (under the hub lock)

    func publication(of id: String, in roomId: String) -> Publication? { locked { publications[roomId]?[id] } }

    func setPublication(_ p: Publication, of id: String, in roomId: String) {
        locked { publications[roomId, default: [:]][id] = p }
    }

    func updatePublication(of id: String, in roomId: String, _ change: (inout Publication) -> Void) {
        locked {
            guard var p = publications[roomId]?[id] else { return }
            change(&p)
            publications[roomId]?[id] = p
        }
    }

    func swapSubscriber(of id: String, to new: (room: String, transportID: String)) -> (room: String, transportID: String)? {
        locked {
            let old = subscriberTransports[id]
            subscriberTransports[id] = new
            return old
        }
    }

    func tracks(in roomId: String, except: String?) -> [TrackInfo] {
        locked {
            (publications[roomId] ?? [:]).filter { $0.key != except }.flatMap { $0.value.tracks.values }
                .sorted { ($0.Session, $0.Track) < ($1.Session, $1.Track) }
        }
    }
}

// MARK: - WHIP / WHEP (HTTP publishers and viewers; rest of the room sees them like any participant's tracks)

extension Hub {
    public enum ExternalMediaError: Error { case unavailable }

    /// A WHIP publisher: its tracks join the room's track list under the pseudo session `whip:<transport id>`.
    public func publishExternal(roomId: String, offer: String) async throws -> MediaNegotiation {
        guard let media else { throw ExternalMediaError.unavailable }
        let result = try await media.publish(room: roomId, offer: offer, participant: nil)
        let owner = "whip:" + result.transportID
        var tracks: [String: TrackInfo] = [:]
        for s in result.sections {
            tracks[s.mid] = TrackInfo(Track: s.trackID, Mid: nil, Session: owner, Kind: s.kind,
                                      Source: s.kind == "audio" ? "microphone" : "camera", Muted: false)
        }
        setPublication(Publication(transportID: result.transportID, tracks: tracks), of: owner, in: roomId)
        if let room = room(roomId) { await announceTracks(in: room) }
        return result
    }

    /// The room a session is in (its channeling id, which is also the SFU's room key).
    public func roomId(of handle: SessionHandle) -> String? { handle.session.roomId }

    /// Tracks a session publishes through a transport made outside channeling (the SIP bridge's phones): the
    /// room sees them like a browser's tracks. `tracks`: (publisher mid, kind, track id).
    public func attachPublication(of handle: SessionHandle, transportID: String, tracks: [(mid: String, kind: String, trackID: String)]) async {
        guard let roomId = handle.session.roomId else { return }
        var infos: [String: TrackInfo] = [:]
        for t in tracks {
            infos[t.mid] = TrackInfo(Track: t.trackID, Mid: nil, Session: handle.id, Kind: t.kind,
                                     Source: t.kind == "audio" ? "microphone" : "camera", Muted: false)
        }
        setPublication(Publication(transportID: transportID, tracks: infos), of: handle.id, in: roomId)
        if let room = room(roomId) { await announceTracks(in: room) }
    }

    /// A WHEP viewer: every track the room has now.
    public func subscribeExternal(roomId: String, offer: String) async throws -> MediaNegotiation {
        guard let media else { throw ExternalMediaError.unavailable }
        return try await media.subscribe(room: roomId, offer: offer, excludingTransports: [], participant: nil)
    }

    /// `DELETE` of a WHIP or WHEP resource.
    public func endExternal(roomId: String, transportID: String) async {
        let removed = locked { publications[roomId]?.removeValue(forKey: "whip:" + transportID) }
        await media?.close(room: roomId, transportID: transportID)
        if removed != nil, let room = room(roomId) { await announceTracks(in: room) }
    }
}

// MARK: - Active speaker

extension Hub {
    struct SpeakerDocument: Encodable {
        var `Type` = "SfuSpeaker"
        var Session: String
        /// RFC 6464 level in −dBov (0 loudest, 127 silence), as the client expects.
        var Level: Int
    }

    /// The SFU found a new loudest publisher in a room: tell the room who speaks.
    public func activeSpeaker(roomId: String, publisherTransportID: String?, loudness: Int) async {
        guard let room = room(roomId) else { return }
        let owner: String? = locked {
            publications[roomId]?.first { $0.value.transportID == publisherTransportID }?.key
        }
        let doc = SpeakerDocument(Session: owner ?? "", Level: owner == nil ? 127 : max(0, 127 - loudness))
        await room.broadcast(Wire.frame(doc), except: nil)
    }
}
