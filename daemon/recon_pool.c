/*
 * recon_pool.c - the engine's string arena: 2 MiB chunks, strings named by
 * a 32-bit reference (chunk << 21 | offset) so that a row holds a dozen
 * strings in 4 bytes each, and millions of strings cost no malloc each.
 * Low-cardinality fields (our accounts, banks, states, batch ids, return
 * reasons) are interned: one copy per distinct string, and equal strings
 * have equal references (step 0 and the batches rely on that).
 * Counterparty names and accounts are not: there can be as many as rows,
 * and a million look-ups in a table that size cost more than the bytes
 * they would save.
 */
#include <stdlib.h>
#include <string.h>

#include "recon_int.h"

int rc_grow(void **v, uint32_t *cap, size_t el, uint32_t need)
{
    if (need <= *cap)
        return 0;
    uint64_t c = *cap ? *cap : 16;
    while (c < need)
        c = c + c / 2 + 16;
    if (c > UINT32_MAX)
        c = UINT32_MAX;
    if (c < need || c > SIZE_MAX / el)
        return H2H_ENOMEM;
    void *n = realloc(*v, (size_t)c * el);
    if (!n)
        return H2H_ENOMEM;
    *v = n;
    *cap = (uint32_t)c;
    return 0;
}

uint32_t rc_hash_bytes(const void *s, size_t n, uint32_t seed)
{
    /* FNV-1a, 64 bit, folded: fast on the short strings we hash. */
    const unsigned char *p = s;
    uint64_t h = UINT64_C(0xcbf29ce484222325) ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static unsigned char fold(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

uint32_t rc_key_hash(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_blank(*p))
            continue;
        h ^= fold(*p);
        h *= UINT64_C(0x100000001b3);
    }
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

int rc_key_eq(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    for (;;) {
        while (is_blank(*p))
            p++;
        while (is_blank(*q))
            q++;
        if (!*p || !*q)
            return !*p && !*q;
        if (fold(*p) != fold(*q))
            return 0;
        p++, q++;
    }
}

int rc_key_present(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (is_blank(*p))
        p++;
    return *p && !rc_key_eq(s, "NOTPROVIDED");
}

int rc_pool_init(struct rc_pool *p)
{
    memset(p, 0, sizeof(*p));
    p->chunk = malloc(16 * sizeof(*p->chunk));
    if (!p->chunk)
        return H2H_ENOMEM;
    p->cap_chunk = 16;
    p->chunk[0] = malloc(RC_CHUNK_SIZE);
    if (!p->chunk[0]) {
        free(p->chunk);
        p->chunk = NULL;
        return H2H_ENOMEM;
    }
    p->n_chunk = 1;
    p->chunk[0][0] = '\0'; /* reference 0: the empty string */
    p->plain = (struct rc_stream){0, 1};
    p->interned = (struct rc_stream){RC_NONE, 0};
    return 0;
}

void rc_pool_release(struct rc_pool *p)
{
    for (uint32_t i = 0; i < p->n_chunk; i++)
        free(p->chunk[i]);
    free(p->chunk);
    free(p->itab);
    memset(p, 0, sizeof(*p));
}

/* Room for n bytes in stream st; the reference of the start. */
static int reserve(struct rc_pool *p, struct rc_stream *st, size_t n,
                   rc_str *ref)
{
    if (n > RC_CHUNK_SIZE)
        return H2H_ETOOBIG;
    if (st->chunk == RC_NONE || st->used + n > RC_CHUNK_SIZE) {
        if (p->n_chunk == RC_MAX_CHUNKS)
            return H2H_ETOOBIG;
        if (p->n_chunk == p->cap_chunk) {
            uint32_t nc = p->cap_chunk * 2;
            char **v = realloc(p->chunk, nc * sizeof(*v));
            if (!v)
                return H2H_ENOMEM;
            p->chunk = v;
            p->cap_chunk = nc;
        }
        char *c = malloc(RC_CHUNK_SIZE);
        if (!c)
            return H2H_ENOMEM;
        st->chunk = p->n_chunk;
        p->chunk[p->n_chunk++] = c;
        st->used = 0;
    }
    *ref = st->chunk << RC_CHUNK_SHIFT | st->used;
    st->used += (uint32_t)n;
    return 0;
}

/* Length of the UTF-8 sequence starting at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t min;
    if ((c & 0xE0) == 0xC0)
        n = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        n = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        n = 4, min = 0x10000;
    else
        return 0;
    uint32_t cp = c & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Copy with the sanitising of recon.h (length unchanged, so the reports
 * can never carry bytes XML or a terminal would choke on). */
static void sanitise(char *dst, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            dst[i] = (c < 0x20 && c != '\t' && c != '\n') || c == 0x7F
                         ? ' '
                         : (char)c;
            i++;
            continue;
        }
        /* src is NUL-terminated and NUL is no continuation byte, so this
         * never reads past the end */
        size_t n = utf8_len(s + i);
        if (!n) {
            dst[i++] = '?';
            continue;
        }
        /* C1 controls (U+0080..U+009F) are not for XML 1.0 text either */
        if (n == 2 && c == 0xC2 && s[i + 1] < 0xA0) {
            dst[i] = ' ';
            dst[i + 1] = ' ';
            i += 2;
            continue;
        }
        memcpy(dst + i, s + i, n);
        i += n;
    }
    dst[len] = '\0';
}

static int intern_grow(struct rc_pool *p)
{
    uint32_t ncap = p->itab ? (p->imask + 1) * 2 : 1024;
    struct rc_islot *t = calloc(ncap, sizeof(*t));
    if (!t)
        return H2H_ENOMEM;
    if (p->itab) {
        for (uint32_t i = 0; i <= p->imask; i++) {
            if (!p->itab[i].ref)
                continue;
            uint32_t j = p->itab[i].hash & (ncap - 1);
            while (t[j].ref)
                j = (j + 1) & (ncap - 1);
            t[j] = p->itab[i];
        }
        free(p->itab);
    }
    p->itab = t;
    p->imask = ncap - 1;
    return 0;
}

int rc_pool_put(struct rc_pool *p, const char *s, int intern, rc_str *out)
{
    *out = 0;
    if (!s || !*s)
        return 0;
    size_t len = strlen(s);
    if (len > RECON_MAX_STR)
        return H2H_ETOOBIG;
    rc_str ref;
    int rc;
    if (!intern) {
        if ((rc = reserve(p, &p->plain, len + 1, &ref)) < 0)
            return rc;
        sanitise((char *)rc_s(p, ref), s, len);
        *out = ref;
        return 0;
    }
    /* sanitised and looked up before anything is stored: a repeated name
     * costs no arena bytes */
    char small[256], *buf = small;
    if (len >= sizeof(small) && !(buf = malloc(len + 1)))
        return H2H_ENOMEM;
    sanitise(buf, s, len);
    if ((!p->itab || p->in + 1 > (p->imask + 1) / 2) &&
        (rc = intern_grow(p)) < 0)
        goto out;
    uint32_t h = rc_hash_bytes(buf, len, 0);
    uint32_t j = h & p->imask;
    for (; p->itab[j].ref; j = (j + 1) & p->imask) {
        if (p->itab[j].hash == h && !strcmp(rc_s(p, p->itab[j].ref), buf)) {
            *out = p->itab[j].ref;
            rc = 0;
            goto out;
        }
    }
    if ((rc = reserve(p, &p->interned, len + 1, &ref)) < 0)
        goto out;
    memcpy((char *)rc_s(p, ref), buf, len + 1);
    p->itab[j].hash = h;
    p->itab[j].ref = ref;
    p->in++;
    *out = ref;
out:
    if (buf != small)
        free(buf);
    return rc;
}
