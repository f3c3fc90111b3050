#pragma once
// usrsctp (Debian's libusrsctp-dev) for WebRTC data channels: SCTP over our DTLS association through AF_CONN.
// Its pkg-config file adds -DINET -DINET6; the header only needs them for address families we do not use.
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <usrsctp.h>

// Swift cannot pass a `struct sockaddr_conn` as `struct sockaddr *` nor fill usrsctp's option structs (flexible
// arrays, unions) without long pointer dances; these helpers do just that, no logic.
static inline struct sockaddr_conn roomssctp_sconn(uint16_t port_host_order, void *address) {
    struct sockaddr_conn sconn;
    memset(&sconn, 0, sizeof(sconn));
    sconn.sconn_family = AF_CONN;
    sconn.sconn_port = htons(port_host_order);
    sconn.sconn_addr = address;
    return sconn;
}

static inline int roomssctp_bind(struct socket *so, uint16_t port, void *address) {
    struct sockaddr_conn sconn = roomssctp_sconn(port, address);
    return usrsctp_bind(so, (struct sockaddr *)&sconn, sizeof(sconn));
}

static inline int roomssctp_connect(struct socket *so, uint16_t port, void *address) {
    struct sockaddr_conn sconn = roomssctp_sconn(port, address);
    return usrsctp_connect(so, (struct sockaddr *)&sconn, sizeof(sconn));
}

// The peer's path MTU is fixed (the DTLS record must fit one datagram): no PMTU discovery over AF_CONN.
static inline int roomssctp_set_path_mtu(struct socket *so, uint16_t port, void *address, uint32_t mtu) {
    struct sctp_paddrparams params;
    memset(&params, 0, sizeof(params));
    struct sockaddr_conn sconn = roomssctp_sconn(port, address);
    memcpy(&params.spp_address, &sconn, sizeof(sconn));
    params.spp_flags = SPP_PMTUD_DISABLE;
    params.spp_pathmtu = mtu;
    return usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &params, sizeof(params));
}

static inline int roomssctp_subscribe(struct socket *so, uint16_t event_type) {
    struct sctp_event event;
    memset(&event, 0, sizeof(event));
    event.se_assoc_id = SCTP_ALL_ASSOC;
    event.se_on = 1;
    event.se_type = event_type;
    return usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &event, sizeof(event));
}

// Outgoing stream reset (RFC 8831 §6.7: how a data channel is closed).
static inline int roomssctp_reset_stream(struct socket *so, uint16_t stream) {
    size_t length = sizeof(struct sctp_reset_streams) + sizeof(uint16_t);
    uint8_t storage[sizeof(struct sctp_reset_streams) + sizeof(uint16_t)];
    memset(storage, 0, length);
    struct sctp_reset_streams *reset = (struct sctp_reset_streams *)storage;
    reset->srs_assoc_id = SCTP_ALL_ASSOC;
    reset->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    reset->srs_number_streams = 1;
    reset->srs_stream_list[0] = stream;
    return usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_RESET_STREAMS, reset, (socklen_t)length);
}

// Sends one message on `stream` with `ppid` (host order), ordered or not.
static inline ssize_t roomssctp_send(struct socket *so, const void *data, size_t length, uint16_t stream,
                                     uint32_t ppid, int unordered) {
    struct sctp_sndinfo info;
    memset(&info, 0, sizeof(info));
    info.snd_sid = stream;
    info.snd_ppid = htonl(ppid);
    info.snd_flags = SCTP_EOR | (unordered ? SCTP_UNORDERED : 0);
    return usrsctp_sendv(so, data, length, NULL, 0, &info, (socklen_t)sizeof(info), SCTP_SENDV_SNDINFO, 0);
}

// The socket options every data channel association uses (RFC 8831 §6): non-blocking; no Nagle; stream reset
// allowed; rcvinfo with each message; as many streams as the peer may use; association and stream-reset events;
// send/receive buffers of `buffer_bytes` (the bound on what one peer may have queued).
static inline int roomssctp_configure(struct socket *so, uint16_t streams, int buffer_bytes) {
    if (usrsctp_set_non_blocking(so, 1) < 0) return -1;
    struct linger linger = { .l_onoff = 1, .l_linger = 0 }; // close() aborts at once: no lingering state
    if (usrsctp_setsockopt(so, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger)) < 0) return -2;
    int on = 1;
    if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on)) < 0) return -3;
    if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on)) < 0) return -4;
    struct sctp_assoc_value reset = { .assoc_id = SCTP_ALL_ASSOC, .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ };
    if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset, sizeof(reset)) < 0) return -5;
    struct sctp_initmsg init;
    memset(&init, 0, sizeof(init));
    init.sinit_num_ostreams = streams;
    init.sinit_max_instreams = streams;
    if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof(init)) < 0) return -6;
    if (usrsctp_setsockopt(so, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof(buffer_bytes)) < 0) return -7;
    if (usrsctp_setsockopt(so, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof(buffer_bytes)) < 0) return -8;
    if (roomssctp_subscribe(so, SCTP_ASSOC_CHANGE) < 0) return -9;
    if (roomssctp_subscribe(so, SCTP_STREAM_RESET_EVENT) < 0) return -10;
    return 0;
}

// Receives one message or notification (or a part of one, without MSG_EOR in *flags): its stream and PPID (host order).
static inline ssize_t roomssctp_receive(struct socket *so, void *buffer, size_t length, uint16_t *stream, uint32_t *ppid,
                                        int *flags) {
    struct sctp_rcvinfo info;
    memset(&info, 0, sizeof(info));
    socklen_t info_length = sizeof(info);
    unsigned int info_type = 0;
    struct sockaddr_conn from;
    socklen_t from_length = sizeof(from);
    *flags = 0;
    ssize_t n = usrsctp_recvv(so, buffer, length, (struct sockaddr *)&from, &from_length, &info, &info_length,
                              &info_type, flags);
    if (n >= 0 && info_type == SCTP_RECVV_RCVINFO) {
        *stream = info.rcv_sid;
        *ppid = ntohl(info.rcv_ppid);
    } else {
        *stream = 0;
        *ppid = 0;
    }
    return n;
}


// An AF_CONN one-to-one SCTP socket without receive callback (we read with usrsctp_recvv when the upcall says so).
static inline struct socket *roomssctp_socket(void) {
    return usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
}

static inline int roomssctp_is_notification(int flags) { return (flags & MSG_NOTIFICATION) != 0; }
static inline int roomssctp_is_end_of_record(int flags) { return (flags & MSG_EOR) != 0; }
