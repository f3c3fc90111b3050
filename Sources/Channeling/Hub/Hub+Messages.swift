import BuddyImages
import Foundation

extension Hub {
    /// Handles one text frame of a session (channeling-api §6). Invalid JSON, wrong field types and unknown types
    /// are dropped without a reply.
    public func receive(_ handle: SessionHandle, text: String) async {
        let session = handle.session
        guard let message = try? JSONDecoder().decode(Incoming.self, from: Data(text.utf8)) else { return }
        let iid = message.Iid
        switch message.Type {
        case "Self": sendSelf(session, iid: iid)
        case "Hello": await hello(session, message.Hello, iid: iid)
        case "Leave": await leave(session)
        case "Room": await updateRoom(session, message.Room, iid: iid)
        case "Users": await users(session, iid: iid)
        case "Status": await status(session, message.Status, iid: iid)
        case "Chat": await chat(session, message.Chat)
        case "Offer": forward(session, kind: "Offer", message.Offer, needsObject: true)
        case "Answer": forward(session, kind: "Answer", message.Answer, needsObject: true)
        case "Candidate": forward(session, kind: "Candidate", message.Candidate, needsObject: false)
        case "Bye": forward(session, kind: "Bye", message.Bye, needsObject: nil)
        case "Conference": await conference(session, message.Conference)
        case "Alive":
            if let alive = message.Alive { send(session, alive, iid: iid) }
        case "Sessions": sessions(session, message.Sessions?.Sessions, iid: iid)
        case "Authentication": await authenticate(session, message.Authentication?.payload, iid: iid)
        case "SfuPublish", "SfuSubscribe", "SfuMute", "SfuUnpublish", "SfuLayer": await sfuMessage(session, message, iid: iid)
        default: return
        }
    }

    // MARK: signaling (§6.8)

    /// `needsObject`: true → the inner payload must be an object (Offer/Answer); false → non-null (Candidate);
    /// nil → anything, even null (Bye).
    func forward(_ session: Session, kind: String, _ payload: Incoming.SignalPayload?, needsObject: Bool?) {
        guard let payload, let to = payload.To, !to.isEmpty else { return }
        let inner = payload.raw[kind]
        switch needsObject {
        case true?: guard inner?.isObject == true else { return }
        case false?: guard let inner, !inner.isNull else { return }
        case nil: break
        }
        guard let recipient = self.session(to) else { return }
        var data = payload.raw
        data["Type"] = .string(kind)
        if data[kind] == nil { data[kind] = .null }
        recipient.connection.send(Wire.frame(JSON.object(data), from: session.id, to: to, a: session.attestation(codec)))
    }

    // MARK: status (§6.6)

    func status(_ session: Session, _ payload: Incoming.StatusPayload?, iid: String?) async {
        guard let payload else { return }
        var status = payload.Status
        if case .object(var fields)? = status, let picture = fields["buddyPicture"], !picture.isNull {
            guard case .string(let value) = picture else {
                return sendError(session, "bad_request", "buddyPicture must be a string", iid: iid)
            }
            if value.hasPrefix("data:") {
                switch images.accept(dataURL: value, session: session.id) {
                case .stored(let rewritten): fields["buddyPicture"] = .string(rewritten)
                case .unchanged: break
                case .rejected(let reason):
                    logger.info("buddy picture rejected", metadata: ["session": "\(session.id.prefix(12))", "reason": "\(reason)"])
                    fields["buddyPicture"] = .null
                }
                status = .object(fields)
            }
        }
        session.setStatus(status)
        guard let roomId = session.roomId, let room = room(roomId) else { return }
        let doc = session.document(type: "Status")
        await broadcast(Wire.frame(doc, from: session.id, a: session.attestation(codec)), from: session, in: room)
    }

    // MARK: chat (§6.7)

    static let rfc3339: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }()

    func chat(_ session: Session, _ payload: Incoming.ChatPayload?) async {
        guard let payload, var chat = payload.Chat else { return }
        let to = payload.To ?? ""
        chat.Time = Self.rfc3339.string(from: Date())
        if chat.NoEcho != true {
            session.connection.send(Wire.frame(ChatDocument(To: to, Chat: chat), from: session.id, to: session.id))
        }
        if to.isEmpty {
            guard let roomId = session.roomId, let room = room(roomId) else { return }
            countChat(broadcast: true)
            await broadcast(Wire.frame(ChatDocument(To: "", Chat: chat), from: session.id, a: session.attestation(codec)), from: session, in: room)
            return
        }
        let recipient = self.session(to)
        if let request = chat.Status?.ContactRequest {
            guard settings.contactsEnabled, let recipient, let checked = contactRequest(request, from: session, to: recipient) else { return }
            chat.Status?.ContactRequest = checked
        }
        if let recipient {
            if chat.Status == nil { countChat(broadcast: false) }
            recipient.connection.send(Wire.frame(ChatDocument(To: to, Chat: chat), from: session.id, to: to, a: session.attestation(codec)))
        }
        if let mid = chat.Mid, !mid.isEmpty {
            let sent = ChatMessage(Message: "", Time: "", Mid: mid, Status: ChatStatus(State: "sent"))
            session.connection.send(Wire.frame(ChatDocument(To: to, Chat: sent), from: session.id, to: session.id))
        }
    }

    /// Validates a contact request, decline or accept (§6.7); nil drops the chat.
    func contactRequest(_ r: ChatStatus.ContactRequestDoc, from sender: Session, to recipient: Session) -> ChatStatus.ContactRequestDoc? {
        var r = r
        let senderUser = sender.userid, recipientUser = recipient.userid
        if r.Success == true {
            guard let token = r.Token, let value = codec.decodeContactToken(token),
                  value.A == senderUser, !senderUser.isEmpty, value.B == recipientUser else { return nil }
        } else if r.Token != nil {
            r.Token = nil  // decline
        } else {
            guard !senderUser.isEmpty, !recipientUser.isEmpty, senderUser != recipientUser else { return nil }
            r.Token = codec.contactToken(.init(A: recipientUser, B: senderUser))
        }
        r.Userid = senderUser
        return r
    }

    // MARK: sessions (§6.11)

    func sessions(_ session: Session, _ request: Incoming.SessionsRequest?, iid: String?) {
        guard let request else { return sendError(session, "bad_request", "message did not contain Sessions", iid: iid) }
        switch request.Type ?? "" {
        case "session":
            let id: String
            do { id = try codec.validateAttestation(request.Token ?? "") } catch {
                return sendError(session, "bad_attestation", "\(error)", iid: iid)
            }
            guard let target = self.session(id) else { return sendError(session, "no_such_session", "no such session", iid: iid) }
            send(session, SessionsDocument(Sessions: request, Users: [target.document(type: "")]), iid: iid)
        case "contact":
            guard settings.contactsEnabled else { return sendError(session, "contacts_not_enabled", "contacts are not enabled", iid: iid) }
            let me = session.userid
            guard !me.isEmpty, let value = codec.decodeContactToken(request.Token ?? ""), value.A == me || value.B == me else {
                return sendError(session, "bad_request", "invalid contact token", iid: iid)
            }
            let target = value.A == me ? value.B : value.A
            let targets: [Session] = sessions(ofUser: target)
            var users = targets.map { $0.document(type: "") }
            for t in targets { t.subscribe(session.id) }
            if users.isEmpty {
                // A stable placeholder Id for an offline user, so clients can keep the contact listed.
                let stamp: String = codec.attestation(id: "offline:" + target, now: Date(timeIntervalSince1970: 0))
                let fake = Base64URL.encode(Array(Array(stamp.utf8).prefix(48)))
                users = [SessionDocument(Type: "", Id: fake, Userid: target)]
            }
            send(session, SessionsDocument(Sessions: request, Users: users), iid: iid)
        default:
            sendError(session, "bad_request", "unknown sessions request type", iid: iid)
        }
    }

    // MARK: authentication (§6.12)

    func authenticate(_ session: Session, _ auth: Incoming.AuthenticationPayload?, iid: String?) async {
        guard let auth else { return sendError(session, "bad_request", "message did not contain Authentication", iid: iid) }
        guard session.userid.isEmpty else {
            return sendError(session, "already_authenticated", "this session is already authenticated", iid: iid)
        }
        guard let stored = session.nonce, let nonce = auth.Nonce, constantTimeEqual(Array(stored.utf8), Array(nonce.utf8)),
              let userid = nonces.validate(nonce: nonce, sid: session.sid, now: Date()), userid == auth.Userid else {
            return sendError(session, "invalid_session_token", "nonce validation failed", iid: iid)
        }
        session.authenticate(userid)
        sendSelf(session, iid: iid)
        if let roomId = session.roomId, let room = room(roomId) {
            await broadcast(Wire.frame(session.document(type: "Status"), from: session.id, a: session.attestation(codec)), from: session, in: room)
        }
    }
}
