// Media and IVR settings of dial-in (the SIP side has its own SIPConfiguration), filled from `[sip]` in server.conf.

import Foundation
import NIOCore

public struct DialInSettings: Sendable {
    /// Where phone RTP sockets are bound, and the address written into our SDP.
    public var rtpHost = "0.0.0.0"
    public var announcedHost = "127.0.0.1"
    /// Even ports from this range (nil: any free port).
    public var rtpPorts: ClosedRange<Int>?
    /// A call without RTP for this long is hung up (not while the phone holds it).
    public var rtpTimeout: TimeAmount = .seconds(30)
    /// Callers who forget `#`: what was typed counts after this pause.
    public var interDigitTimeout: TimeInterval = 5
    /// Nobody typed anything for this long after the welcome: goodbye.
    public var pinTimeout: TimeInterval = 60

    public init() {}
}
