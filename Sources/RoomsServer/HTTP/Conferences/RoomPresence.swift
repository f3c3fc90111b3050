import Channeling

/// Someone in a room right now, as `GET /conferences` lists them.
struct RoomParticipant: Sendable, Equatable {
    /// The channeling session Id.
    var id: String
    /// The authenticated user id, "" for anonymous sessions.
    var userid: String
}

/// Who is in which room: the conference API's view of the channeling hub (a protocol so the routes do not depend
/// on the hub's internals, and tests can stand in for it).
protocol RoomPresence: Sendable {
    /// Participants by room name, for the given room names (rooms nobody is in are absent).
    func participants(inRooms names: Set<String>) async -> [String: [RoomParticipant]]
}

struct HubRoomPresence: RoomPresence {
    let hub: Hub

    func participants(inRooms names: Set<String>) async -> [String: [RoomParticipant]] {
        guard !names.isEmpty else { return [:] }
        let snapshot = await hub.snapshot()
        let userids = Dictionary(snapshot.sessions.map { ($0.id, $0.userid) }, uniquingKeysWith: { first, _ in first })
        var result: [String: [RoomParticipant]] = [:]
        // Hub room ids are "<type>:<name>"; the same name can exist under two types (a client may send its own type).
        for (roomId, ids) in snapshot.idsInRoom {
            guard let colon = roomId.firstIndex(of: ":") else { continue }
            let name = String(roomId[roomId.index(after: colon)...])
            guard names.contains(name) else { continue }
            result[name, default: []] += ids.map { RoomParticipant(id: $0, userid: userids[$0] ?? "") }
        }
        return result
    }
}
