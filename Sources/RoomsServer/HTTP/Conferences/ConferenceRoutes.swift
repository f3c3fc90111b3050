import Foundation
import Hummingbird
import SIPDialIn

/// `/conferences…` of the MX API. A caller sees and changes only the conferences it owns (`ownerId` = its jid);
/// joining (`POST /conferences/{id}`) only needs the conference's access id.
extension MXAPI {
    func info() -> Response {
        let c = accounts.config
        return Reply.json(.ok, .object([("conferences", .object([
            ("ext", .string(c.ext)), ("did", .string(c.did)), ("subject", .string(c.subject)),
            ("body", .string(c.body)), ("meeting", .string(c.meeting)),
        ]))]))
    }

    func list(_ caller: Caller, _ request: Request) async throws -> Response {
        let owned = try conferences.conferences(ownerId: caller.jid)
        let present = await presence.participants(inRooms: Set(owned.map(\.roomName)))
        return Reply.json(.ok, .object([("conferences", .array(owned.map {
            document($0, request, participants: present[$0.roomName] ?? [])
        }))]))
    }

    func show(_ caller: Caller, id: String, _ request: Request) async throws -> Response {
        let conference: Conference
        switch owned(id, by: caller) {
        case .success(let c): conference = c
        case .failure(let refusal): return refusal.response
        }
        let present = await presence.participants(inRooms: [conference.roomName])
        return Reply.json(.ok, document(conference, request, participants: present[conference.roomName] ?? []))
    }

    func create(_ caller: Caller, _ request: Request) async throws -> Response {
        let draft: ConferenceDraft
        switch try await validDraft(request) {
        case .success(let d): draft = d
        case .failure(let refusal): return refusal.response
        }
        if let owner = draft.ownerId, owner != caller.jid {
            return Reply.error(.forbidden, "forbidden", "ownerId must be your own jid (\(caller.jid)) or 0")
        }
        // An Id clash among 36^12 values is not expected, but costs nothing to survive (nor does a generated owner
        // PIN that happens to be taken).
        for _ in 0..<3 {
            var conference = draft.conference(id: Conference.newId(), ownerId: caller.jid)
            if conference.hasOwnerRules && conference.ownerAccessId == nil { conference.ownerAccessId = Conference.randomAccessId() }
            do {
                try conferences.insert(conference)
            } catch ConferenceStoreError.duplicateId {
                continue
            } catch ConferenceStoreError.ownerAccessIdTaken where draft.ownerAccessId == nil {
                continue
            } catch ConferenceStoreError.accessIdTaken {
                return accessIdTaken()
            } catch ConferenceStoreError.ownerAccessIdTaken {
                return ownerAccessIdTaken()
            }
            metrics.changed("create")
            logger.info("conference created", metadata: ["id": "\(conference.id)", "owner": "\(caller.user)", "type": "\(conference.type.rawValue)"])
            var r = Reply.json(.created, document(conference, request, participants: []))
            r.headers[.location] = "\(config.basePath)api/mx/conferences/\(conference.id)"
            return r
        }
        return Reply.error(.internalServerError, "internal_error", "Could not allocate a conference Id")
    }

    /// Replaces the whole conference (absent optional fields return to their defaults); Id and owner stay.
    func update(_ caller: Caller, id: String, _ request: Request) async throws -> Response {
        let existing: Conference
        switch owned(id, by: caller) {
        case .success(let c): existing = c
        case .failure(let refusal): return refusal.response
        }
        let draft: ConferenceDraft
        switch try await validDraft(request) {
        case .success(let d): draft = d
        case .failure(let refusal): return refusal.response
        }
        if !draft.id.isEmpty && draft.id != id {
            return Self.error(.badRequest, "invalid_field", "Id: does not match the conference in the path", extra: [("field", .string("Id"))])
        }
        if let owner = draft.ownerId, owner != existing.ownerId {
            return Reply.error(.forbidden, "forbidden", "the owner of a conference cannot be changed")
        }
        var conference = draft.conference(id: existing.id, ownerId: existing.ownerId)
        // An owner PIN once handed out stays valid while an owner rule needs one and the client did not set another.
        if conference.hasOwnerRules && conference.ownerAccessId == nil {
            conference.ownerAccessId = existing.ownerAccessId ?? Conference.randomAccessId()
        }
        do {
            try conferences.update(conference)
        } catch ConferenceStoreError.accessIdTaken {
            return accessIdTaken()
        } catch ConferenceStoreError.ownerAccessIdTaken {
            return ownerAccessIdTaken()
        } catch ConferenceStoreError.notFound {
            return Refusal.notFound(id).response
        }
        metrics.changed("update")
        logger.info("conference updated", metadata: ["id": "\(id)", "owner": "\(caller.user)"])
        let present = await presence.participants(inRooms: [conference.roomName])
        return Reply.json(.ok, document(conference, request, participants: present[conference.roomName] ?? []))
    }

    func delete(_ caller: Caller, id: String) throws -> Response {
        if case .failure(let refusal) = owned(id, by: caller) { return refusal.response }
        guard try conferences.delete(id: id) else { return Refusal.notFound(id).response }
        metrics.changed("delete")
        logger.info("conference deleted", metadata: ["id": "\(id)", "owner": "\(caller.user)"])
        return Self.noContent()
    }

    /// Checks the access id as a phone would: 204 when it is this conference's, 403 otherwise.
    func join(_ caller: Caller, id: String, _ request: Request) async throws -> Response {
        guard let conference = try conferences.conference(id: id) else { return Refusal.notFound(id).response }
        guard case .object(let fields)? = JSONInput.parse(try await readBody(request)) else {
            return Reply.error(.badRequest, "invalid_json", "The body must be a JSON object such as {\"accessId\": 12345678}")
        }
        let given: Int64?
        do {
            given = try ConferenceDraft.accessId(fields["accessId"])
        } catch {
            return Self.error(.badRequest, "invalid_field", error.description, extra: [("field", .string(error.field))])
        }
        guard let given else {
            return Self.error(.badRequest, "invalid_field", "accessId: required", extra: [("field", .string("accessId"))])
        }
        guard given == conference.accessId else {
            logger.notice("conference join refused", metadata: ["id": "\(id)", "user": "\(caller.user)"])
            return Reply.error(.forbidden, "wrong_access_id", "The access id does not match this conference")
        }
        return Self.noContent()
    }

    // MARK: helpers

    /// Why a request about one conference cannot go on.
    enum Refusal: Error {
        case notFound(String), notOwner, invalid(status: HTTPResponse.Status, code: String, message: String, field: String?)

        var response: Response {
            switch self {
            case .notFound(let id): return Reply.error(.notFound, "not_found", "No conference with Id '\(id)'")
            case .notOwner: return Reply.error(.forbidden, "forbidden", "This conference belongs to another user")
            case .invalid(let status, let code, let message, let field):
                return MXAPI.error(status, code, message, extra: field.map { [("field", .string($0))] } ?? [])
            }
        }
    }

    private func owned(_ id: String, by caller: Caller) -> Result<Conference, Refusal> {
        let found: Conference?
        do {
            found = try conferences.conference(id: id)
        } catch {
            logger.error("conference lookup failed", metadata: ["id": "\(id)", "error": "\(error)"])
            return .failure(.invalid(status: .internalServerError, code: "internal_error", message: "Internal error", field: nil))
        }
        guard let conference = found else { return .failure(.notFound(id)) }
        guard conference.ownerId == caller.jid else { return .failure(.notOwner) }
        return .success(conference)
    }

    private func validDraft(_ request: Request) async throws -> Result<ConferenceDraft, Refusal> {
        guard let body = JSONInput.parse(try await readBody(request)) else {
            return .failure(.invalid(status: .badRequest, code: "invalid_json", message: "The body is not valid JSON", field: nil))
        }
        do {
            return .success(try ConferenceDraft.validate(body))
        } catch {
            return .failure(.invalid(status: .badRequest, code: "invalid_field", message: error.description, field: error.field))
        }
    }

    private func accessIdTaken() -> Response {
        Self.error(.conflict, "access_id_taken", "accessId: another conference already uses this access id", extra: [("field", .string("accessId"))])
    }

    private func ownerAccessIdTaken() -> Response {
        Self.error(.conflict, "access_id_taken", "ownerAccessId: already an access id (of this or another conference)",
                   extra: [("field", .string("ownerAccessId"))])
    }

    /// The stored conference in the MX shape, plus Rooms' `ownerAccessId` (when set), `room`, `meeting` (its web
    /// link) and who is in it now.
    func document(_ c: Conference, _ request: Request, participants: [RoomParticipant]) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("Id", .string(c.id)), ("ownerId", .int(c.ownerId)), ("name", .string(c.name)), ("accessId", .int(c.accessId)),
            ("type", .string(c.type.rawValue)), ("startDate", .int(c.startDate)), ("duration", .int(Int64(c.duration))),
            ("waitForOwner", .bool(c.waitForOwner)), ("delOnOwnerLeave", .bool(c.delOnOwnerLeave)),
            ("ws", .string(c.ws)), ("wsType", .string(c.wsType)),
        ]
        if let owner = c.ownerAccessId { members.append(("ownerAccessId", .int(owner))) }
        members += [
            ("room", .string(c.roomName)), ("meeting", .string(meetingLink(c, request))),
            ("participantCount", .int(Int64(participants.count))),
            ("participants", .array(participants.map { .object([("id", .string($0.id)), ("userid", .string($0.userid))]) })),
        ]
        return .object(members)
    }

    /// `[conferences] publicURL` + base path + room; without publicURL, http:// and the Host the client used.
    func meetingLink(_ c: Conference, _ request: Request) -> String {
        let origin = accounts.config.publicURL.isEmpty ? "http://\(request.head.authority ?? "localhost")" : accounts.config.publicURL
        return origin + config.basePath + c.roomName
    }
}
