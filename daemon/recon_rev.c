/*
 * recon_rev.c - step 5 of recon.h: each reversal entry linked to the entry
 * it reverses, and reported with that entry's payment; the original's
 * match is flagged reversed.
 *
 * Reversals are few (listed as they are added), so the index is built
 * over them and every other entry is offered to it once - during the
 * duplicates pass of step 0 (recon_prep.c), which reads each row anyway.
 * The index is the reversals' amounts, sorted, with a bit filter in front
 * (amount, direction, account) so that an entry no reversal can concern
 * costs two bit tests (32 bits per reversal keep the share that gets past
 * it the same at any size); an entry that passes is compared with the
 * reversals of its amount, cheap checks first, references last.  The report
 * waits until the originals' matches are known (rc_rev_report, step 6).
 */
#include <stdlib.h>
#include <string.h>

#include "recon_int.h"

#define N_REFS 5

static void refs_of(const struct rc_entry *e, rc_str out[N_REFS])
{
    out[0] = e->acct_svcr_ref;
    out[1] = e->e2e;
    out[2] = e->uetr;
    out[3] = e->cust_ref;
    out[4] = e->bank_ref;
}

static const uint8_t ref_key[N_REFS] = {
    RECON_KEY_BANK_REF, RECON_KEY_E2E,      RECON_KEY_UETR,
    RECON_KEY_SERIAL,   RECON_KEY_BANK_REF,
};

/* o could be what rev reverses: the other direction, the same amount,
 * currency and account, booked no later. */
static int candidate(const struct recon *r, const struct rc_entry *rev,
                     const struct rc_entry *o)
{
    return o->credit != rev->credit && o->amount == rev->amount &&
           o->ccy == rev->ccy && o->book <= rev->book &&
           rc_acct_compatible(r, o->account, rev->account);
}

/* Offered during the duplicates pass, right after o's own status is
 * known: booked, not a duplicate, not a reversal itself. */
static int original(const struct rc_entry *o)
{
    return o->st != RC_E_NOTBOOKED && o->st != RC_E_DUP && !o->reversal;
}

/* Take o (a candidate) as the original of reversal ri when it is the
 * latest so far: sharing a reference (claim), or only the amount (link,
 * the fallback). */
static void offer(struct recon *r, uint32_t ri, uint32_t oi, uint8_t key,
                  rc_str kv)
{
    struct rc_entry *rev = &r->entries[ri];
    const struct rc_entry *o = &r->entries[oi];
    uint32_t *slot = key == RECON_KEY_AMOUNT ? &rev->link : &rev->claim;
    if (*slot != RC_NONE && r->entries[*slot].book >= o->book)
        return;
    *slot = oi;
    if (key != RECON_KEY_AMOUNT) {
        rev->claim_kind = key;
        rev->claim_key = kv;
    }
}

struct amt {
    int64_t amount;
    uint32_t ccy, rev;
};

static int amt_cmp(const void *a, const void *b)
{
    const struct amt *x = a, *y = b;
    if (x->ccy != y->ccy)
        return x->ccy < y->ccy ? -1 : 1;
    if (x->amount != y->amount)
        return x->amount < y->amount ? -1 : 1;
    return x->rev < y->rev ? -1 : x->rev > y->rev;
}

/* First position of (ccy, amount) in v, or n when absent. */
static uint32_t amt_find(const struct amt *v, uint32_t n, int64_t amount,
                         uint32_t ccy)
{
    struct amt key = {amount, ccy, 0};
    uint32_t a = 0, z = n;
    while (a < z) {
        uint32_t mid = a + (z - a) / 2;
        if (amt_cmp(&v[mid], &key) < 0)
            a = mid + 1;
        else
            z = mid;
    }
    return a < n && v[a].ccy == ccy && v[a].amount == amount ? a : n;
}

struct rindex {
    struct amt *amts;
    uint32_t n;
    /* bits of rc_rev_hash of what an original would look like: `acct`
     * with the reversal's account and with none (an original with an
     * account tests both), `any` without account (an original with
     * none tests that) */
    uint8_t *acct, *any;
    unsigned shift;   /* filter index: the top bits of the hash */
    int without_acct; /* some reversal has no account */
};

/* A Bloom filter with two bits per hash: the top bits, and the top bits
 * of the hash mixed again. */
static void set_bit(const struct rindex *x, uint8_t *f, uint32_t h)
{
    uint32_t a = h >> x->shift, b = (h * 0x9E3779B1u) >> x->shift;
    f[a / 8] |= (uint8_t)(1u << (a % 8));
    f[b / 8] |= (uint8_t)(1u << (b % 8));
}

static int has_bit(const struct rindex *x, const uint8_t *f, uint32_t h)
{
    uint32_t a = h >> x->shift, b = (h * 0x9E3779B1u) >> x->shift;
    return (f[a / 8] >> (a % 8) & 1) && (f[b / 8] >> (b % 8) & 1);
}

static int rindex_build(struct recon *r, struct rindex *x)
{
    x->n = r->n_rev;
    unsigned bits = 12;
    /* 32 bits a reversal, two per hash: under 0.5 % false hits (each
     * costs a row read), and small enough to stay in cache while the
     * fingerprint table streams past */
    while (bits < 31 && (UINT64_C(1) << bits) < (uint64_t)x->n * 32)
        bits++;
    x->shift = 32 - bits;
    x->acct = calloc((size_t)1 << (bits - 3), 1);
    x->any = calloc((size_t)1 << (bits - 3), 1);
    if (!x->acct || !x->any ||
        !(x->amts = malloc(((size_t)x->n + 1) * sizeof(*x->amts))))
        return H2H_ENOMEM;
    for (uint32_t k = 0; k < x->n; k++) {
        const struct rc_entry *e = &r->entries[r->rev[k]];
        uint32_t dir = !e->credit; /* the original's */
        x->amts[k] = (struct amt){e->amount, e->ccy, r->rev[k]};
        x->without_acct |= !rc_acct_hash(rc_s(&r->pool, e->account));
        set_bit(x, x->acct,
                rc_rev_hash(e->amount, e->ccy, dir,
                            rc_acct_hash(rc_s(&r->pool, e->account))));
        set_bit(x, x->any, rc_rev_hash(e->amount, e->ccy, dir, 0));
    }
    qsort(x->amts, x->n, sizeof(*x->amts), amt_cmp);
    return 0;
}

static void rindex_release(struct rindex *x)
{
    free(x->amts);
    free(x->acct);
    free(x->any);
}

/* A reference o and rev share: o's field index, or -1. */
static int shared_ref(const struct recon *r, const struct rc_entry *o,
                      const struct rc_entry *rev)
{
    rc_str a[N_REFS], b[N_REFS];
    refs_of(o, a);
    refs_of(rev, b);
    for (int f = 0; f < N_REFS; f++) {
        const char *s = rc_s(&r->pool, a[f]);
        if (!a[f] || !rc_key_present(s))
            continue;
        for (int g = 0; g < N_REFS; g++)
            if (b[g] && rc_key_eq(s, rc_s(&r->pool, b[g])))
                return f;
    }
    return -1;
}

void rc_rev_probe(struct recon *r, struct rindex *x, const struct rc_fent *f)
{
    /* no reversal with this amount, direction and account: the row is not
     * read.  amt == amt0 means no account (or, rarely, a collision: then
     * the wider filter is asked, which only lets more through). */
    uint32_t i = f->entry & ~(UINT32_C(1) << 31);
    if (f->amt != f->amt0
            ? !has_bit(x, x->acct, f->amt) &&
                  !(x->without_acct && has_bit(x, x->acct, f->amt0))
            : !has_bit(x, x->any, f->amt0))
        return;
    const struct rc_entry *o = &r->entries[i];
    if (!original(o))
        return;
    for (uint32_t a = amt_find(x->amts, x->n, o->amount, o->ccy);
         a < x->n && x->amts[a].ccy == o->ccy && x->amts[a].amount == o->amount;
         a++) {
        uint32_t ri = x->amts[a].rev;
        if (!candidate(r, &r->entries[ri], o))
            continue;
        rc_str refs[N_REFS];
        int fi = shared_ref(r, o, &r->entries[ri]);
        refs_of(o, refs);
        if (fi >= 0)
            offer(r, ri, i, ref_key[fi], refs[fi]);
        else
            offer(r, ri, i, RECON_KEY_AMOUNT, 0);
    }
}

int rc_rev_begin(struct recon *r, struct rindex **out)
{
    *out = NULL;
    if (!r->n_rev)
        return 0;
    for (uint32_t k = 0; k < r->n_rev; k++) {
        r->entries[r->rev[k]].claim = RC_NONE;
        r->entries[r->rev[k]].link = RC_NONE;
    }
    struct rindex *x = calloc(1, sizeof(*x));
    if (!x)
        return H2H_ENOMEM;
    int rc = rindex_build(r, x);
    if (rc < 0) {
        rindex_release(x);
        free(x);
        return rc;
    }
    *out = x;
    return 0;
}

void rc_rev_link(struct recon *r, struct rindex *x)
{
    if (!x)
        return;
    rindex_release(x);
    free(x);
    /* a shared reference wins; the amount alone is the fallback */
    for (uint32_t k = 0; k < r->n_rev; k++) {
        struct rc_entry *rev = &r->entries[r->rev[k]];
        if (rev->claim == RC_NONE && rev->link != RC_NONE) {
            rev->claim = rev->link;
            rev->claim_kind = RECON_KEY_AMOUNT;
            rev->claim_key = 0;
        }
        rev->link = rev->claim;
        rev->claim = RC_NONE;
    }
}

/* The payment (or batch) a matched entry belongs to. */
static uint32_t unit_of(const struct recon *r, const struct rc_entry *o)
{
    if (o->st != RC_E_MATCHED)
        return RC_NONE;
    const struct rc_match *m = &r->m[r->group_first[o->link]];
    if (m->flags & RECON_F_BATCH)
        return r->n_items + r->items[m->item].batch;
    return m->item;
}

int rc_rev_report(struct recon *r)
{
    for (uint32_t k = 0; k < r->n_rev; k++) {
        uint32_t i = r->rev[k];
        struct rc_entry *rev = &r->entries[i];
        if (rev->st != RC_E_REVERSAL) /* delivered twice: reported so */
            continue;
        struct rc_exc e = rc_exc_blank(RECON_EXC_REVERSAL);
        e.entry = i;
        e.booked = rev->amount;
        if (rev->link != RC_NONE) {
            const struct rc_entry *o = &r->entries[rev->link];
            e.other = rev->link;
            e.key = rev->claim_kind;
            e.keyval = rev->claim_key;
            e.expected = o->amount;
            e.item = unit_of(r, o);
            if (o->st == RC_E_MATCHED) {
                uint32_t g = o->link;
                uint32_t end =
                    g + 1 < r->n_groups ? r->group_first[g + 1] : r->n_m;
                for (uint32_t m = r->group_first[g]; m < end; m++)
                    r->m[m].flags |= RECON_F_REVERSED;
            }
        }
        if (rc_add_exc(r, &e) < 0)
            return H2H_ENOMEM;
    }
    return 0;
}
