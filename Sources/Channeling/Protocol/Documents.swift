import Foundation

/// Outgoing envelope (channeling-api §2): `{"Data":{…},"From","To","Iid","A"}`, empty members omitted.
struct Envelope<D: Encodable>: Encodable {
    var Data: D
    var From: String?
    var To: String?
    var Iid: String?
    var A: String?

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(Data, forKey: .Data)
        if let From, !From.isEmpty { try c.encode(From, forKey: .From) }
        if let To, !To.isEmpty { try c.encode(To, forKey: .To) }
        if let Iid, !Iid.isEmpty { try c.encode(Iid, forKey: .Iid) }
        if let A, !A.isEmpty { try c.encode(A, forKey: .A) }
    }

    enum Key: String, CodingKey { case Data, From, To, Iid, A }
}

public struct TurnDocument: Codable, Sendable, Equatable {
    public var username: String
    public var password: String
    public var ttl: Int
    public var urls: [String]?
}

struct SelfDocument: Encodable {
    var `Type` = "Self"
    var Id: String
    var Sid: String
    var Userid: String
    var Suserid: String
    var Token: String
    var Version: String
    var ApiVersion: Double = 1.4
    var Turn: TurnDocument
    var Stun: [String]
}

struct ErrorDocument: Encodable {
    var `Type` = "Error"
    var Code: String
    var Message: String
}

/// `Alive` echoes the payload as given, including its `Type` (seen `"Type":""`).
struct AliveDocument: Codable {
    var `Type`: String?
    var Alive: UInt64

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self.Type ?? "", forKey: .Type)
        try c.encode(Alive, forKey: .Alive)
    }
}

/// Encoder for every frame: compact JSON, slashes unescaped, followed by exactly one `\n` (seen on the original).
enum Wire {
    static func frame<D: Encodable>(_ data: D, from: String? = nil, to: String? = nil, iid: String? = nil, a: String? = nil) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        guard let bytes = try? encoder.encode(Envelope(Data: data, From: from, To: to, Iid: iid, A: a)) else { return "" }
        return String(decoding: bytes, as: UTF8.self) + "\n"
    }
}

/// A session as listed to others (`Online` in Welcome/Users, `Joined`, `Status`, `""` in Sessions replies);
/// empty members omitted (channeling-api §7.3).
struct SessionDocument: Encodable {
    var `Type`: String
    var Id: String
    var Userid: String?
    var Ua: String?
    var Rev: Int?
    var Prio = 100
    var Status: JSON?

    enum CodingKeys: String, CodingKey { case `Type`, Id, Userid, Ua, Rev, Prio, Status }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self.Type, forKey: .Type)
        try c.encode(Id, forKey: .Id)
        if let Userid, !Userid.isEmpty { try c.encode(Userid, forKey: .Userid) }
        if let Ua, !Ua.isEmpty { try c.encode(Ua, forKey: .Ua) }
        if let Rev, Rev != 0 { try c.encode(Rev, forKey: .Rev) }
        try c.encode(Prio, forKey: .Prio)
        if let Status, !Status.isNull { try c.encode(Status, forKey: .Status) }
    }
}

struct LeftDocument: Encodable {
    var `Type` = "Left"
    var Id: String
    var Status: String
}

struct WelcomeDocument: Encodable {
    struct RoomInfo: Encodable {
        var `Type`: String
        var Name: String
        var Credentials: Incoming.Credentials?

        enum CodingKeys: String, CodingKey { case `Type`, Name, Credentials }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(self.Type, forKey: .Type)
            try c.encode(Name, forKey: .Name)
            try c.encode(Credentials, forKey: .Credentials)
        }
    }
    var `Type` = "Welcome"
    var Room: RoomInfo
    var Users: [SessionDocument]
}

struct UsersDocument: Encodable {
    var `Type` = "Users"
    var Users: [SessionDocument]
}

struct ConferenceDocument: Encodable {
    var Id: String
    var `Type` = "Conference"
    var Conference: [String]
}

struct ChatDocument: Encodable {
    var To: String
    var `Type` = "Chat"
    var Chat: ChatMessage
}

struct SessionsDocument: Encodable {
    var `Type` = "Sessions"
    var Sessions: Incoming.SessionsRequest
    var Users: [SessionDocument]
}
