// Phones as channeling participants: each phone in a room is a hub session driven from here (Hello into the room,
// a Status with its name and picture), so browsers list it, see it join and leave, and get its audio track through
// the ordinary SfuTracks announcements. Its connection discards what the hub sends: a phone reads nothing.

import Channeling
import Foundation
import Logging
import SIPDialIn

struct HubPhoneRooms: PhoneRooms {
    let hub: Hub
    let version: String

    func enter(room: String, displayName: String, avatarPNG: [UInt8]?, onRemoved: @escaping @Sendable () -> Void) async throws -> PhoneSeat {
        let connection = PhoneConnection(onClose: onRemoved)
        let handle = await hub.connect(connection, token: nil, headerUserid: nil)
        await hub.receive(handle, text: Self.json(["Type": "Hello", "Hello": ["Version": version, "Ua": "Rooms SIP dial-in", "Name": room]]))
        guard let mediaRoom = hub.roomId(of: handle) else {
            await hub.disconnect(handle)
            throw PhoneRoomError.joinRefused(room)
        }
        var status: [String: Any] = ["displayName": displayName]
        if let avatarPNG { status["buddyPicture"] = "data:image/png;base64," + Data(avatarPNG).base64EncodedString() }
        await hub.receive(handle, text: Self.json(["Type": "Status", "Status": ["Status": status]]))
        return HubPhoneSeat(hub: hub, handle: handle, mediaRoom: mediaRoom)
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }
}

enum PhoneRoomError: Error, CustomStringConvertible {
    case joinRefused(String)
    var description: String {
        switch self { case .joinRefused(let room): return "the room '\(room)' refused the phone (PIN or account required)" }
    }
}

final class HubPhoneSeat: PhoneSeat, @unchecked Sendable {
    // Immutable after init.
    let hub: Hub
    let handle: SessionHandle
    let mediaRoom: String

    init(hub: Hub, handle: SessionHandle, mediaRoom: String) {
        self.hub = hub
        self.handle = handle
        self.mediaRoom = mediaRoom
    }

    func publish(transportID: String, tracks: [PhoneTrack]) async {
        await hub.attachPublication(of: handle, transportID: transportID, tracks: tracks.map { ($0.mid, $0.kind, $0.trackID) })
    }

    func leave() async { await hub.disconnect(handle) }
}

/// The hub's view of a phone's "socket": nothing to deliver to, but a close from the hub ends the call.
final class PhoneConnection: ChannelingConnection, @unchecked Sendable {
    private let onClose: @Sendable () -> Void
    init(onClose: @escaping @Sendable () -> Void) { self.onClose = onClose }
    func send(_ frame: String) {}
    func close(code: UInt16, reason: String) { onClose() }
}

/// PINs from the conference schedule (the MX API's store): the access id, or the owner access id of a conference
/// with owner rules.
struct SchedulePins: PinDirectory {
    let directory: ConferenceDirectory
    func lookup(pin: String, at date: Date) async -> PinLookup {
        switch (try? directory.lookup(accessId: pin, at: date)) ?? .notFound {
        case .open(let room, let conference):
            guard conference.hasOwnerRules else { return .room(room) }
            let owner = conference.ownerAccessId != nil && Conference.accessId(fromDigits: pin) == conference.ownerAccessId
            return .conference(room: room, rules: OwnerRules(conferenceID: conference.id, waitForOwner: conference.waitForOwner,
                                                             endWhenOwnerLeaves: conference.delOnOwnerLeave, callerIsOwner: owner))
        case .notYetOpen: return .notYetOpen
        case .ended: return .ended
        case .notFound: return .unknown
        }
    }
}

/// `delOnOwnerLeave`: the owner left, so the conference is deleted (its PINs stop working; browsers in its room stay
/// until they leave, since the room is theirs as much as the phones').
struct ScheduleCloser: ConferenceCloser {
    let store: ConferenceStore
    let logger: Logger

    func ownerLeft(conferenceID: String) async {
        do {
            guard let conference = try store.conference(id: conferenceID), conference.delOnOwnerLeave else { return }
            try store.delete(id: conferenceID)
            logger.info("conference deleted: its owner left", metadata: ["id": "\(conferenceID)"])
        } catch {
            logger.error("deleting conference after its owner left failed", metadata: ["id": "\(conferenceID)", "error": "\(error)"])
        }
    }
}
