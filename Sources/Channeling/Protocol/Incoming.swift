import Foundation

/// Incoming envelope (channeling-api §2): only the keys the protocol reads. A wrong JSON type in any of them makes
/// decoding fail and the frame is dropped silently, as the original does.
struct Incoming: Decodable {
    var `Type`: String
    var Iid: String?
    var Hello: HelloPayload?
    var Offer: SignalPayload?
    var Answer: SignalPayload?
    var Candidate: SignalPayload?
    var Bye: SignalPayload?
    var Status: StatusPayload?
    var Chat: ChatPayload?
    var Conference: ConferencePayload?
    var Alive: AliveDocument?
    var Authentication: AuthenticationEnvelope?
    var Sessions: SessionsPayload?
    var Room: RoomPayload?
    // Rooms' SFU signaling (docs/sfu-signaling.md).
    var SfuPublish: Hub.PublishPayload?
    var SfuSubscribe: Hub.SubscribePayload?
    var SfuMute: Hub.MutePayload?
    var SfuUnpublish: Hub.MutePayload?
    var SfuLayer: Hub.LayerPayload?

    struct Credentials: Codable, Equatable {
        var PIN: String?
    }

    struct HelloPayload: Decodable {
        var Version: String?
        var Ua: String?
        var Name: String?
        var Id: String?
        var `Type`: String?
        var Credentials: Credentials?
    }

    struct RoomPayload: Codable {
        var `Type`: String?
        var Name: String?
        var Credentials: Credentials?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(self.Type ?? "", forKey: .Type)
            try c.encode(Name ?? "", forKey: .Name)
            try c.encode(Credentials, forKey: .Credentials)  // null when absent (seen)
        }
    }

    /// Offer, Answer, Candidate and Bye: `{"Type","To","<Kind>":…}`; the whole payload is forwarded.
    struct SignalPayload: Decodable {
        var To: String?
        var raw: [String: JSON]

        init(from decoder: Decoder) throws {
            raw = try [String: JSON](from: decoder)
            if let to = raw["To"] {
                guard case .string(let s) = to else { throw DecodingError.typeMismatch(String.self, .init(codingPath: [], debugDescription: "To")) }
                To = s
            }
        }
    }

    struct StatusPayload: Decodable {
        var Status: JSON?
    }

    struct ChatPayload: Decodable {
        var To: String?
        var Chat: ChatMessage?
    }

    struct ConferencePayload: Codable {
        var Id: String?
        var `Type`: String?
        var Conference: [String]?
    }

    struct SessionsPayload: Decodable {
        var Sessions: SessionsRequest?
    }

    struct SessionsRequest: Codable {
        var `Type`: String?
        var Token: String?
    }

    /// The original client nests the payload (`{"Type":"Authentication","Authentication":{Userid,Nonce}}`);
    /// bots often send `Userid`/`Nonce` directly: both are accepted.
    struct AuthenticationEnvelope: Decodable {
        var Authentication: AuthenticationPayload?
        var Userid: String?
        var Nonce: String?
        var payload: AuthenticationPayload? {
            Authentication ?? ((Userid != nil || Nonce != nil) ? AuthenticationPayload(Userid: Userid, Nonce: Nonce) : nil)
        }
    }

    struct AuthenticationPayload: Decodable {
        var Userid: String?
        var Nonce: String?
    }
}

/// A chat message as forwarded (re-serialised from known fields; unknown keys dropped; channeling-api §6.7).
struct ChatMessage: Codable {
    var Message: String?
    var Time: String?
    var NoEcho: Bool?
    var Mid: String?
    var Status: ChatStatus?

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Message ?? "", forKey: .Message)
        try c.encode(Time ?? "", forKey: .Time)
        if NoEcho == true { try c.encode(true, forKey: .NoEcho) }
        if let Mid, !Mid.isEmpty { try c.encode(Mid, forKey: .Mid) }
        try c.encode(Status, forKey: .Status)
    }
}

struct ChatStatus: Codable {
    var Typing: String?
    var State: String?
    var Mid: String?
    var SeenMids: [String]?
    var FileInfo: FileInfoDoc?
    var Geolocation: GeolocationDoc?
    var ContactRequest: ContactRequestDoc?
    var AutoCall: AutoCallDoc?

    struct FileInfoDoc: Codable {
        var id: String?
        var chunks: UInt64?
        var name: String?
        var size: UInt64?
        var type: String?
    }

    struct GeolocationDoc: Codable {
        var accuracy: Double?
        var latitude: Double?
        var longitude: Double?
        var altitude: Double?
        var altitudeAccuracy: Double?
    }

    struct ContactRequestDoc: Codable {
        var Id: String?
        var Success: Bool?
        var Userid: String?
        var Token: String?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(Id ?? "", forKey: .Id)
            try c.encode(Success ?? false, forKey: .Success)
            if let Userid, !Userid.isEmpty { try c.encode(Userid, forKey: .Userid) }
            if let Token, !Token.isEmpty { try c.encode(Token, forKey: .Token) }
        }
    }

    struct AutoCallDoc: Codable {
        var Id: String?
        var `Type`: String?
    }

    /// Empty strings and lists are omitted, as the original's `omitempty`.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if let Typing, !Typing.isEmpty { try c.encode(Typing, forKey: .Typing) }
        if let State, !State.isEmpty { try c.encode(State, forKey: .State) }
        if let Mid, !Mid.isEmpty { try c.encode(Mid, forKey: .Mid) }
        if let SeenMids, !SeenMids.isEmpty { try c.encode(SeenMids, forKey: .SeenMids) }
        if let FileInfo { try c.encode(FileInfo, forKey: .FileInfo) }
        if let Geolocation { try c.encode(Geolocation, forKey: .Geolocation) }
        if let ContactRequest { try c.encode(ContactRequest, forKey: .ContactRequest) }
        if let AutoCall { try c.encode(AutoCall, forKey: .AutoCall) }
    }
}
