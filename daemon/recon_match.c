/*
 * recon_match.c - recon_run and step 1 of recon.h (exact keys), the claim
 * resolution shared with step 2 (several entries for one payment: split,
 * duplicate booking), and the records every step writes (matches,
 * exceptions).
 *
 * Exact keys: one map over the payments' keys of every kind, probed by
 * each entry that has a key (both listed as the rows were added).  An
 * entry stops at the first probe that finds a payment and "claims" it;
 * claims are resolved per payment afterwards, all entries of a payment
 * together (split, duplicate booking), so that a payment's outcome does
 * not depend on which of its entries came first - except which of two
 * full bookings is called the duplicate: the later one.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "recon_int.h"

struct rc_exc rc_exc_blank(uint8_t kind)
{
    struct rc_exc x;
    memset(&x, 0, sizeof(x));
    x.kind = kind;
    x.item = x.entry = x.other = RC_NONE;
    return x;
}

int rc_add_exc(struct recon *r, const struct rc_exc *x)
{
    if (rc_grow((void **)&r->x, &r->cap_x, sizeof(*r->x), r->n_x + 1) < 0)
        return H2H_ENOMEM;
    r->x[r->n_x++] = *x;
    return 0;
}

int rc_acct_compatible(const struct recon *r, rc_str a, rc_str b)
{
    if (!a || !b || a == b)
        return 1;
    return rc_acct_eq(rc_s(&r->pool, a), rc_s(&r->pool, b));
}

static int64_t days_off(int32_t book, int32_t date)
{
    return (int64_t)book - date;
}

int rc_add_match(struct recon *r, uint32_t u, const uint32_t *ents, uint32_t n,
                 uint8_t rule, uint8_t key, rc_str keyval, uint8_t score,
                 unsigned flags)
{
    struct rc_unit_view v;
    rc_unit_view(r, u, &v);
    const uint32_t *items = &u;
    uint32_t n_items = 1;
    struct rc_batch *b = NULL;
    if (v.is_batch) {
        b = &r->batches[u - r->n_items];
        items = r->members + b->first;
        n_items = b->count;
        flags |= RECON_F_BATCH;
    }
    if (n > 1)
        flags |= RECON_F_SPLIT;
    int64_t booked = 0;
    int same_ccy = 1;
    uint32_t late = RC_NONE;
    for (uint32_t i = 0; i < n; i++) {
        const struct rc_entry *e = &r->entries[ents[i]];
        same_ccy &= e->ccy == v.ccy;
        booked += e->amount;
        int64_t d = days_off(e->book, v.date);
        if (late == RC_NONE && rule != RECON_RULE_FUZZY &&
            v.side == RECON_SIDE_PAYMENT &&
            (d > r->o.window_days || d < -r->o.window_days))
            late = ents[i];
    }
    if (!same_ccy || booked != v.amount)
        flags |= RECON_F_AMOUNT_MISMATCH;
    if (late != RC_NONE)
        flags |= RECON_F_DATE_MISMATCH;

    uint32_t g = r->n_groups;
    uint64_t rows = (uint64_t)n * n_items;
    if (rows > UINT32_MAX - r->n_m ||
        rc_grow((void **)&r->group_first, &r->cap_groups,
                sizeof(*r->group_first), g + 1) < 0 ||
        rc_grow((void **)&r->m, &r->cap_m, sizeof(*r->m),
                r->n_m + (uint32_t)rows) < 0)
        return H2H_ENOMEM;
    r->group_first[g] = r->n_m;
    r->n_groups++;
    r->n_imatched += n_items;
    r->acc.by_rule[rule]++;
    r->acc.matched_entries += n;
    if (v.side == RECON_SIDE_RECEIPT) {
        r->acc.matched_receipts++;
        for (uint32_t k = 0; k < n; k++)
            r->acc_tot[r->entries[ents[k]].ccy].received +=
                r->entries[ents[k]].amount;
    } else {
        r->acc.matched_payments += n_items;
    }
    for (uint32_t i = 0; i < n_items; i++) {
        struct rc_item *it = &r->items[items[i]];
        it->st = RC_I_MATCHED;
        it->group = g;
        r->imb[items[i] / 64] |= UINT64_C(1) << (items[i] % 64);
        if (it->kind == RECON_SIDE_PAYMENT)
            r->acc_tot[it->ccy].matched += it->amount;
        for (uint32_t k = 0; k < n; k++) {
            r->m[r->n_m++] = (struct rc_match){
                .item = items[i],
                .entry = ents[k],
                .keyval = keyval,
                .rule = rule,
                .key = key,
                .score = score,
                .flags = (uint8_t)flags,
            };
        }
    }
    if (b) {
        b->st = RC_I_MATCHED;
        b->group = g;
    }
    for (uint32_t k = 0; k < n; k++) {
        struct rc_entry *e = &r->entries[ents[k]];
        e->st = RC_E_MATCHED;
        e->link = g;
    }
    if (flags & RECON_F_AMOUNT_MISMATCH) {
        struct rc_exc x = rc_exc_blank(RECON_EXC_AMOUNT_MISMATCH);
        x.item = u;
        x.entry = ents[0];
        x.other = g;
        x.rule = rule;
        x.key = key;
        x.keyval = keyval;
        x.score = score;
        x.expected = v.amount;
        x.booked = booked;
        if (rc_add_exc(r, &x) < 0)
            return H2H_ENOMEM;
    }
    if (late != RC_NONE) {
        struct rc_exc x = rc_exc_blank(RECON_EXC_DATE_MISMATCH);
        x.item = u;
        x.entry = late;
        x.other = g;
        x.rule = rule;
        x.key = key;
        x.keyval = keyval;
        x.score = score;
        x.expected = v.amount;
        x.booked = booked;
        x.days = (int32_t)days_off(r->entries[late].book, v.date);
        if (rc_add_exc(r, &x) < 0)
            return H2H_ENOMEM;
    }
    return 0;
}

/* ---- claims (step 4) ---------------------------------------------------- */

static int resolve_one(struct recon *r, uint32_t u, uint32_t *ents, uint32_t n,
                       uint8_t rule)
{
    const struct rc_entry *e0 = &r->entries[ents[0]];
    uint8_t key = e0->claim_kind;
    rc_str kv = e0->claim_key;
    if (n == 1)
        return rc_add_match(r, u, ents, 1, rule, key, kv, 100, 0);
    struct rc_unit_view v;
    rc_unit_view(r, u, &v);
    int64_t sum = 0;
    int same = 1;
    uint32_t exact = RC_NONE;
    for (uint32_t i = 0; i < n; i++) {
        const struct rc_entry *e = &r->entries[ents[i]];
        same &= e->ccy == v.ccy;
        sum += e->amount;
        if (exact == RC_NONE && e->ccy == v.ccy && e->amount == v.amount)
            exact = i;
    }
    if ((same && sum == v.amount) || exact == RC_NONE)
        return rc_add_match(r, u, ents, n, rule, key, kv, 100, 0);
    /* one of them is the booking, the others book it again */
    uint32_t keep = ents[exact];
    int rc = rc_add_match(r, u, &keep, 1, rule, r->entries[keep].claim_kind,
                          r->entries[keep].claim_key, 100, 0);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        if (i == exact)
            continue;
        struct rc_entry *e = &r->entries[ents[i]];
        struct rc_exc x = rc_exc_blank(RECON_EXC_DUPLICATE_BOOKING);
        x.entry = ents[i];
        x.item = u;
        x.other = keep;
        x.rule = rule;
        x.key = e->claim_kind;
        x.keyval = e->claim_key;
        x.expected = v.amount;
        x.booked = e->amount;
        e->st = RC_E_DUPBOOK;
        e->link = keep;
        rc = rc_add_exc(r, &x);
    }
    return rc;
}

int rc_claims_begin(struct recon *r)
{
    r->n_claims = 0;
    r->cap_claims = r->n_open_e;
    r->claims = rc_tmp(r, (size_t)r->n_open_e + 1, sizeof(*r->claims));
    return r->claims ? 0 : H2H_ENOMEM;
}

int rc_claim(struct recon *r, uint32_t i, uint32_t u, uint8_t key, rc_str kv)
{
    struct rc_entry *e = &r->entries[i];
    if (r->n_claims == r->cap_claims)
        H2H_BUG("entry %u claims twice in one phase", i);
    e->claim = u;
    e->claim_kind = key;
    e->claim_key = kv;
    r->claims[r->n_claims++] = (struct rc_claim){i, u};
    return 0;
}

int rc_resolve_claims(struct recon *r, uint8_t rule, struct h2h_err *err)
{
    uint32_t n_units = r->n_items + r->n_batches, n = r->n_claims;
    if (!n)
        return 0;
    /* entries grouped per unit by counting sort: linear, and in input
     * order within a unit (claims are made in entry order) */
    uint32_t *start = rc_tmp(r, (size_t)n_units + 1, sizeof(*start));
    uint32_t *by = rc_tmp(r, n, sizeof(*by));
    int rc = 0;
    if (!start || !by)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (uint32_t k = 0; k < n; k++)
        start[r->claims[k].unit + 1]++;
    for (uint32_t u = 0; u < n_units; u++)
        start[u + 1] += start[u];
    for (uint32_t k = 0; k < n; k++)
        by[start[r->claims[k].unit]++] = r->claims[k].entry;
    /* start[u] is now the end of u's run; runs are consecutive */
    uint32_t a = 0;
    for (uint32_t u = 0; u < n_units; u++) {
        uint32_t b = start[u];
        if (b > a && (rc = resolve_one(r, u, by + a, b - a, rule)) < 0)
            return h2h_err_set(err, rc, "out of memory");
        a = b;
    }
    for (uint32_t k = 0; k < n; k++)
        r->entries[r->claims[k].entry].claim = RC_NONE;
    r->n_claims = 0;
    return 0;
}

/* ---- exact keys (step 1) ------------------------------------------------ */

/*
 * One map holds the four key kinds of every payment, built in one pass
 * over the payments and probed in one pass over the open entries, with
 * the slot of the entry a few places ahead prefetched (its hash was
 * worked out when it was added).  A slot is 8 bytes - hash and (kind <<
 * 30 | payment) + 1, 0 when empty (RECON_MAX_ROWS keeps payments below
 * 2^30 - 1) - the key text is the payment's own.  A key value several
 * payments share is flagged in bit 0 of the slot's hash; the others are
 * in `dup`, sorted by slot.
 */

#define AHEAD 32 /* rows ahead: the loops are short, memory is not */
#define N_KINDS 4
#define N_PROBES 5

static const uint8_t kind_key[N_KINDS] = {RECON_KEY_E2E, RECON_KEY_UETR,
                                          RECON_KEY_SERIAL, RECON_KEY_BANK_REF};

struct kslot {
    uint32_t hash; /* bit 0: shared by several payments */
    uint32_t val;  /* (kind << 30 | payment) + 1; 0: empty */
};

static int slot_kind(const struct kslot *sl)
{
    return (int)((sl->val - 1) >> 30);
}

static uint32_t slot_item(const struct kslot *sl)
{
    return (sl->val - 1) & ((UINT32_C(1) << 30) - 1);
}

struct kdup {
    uint32_t slot, item;
};

struct kmap {
    struct kslot *slot;
    uint32_t mask;
    struct kdup *dup;
    uint32_t n_dup, cap_dup;
};

static rc_str item_key(const struct rc_item *it, int kind)
{
    switch (kind) {
    case 0: return it->e2e;
    case 1: return it->uetr;
    case 2: return it->serial;
    default: return it->bank_ref;
    }
}

static uint32_t khash(const char *s, int kind)
{
    return rc_hash_u32(rc_key_hash(s), (uint32_t)kind) & ~UINT32_C(1);
}

/* The key text of a slot: its payment's. */
static rc_str slot_key(const struct recon *r, const struct kslot *sl)
{
    return item_key(&r->items[slot_item(sl)], slot_kind(sl));
}

static int slot_is(const struct recon *r, const struct kslot *sl, int kind,
                   const char *s, uint32_t h)
{
    return (sl->hash & ~UINT32_C(1)) == h && slot_kind(sl) == kind &&
           rc_key_eq(rc_s(&r->pool, slot_key(r, sl)), s);
}

/* The slot of (kind, s), or RC_NONE. */
static uint32_t kfind(const struct kmap *m, const struct recon *r, int kind,
                      const char *s, uint32_t h)
{
    for (uint32_t j = h & m->mask;; j = (j + 1) & m->mask) {
        const struct kslot *sl = &m->slot[j];
        if (!sl->val)
            return RC_NONE;
        if (slot_is(r, sl, kind, s, h))
            return j;
    }
}

void rc_list_keys(struct recon *r, const struct rc_item *it, uint32_t i)
{
    for (int k = 0; k < N_KINDS; k++) {
        rc_str key = item_key(it, k);
        const char *s = rc_s(&r->pool, key);
        if (key && rc_key_present(s))
            r->keys[r->n_keys++] =
                (struct rc_kent){khash(s, k), ((uint32_t)k << 30 | i) + 1};
    }
}

static int kdup_cmp(const void *a, const void *b)
{
    const struct kdup *x = a, *y = b;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

static int kmap_build(struct recon *r, struct kmap *m)
{
    /* at most 70 % full: linear probing stays short, and the table
     * small (every page of it is one the kernel must clear first) */
    uint32_t cap = 16;
    while (cap < (uint64_t)r->n_keys * 10 / 7 + 1 && cap < (UINT32_C(1) << 31))
        cap *= 2;
    if (!(m->slot = rc_tmp(r, cap, sizeof(*m->slot))))
        return H2H_ENOMEM;
    m->mask = cap - 1;
    /* from the list made while adding: 8 bytes a key, the slot AHEAD
     * keys on prefetched; key texts are read only when hashes collide */
    for (uint32_t q = 0; q < AHEAD && q < r->n_keys; q++)
        __builtin_prefetch(&m->slot[r->keys[q].hash & m->mask], 1);
    for (uint32_t q = 0; q < r->n_keys; q++) {
        if (q + AHEAD < r->n_keys)
            __builtin_prefetch(&m->slot[r->keys[q + AHEAD].hash & m->mask], 1);
        const struct kslot ks = {r->keys[q].hash, r->keys[q].val};
        uint32_t h = ks.hash, j = h & m->mask;
        int k = slot_kind(&ks);
        uint32_t i = slot_item(&ks);
        const char *s = NULL;
        for (; m->slot[j].val; j = (j + 1) & m->mask) {
            if ((m->slot[j].hash & ~UINT32_C(1)) != h ||
                slot_kind(&m->slot[j]) != k)
                continue;
            if (!s)
                s = rc_s(&r->pool, item_key(&r->items[i], k));
            if (rc_key_eq(rc_s(&r->pool, slot_key(r, &m->slot[j])), s))
                break;
        }
        struct kslot *sl = &m->slot[j];
        if (!sl->val) {
            *sl = ks;
            continue;
        }
        /* a second payment with this key: kept aside and reported */
        struct rc_item *it = &r->items[i];
        uint32_t first = slot_item(sl);
        sl->hash |= 1;
        it->fl |= RC_IF_DUPKEY;
        if (rc_grow((void **)&m->dup, &m->cap_dup, sizeof(*m->dup),
                    m->n_dup + 1) < 0)
            return H2H_ENOMEM;
        m->dup[m->n_dup++] = (struct kdup){j, i};
        struct rc_exc x = rc_exc_blank(RECON_EXC_DUPLICATE_KEY);
        x.item = i;
        x.other = first;
        x.key = kind_key[k];
        x.keyval = item_key(it, k);
        x.expected = it->amount;
        if (rc_add_exc(r, &x) < 0)
            return H2H_ENOMEM;
    }
    if (m->n_dup > 1)
        qsort(m->dup, m->n_dup, sizeof(*m->dup), kdup_cmp);
    return 0;
}

/* Rank of payment p for entry e when a key has several payments. */
static int key_rank(const struct recon *r, const struct rc_entry *e,
                    const struct rc_item *p)
{
    if (p->ccy != e->ccy)
        return 0;
    if (p->amount == e->amount)
        return 2;
    if (p->batch != RC_NONE && r->batches[p->batch].sum == e->amount)
        return 2;
    return 1;
}

static int64_t dist(int32_t a, int32_t b)
{
    int64_t d = (int64_t)a - b;
    return d < 0 ? -d : d;
}

/* The payments of a shared key: the first, then dup[*a .. *z). */
static void shared(const struct kmap *m, uint32_t slot, uint32_t *a,
                   uint32_t *z)
{
    uint32_t lo = 0, hi = m->n_dup;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->dup[mid].slot < slot)
            lo = mid + 1;
        else
            hi = mid;
    }
    *a = lo;
    while (lo < m->n_dup && m->dup[lo].slot == slot)
        lo++;
    *z = lo;
}

/* Pick among the payments sharing a key (recon.h step 1): RC_NONE - 1
 * for a tie, recorded as ambiguous. */
static uint32_t pick(struct recon *r, const struct kmap *m, uint32_t i,
                     uint32_t slot, int *rc)
{
    const struct kslot *sl = &m->slot[slot];
    uint32_t first = slot_item(sl);
    if (!(sl->hash & 1))
        return first;
    const struct rc_entry *e = &r->entries[i];
    uint32_t a, z, best = RC_NONE;
    int best_rank = -1, tie = 0;
    int64_t best_d = 0;
    shared(m, slot, &a, &z);
    for (uint32_t k = a - 1; k != z; k++) {
        uint32_t p = k == a - 1 ? first : m->dup[k].item;
        const struct rc_item *it = &r->items[p];
        int rank = key_rank(r, e, it);
        int64_t d = dist(e->book, it->date);
        if (rank > best_rank || (rank == best_rank && d < best_d))
            best = p, best_rank = rank, best_d = d, tie = 0;
        else if (rank == best_rank && d == best_d)
            tie = 1;
    }
    if (!tie)
        return best;
    for (uint32_t k = a - 1; k != z; k++) {
        uint32_t p = k == a - 1 ? first : m->dup[k].item;
        const struct rc_item *it = &r->items[p];
        if (key_rank(r, e, it) != best_rank ||
            dist(e->book, it->date) != best_d)
            continue;
        struct rc_exc x = rc_exc_blank(RECON_EXC_AMBIGUOUS);
        x.entry = i;
        x.item = p;
        x.rule = RECON_RULE_EXACT;
        x.key = kind_key[slot_kind(sl)];
        x.keyval = slot_key(r, sl);
        x.score = 100;
        x.expected = it->amount;
        x.booked = e->amount;
        if ((*rc = rc_add_exc(r, &x)) < 0)
            return RC_NONE;
    }
    return RC_NONE - 1;
}

/* The fields an entry offers, in probe order (recon.h step 1). */
static int probe_of(const struct recon *r, const struct rc_entry *e, int p,
                    rc_str *s)
{
    switch (p) {
    case 0:
        *s = e->e2e && rc_key_present(rc_s(&r->pool, e->e2e)) ? e->e2e
                                                              : e->cust_ref;
        return 0;
    case 1: *s = e->uetr; return 1;
    case 2: *s = e->cust_ref; return 2;
    case 3: *s = e->bank_ref; return 3;
    default: *s = e->acct_svcr_ref; return 3;
    }
}

/* The entry's first probe with a key: its index and hash (N_PROBES when
 * it has none). */
uint8_t rc_first_probe(const struct recon *r, const struct rc_entry *e,
                       uint32_t *h)
{
    *h = 0;
    for (int p = 0; p < N_PROBES; p++) {
        rc_str s;
        int k = probe_of(r, e, p, &s);
        if (s && rc_key_present(rc_s(&r->pool, s))) {
            *h = khash(rc_s(&r->pool, s), k);
            return p;
        }
    }
    return N_PROBES;
}

/* A credit found by a payment's key, or carrying a return reason, is a
 * return (recon.h step 5), never a booking. */
static int returned(struct recon *r, uint32_t i, uint32_t u, uint8_t key,
                    rc_str kv)
{
    struct rc_entry *e = &r->entries[i];
    struct rc_exc x = rc_exc_blank(RECON_EXC_RETURN);
    x.entry = i;
    x.item = u;
    x.key = key;
    x.keyval = kv;
    x.rule = u != RC_NONE ? RECON_RULE_EXACT : 0;
    x.booked = e->amount;
    if (u != RC_NONE) {
        if (!(r->items[u].fl & RC_IF_RETURNED)) {
            if (rc_grow((void **)&r->ret, &r->cap_ret, sizeof(*r->ret),
                        r->n_ret + 1) < 0)
                return H2H_ENOMEM;
            r->ret[r->n_ret++] = u;
        }
        r->items[u].fl |= RC_IF_RETURNED;
        x.expected = r->items[u].amount;
    }
    e->st = RC_E_RETURN;
    return rc_add_exc(r, &x);
}

/* A debit that found a batch member but books the batch sum books the
 * batch. */
static uint32_t unit_for(const struct recon *r, const struct rc_entry *e,
                         uint32_t p)
{
    const struct rc_item *it = &r->items[p];
    if (it->batch != RC_NONE && r->batches[it->batch].ccy == e->ccy &&
        r->batches[it->batch].sum == e->amount && it->amount != e->amount)
        return r->n_items + it->batch;
    return p;
}

static int batch_map(struct recon *r, struct rc_smap *bmap)
{
    memset(bmap, 0, sizeof(*bmap));
    if (!r->n_batches)
        return 0;
    if (rc_smap_init(bmap, r->n_batches, r) < 0)
        return H2H_ENOMEM;
    for (uint32_t k = 0; k < r->n_batches; k++) {
        const struct rc_batch *b = &r->batches[k];
        uint32_t *val;
        if (b->mixed)
            continue;
        int rc = rc_smap_put(bmap, &r->pool, b->id,
                             rc_key_hash(rc_s(&r->pool, b->id)), &val);
        if (rc < 0)
            return rc;
        if (rc == 1)
            *val = k;
    }
    return 0;
}

/* One open entry: its probes in order, then its batch reference. */
static int probe_entry(struct recon *r, const struct kmap *m,
                       const struct rc_smap *bmap, uint32_t i, int p0,
                       uint32_t h0)
{
    struct rc_entry *e = &r->entries[i];
    int rc = 0;
    for (int p = p0; p < N_PROBES; p++) {
        rc_str s;
        int k = probe_of(r, e, p, &s);
        const char *str = rc_s(&r->pool, s);
        if (p != p0 && (!s || !rc_key_present(str)))
            continue;
        uint32_t slot = kfind(m, r, k, str, p == p0 ? h0 : khash(str, k));
        if (slot == RC_NONE)
            continue;
        uint32_t u = pick(r, m, i, slot, &rc);
        if (rc < 0)
            return rc;
        if (u == RC_NONE - 1) {
            e->st = RC_E_AMBIG;
            return 0;
        }
        rc_str kv = slot_key(r, &m->slot[slot]);
        if (e->credit)
            return returned(r, i, u, kind_key[k], kv);
        return rc_claim(r, i, unit_for(r, e, u), kind_key[k], kv);
    }
    const char *bref = rc_s(&r->pool, e->batch_ref);
    if (bmap->slot && e->batch_ref && rc_key_present(bref)) {
        const uint32_t *val =
            rc_smap_get(bmap, &r->pool, bref, rc_key_hash(bref));
        if (val && !e->credit)
            return rc_claim(r, i, r->n_items + *val, RECON_KEY_BATCH,
                            r->batches[*val].id);
    }
    if (e->credit && e->rtr_rsn)
        return returned(r, i, RC_NONE, RECON_KEY_NONE, 0);
    return 0;
}

int rc_keys(struct recon *r, struct h2h_err *err)
{
    struct kmap m = {0};
    struct rc_smap bmap;
    rc_tmp_reset(r);
    /* most entries end up matched, one row each: room for them now
     * rather than copies while growing */
    if (rc_grow((void **)&r->m, &r->cap_m, sizeof(*r->m), r->n_open_e) < 0 ||
        rc_grow((void **)&r->group_first, &r->cap_groups,
                sizeof(*r->group_first), r->n_open_e) < 0 ||
        rc_claims_begin(r) < 0)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = batch_map(r, &bmap);
    struct rc_tmp_mark mark = rc_tmp_mark(r);
    if (rc == 0)
        rc = kmap_build(r, &m);
    if (rc < 0) {
        h2h_err_set(err, rc, "out of memory");
        goto out;
    }
    /* the entries listed when they were added, in order: the slot of the
     * one AHEAD places on prefetched, its row half as far */
    const struct rc_pent *pl = r->probes;
    uint32_t n = r->n_probes;
    for (uint32_t j = 0; j < AHEAD && j < n; j++)
        __builtin_prefetch(&m.slot[pl[j].hash & m.mask]);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = pl[j].entry;
        if (j + AHEAD < n)
            __builtin_prefetch(&m.slot[pl[j + AHEAD].hash & m.mask]);
        if (j + AHEAD / 2 < n)
            __builtin_prefetch(&r->entries[pl[j + AHEAD / 2].entry]);
        if ((rc = rc_progress(r, "keys", j, n, err)) < 0)
            goto out;
        if (r->entries[i].st != RC_E_OPEN) /* a duplicate */
            continue;
        if ((rc = probe_entry(r, &m, &bmap, i, pl[j].probe, pl[j].hash)) < 0) {
            h2h_err_set(err, rc, "out of memory");
            goto out;
        }
    }
    free(m.dup);
    m.dup = NULL;
    rc_smap_release(&bmap);
    rc_tmp_rewind(r, mark); /* the key map is done with: reuse its pages */
    if ((rc = rc_resolve_claims(r, RECON_RULE_EXACT, err)) < 0)
        goto out;
    /* no compaction here: the next phase drops what is matched on its
     * way through the lists (a pass over a million rows saved) */
    rc = rc_progress(r, "keys", n, n, err);
out:
    free(m.dup);
    rc_smap_release(&bmap);
    return rc;
}

int recon_run(struct recon *r, struct h2h_err *err)
{
    if (r->ran)
        return h2h_err_set(err, H2H_ESTATE, "reconcile: already run");
    r->ran = -1; /* a failed run cannot be resumed or read */
    int rc = rc_prepare(r, err);
    if (rc == 0)
        rc = rc_keys(r, err);
    if (rc == 0)
        rc = rc_refs(r, err);
    if (rc == 0)
        rc = rc_fuzzy(r, err);
    if (rc == 0)
        rc = rc_classify(r, err);
    rc_tmp_release(r);
    if (rc == 0)
        r->ran = 1;
    return rc;
}
