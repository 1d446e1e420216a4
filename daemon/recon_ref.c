/*
 * recon_ref.c - step 2 of recon.h: remittance references.  An index from
 * reference token to the open payments and receipts carrying it is built
 * over what step 1 left open (a fraction of the input), probed with the
 * tokens of every open entry, and dropped.  A token shared by more than
 * RECON_REF_MAX_HITS items says nothing (a customer number, a year) and
 * is skipped rather than producing a pile of ambiguities.
 *
 * Tokens pass through a small queue on their way to the index: a token's
 * slot is prefetched when it goes in and the token is used LAG tokens
 * later, when the slot has arrived - at a million rows the index is far
 * bigger than the cache and each look-up would otherwise wait for memory.
 * The queue is first in, first out, so the order of use is unchanged.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "recon_int.h"

#define MAX_CANDS 32
#define RING 32
#define LAG 16

struct tq {
    uint32_t id; /* item (building) or entry (probing) */
    uint32_t hash;
    uint8_t end; /* no token: the end of entry id's tokens */
    char s[RC_TOK_MAX + 1];
};

struct queue {
    struct tq q[RING];
    uint32_t head, tail;
    const struct rc_smap *map;
    uint32_t id; /* whose tokens are being pushed */
    int (*use)(void *ctx, const struct tq *t);
    void *ctx;
};

/* Use queued tokens until at most keep are left. */
static int q_drain(struct queue *q, uint32_t keep)
{
    while (q->head - q->tail > keep) {
        int rc = q->use(q->ctx, &q->q[q->tail % RING]);
        q->tail++;
        if (rc)
            return rc;
    }
    return 0;
}

/* rc_tok_fn: a token of q->id. */
static int q_token(void *ctx, const char *tok, size_t len)
{
    struct queue *q = ctx;
    struct tq *t = &q->q[q->head % RING];
    t->id = q->id;
    t->end = 0;
    t->hash = rc_key_hash(tok);
    memcpy(t->s, tok, len + 1);
    /* the map may still grow while building: then this is only a hint */
    __builtin_prefetch(&q->map->slot[t->hash & q->map->mask]);
    q->head++;
    return q_drain(q, LAG);
}

static int q_end(struct queue *q)
{
    struct tq *t = &q->q[q->head % RING];
    t->id = q->id;
    t->end = 1;
    q->head++;
    return q_drain(q, LAG);
}

/* A whole reference (structured reference, EndToEndId) as one token. */
static int q_whole(struct queue *q, const struct rc_pool *p, rc_str s)
{
    char tok[RC_TOK_MAX + 1];
    size_t n = rc_ref_norm(rc_s(p, s), tok);
    return n ? q_token(q, tok, n) : 0;
}

static int eligible(const struct rc_item *it)
{
    return it->st == RC_I_OPEN && it->batch == RC_NONE;
}

/* The open rows are scattered: the row 2 * LAG places ahead, and the texts
 * of the one LAG places ahead (its row is in cache by then). */
static void prefetch_entry(const struct recon *r, uint32_t j)
{
    if (j + 2 * LAG < r->n_open_e)
        __builtin_prefetch(&r->entries[r->open_e[j + 2 * LAG]]);
    if (j + LAG < r->n_open_e) {
        const struct rc_entry *e = &r->entries[r->open_e[j + LAG]];
        __builtin_prefetch(rc_s(&r->pool, e->rmt_ref));
        __builtin_prefetch(rc_s(&r->pool, e->e2e));
        __builtin_prefetch(rc_s(&r->pool, e->rmt_text));
    }
}

/* ---- building ----------------------------------------------------------- */

struct build {
    struct recon *r;
    struct rc_smap *map;
    struct rc_posts *posts;
};

static int add_token(void *ctx, const struct tq *t)
{
    struct build *b = ctx;
    uint32_t *head = rc_smap_get(b->map, &b->r->pool, t->s, t->hash);
    if (!head) {
        rc_str ref;
        int rc = rc_pool_put(&b->r->pool, t->s, 0, &ref);
        if (rc < 0)
            return rc;
        if ((rc = rc_smap_put(b->map, &b->r->pool, ref, t->hash, &head)) < 0)
            return rc;
    } else if (b->posts->v[*head].id == t->id) {
        return 0; /* the same token twice in one item */
    }
    return rc_posts_push(b->posts, head, t->id);
}

/* Over the items step 1 left open, making their list on the way. */
static int build_index(struct recon *r, struct rc_smap *map,
                       struct rc_posts *posts)
{
    struct build b = {.r = r, .map = map, .posts = posts};
    struct queue q = {.map = map, .use = add_token, .ctx = &b};
    int rc = 0;
    /* the open items from the bitmap of matched ones: no row is read for
     * what step 1 matched */
    r->n_open_i = 0;
    for (uint32_t w = 0; w <= r->n_items / 64; w++) {
        uint64_t open = ~r->imb[w];
        for (; open; open &= open - 1) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(open);
            if (i >= r->n_items)
                break;
            r->open_i[r->n_open_i++] = i;
        }
    }
    uint32_t n = r->n_open_i;
    for (uint32_t j = 0; j < n && rc == 0; j++) {
        uint32_t i = r->open_i[j];
        const struct rc_item *it = &r->items[i];
        if (j + 2 * LAG < n) /* scattered rows, then their texts */
            __builtin_prefetch(&r->items[r->open_i[j + 2 * LAG]]);
        if (j + LAG < n) {
            const struct rc_item *a = &r->items[r->open_i[j + LAG]];
            __builtin_prefetch(rc_s(&r->pool, a->rmt_ref));
            __builtin_prefetch(rc_s(&r->pool, a->rmt_text));
        }
        if (!eligible(it))
            continue;
        q.id = i;
        rc = q_whole(&q, &r->pool, it->rmt_ref);
        if (rc == 0)
            rc = rc_tokens(rc_s(&r->pool, it->rmt_text), q_token, &q);
    }
    return rc ? rc : q_drain(&q, 0);
}

/* ---- probing ------------------------------------------------------------ */

struct cand {
    uint32_t item;
    rc_str key; /* the token, as stored in the index */
    int rank;   /* 2 equal amount, 1 not */
    int64_t d;  /* days from the booking date */
};

struct probe {
    struct recon *r;
    const struct rc_smap *map;
    const struct rc_posts *posts;
    struct cand c[MAX_CANDS];
    int n;
};

static void probe_token(struct probe *pr, const struct tq *t)
{
    struct recon *r = pr->r;
    const struct rc_entry *e = &r->entries[t->id];
    const uint32_t *head = rc_smap_get(pr->map, &r->pool, t->s, t->hash);
    if (!head)
        return;
    /* the stored key string: the slot holding head */
    const struct rc_mslot *sl =
        (const struct rc_mslot *)((const char *)head -
                                  offsetof(struct rc_mslot, val));
    uint32_t hits = 0;
    for (uint32_t p = *head; p != RC_NONE; p = pr->posts->v[p].next)
        if (++hits > RECON_REF_MAX_HITS)
            return;
    uint8_t want = e->credit ? RECON_SIDE_RECEIPT : RECON_SIDE_PAYMENT;
    for (uint32_t p = *head; p != RC_NONE; p = pr->posts->v[p].next) {
        uint32_t id = pr->posts->v[p].id;
        const struct rc_item *it = &r->items[id];
        if (it->kind != want || it->ccy != e->ccy || !eligible(it) ||
            !rc_acct_compatible(r, it->account, e->account))
            continue;
        int seen = 0;
        for (int k = 0; k < pr->n && !seen; k++)
            seen = pr->c[k].item == id;
        if (seen || pr->n == MAX_CANDS)
            continue;
        int64_t d = (int64_t)e->book - it->date;
        pr->c[pr->n++] = (struct cand){
            .item = id,
            .key = sl->key,
            .rank = it->amount == e->amount ? 2 : 1,
            .d = d < 0 ? -d : d,
        };
    }
}

static int better(const struct cand *a, const struct cand *b)
{
    return a->rank > b->rank || (a->rank == b->rank && a->d < b->d);
}

static int decide(struct recon *r, uint32_t i, struct probe *pr)
{
    struct rc_entry *e = &r->entries[i];
    if (!pr->n)
        return 0;
    int best = 0, tie = 0;
    for (int k = 1; k < pr->n; k++) {
        if (better(&pr->c[k], &pr->c[best]))
            best = k, tie = 0;
        else if (!better(&pr->c[best], &pr->c[k]))
            tie = 1;
    }
    const struct cand *b = &pr->c[best];
    /* a different amount only when the reference leaves no choice */
    if (b->rank == 1 && pr->n > 1)
        return 0;
    if (!tie)
        return rc_claim(r, i, b->item, RECON_KEY_REMITTANCE, b->key);
    for (int k = 0; k < pr->n; k++) {
        const struct cand *c = &pr->c[k];
        if (better(b, c))
            continue;
        struct rc_exc x = rc_exc_blank(RECON_EXC_AMBIGUOUS);
        x.entry = i;
        x.item = c->item;
        x.rule = RECON_RULE_REFERENCE;
        x.key = RECON_KEY_REMITTANCE;
        x.keyval = c->key;
        x.score = 100;
        x.expected = r->items[c->item].amount;
        x.booked = e->amount;
        if (rc_add_exc(r, &x) < 0)
            return H2H_ENOMEM;
    }
    e->st = RC_E_AMBIG;
    return 0;
}

/* Queue use: a token adds candidates, the end of an entry decides. */
static int use_probe(void *ctx, const struct tq *t)
{
    struct probe *pr = ctx;
    if (!t->end) {
        probe_token(pr, t);
        return 0;
    }
    int rc = decide(pr->r, t->id, pr);
    pr->n = 0;
    return rc;
}

static int match_entries(struct recon *r, const struct rc_smap *map,
                         const struct rc_posts *posts, struct h2h_err *err)
{
    struct probe pr = {.r = r, .map = map, .posts = posts};
    struct queue q = {.map = map, .use = use_probe, .ctx = &pr};
    int rc = 0;
    uint32_t k = 0, n = r->n_open_e;
    for (uint32_t j = 0; j < n && rc == 0; j++) {
        uint32_t i = r->open_e[j];
        const struct rc_entry *e = &r->entries[i];
        if ((rc = rc_progress(r, "reference", j, n, err)) < 0)
            return rc;
        prefetch_entry(r, j);
        /* the list still holds what step 1 matched: dropped here */
        if (e->st != RC_E_OPEN)
            continue;
        r->open_e[k++] = i;
        q.id = i;
        rc = q_whole(&q, &r->pool, e->rmt_ref);
        if (rc == 0)
            rc = q_whole(&q, &r->pool, e->e2e);
        if (rc == 0)
            rc = rc_tokens(rc_s(&r->pool, e->rmt_text), q_token, &q);
        if (rc == 0)
            rc = q_end(&q);
    }
    r->n_open_e = k;
    if (rc == 0)
        rc = q_drain(&q, 0);
    return rc < 0 ? h2h_err_set(err, rc, "out of memory") : 0;
}

int rc_refs(struct recon *r, struct h2h_err *err)
{
    /* every item step 1 left open (an upper bound of those with tokens) */
    uint32_t n = r->n_items - r->n_imatched;
    free(r->open_i);
    if (!(r->open_i = malloc(((size_t)n + 1) * sizeof(*r->open_i))))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    struct rc_smap map;
    struct rc_posts posts = {0};
    rc_tmp_reset(r);
    if (rc_claims_begin(r) < 0)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    struct rc_tmp_mark mark = rc_tmp_mark(r);
    if (rc_smap_init(&map, n + n / 2, r) < 0)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = build_index(r, &map, &posts);
    if (rc < 0) {
        rc = h2h_err_set(
            err, rc, rc == H2H_ETOOBIG ? "text too large" : "out of memory");
        goto out;
    }
    if ((rc = match_entries(r, &map, &posts, err)) < 0)
        goto out;
    rc_smap_release(&map);
    rc_posts_release(&posts);
    rc_tmp_rewind(r, mark); /* the index is done with: reuse its pages */
    if ((rc = rc_resolve_claims(r, RECON_RULE_REFERENCE, err)) < 0)
        return rc;
    return rc_progress(r, "reference", 1, 1, err);
out:
    rc_smap_release(&map);
    rc_posts_release(&posts);
    return rc;
}
