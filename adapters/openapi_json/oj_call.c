/*
 * oj_call.c - one call to the bank's /v1 API: the access token attached
 * (waiting for one when needed), one repeat with a fresh token after a
 * 401 invalid_token, and every answer checked before anyone reads it:
 *
 *   X-Response-Signature is a detached CMS signature over
 *   "<X-Response-Timestamp>\n<X-Response-Id>\n<body>" by the pinned bank
 *   certificate (bank_cert); then the replay window refuses an id seen
 *   before and a timestamp too far from our clock.  The window is checked
 *   only after the signature verified, so forged answers cannot fill it.
 *
 * An answer that fails a check is no answer: the caller gets UNKNOWN with
 * bad_answer set (for a payment: ask by key before sending again).
 *
 * The replay windows live in a process-wide list, one per bank name, so
 * that a reload (a new instance while the old one finishes) does not
 * forget the ids it has seen.
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- replay windows -------------------------------------------------------
 */

struct oj_replay {
    struct oj_replay *next;
    char bank[CERT_REPLAY_BANK_MAX];
    unsigned window_s;
    struct cert_replay *r;
    int refs;
};

/* Loop thread only (create and close run there). */
static struct oj_replay *replays;

/* Ids remembered at most: far above what a bank answers us within
 * twice the window; a full window refuses (fail closed). */
#define REPLAY_MAX_IDS 200000

int oj_replay_get(const char *bank, unsigned window_s, struct oj_replay **out,
                  struct h2h_err *err)
{
    for (struct oj_replay *p = replays; p; p = p->next)
        if (strncmp(p->bank, bank, sizeof(p->bank) - 1) == 0 &&
            p->window_s == window_s) {
            p->refs++;
            *out = p;
            return 0;
        }
    struct oj_replay *p = calloc(1, sizeof(*p));
    if (!p)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = cert_replay_new(window_s, REPLAY_MAX_IDS, &p->r, err);
    if (rc < 0) {
        free(p);
        return rc;
    }
    snprintf(p->bank, sizeof(p->bank), "%s", bank);
    p->window_s = window_s;
    p->refs = 1;
    p->next = replays;
    replays = p;
    *out = p;
    return 0;
}

void oj_replay_put(struct oj_replay *r)
{
    if (!r || --r->refs > 0)
        return;
    for (struct oj_replay **pp = &replays; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    cert_replay_free(r->r);
    free(r);
}

/* ---- small helpers ------------------------------------------------------- */

int oj_urlenc(const char *s, char *buf, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == '_' || c == '~';
        if (o + (plain ? 1 : 3) >= n)
            return H2H_ETOOBIG;
        if (plain) {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '%';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    if (o >= n)
        return H2H_ETOOBIG;
    buf[o] = '\0';
    return 0;
}

static void clean_into(char *dst, size_t n, size_t *o, const char *s)
{
    for (; s && *s && *o + 1 < n; s++)
        dst[(*o)++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    dst[*o] = '\0';
}

void oj_reply_problem(const struct oj_reply *r, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    const char *code = json_string_value(json_object_get(r->json, "error"));
    const char *field = json_string_value(json_object_get(r->json, "field"));
    const char *msg = json_string_value(json_object_get(r->json, "message"));
    if (!code && !msg) {
        snprintf(buf, n, "HTTP %ld", r->status);
        return;
    }
    clean_into(buf, n, &o, code ? code : "error");
    if (field) {
        clean_into(buf, n, &o, ": ");
        clean_into(buf, n, &o, field);
    }
    if (msg) {
        clean_into(buf, n, &o, ": ");
        clean_into(buf, n, &o, msg);
    }
    if (o > 300) /* a bank's prose must not swamp our message */
        buf[300] = '\0';
}

/* ---- answer verification ------------------------------------------------- */

/* The only value of header name, or NULL (absent or given twice). */
static const char *one_header(const struct https_result *res, const char *name,
                              int *dup)
{
    const char *v = NULL;
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcasecmp(res->headers[i].name, name) == 0) {
            if (v)
                *dup = 1;
            v = res->headers[i].value;
        }
    return v;
}

/* "2024-03-04T10:15:00.123Z" (RFC 3339, UTC, optional fraction). */
static int parse_ts(const char *s, time_t *out)
{
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
        n != 19)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm);
    return 0;
}

static int printable_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CERT_REPLAY_ID_MAX)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static int verify(struct oj *o, const struct https_result *res,
                  struct h2h_err *err)
{
    int dup = 0;
    const char *id = one_header(res, "X-Response-Id", &dup);
    const char *ts = one_header(res, "X-Response-Timestamp", &dup);
    const char *sig = one_header(res, "X-Response-Signature", &dup);
    time_t t;
    if (!id || !ts || !sig || dup)
        return h2h_err_set(err, H2H_EAUTH,
                           "answer (HTTP %ld) without exactly one "
                           "X-Response-Id, X-Response-Timestamp and "
                           "X-Response-Signature: not from the bank",
                           res->status);
    if (!printable_id(id) || parse_ts(ts, &t) != 0)
        return h2h_err_set(err, H2H_EAUTH,
                           "answer (HTTP %ld) with a malformed X-Response-Id "
                           "or X-Response-Timestamp",
                           res->status);
    size_t lt = strlen(ts), li = strlen(id), lb = (size_t)res->body_len;
    char *data = malloc(lt + li + lb + 3);
    if (!data)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    memcpy(data, ts, lt);
    data[lt] = '\n';
    memcpy(data + lt + 1, id, li);
    data[lt + 1 + li] = '\n';
    if (lb)
        memcpy(data + lt + li + 2, res->body, lb);
    struct cert_peer peer = {.pinned = o->bank_pin};
    int rc = cert_cms_verify_b64(sig, strlen(sig), data, lt + li + 2 + lb,
                                 &peer, NULL, err);
    free(data);
    if (rc < 0)
        return h2h_err_prefix(err,
                              "answer (HTTP %ld) signature does not "
                              "verify against bank_cert",
                              res->status);
    /* only now: forged answers must not fill the window */
    rc = cert_replay_check(o->replay->r, o->base.bank, id, t, time(NULL), err);
    if (rc < 0)
        return h2h_err_prefix(err, "answer (HTTP %ld) refused%s", res->status,
                              rc == H2H_EDUP ? " as a replay" : "");
    return 0;
}

/* ---- calls ----------------------------------------------------------------
 */

struct oj_call {
    struct oj *o;
    char *method, *url;
    char *body;
    size_t body_len;
    char **headers; /* extra, owned, NULL-ended */
    size_t n_headers;
    unsigned flags;
    oj_call_cb cb;
    void *data;
    unsigned gen; /* of the token sent */
    int tries;    /* sends so far (at most 2: one after a 401) */
    struct oj_token_wait w;
};

static void call_free(struct oj_call *c)
{
    for (size_t i = 0; i < c->n_headers; i++)
        free(c->headers[i]);
    free(c->headers);
    free(c->method);
    free(c->url);
    free(c->body);
    free(c);
}

static void finish(struct oj_call *c, const struct oj_reply *r)
{
    struct oj *o = c->o;
    oj_call_cb cb = c->cb;
    void *data = c->data;
    call_free(c);
    cb(o, r, data);
}

static void finish_err(struct oj_call *c, enum h2h_outcome out,
                       const struct h2h_err *e)
{
    struct oj_reply r = {.outcome = out};
    if (e)
        r.err = *e;
    finish(c, &r);
}

static void http_cb(const struct https_result *res, void *data);

/* Send with the current token; 0 or the transport's refusal. */
static int call_send(struct oj_call *c, struct h2h_err *err)
{
    struct oj *o = c->o;
    unsigned gen = 0;
    const char *tok = oj_token_current(o, &gen);
    if (!tok)
        return h2h_err_set(err, H2H_ESTATE, "no access token");
    char *auth = NULL;
    if (asprintf(&auth, "Authorization: Bearer %s", tok) < 0)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    const char *hdrs[24];
    size_t n = 0;
    hdrs[n++] = auth;
    hdrs[n++] = "Accept: application/json";
    for (size_t i = 0; i < c->n_headers && n + 1 < 24; i++)
        hdrs[n++] = c->headers[i];
    hdrs[n] = NULL;
    struct https_req rq = {
        .method = c->method,
        .url = c->url,
        .headers = hdrs,
        .body = c->body,
        .body_len = c->body_len,
        .flags = c->flags,
        .max_response = 16u << 20,
    };
    int rc = https_request(o->http, &rq, http_cb, c, NULL, err);
    aset_secret_free(auth);
    if (rc == 0) {
        c->gen = gen;
        c->tries++;
    }
    return rc;
}

static void token_ready(struct oj_token_wait *w, enum h2h_outcome out,
                        const struct h2h_err *e)
{
    struct oj_call *c =
        (struct oj_call *)((char *)w - offsetof(struct oj_call, w));
    struct h2h_err err = {0};
    if (e) {
        /* nothing of this call left: a token problem is never UNKNOWN */
        finish_err(
            c, out == H2H_OUT_PERMFAIL ? H2H_OUT_PERMFAIL : H2H_OUT_TEMPFAIL,
            e);
        return;
    }
    if (call_send(c, &err) != 0)
        finish_err(c, H2H_OUT_TEMPFAIL, &err);
}

/* Send now, or once a token is there; errors only when neither works. */
static int start(struct oj_call *c, struct h2h_err *err)
{
    if (oj_token_current(c->o, NULL))
        return call_send(c, err);
    return oj_token_wait(c->o, &c->w, err);
}

static int is_invalid_token(const struct https_result *res)
{
    if (res->status != 401)
        return 0;
    /* The contract answers every refused token with 401 invalid_token
     * (and a WWW-Authenticate: Bearer challenge); a 401 without the
     * challenge is taken the same way (RFC 6750: the remedy for a refused
     * token is a new one, and a refused request did nothing). */
    const char *wa = https_result_header(res, "WWW-Authenticate");
    return !wa || strstr(wa, "invalid_token") != NULL ||
           strncasecmp(wa, "Bearer", 6) == 0;
}

static void http_cb(const struct https_result *res, void *data)
{
    struct oj_call *c = data;
    struct oj *o = c->o;
    struct h2h_err e = {0};
    if (res->outcome != H2H_OUT_OK) {
        finish_err(c, res->outcome, &res->err);
        return;
    }
    if (verify(o, res, &e) < 0) {
        struct oj_reply r = {.outcome = H2H_OUT_UNKNOWN,
                             .bad_answer = 1,
                             .status = res->status,
                             .err = e};
        finish(c, &r);
        return;
    }
    if (is_invalid_token(res) && c->tries < 2 && !o->closing) {
        /* The bank dropped our token (expired early, revoked, restarted):
         * the request did nothing; once more with a new token. */
        oj_token_invalidate(o, c->gen);
        if (start(c, &e) == 0)
            return;
        finish_err(c, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    o->answers++; /* a verified answer: the link to the bank works */
    json_t *j = NULL;
    if (res->body && res->body_len)
        j = json_loadb(res->body, (size_t)res->body_len, JSON_REJECT_DUPLICATES,
                       NULL);
    struct oj_reply r = {.outcome = H2H_OUT_OK,
                         .status = res->status,
                         .json =
                             (json_is_object(j) || json_is_array(j)) ? j : NULL,
                         .body = res->body,
                         .body_len = (size_t)res->body_len};
    finish(c, &r);
    json_decref(j);
}

int oj_call(struct oj *o, const struct oj_call_spec *spec, oj_call_cb cb,
            void *data, struct h2h_err *err)
{
    if (o->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           o->base.bank);
    struct oj_call *c = calloc(1, sizeof(*c));
    if (!c)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    c->o = o;
    c->cb = cb;
    c->data = data;
    c->flags = spec->flags;
    c->w.ready = token_ready;
    size_t nh = 0;
    while (spec->headers && spec->headers[nh])
        nh++;
    int oom = !(c->method = strdup(spec->method)) ||
              asprintf(&c->url, "%s%s", o->s.base_url, spec->path) < 0;
    if (oom)
        c->url = NULL;
    if (!oom && spec->body) {
        c->body = malloc(spec->body_len ? spec->body_len : 1);
        oom = !c->body;
        if (!oom && spec->body_len)
            memcpy(c->body, spec->body, spec->body_len);
        c->body_len = spec->body_len;
    }
    if (!oom && (spec->content_type || nh)) {
        c->headers = calloc(nh + 2, sizeof(char *));
        oom = !c->headers;
        char *ct = NULL;
        if (!oom && spec->content_type) {
            oom = asprintf(&ct, "Content-Type: %s", spec->content_type) < 0;
            if (!oom)
                c->headers[c->n_headers++] = ct;
        }
        for (size_t i = 0; !oom && i < nh; i++)
            oom = !(c->headers[c->n_headers++] = strdup(spec->headers[i]));
        if (oom && c->n_headers && !c->headers[c->n_headers - 1])
            c->n_headers--;
    }
    if (oom) {
        call_free(c);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    int rc = start(c, err);
    if (rc < 0) {
        c->cb = NULL;
        call_free(c);
        return rc;
    }
    return 0;
}
