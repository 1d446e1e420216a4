/*
 * oj_token.c - the OAuth2 access token (client credentials over mutual
 * TLS, RFC 6749 section 4.4): fetched when a call needs one, shared by
 * every call of the instance, replaced at 80 % of its lifetime (so that
 * a request never leaves with a token about to expire) and when the bank
 * answers 401 invalid_token (oj_call.c asks for that once per request).
 *
 * One fetch at a time: calls that need a token while one is on its way
 * wait in a list and are all resumed by its answer.  The token request is
 * harmless to repeat (HTTPS_IDEMPOTENT).  The client secret goes into the
 * form body only; the body buffer is wiped after the transport copied it,
 * and no message ever carries the secret or a token.
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#define TOKEN_MAX 4096
/* A token without expires_in is used this long before a new one. */
#define TOKEN_DEFAULT_S 300

const char *oj_token_current(struct oj *o, unsigned *gen)
{
    if (!o->tok.value || uv_now(o->base.loop) >= o->tok.refresh_ms)
        return NULL;
    if (gen)
        *gen = o->tok.gen;
    return o->tok.value;
}

static void drop(struct oj *o)
{
    aset_secret_free(o->tok.value);
    o->tok.value = NULL;
}

void oj_token_invalidate(struct oj *o, unsigned gen)
{
    if (o->tok.value && o->tok.gen == gen)
        drop(o);
}

void oj_token_release(struct oj *o)
{
    drop(o);
    o->tok.waiters = NULL;
}

void oj_token_unwait(struct oj *o, struct oj_token_wait *w)
{
    for (struct oj_token_wait **pp = &o->tok.waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            return;
        }
}

/* Resume every waiter; the list is taken first, since a waiter may start
 * a new wait (and so a new fetch) from its callback. */
static void wake(struct oj *o, enum h2h_outcome out, const struct h2h_err *e)
{
    struct oj_token_wait *w = o->tok.waiters;
    o->tok.waiters = NULL;
    while (w) {
        struct oj_token_wait *next = w->next;
        w->next = NULL;
        w->ready(w, out, e);
        w = next;
    }
}

/* A token68 (RFC 6750 b64token): what may follow "Bearer ". */
static int token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > TOKEN_MAX)
        return 0;
    size_t i = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789-._~+/");
    if (i == 0)
        return 0;
    while (t[i] == '=')
        i++;
    return i == n;
}

/* Printable copy of a bank-supplied text for a message. */
static void clean(char *dst, size_t n, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 1 < n; s++)
        dst[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    dst[o] = '\0';
}

static void token_cb(const struct https_result *res, void *data)
{
    struct oj *o = data;
    struct h2h_err e = {0};
    enum h2h_outcome out = H2H_OUT_TEMPFAIL;
    json_t *j = NULL;
    o->tok.fetching = 0;
    if (res->outcome != H2H_OUT_OK) {
        /* A lost token answer hurts nobody: ask again later.  Trust
         * failures (server certificate, our client certificate) stay
         * permanent. */
        out = res->outcome == H2H_OUT_PERMFAIL ? H2H_OUT_PERMFAIL
                                               : H2H_OUT_TEMPFAIL;
        e = res->err;
        h2h_err_prefix(&e, "token request");
        goto fail;
    }
    if (res->body && res->body_len)
        j = json_loadb(res->body, res->body_len, JSON_REJECT_DUPLICATES, NULL);
    if (res->status != 200) {
        char code[64] = "", desc[200] = "";
        clean(code, sizeof(code),
              json_string_value(json_object_get(j, "error")));
        clean(desc, sizeof(desc),
              json_string_value(json_object_get(j, "error_description")));
        /* 400/401 are about our request or our credentials: they will
         * not heal by themselves.  Anything else may (5xx, 429). */
        out = (res->status >= 500 || res->status == 429 || res->status == 408)
                  ? H2H_OUT_TEMPFAIL
                  : H2H_OUT_PERMFAIL;
        h2h_err_set(&e,
                    res->status == 401 || res->status == 400 ? H2H_EAUTH
                                                             : H2H_EPROTO,
                    "token request refused: HTTP %ld%s%s%s%s", res->status,
                    code[0] ? " " : "", code, desc[0] ? ": " : "", desc);
        goto fail;
    }
    const char *tok = json_string_value(json_object_get(j, "access_token"));
    const char *type = json_string_value(json_object_get(j, "token_type"));
    json_t *exp = json_object_get(j, "expires_in");
    if (!tok || !token_ok(tok) || !type || strcasecmp(type, "Bearer") != 0 ||
        (exp && (!json_is_integer(exp) || json_integer_value(exp) <= 0))) {
        out = H2H_OUT_PERMFAIL;
        h2h_err_set(&e, H2H_EPROTO,
                    "token endpoint answered without a usable bearer token "
                    "(access_token, token_type Bearer, expires_in)");
        goto fail;
    }
    char *v = strdup(tok);
    if (!v) {
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        goto fail;
    }
    json_int_t life = exp ? json_integer_value(exp) : TOKEN_DEFAULT_S;
    if (life > 86400 * 365)
        life = 86400 * 365;
    drop(o);
    o->tok.value = v;
    o->tok.gen++;
    o->tok.refresh_ms = uv_now(o->base.loop) + (uint64_t)life * 800u;
    /* json_decref does not wipe: clear the token in the parsed copy */
    OPENSSL_cleanse((void *)tok, strlen(tok));
    json_decref(j);
    wake(o, H2H_OUT_OK, NULL);
    return;
fail:
    if (j) {
        const char *t = json_string_value(json_object_get(j, "access_token"));
        if (t)
            OPENSSL_cleanse((void *)t, strlen(t));
        json_decref(j);
    }
    if (e.code != H2H_ECANCELED)
        oj_note_err(o, &e);
    wake(o, out, &e);
}

/* Form-encode s (application/x-www-form-urlencoded, spaces as %20) onto
 * buf at *o; 0 or H2H_ETOOBIG. */
static int form_put(char *buf, size_t n, size_t *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == '_' || c == '~';
        if (*o + (plain ? 1 : 3) >= n)
            return H2H_ETOOBIG;
        if (plain) {
            buf[(*o)++] = (char)c;
        } else {
            buf[(*o)++] = '%';
            buf[(*o)++] = hex[c >> 4];
            buf[(*o)++] = hex[c & 15];
        }
    }
    buf[*o] = '\0';
    return 0;
}

static int form_lit(char *buf, size_t n, size_t *o, const char *s)
{
    size_t l = strlen(s);
    if (*o + l >= n)
        return H2H_ETOOBIG;
    memcpy(buf + *o, s, l + 1);
    *o += l;
    return 0;
}

static int fetch(struct oj *o, struct h2h_err *err)
{
    char form[8192];
    size_t n = 0;
    int rc = form_lit(form, sizeof(form), &n,
                      "grant_type=client_credentials&client_id=");
    rc = rc ? rc : form_put(form, sizeof(form), &n, o->s.client_id);
    rc = rc ? rc : form_lit(form, sizeof(form), &n, "&client_secret=");
    rc = rc ? rc : form_put(form, sizeof(form), &n, o->secret);
    if (o->s.scope) {
        rc = rc ? rc : form_lit(form, sizeof(form), &n, "&scope=");
        rc = rc ? rc : form_put(form, sizeof(form), &n, o->s.scope);
    }
    if (rc) {
        OPENSSL_cleanse(form, sizeof(form));
        return h2h_err_set(err, H2H_ETOOBIG,
                           "token request: client id or secret too long");
    }
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                          "Accept: application/json", NULL};
    struct https_req rq = {.method = "POST",
                           .url = o->s.token_url,
                           .headers = hdrs,
                           .body = form,
                           .body_len = n,
                           .flags = HTTPS_IDEMPOTENT,
                           .max_response = 1 << 20};
    rc = https_request(o->http, &rq, token_cb, o, NULL, err);
    OPENSSL_cleanse(form, sizeof(form));
    if (rc == 0)
        o->tok.fetching = 1;
    return rc;
}

int oj_token_wait(struct oj *o, struct oj_token_wait *w, struct h2h_err *err)
{
    w->next = o->tok.waiters;
    o->tok.waiters = w;
    if (o->tok.fetching)
        return 0;
    /* No fetch runs, so w is the only waiter (wake() empties the list). */
    int rc = fetch(o, err);
    if (rc < 0)
        o->tok.waiters = NULL;
    return rc;
}
