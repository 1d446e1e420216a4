/*
 * cert_replay.c - replay window over signed bank responses.  See cert.h.
 *
 * A hash table of (bank, id) for lookups, and a binary min-heap on the
 * time each entry may be forgotten (its message timestamp + window) so
 * that expiring is O(log n) per entry and never scans.  Both are sized
 * once, at creation, from max_ids: memory is bounded and no allocation
 * happens per message except the entry itself.
 */
#include "cert_int.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

struct rp_entry {
    struct rp_entry *next; /* hash chain */
    time_t forget_at;      /* msg_ts + window */
    size_t heap_idx;
    uint64_t hash;
    size_t keylen;
    char key[]; /* bank '\0' id */
};

struct cert_replay {
    pthread_mutex_t mu;
    unsigned window;
    size_t max;
    size_t n;
    uint64_t seed;
    size_t nbuckets; /* power of two */
    struct rp_entry **buckets;
    struct rp_entry **heap; /* max entries */
};

/* FNV-1a with a per-window random seed: ids come from banks after
 * signature verification, so this only needs to spread, not to resist a
 * determined attacker; the seed still makes collisions unpredictable. */
static uint64_t rp_hash(uint64_t seed, const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

int cert_replay_new(unsigned window_s, size_t max_ids, struct cert_replay **out,
                    struct h2h_err *err)
{
    *out = NULL;
    if (window_s == 0 || max_ids == 0 || max_ids > ((size_t)1 << 26))
        return h2h_err_set(err, H2H_EINVALID,
                           "replay window: window %u s and max_ids %zu must "
                           "be positive (max_ids at most 2^26)",
                           window_s, max_ids);
    struct cert_replay *r = calloc(1, sizeof(*r));
    if (!r)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    r->window = window_s;
    r->max = max_ids;
    r->nbuckets = 16;
    while (r->nbuckets < max_ids)
        r->nbuckets <<= 1;
    r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
    r->heap = calloc(max_ids, sizeof(*r->heap));
    if (!r->buckets || !r->heap) {
        free(r->buckets);
        free(r->heap);
        free(r);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    if (RAND_bytes((unsigned char *)&r->seed, sizeof(r->seed)) != 1)
        r->seed = (uint64_t)(uintptr_t)r ^ (uint64_t)time(NULL);
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return 0;
}

void cert_replay_free(struct cert_replay *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->heap[i]);
    free(r->heap);
    free(r->buckets);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ---- heap --------------------------------------------------------- */

static void heap_set(struct cert_replay *r, size_t i, struct rp_entry *e)
{
    r->heap[i] = e;
    e->heap_idx = i;
}

static void heap_up(struct cert_replay *r, size_t i)
{
    struct rp_entry *e = r->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (r->heap[p]->forget_at <= e->forget_at)
            break;
        heap_set(r, i, r->heap[p]);
        i = p;
    }
    heap_set(r, i, e);
}

static void heap_down(struct cert_replay *r, size_t i)
{
    struct rp_entry *e = r->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->n)
            break;
        if (c + 1 < r->n && r->heap[c + 1]->forget_at < r->heap[c]->forget_at)
            c++;
        if (e->forget_at <= r->heap[c]->forget_at)
            break;
        heap_set(r, i, r->heap[c]);
        i = c;
    }
    heap_set(r, i, e);
}

/* ---- table -------------------------------------------------------- */

static void unlink_entry(struct cert_replay *r, struct rp_entry *e)
{
    struct rp_entry **pp = &r->buckets[e->hash & (r->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
}

/* Forget every id whose timestamp has left the window. */
static void expire(struct cert_replay *r, time_t now)
{
    while (r->n > 0 && r->heap[0]->forget_at < now) {
        struct rp_entry *e = r->heap[0];
        unlink_entry(r, e);
        r->n--;
        if (r->n > 0) {
            heap_set(r, 0, r->heap[r->n]);
            heap_down(r, 0);
        }
        free(e);
    }
}

static struct rp_entry *lookup(struct cert_replay *r, const char *key,
                               size_t keylen, uint64_t h)
{
    for (struct rp_entry *e = r->buckets[h & (r->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && e->keylen == keylen &&
            memcmp(e->key, key, keylen) == 0)
            return e;
    return NULL;
}

int cert_replay_check(struct cert_replay *r, const char *bank,
                      const char *msg_id, time_t msg_ts, time_t now,
                      struct h2h_err *err)
{
    if (!r || !bank || !msg_id)
        return h2h_err_set(err, H2H_EINVALID, "replay: bad arguments");
    size_t bl = strlen(bank), il = strlen(msg_id);
    if (bl == 0 || bl > CERT_REPLAY_BANK_MAX || il == 0 ||
        il > CERT_REPLAY_ID_MAX)
        return h2h_err_set(err, H2H_EINVALID,
                           "replay: bank name (1..%d bytes) or message id "
                           "(1..%d bytes) empty or too long",
                           CERT_REPLAY_BANK_MAX, CERT_REPLAY_ID_MAX);
    long long skew = (long long)msg_ts - (long long)now;
    if (skew < -(long long)r->window || skew > (long long)r->window) {
        char ts[24];
        cert_time_iso(msg_ts, ts, sizeof(ts));
        return h2h_err_set(err, H2H_ESECURITY,
                           "replay: bank %s message %s has timestamp %s, %lld "
                           "s %s now (allowed: %u s either way)",
                           bank, msg_id, ts, skew < 0 ? -skew : skew,
                           skew < 0 ? "before" : "after", r->window);
    }
    char key[CERT_REPLAY_BANK_MAX + 1 + CERT_REPLAY_ID_MAX];
    memcpy(key, bank, bl);
    key[bl] = '\0';
    memcpy(key + bl + 1, msg_id, il);
    size_t kl = bl + 1 + il;
    uint64_t h = rp_hash(r->seed, key, kl);

    int rc = 0;
    pthread_mutex_lock(&r->mu);
    expire(r, now);
    if (lookup(r, key, kl, h)) {
        rc = h2h_err_set(err, H2H_EDUP,
                         "replay: bank %s message id %s was already "
                         "received (its timestamp is still within the "
                         "%u s window)",
                         bank, msg_id, r->window);
        goto out;
    }
    if (r->n >= r->max) {
        rc = h2h_err_set(err, H2H_ETOOBIG,
                         "replay: window full (%zu message ids within %u s); "
                         "refusing rather than forgetting an id early",
                         r->max, r->window * 2);
        goto out;
    }
    struct rp_entry *e = malloc(sizeof(*e) + kl);
    if (!e) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    e->forget_at = msg_ts + (time_t)r->window;
    e->hash = h;
    e->keylen = kl;
    memcpy(e->key, key, kl);
    size_t b = h & (r->nbuckets - 1);
    e->next = r->buckets[b];
    r->buckets[b] = e;
    heap_set(r, r->n, e);
    r->n++;
    heap_up(r, r->n - 1);
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

size_t cert_replay_count(struct cert_replay *r, time_t now)
{
    pthread_mutex_lock(&r->mu);
    expire(r, now);
    size_t n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}
