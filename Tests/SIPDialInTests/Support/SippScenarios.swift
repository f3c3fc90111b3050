// sipp scenarios for the loopback tests. Branches of INVITE transactions are fixed per call
// (z9hG4bK-[pid]-[call_number]-inv) so CANCEL and the non-2xx ACK can reuse them.

enum SippScenario {
    static let sdp = """
        v=0
        o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
        s=-
        c=IN IP[media_ip_type] [media_ip]
        t=0 0
        m=audio [media_port] RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        """

    static func inviteHeaders(cseq: Int, extra: String = "") -> String {
        """
              Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv\(cseq);rport
              From: "Alice" <sip:alice@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
              To: <sip:[service]@[remote_ip]:[remote_port]>
              Call-ID: [call_id]
              CSeq: \(cseq) INVITE
              Contact: <sip:alice@[local_ip]:[local_port];transport=[transport]>
              Max-Forwards: 70
              Allow: INVITE, ACK, BYE, CANCEL, INFO
        """ + (extra.isEmpty ? "" : "\n" + extra)
    }

    static func invite(cseq: Int = 1, extra: String = "", auth: Bool = false) -> String {
        """
          <send retrans="500">
            <![CDATA[
              INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
        \(inviteHeaders(cseq: cseq, extra: auth ? "      [authentication]" + (extra.isEmpty ? "" : "\n" + extra) : extra))
              Content-Type: application/sdp
              Content-Length: [len]

        \(sdp.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))

            ]]>
          </send>
        """
    }

    /// An in-dialog request after a 2xx received with rrs="true" (Route set and target from the 2xx).
    static func inDialog(_ method: String, cseq: Int, headers: String = "", body: String = "") -> String {
        """
          <send retrans="500">
            <![CDATA[
              \(method) [next_url] SIP/2.0
              Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
              [last_From:]
              [last_To:]
              [routes]
              Call-ID: [call_id]
              CSeq: \(cseq) \(method)
              Contact: <sip:alice@[local_ip]:[local_port];transport=[transport]>
              Max-Forwards: 70\(headers.isEmpty ? "" : "\n" + headers)
              Content-Length: [len]

        \(body)
            ]]>
          </send>
        """
    }

    static func ack(cseq: Int) -> String {
        """
          <send>
            <![CDATA[
              ACK [next_url] SIP/2.0
              Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
              [last_From:]
              [last_To:]
              [routes]
              Call-ID: [call_id]
              CSeq: \(cseq) ACK
              Contact: <sip:alice@[local_ip]:[local_port];transport=[transport]>
              Max-Forwards: 70
              Content-Length: 0

            ]]>
          </send>
        """
    }

    /// ACK for a non-2xx final: same branch as its INVITE.
    static func nonSuccessAck(cseq: Int) -> String {
        """
          <send>
            <![CDATA[
              ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
              Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv\(cseq);rport
              [last_From:]
              [last_To:]
              Call-ID: [call_id]
              CSeq: \(cseq) ACK
              Max-Forwards: 70
              Content-Length: 0

            ]]>
          </send>
        """
    }

    static func wrap(_ body: String) -> String {
        """
        <?xml version="1.0" encoding="ISO-8859-1" ?>
        <!DOCTYPE scenario SYSTEM "sipp.dtd">
        <scenario name="rooms-test">
        \(body)
        </scenario>
        """
    }

    static let answered = """
          <recv response="100" optional="true"/>
          <recv response="180" optional="true"/>
          <recv response="200" rrs="true"/>
        """

    /// INVITE, 200, ACK, two INFO digits, BYE.
    static let callWithInfoDigits = wrap(invite() + answered + ack(cseq: 1) + """
          <pause milliseconds="100"/>
        """ + inDialog("INFO", cseq: 2, headers: "      Content-Type: application/dtmf-relay", body: "Signal=5\r\nDuration=160") + """
          <recv response="200"/>
        """ + inDialog("INFO", cseq: 3, headers: "      Content-Type: application/dtmf", body: "#") + """
          <recv response="200"/>
        """ + inDialog("BYE", cseq: 4) + """
          <recv response="200" crlf="true"/>
        """)

    /// INVITE, 180, CANCEL; expects 200 (CANCEL) and 487 (INVITE), then ACKs the 487.
    static let cancel = wrap(invite() + """
          <recv response="100" optional="true"/>
          <recv response="180"/>
          <send>
            <![CDATA[
              CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
              Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-inv1;rport
              From: "Alice" <sip:alice@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
              To: <sip:[service]@[remote_ip]:[remote_port]>
              Call-ID: [call_id]
              CSeq: 1 CANCEL
              Max-Forwards: 70
              Content-Length: 0

            ]]>
          </send>
          <recv response="200"/>
          <recv response="487"/>
        """ + nonSuccessAck(cseq: 1))

    /// An INVITE that must be refused with `status`, then ACKed.
    static func refused(_ status: Int) -> String {
        wrap(invite() + """
          <recv response="100" optional="true"/>
          <recv response="180" optional="true"/>
          <recv response="\(status)"/>
        """ + nonSuccessAck(cseq: 1))
    }

    /// INVITE → 401 → ACK → INVITE with credentials → 200 → ACK → BYE.
    static let authenticatedCall = wrap(invite() + """
          <recv response="100" optional="true"/>
          <recv response="401" auth="true"/>
        """ + nonSuccessAck(cseq: 1) + invite(cseq: 2, auth: true) + answered + ack(cseq: 2) + inDialog("BYE", cseq: 3) + """
          <recv response="200" crlf="true"/>
        """)

    static let options = wrap("""
          <send retrans="500">
            <![CDATA[
              OPTIONS sip:[service]@[remote_ip]:[remote_port] SIP/2.0
              Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
              From: <sip:alice@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
              To: <sip:[service]@[remote_ip]:[remote_port]>
              Call-ID: [call_id]
              CSeq: 1 OPTIONS
              Max-Forwards: 70
              Content-Length: 0

            ]]>
          </send>
          <recv response="200">
            <action>
              <ereg regexp="INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE" search_in="hdr" header="Allow:" check_it="true" assign_to="allow"/>
            </action>
          </recv>
          <Reference variables="allow"/>
        """)

    /// A registrar that challenges, checks the digest (user rooms, password secret), grants 60 s, then takes the
    /// de-REGISTER.
    static let challengingRegistrar = wrap("""
          <recv request="REGISTER"/>
          <send>
            <![CDATA[
              SIP/2.0 401 Unauthorized
              [last_Via:]
              [last_From:]
              [last_To:];tag=[pid]reg
              [last_Call-ID:]
              [last_CSeq:]
              WWW-Authenticate: Digest realm="sipp.test", nonce="n[pid]x", qop="auth", algorithm=MD5
              Content-Length: 0

            ]]>
          </send>
          <recv request="REGISTER">
            <action>
              <verifyauth assign_to="authvalid" username="rooms" password="secret"/>
            </action>
          </recv>
          <nop hide="true" test="authvalid" next="goodauth"/>
          <send next="end">
            <![CDATA[
              SIP/2.0 403 Forbidden
              [last_Via:]
              [last_From:]
              [last_To:];tag=[pid]reg
              [last_Call-ID:]
              [last_CSeq:]
              Content-Length: 0

            ]]>
          </send>
          <label id="goodauth"/>
          <send>
            <![CDATA[
              SIP/2.0 200 OK
              [last_Via:]
              [last_From:]
              [last_To:];tag=[pid]reg
              [last_Call-ID:]
              [last_CSeq:]
              [last_Contact:];expires=60
              Content-Length: 0

            ]]>
          </send>
          <recv request="REGISTER"/>
          <send>
            <![CDATA[
              SIP/2.0 200 OK
              [last_Via:]
              [last_From:]
              [last_To:];tag=[pid]reg
              [last_Call-ID:]
              [last_CSeq:]
              Content-Length: 0

            ]]>
          </send>
          <label id="end"/>
        """)
}
