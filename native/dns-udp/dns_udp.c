// banger's batched UDP path for the .vm DNS server: one socket served by its own thread with
// recvmmsg/sendmmsg, answering the hot queries (a record's A/ANY, NODATA for its other types,
// NXDOMAIN below the zone) from a table the JS Responder precomputed, byte for byte what the JS
// path would send. Every other packet (apex, odd or hostile shapes, out-of-zone, AXFR) is handed
// to JS through a thread-safe function, so the JS Responder stays the one authority on answers.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define RX_SLOT 4097 /* MAX_QUERY + 1: larger datagrams arrive cut here, still > MAX_QUERY for JS */
#define TX_SLOT 1024
#define PUNT_QUEUE 8192
#define OUR_UDP_SIZE 1232

enum { S_QUERIES, S_NOERROR, S_NXDOMAIN, S_NODATA, S_DROPPED, S_COUNT };

typedef struct {
  const uint8_t *wire, *tail;
  uint16_t wlen, tlen;
  uint32_t hash;
  int32_t next;
} Entry;

typedef struct {
  uint8_t *blob;
  const uint8_t *zone, *nx, *nodata;
  uint16_t zlen, nxlen, ndlen;
  uint32_t n, mask;
  Entry *entries;
  int32_t *buckets;
} Table;

typedef struct {
  int fd, stop_r, stop_w, running;
  int refs;         /* the JS handle and the thread-safe function: freed when both are gone */
  int tsfn_gone;    /* its finalizer ran (close, or the environment tearing down) */
  pthread_t thread;
  pthread_mutex_t mu; /* guards table: held by the thread for one batch, by setTable for a swap */
  Table *table;
  napi_threadsafe_function punt;
  uint64_t stats[S_COUNT];
} Server;

typedef struct {
  uint32_t len;
  struct sockaddr_storage addr;
  uint8_t data[];
} Punted;

static inline uint8_t fold(uint8_t b) { return b >= 0x41 && b <= 0x5a ? b | 0x20 : b; }

static uint32_t fold_hash(const uint8_t *p, uint32_t n) {
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ fold(p[i])) * 0x01000193u;
  return h;
}

/* a (from a packet) case-folded equals b (lowercase) */
static int fold_eq(const uint8_t *a, const uint8_t *b, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (fold(a[i]) != b[i]) return 0;
  return 1;
}

static void bump(Server *s, int k) { __atomic_fetch_add(&s->stats[k], 1, __ATOMIC_RELAXED); }

static void table_free(Table *t) {
  if (!t) return;
  free(t->blob);
  free(t->entries);
  free(t->buckets);
  free(t);
}

static int take(const uint8_t *b, size_t len, size_t *at, const uint8_t **out, uint16_t *n) {
  if (*at + 2 > len) return 0;
  *n = (uint16_t)(b[*at] << 8 | b[*at + 1]);
  if (*at + 2 + *n > len) return 0;
  *out = b + *at + 2;
  *at += 2 + *n;
  return 1;
}

/* Layout (big-endian): u16+zone wire, u16+NXDOMAIN tail, u16+NODATA tail, u32 n, n x (u16+name wire, u16+A tail). */
static Table *table_parse(const uint8_t *src, size_t len) {
  Table *t = calloc(1, sizeof *t);
  if (!t || !(t->blob = malloc(len ? len : 1))) goto fail;
  memcpy(t->blob, src, len);
  const uint8_t *b = t->blob;
  size_t at = 0;
  if (!take(b, len, &at, &t->zone, &t->zlen) || !take(b, len, &at, &t->nx, &t->nxlen) ||
      !take(b, len, &at, &t->nodata, &t->ndlen) || at + 4 > len)
    goto fail;
  t->n = (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 | (uint32_t)b[at + 2] << 8 | b[at + 3];
  at += 4;
  if (t->n > len) goto fail;
  uint32_t size = 2;
  while (size < 2 * (t->n + 1)) size *= 2;
  t->mask = size - 1;
  t->entries = calloc(t->n ? t->n : 1, sizeof(Entry));
  t->buckets = malloc(size * sizeof(int32_t));
  if (!t->entries || !t->buckets) goto fail;
  for (uint32_t i = 0; i < size; i++) t->buckets[i] = -1;
  for (uint32_t i = 0; i < t->n; i++) {
    Entry *e = &t->entries[i];
    if (!take(b, len, &at, &e->wire, &e->wlen) || !take(b, len, &at, &e->tail, &e->tlen)) goto fail;
    e->hash = fold_hash(e->wire, e->wlen);
    e->next = t->buckets[e->hash & t->mask];
    t->buckets[e->hash & t->mask] = (int32_t)i;
  }
  if (at != len) goto fail;
  return t;
fail:
  table_free(t);
  return NULL;
}

/* Is the name at m[12, name_end) strictly below the zone apex? (labels already bounds-checked) */
static int in_zone(const Table *t, const uint8_t *m, uint32_t name_end) {
  if (name_end < (uint32_t)t->zlen + 13) return 0;
  uint32_t s = name_end - t->zlen, at = 12;
  while (at < s) at += 1 + m[at];
  return at == s && fold_eq(m + s, t->zone, t->zlen);
}

/* The JS fast path's V_FAST checks for UDP; -1 means "not for us": JS decides. */
static int answer(Server *s, const Table *t, const uint8_t *m, uint32_t len, uint8_t *o) {
  if (len < 12 || len > 4096 || (m[2] & 0xf8) || m[4] || m[5] != 1 || m[6] || m[7] || m[8] || m[9] || m[10] ||
      m[11] > 1)
    return -1;
  uint32_t p = 12, h = 0x811c9dc5u;
  for (;;) {
    if (p >= len) return -1;
    uint8_t l = m[p];
    if (l == 0) {
      h = h * 0x01000193u;
      p++;
      break;
    }
    if (l > 63 || p + 1 + l > len || p + 1 + l - 12 > 254) return -1;
    for (uint32_t i = p; i <= p + l; i++) h = (h ^ fold(m[i])) * 0x01000193u;
    p += 1 + l;
  }
  uint32_t name_end = p, nlen = p - 12;
  if (p + 4 > len) return -1;
  uint16_t qtype = (uint16_t)(m[p] << 8 | m[p + 1]), qclass = (uint16_t)(m[p + 2] << 8 | m[p + 3]);
  uint32_t q_end = p + 4;
  p = q_end;
  int has_opt = m[11] == 1;
  uint8_t opt_do = 0;
  if (!has_opt) {
    if (p != len || len > 512) return -1;
  } else {
    if (p + 11 > len || m[p] || m[p + 1] || m[p + 2] != 41) return -1;
    if (p + 11 + (uint32_t)(m[p + 9] << 8 | m[p + 10]) != len || m[p + 6]) return -1;
    opt_do = m[p + 7] & 0x80;
  }
  if ((qclass != 1 && qclass != 255) || qtype == 251 || qtype == 252) return -1;
  if (nlen == t->zlen && fold_eq(m + 12, t->zone, nlen)) return -1; /* apex: SOA/NS/ANY in JS */
  int32_t i = t->buckets[h & t->mask];
  while (i >= 0 && (t->entries[i].hash != h || t->entries[i].wlen != nlen || !fold_eq(m + 12, t->entries[i].wire, nlen)))
    i = t->entries[i].next;
  const uint8_t *tail;
  uint16_t tlen;
  uint8_t rcode = 0, an = 0, ns = 1;
  int stat;
  if (i >= 0 && (qtype == 1 || qtype == 255)) {
    tail = t->entries[i].tail, tlen = t->entries[i].tlen, an = 1, ns = 0, stat = S_NOERROR;
  } else if (i >= 0) {
    tail = t->nodata, tlen = t->ndlen, stat = S_NODATA;
  } else if (in_zone(t, m, name_end)) {
    tail = t->nx, tlen = t->nxlen, rcode = 3, stat = S_NXDOMAIN;
  } else {
    return -1; /* outside the zone: REFUSED or forwarded, JS decides */
  }
  uint32_t out_len = q_end + tlen + (has_opt ? 11 : 0);
  if (out_len > TX_SLOT) return -1;
  o[0] = m[0], o[1] = m[1];
  o[2] = 0x80 | 0x04 | (m[2] & 0x01); /* QR, AA, RD copied */
  o[3] = (m[3] & 0x10) | rcode;       /* CD copied */
  o[4] = 0, o[5] = 1, o[6] = 0, o[7] = an, o[8] = 0, o[9] = ns, o[10] = 0, o[11] = (uint8_t)has_opt;
  memcpy(o + 12, m + 12, q_end - 12);
  memcpy(o + q_end, tail, tlen);
  if (has_opt) {
    uint8_t *x = o + q_end + tlen;
    const uint8_t opt[11] = {0, 0, 41, OUR_UDP_SIZE >> 8, OUR_UDP_SIZE & 0xff, 0, 0, opt_do, 0, 0, 0};
    memcpy(x, opt, 11);
  }
  bump(s, S_QUERIES);
  bump(s, stat);
  return (int)out_len;
}

static void punt(Server *s, const uint8_t *data, uint32_t len, const struct sockaddr_storage *addr) {
  Punted *p = malloc(sizeof(Punted) + len);
  if (p) {
    p->len = len;
    p->addr = *addr;
    memcpy(p->data, data, len);
    if (napi_call_threadsafe_function(s->punt, p, napi_tsfn_nonblocking) == napi_ok) return;
    free(p);
  }
  bump(s, S_QUERIES); /* seen, but JS is too far behind: shed it like a full socket buffer would */
  bump(s, S_DROPPED);
}

static void serve_batch(Server *s, uint8_t (*rx)[RX_SLOT], uint8_t (*tx)[TX_SLOT]) {
  struct mmsghdr in[BATCH], out[BATCH];
  struct iovec iin[BATCH], iout[BATCH];
  struct sockaddr_storage addrs[BATCH];
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iin[i] = (struct iovec){rx[i], RX_SLOT};
      in[i].msg_hdr = (struct msghdr){.msg_name = &addrs[i], .msg_namelen = sizeof addrs[i], .msg_iov = &iin[i], .msg_iovlen = 1};
    }
    int n = recvmmsg(s->fd, in, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    int m = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < n; i++) {
      int r = s->table ? answer(s, s->table, rx[i], in[i].msg_len, tx[m]) : -1;
      if (r < 0) {
        punt(s, rx[i], in[i].msg_len, &addrs[i]);
        continue;
      }
      iout[m] = (struct iovec){tx[m], (size_t)r};
      out[m].msg_hdr = (struct msghdr){.msg_name = &addrs[i], .msg_namelen = in[i].msg_hdr.msg_namelen, .msg_iov = &iout[m], .msg_iovlen = 1};
      m++;
    }
    pthread_mutex_unlock(&s->mu);
    for (int off = 0; off < m;) {
      int k = sendmmsg(s->fd, out + off, (unsigned)(m - off), 0);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) {
        off++; /* that peer is unreachable (e.g. ICMP-reported): skip it, like a lost datagram */
        continue;
      }
      off += k;
    }
    if (n < BATCH) return; /* drained: back to poll */
  }
}

static void *serve(void *arg) {
  Server *s = arg;
  pthread_setname_np(pthread_self(), "banger-dns-udp"); /* what top -H and ps -L show */
  uint8_t(*rx)[RX_SLOT] = malloc(sizeof(*rx) * BATCH);
  uint8_t(*tx)[TX_SLOT] = malloc(sizeof(*tx) * BATCH);
  struct pollfd pf[2] = {{.fd = s->fd, .events = POLLIN}, {.fd = s->stop_r, .events = POLLIN}};
  while (rx && tx) {
    if (poll(pf, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pf[1].revents) break;
    if (pf[0].revents) serve_batch(s, rx, tx);
  }
  free(rx);
  free(tx);
  return NULL;
}

/* ---- N-API side ---- */

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, "E_DNS", "banger_dns_udp: " #call " failed"); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static void deliver(napi_env env, napi_value cb, void *ctx, void *data) {
  Punted *p = data;
  if (!env) {
    free(p);
    return;
  }
  char host[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (p->addr.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&p->addr;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&p->addr;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  }
  napi_value args[3], undef;
  void *copy;
  if (napi_create_buffer_copy(env, p->len, p->data, &copy, &args[0]) != napi_ok) {
    free(p);
    return;
  }
  free(p);
  napi_create_string_utf8(env, host, NAPI_AUTO_LENGTH, &args[1]);
  napi_create_int32(env, port, &args[2]);
  napi_get_undefined(env, &undef);
  napi_call_function(env, undef, cb, 3, args, NULL);
}

static int to_sockaddr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET, a4->sin_port = htons((uint16_t)port), *len = sizeof *a4;
    return 1;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6, a6->sin6_port = htons((uint16_t)port), *len = sizeof *a6;
    return 1;
  }
  return 0;
}

static Server *server_of(napi_env env, napi_value v) {
  void *s = NULL;
  if (napi_get_value_external(env, v, &s) != napi_ok || !s) napi_throw_type_error(env, "E_DNS", "not a socket handle");
  return s;
}

static void stop_thread(Server *s) {
  if (!s->running) return;
  s->running = 0;
  char c = 1;
  while (write(s->stop_w, &c, 1) < 0 && errno == EINTR) {
  }
  pthread_join(s->thread, NULL);
  close(s->fd);
  close(s->stop_r);
  close(s->stop_w);
}

static void unref(Server *s) {
  if (--s->refs > 0) return;
  pthread_mutex_destroy(&s->mu);
  table_free(s->table);
  free(s);
}

static void release_punt(Server *s) {
  if (s->tsfn_gone || !s->punt) return;
  s->tsfn_gone = 1; /* no more calls from here on: the finalizer below still comes */
  napi_release_threadsafe_function(s->punt, napi_tsfn_abort);
}

/* The thread-safe function is going away (after close, or at environment teardown): the thread
   that calls it must be gone first. */
static void punt_finalized(napi_env env, void *data, void *hint) {
  Server *s = data;
  stop_thread(s);
  s->tsfn_gone = 1;
  unref(s);
}

static void finalize(napi_env env, void *data, void *hint) {
  Server *s = data;
  stop_thread(s);
  release_punt(s);
  unref(s);
}

static napi_value throw_errno(napi_env env, int err, const char *what) {
  const char *code = err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES" : "E_DNS";
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, code, msg);
  return NULL;
}

/* open(host, port, onPunted(msg, address, port)) -> handle; binds and starts the thread */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], handle, name;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char host[64];
  int32_t port;
  CHECK(napi_get_value_string_utf8(env, argv[0], host, sizeof host, NULL));
  CHECK(napi_get_value_int32(env, argv[1], &port));
  struct sockaddr_storage ss;
  socklen_t sl;
  if (!to_sockaddr(host, port, &ss, &sl)) return throw_errno(env, EINVAL, "bad address");
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int one = 1, rcv = 4 << 20;
  if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "bind");
  }
  Server *s = calloc(1, sizeof *s);
  int pipefd[2];
  if (!s || pipe2(pipefd, O_CLOEXEC) < 0) {
    close(fd);
    free(s);
    return throw_errno(env, ENOMEM, "setup");
  }
  s->fd = fd, s->stop_r = pipefd[0], s->stop_w = pipefd[1], s->refs = 1;
  pthread_mutex_init(&s->mu, NULL);
  CHECK(napi_create_external(env, s, finalize, NULL, &handle));
  CHECK(napi_create_string_utf8(env, "banger-dns-udp", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_threadsafe_function(env, argv[2], NULL, name, PUNT_QUEUE, 1, s, punt_finalized, NULL, deliver,
                                        &s->punt));
  s->refs = 2;
  s->running = 1;
  if (pthread_create(&s->thread, NULL, serve, s) != 0) {
    s->running = 0;
    release_punt(s);
    return throw_errno(env, EAGAIN, "thread");
  }
  return handle;
}

static napi_value js_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Server *s = server_of(env, argv[0]);
  if (!s) return NULL;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int port = 0;
  if (s->running && getsockname(s->fd, (struct sockaddr *)&ss, &sl) == 0)
    port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
  CHECK(napi_create_int32(env, port, &out));
  return out;
}

/* setTable(handle, buffer): swap in a new answer table (null/empty buffer: answer nothing natively) */
static napi_value js_set_table(napi_env env, napi_callback_info info) {
  size_t argc = 2, len = 0;
  napi_value argv[2];
  void *data = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Server *s = server_of(env, argv[0]);
  if (!s) return NULL;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  Table *t = table_parse(data, len);
  if (!t) {
    napi_throw_error(env, "E_DNS", "banger_dns_udp: malformed answer table");
    return NULL;
  }
  pthread_mutex_lock(&s->mu);
  Table *old = s->table;
  s->table = t;
  pthread_mutex_unlock(&s->mu);
  table_free(old);
  return NULL;
}

/* send(handle, buffer, address, port): one reply from JS (punted queries); never blocks */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 4, len = 0;
  napi_value argv[4];
  void *data = NULL;
  char host[64];
  int32_t port;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Server *s = server_of(env, argv[0]);
  if (!s || !s->running) return NULL;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  CHECK(napi_get_value_string_utf8(env, argv[2], host, sizeof host, NULL));
  CHECK(napi_get_value_int32(env, argv[3], &port));
  struct sockaddr_storage ss;
  socklen_t sl;
  if (to_sockaddr(host, port, &ss, &sl)) sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
  return NULL;
}

/* stats(handle) -> [queries, noerror, nxdomain, nodata, dropped] answered or shed natively */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Server *s = server_of(env, argv[0]);
  if (!s) return NULL;
  CHECK(napi_create_array_with_length(env, S_COUNT, &out));
  for (uint32_t k = 0; k < S_COUNT; k++) {
    CHECK(napi_create_double(env, (double)__atomic_load_n(&s->stats[k], __ATOMIC_RELAXED), &v));
    CHECK(napi_set_element(env, out, k, v));
  }
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Server *s = server_of(env, argv[0]);
  if (s) {
    stop_thread(s);
    release_punt(s);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"port", NULL, js_port, NULL, NULL, NULL, napi_default, NULL},
      {"setTable", NULL, js_set_table, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
