#pragma once
// Thin C wrappers for OpenSSL macros that Swift cannot import (they expand to SSL_ctrl/SSL_CTX_ctrl calls
// or to SSL_OP_BIT(n) shifts). No logic lives here: each function is one macro call.
#include <openssl/ssl.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// DTLS_set_link_mtu(ssl, mtu); returns 1 on success.
long csfushim_DTLS_set_link_mtu(SSL *ssl, long mtu);
/// DTLSv1_get_timeout(ssl, &tv); returns 1 and the remaining time in *sec/*usec when a timer is running.
long csfushim_DTLSv1_get_timeout(SSL *ssl, long *sec, long *usec);
/// DTLSv1_handle_timeout(ssl); 1 = retransmitted, 0 = nothing to do, -1 = error.
long csfushim_DTLSv1_handle_timeout(SSL *ssl);
/// SSL_CTX_set1_groups_list(ctx, list); returns 1 on success.
long csfushim_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list);
/// SSL_CTX_set_min_proto_version / SSL_CTX_set_max_proto_version; return 1 on success.
long csfushim_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
long csfushim_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
/// SSL_OP_NO_QUERY_MTU and SSL_OP_NO_RENEGOTIATION (defined through the SSL_OP_BIT macro).
uint64_t csfushim_SSL_OP_NO_QUERY_MTU(void);
uint64_t csfushim_SSL_OP_NO_RENEGOTIATION(void);

#ifdef __cplusplus
}
#endif
