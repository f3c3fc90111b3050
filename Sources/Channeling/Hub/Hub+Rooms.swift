import Foundation

extension Hub {
    // MARK: Hello (§6.2, join order of §5)

    func hello(_ session: Session, _ hello: Incoming.HelloPayload?, iid: String?) async {
        guard let hello else { return sendError(session, "bad_request", "message did not contain Hello", iid: iid) }
        session.setUa(hello.Ua ?? "")
        let name = (hello.Name ?? "").isEmpty ? (hello.Id ?? "") : (hello.Name ?? "")
        let type = (hello.Type ?? "").isEmpty ? settings.roomType(name) : hello.Type!
        let roomId = "\(type):\(name)"

        // Leaving the previous room comes first, even when this join then fails (seen on the original).
        if let current = session.roomId, current != roomId {
            await leaveRoom(session, status: "soft")
        }
        if name.isEmpty && !settings.defaultRoomEnabled && roomId == "\(settings.roomType("")):" {
            return sendError(session, "default_room_disabled", "the default room is disabled", iid: iid)
        }
        let authenticated = !session.userid.isEmpty
        if settings.usersEnabled && settings.authorizeRoomJoin && !authenticated {
            return sendError(session, "room_join_requires_account", "joining rooms requires an account", iid: iid)
        }
        let mayCreate = !(settings.usersEnabled && settings.authorizeRoomCreation && !authenticated)
        guard let (room, _) = self.room(roomId, orCreate: {
            guard mayCreate else { return nil }
            let pin = hello.Credentials?.PIN.flatMap { $0.isEmpty ? nil : $0 }
            return Room(id: roomId, name: name, type: type, pin: pin)
        }) else {
            return sendError(session, "room_join_requires_account", "creating rooms requires an account", iid: iid)
        }
        let joined = Wire.frame(session.document(type: "Joined", withRev: false), from: session.id, a: session.attestation(codec))
        var users: [SessionDocument]
        do {
            users = try await room.join(session, credentials: hello.Credentials, joined: joined)
        } catch {
            session.roomId = nil
            return sendError(session, error.rawValue, Self.joinMessage(error), iid: iid)
        }
        session.roomId = roomId
        if !settings.globalRoom.isEmpty, roomId != globalRoomId, let global = self.room(globalRoomId) {
            users += await global.list().filter { $0.Id != session.id }
        }
        send(session, WelcomeDocument(Room: .init(Type: type, Name: name, Credentials: nil), Users: users), iid: iid)
        if !settings.globalRoom.isEmpty, roomId == globalRoomId {
            // A global-room member's Joined reaches every room (its own room already got it in `join`).
            for other in allRooms where other !== room { await other.broadcast(joined, except: session.id) }
        }
        await conferenceUpdate(room)
    }

    static func joinMessage(_ e: Room.JoinError) -> String {
        switch e {
        case .authorizationRequired: return "room requires authorization"
        case .invalidCredentials: return "invalid credentials"
        case .authorizationNotRequired: return "room does not require authorization"
        }
    }

    /// Server-made Conference document to every member of a Conference room with ≥ 2 members (§5).
    func conferenceUpdate(_ room: Room) async {
        guard room.type == "Conference" else { return }
        let ids = await room.memberIds
        guard ids.count >= 2 else { return }
        let doc = ConferenceDocument(Id: room.id, Conference: ids)
        await room.broadcast(Wire.frame(doc, to: room.id), except: nil)
    }

    func leaveRoom(_ session: Session, status: String) async {
        guard let roomId = session.roomId else { return }
        session.roomId = nil
        guard let room = room(roomId) else { return }
        if await room.leave(session) {
            let left = Wire.frame(LeftDocument(Id: session.id, Status: status), from: session.id, a: session.attestation(codec))
            await broadcast(left, from: session, in: room)
        }
        await endMedia(of: session, roomId: roomId)
    }

    // MARK: Leave, Users, Room, Conference

    func leave(_ session: Session) async {
        await leaveRoom(session, status: "soft")
    }

    func users(_ session: Session, iid: String?) async {
        guard let roomId = session.roomId, let room = room(roomId) else {
            return sendError(session, "not_in_room", "Cannot list users without a current room", iid: iid)
        }
        var users = await room.list()
        if !settings.globalRoom.isEmpty, roomId != globalRoomId, let global = self.room(globalRoomId) {
            users += await global.list()
        }
        send(session, UsersDocument(Users: users), iid: iid)
    }

    func updateRoom(_ session: Session, _ payload: Incoming.RoomPayload?, iid: String?) async {
        guard let payload else { return sendError(session, "bad_request", "message did not contain Room", iid: iid) }
        let name = payload.Name ?? ""
        let type = (payload.Type ?? "").isEmpty ? settings.roomType(name) : payload.Type!
        guard let roomId = session.roomId, roomId == "\(type):\(name)", let room = room(roomId) else {
            return sendError(session, "not_in_room", "Cannot update other rooms", iid: iid)
        }
        await room.update(credentials: payload.Credentials)
        let doc = Incoming.RoomPayload(Type: room.type, Name: room.name, Credentials: payload.Credentials)
        send(session, doc, iid: iid)
        await broadcast(Wire.frame(doc, from: session.id, a: session.attestation(codec)), from: session, in: room)
        await conferenceUpdate(room)
    }

    func conference(_ session: Session, _ payload: Incoming.ConferencePayload?) async {
        guard let payload else { return }
        if let roomId = session.roomId, let room = room(roomId), room.type == "Conference" { return }
        let ids = payload.Conference ?? []
        guard ids.count <= 100 else { return }
        var doc = payload
        doc.Type = "Conference"
        for id in ids where id != session.id {
            self.session(id)?.connection.send(Wire.frame(doc, from: session.id, to: id, a: session.attestation(codec)))
        }
    }
}
