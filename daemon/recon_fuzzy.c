/*
 * recon_fuzzy.c - step 3 of recon.h: amount, currency, date window and
 * counterparty, scored.
 *
 * Candidates come from a hash index on (direction, currency, amount) over
 * what steps 1 and 2 left open, each bucket sorted by date, so an entry
 * looks at the few items with exactly its amount inside its date window
 * (at most max_candidates of them) - never at all pairs.  Building it is
 * linear (counting sort into buckets; buckets are small).
 *
 * Assignment is by score level, highest first, so the result does not
 * depend on input order; at one level a pair is taken only when neither
 * side has another open pair at that level, otherwise every pair of the
 * knot is reported as ambiguous and both sides are set aside.
 */
#include <stdlib.h>
#include <string.h>

#include "recon_int.h"

struct bslot {
    int64_t amount;
    uint32_t ck; /* ccy << 1 | side, + 1: 0 marks an empty slot */
    uint32_t bucket;
};

struct du {
    int32_t date;
    uint32_t u;
};

struct pair {
    uint32_t e, u;
    uint32_t score; /* | LIVE: both sides open at the start of its level */
};

#define LIVE 0x100u

struct index {
    struct bslot *slot;
    uint32_t mask;
    uint32_t n_units; /* open units in the buckets */
    uint32_t *start;  /* bucket b: sorted[start[b] .. start[b + 1]) */
    struct du *sorted;
    uint32_t n_buckets;
};

static uint32_t bhash(int64_t amount, uint32_t ck)
{
    return rc_hash_u32(rc_hash_u32(ck, (uint32_t)amount),
                       (uint32_t)((uint64_t)amount >> 32));
}

static uint32_t *bfind(struct index *x, int64_t amount, uint32_t ck, int insert)
{
    for (uint32_t j = bhash(amount, ck) & x->mask;; j = (j + 1) & x->mask) {
        struct bslot *s = &x->slot[j];
        if (!s->ck) {
            if (!insert)
                return NULL;
            s->ck = ck;
            s->amount = amount;
            s->bucket = x->n_buckets++;
            return &s->bucket;
        }
        if (s->ck == ck && s->amount == amount)
            return &s->bucket;
    }
}

static int du_cmp(const void *a, const void *b)
{
    const struct du *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->u < y->u ? -1 : x->u > y->u;
}

static void sort_bucket(struct du *v, uint32_t n)
{
    if (n > 16) {
        qsort(v, n, sizeof(*v), du_cmp);
        return;
    }
    for (uint32_t i = 1; i < n; i++) {
        struct du t = v[i];
        uint32_t j = i;
        for (; j > 0 && du_cmp(&v[j - 1], &t) > 0; j--)
            v[j] = v[j - 1];
        v[j] = t;
    }
}

/* Open units and their (ck, amount, date, account). */
static int unit_open(const struct recon *r, uint32_t u)
{
    if (rc_unit_is_batch(r->n_items, u)) {
        const struct rc_batch *b = &r->batches[u - r->n_items];
        return !b->mixed && b->st == RC_I_OPEN;
    }
    const struct rc_item *it = &r->items[u];
    return it->st == RC_I_OPEN && it->batch == RC_NONE;
}

static void unit_key(const struct recon *r, uint32_t u, int64_t *amount,
                     uint32_t *ck, int32_t *date)
{
    if (rc_unit_is_batch(r->n_items, u)) {
        const struct rc_batch *b = &r->batches[u - r->n_items];
        *amount = b->sum;
        *ck = ((uint32_t)b->ccy << 1 | RECON_SIDE_PAYMENT) + 1;
        *date = b->date;
        return;
    }
    const struct rc_item *it = &r->items[u];
    *amount = it->amount;
    *ck = ((uint32_t)it->ccy << 1 | it->kind) + 1;
    *date = it->date;
}

static rc_str unit_account(const struct recon *r, uint32_t u)
{
    if (rc_unit_is_batch(r->n_items, u))
        return r->batches[u - r->n_items].account;
    return r->items[u].account;
}

static void prefetch_unit(const struct recon *r, uint32_t u)
{
    if (rc_unit_is_batch(r->n_items, u))
        __builtin_prefetch(&r->batches[u - r->n_items]);
    else
        __builtin_prefetch(&r->items[u]);
}

static void prefetch_bucket_of(const struct recon *r, const struct index *x,
                               uint32_t u)
{
    int64_t amount;
    uint32_t ck;
    int32_t date;
    unit_key(r, u, &amount, &ck, &date);
    __builtin_prefetch(&x->slot[bhash(amount, ck) & x->mask]);
}

/* Put unit u (open) in its bucket: insert the bucket, count it, keep
 * (date, u) and the bucket for the scatter below. */
static void place(const struct recon *r, struct index *x, uint32_t u,
                  struct du *du, uint32_t *ub, uint32_t k)
{
    int64_t amount;
    uint32_t ck;
    int32_t date;
    unit_key(r, u, &amount, &ck, &date);
    ub[k] = *bfind(x, amount, ck, 1);
    x->start[ub[k] + 1]++;
    du[k] = (struct du){date, u};
}

/* The buckets over the open items and batches, in one pass over the item
 * list, which is compacted on the way (what step 2 matched leaves it; the
 * open batch members stay, for the report). */
static int build(struct recon *r, struct index *x)
{
    uint32_t max = r->n_open_i + r->n_batches, cap = 16;
    while (cap < (uint64_t)max * 2)
        cap *= 2;
    uint32_t *ub = rc_tmp(r, (size_t)max + 1, sizeof(*ub));
    struct du *du = rc_tmp(r, (size_t)max + 1, sizeof(*du));
    x->slot = rc_tmp(r, cap, sizeof(*x->slot));
    x->start = rc_tmp(r, (size_t)max + 2, sizeof(*x->start));
    x->sorted = rc_tmp(r, (size_t)max + 1, sizeof(*x->sorted));
    x->mask = cap - 1;
    if (!ub || !du || !x->slot || !x->start || !x->sorted)
        return H2H_ENOMEM;
    uint32_t m = 0, keep = 0, n = r->n_open_i;
    for (uint32_t q = 0; q < n; q++) {
        uint32_t i = r->open_i[q];
        /* scattered rows and random buckets: fetched ahead, in turn */
        if (q + 16 < n)
            __builtin_prefetch(&r->items[r->open_i[q + 16]]);
        if (q + 8 < n && unit_open(r, r->open_i[q + 8]))
            prefetch_bucket_of(r, x, r->open_i[q + 8]);
        if (r->items[i].st != RC_I_OPEN)
            continue;
        r->open_i[keep++] = i;
        if (unit_open(r, i))
            place(r, x, i, du, ub, m++);
    }
    r->n_open_i = keep;
    for (uint32_t k = 0; k < r->n_batches; k++)
        if (unit_open(r, r->n_items + k))
            place(r, x, r->n_items + k, du, ub, m++);
    x->n_units = m;
    for (uint32_t b = 0; b < x->n_buckets; b++)
        x->start[b + 1] += x->start[b];
    uint32_t *pos = rc_tmp(r, (size_t)x->n_buckets + 1, sizeof(*pos));
    if (!pos)
        return H2H_ENOMEM;
    for (uint32_t k = 0; k < m; k++) {
        if (k + 8 < m) {
            __builtin_prefetch(&pos[ub[k + 8]], 1);
            __builtin_prefetch(&x->start[ub[k + 8]]);
        }
        uint32_t b = ub[k];
        x->sorted[x->start[b] + pos[b]++] = du[k];
    }
    for (uint32_t b = 0; b < x->n_buckets; b++)
        sort_bucket(x->sorted + x->start[b], x->start[b + 1] - x->start[b]);
    return 0;
}

struct pairs {
    struct pair *v;
    uint32_t n, cap;
};

static uint32_t entry_ck(const struct rc_entry *e)
{
    return ((uint32_t)e->ccy << 1 |
            (e->credit ? RECON_SIDE_RECEIPT : RECON_SIDE_PAYMENT)) +
           1;
}

/*
 * Lookahead, in stages, so that each step finds in cache what the step
 * before fetched (at a million rows every one of these is a miss; the
 * open entries are scattered, so not even their rows stream):
 *   j + 32  the entry's row
 *   j + 16  the bucket slot of the entry
 *   j + 8   the bucket's bounds and its first dates
 *   j + 4   the window of candidates (kept in `win`) and their rows
 *   j + 2   the candidates' names and accounts, the entry's name
 *   j       scoring
 */
#define AHEAD 16
#define WIN 8 /* windows kept: j .. j + 4 */
#define PREFETCH_CANDS 4

struct window {
    const struct du *v;
    uint32_t a, n; /* candidates v[a ..] while date <= hi, v[.. n) */
};

static void prefetch_slot(const struct recon *r, const struct index *x,
                          uint32_t i)
{
    const struct rc_entry *e = &r->entries[i];
    if (e->st != RC_E_OPEN)
        return;
    __builtin_prefetch(&x->slot[bhash(e->amount, entry_ck(e)) & x->mask]);
}

static void prefetch_bucket(const struct recon *r, struct index *x, uint32_t i)
{
    const struct rc_entry *e = &r->entries[i];
    if (e->st != RC_E_OPEN)
        return;
    const uint32_t *b = bfind(x, e->amount, entry_ck(e), 0);
    if (b) {
        __builtin_prefetch(&x->start[*b]);
        __builtin_prefetch(&x->sorted[x->start[*b]]);
    }
}

/* The candidates of entry i: bucket, then the first date >= lo. */
static void find_window(const struct recon *r, struct index *x, uint32_t i,
                        struct window *w)
{
    const struct rc_entry *e = &r->entries[i];
    w->v = NULL;
    w->a = w->n = 0;
    if (e->st != RC_E_OPEN)
        return;
    const uint32_t *b = bfind(x, e->amount, entry_ck(e), 0);
    if (!b)
        return;
    w->v = x->sorted + x->start[*b];
    w->n = x->start[*b + 1] - x->start[*b];
    int64_t lo = (int64_t)e->book - r->o.window_days;
    uint32_t a = 0, z = w->n;
    while (a < z) {
        uint32_t mid = a + (z - a) / 2;
        if (w->v[mid].date < lo)
            a = mid + 1;
        else
            z = mid;
    }
    w->a = a;
    for (uint32_t k = a; k < w->n && k < a + PREFETCH_CANDS; k++) {
        uint32_t u = w->v[k].u;
        if (rc_unit_is_batch(r->n_items, u))
            __builtin_prefetch(&r->batches[u - r->n_items]);
        else
            __builtin_prefetch(&r->items[u]);
    }
}

static void prefetch_names(const struct recon *r, uint32_t i,
                           const struct window *w)
{
    if (w->a >= w->n)
        return;
    __builtin_prefetch(rc_s(&r->pool, r->entries[i].cpty_name));
    for (uint32_t k = w->a; k < w->n && k < w->a + PREFETCH_CANDS; k++) {
        uint32_t u = w->v[k].u;
        if (rc_unit_is_batch(r->n_items, u))
            continue;
        __builtin_prefetch(rc_s(&r->pool, r->items[u].cpty_name));
        __builtin_prefetch(rc_s(&r->pool, r->items[u].cpty_acct));
    }
}

/* Candidates of entry i (its window w) above the threshold into ps; the
 * best one below it is remembered on the entry for the report. */
static int candidates(struct recon *r, uint32_t i, const struct window *w,
                      struct pairs *ps)
{
    struct rc_entry *e = &r->entries[i];
    if (e->st != RC_E_OPEN) /* matched in step 2 */
        return 0;
    int64_t hi = (int64_t)e->book + r->o.window_days;
    struct rc_name en;
    int prepared = 0, looked = 0;
    for (uint32_t k = w->a; k < w->n && w->v[k].date <= hi; k++) {
        uint32_t u = w->v[k].u;
        if (!rc_acct_compatible(r, unit_account(r, u), e->account))
            continue;
        if (looked++ == r->o.max_candidates)
            break;
        if (!prepared) {
            rc_name_prep(rc_s(&r->pool, e->cpty_name), &en);
            prepared = 1;
        }
        int s = rc_score(r, e, &en, u);
        if (s < r->o.threshold) {
            if (e->link == RC_NONE || s > e->best) {
                e->best = (uint8_t)s;
                e->link = u;
            }
            continue;
        }
        if (rc_grow((void **)&ps->v, &ps->cap, sizeof(*ps->v), ps->n + 1) < 0)
            return H2H_ENOMEM;
        ps->v[ps->n++] = (struct pair){i, u, (uint32_t)s};
    }
    return 0;
}

/* Every open entry's candidates, with the lookahead above. */
static int all_candidates(struct recon *r, struct index *x, struct pairs *ps,
                          struct h2h_err *err)
{
    struct window win[WIN];
    uint32_t n = r->n_open_e;
    const uint32_t *oe = r->open_e;
    for (uint32_t j = 0; j < 4 && j < n; j++)
        find_window(r, x, oe[j], &win[j % WIN]);
    for (uint32_t j = 0; j < n; j++) {
        int rc = rc_progress(r, "fuzzy", j, n, err);
        if (rc < 0)
            return rc;
        if (j + 2 * AHEAD < n)
            __builtin_prefetch(&r->entries[oe[j + 2 * AHEAD]]);
        if (j + AHEAD < n)
            prefetch_slot(r, x, oe[j + AHEAD]);
        if (j + 8 < n)
            prefetch_bucket(r, x, oe[j + 8]);
        if (j + 4 < n)
            find_window(r, x, oe[j + 4], &win[(j + 4) % WIN]);
        if (j + 2 < n)
            prefetch_names(r, oe[j + 2], &win[(j + 2) % WIN]);
        if ((rc = candidates(r, oe[j], &win[j % WIN], ps)) < 0)
            return h2h_err_set(err, rc, "out of memory");
    }
    return 0;
}

static int unit_free(const struct recon *r, uint32_t u)
{
    if (rc_unit_is_batch(r->n_items, u))
        return r->batches[u - r->n_items].st == RC_I_OPEN;
    return r->items[u].st == RC_I_OPEN;
}

static void unit_set_ambig(struct recon *r, uint32_t u)
{
    if (rc_unit_is_batch(r->n_items, u))
        r->batches[u - r->n_items].st = RC_I_AMBIG;
    else
        r->items[u].st = RC_I_AMBIG;
}

static uint8_t inc(uint8_t c)
{
    return c == UINT8_MAX ? c : (uint8_t)(c + 1);
}

/* Assign pairs by level (recon.h step 3). */
static int assign(struct recon *r, struct pairs *ps, uint32_t n_units)
{
    uint32_t levels[102] = {0};
    struct pair *by = rc_tmp(r, (size_t)ps->n + 1, sizeof(*by));
    uint8_t *ce = rc_tmp(r, (size_t)r->n_entries + 1, 1);
    uint8_t *cu = rc_tmp(r, (size_t)n_units + 1, 1);
    int rc = 0;
    if (!by || !ce || !cu)
        return H2H_ENOMEM;
    /* counting sort, highest score first: levels[100 - s] */
    for (uint32_t k = 0; k < ps->n; k++)
        levels[100 - ps->v[k].score + 1]++;
    for (int l = 0; l < 101; l++)
        levels[l + 1] += levels[l];
    for (uint32_t k = 0; k < ps->n; k++)
        by[levels[100 - ps->v[k].score]++] = ps->v[k];
    /* levels[l] is now the end of level l */
    uint32_t a = 0;
    for (int l = 0; l <= 100; l++) {
        uint32_t b = levels[l];
        for (uint32_t k = a; k < b; k++) {
            const struct pair *p = &by[k];
            if (k + 16 < b) { /* pairs by score: rows in no order */
                __builtin_prefetch(&r->entries[by[k + 16].e]);
                prefetch_unit(r, by[k + 16].u);
            }
            if (r->entries[p->e].st == RC_E_OPEN && unit_free(r, p->u)) {
                ce[p->e] = inc(ce[p->e]);
                cu[p->u] = inc(cu[p->u]);
                by[k].score |= LIVE;
            }
        }
        for (uint32_t k = a; k < b && rc == 0; k++) {
            const struct pair *p = &by[k];
            if (k + 16 < b) { /* the rows again, for the matches */
                __builtin_prefetch(&r->entries[by[k + 16].e]);
                prefetch_unit(r, by[k + 16].u);
            }
            if (!(p->score & LIVE))
                continue;
            if (ce[p->e] == 1 && cu[p->u] == 1) {
                rc = rc_add_match(r, p->u, &p->e, 1, RECON_RULE_FUZZY,
                                  RECON_KEY_AMOUNT, 0,
                                  (uint8_t)(p->score & ~LIVE), 0);
                continue;
            }
            struct rc_exc x = rc_exc_blank(RECON_EXC_AMBIGUOUS);
            struct rc_unit_view v;
            rc_unit_view(r, p->u, &v);
            x.entry = p->e;
            x.item = p->u;
            x.rule = RECON_RULE_FUZZY;
            x.key = RECON_KEY_AMOUNT;
            x.score = (uint8_t)(p->score & ~LIVE);
            x.expected = v.amount;
            x.booked = r->entries[p->e].amount;
            rc = rc_add_exc(r, &x);
        }
        /* the knots are set aside only now, so each of their pairs was
         * reported above; a pair of a knot was live at the start of the
         * level and neither of its sides was matched in it (a match needs
         * both counts at one) */
        for (uint32_t k = a; k < b; k++) {
            const struct pair *p = &by[k];
            if ((p->score & LIVE) && (ce[p->e] > 1 || cu[p->u] > 1)) {
                r->entries[p->e].st = RC_E_AMBIG;
                unit_set_ambig(r, p->u);
            }
        }
        for (uint32_t k = a; k < b; k++)
            ce[by[k].e] = cu[by[k].u] = 0;
        a = b;
    }
    return rc;
}

/* The open entries still hold what step 2 matched: dropped first, in a
 * plain loop (cheaper than carrying them through the pipeline below).
 * The items are filtered where they are read (unit_open). */
static void compact_entries(struct recon *r)
{
    uint32_t k = 0;
    for (uint32_t j = 0; j < r->n_open_e; j++) {
        if (j + 16 < r->n_open_e) /* scattered rows: fetched ahead */
            __builtin_prefetch(&r->entries[r->open_e[j + 16]]);
        if (r->entries[r->open_e[j]].st == RC_E_OPEN)
            r->open_e[k++] = r->open_e[j];
    }
    r->n_open_e = k;
}

int rc_fuzzy(struct recon *r, struct h2h_err *err)
{
    compact_entries(r);
    /* candidates: the open items and the batches (unit numbers stay
     * n_items + batch for those) */
    uint32_t n_units = r->n_items + r->n_batches;
    rc_tmp_reset(r);
    struct index x = {0};
    struct pairs ps = {0};
    struct rc_tmp_mark mark = rc_tmp_mark(r);
    int rc = build(r, &x);
    if (rc < 0) {
        h2h_err_set(err, rc, "out of memory");
        goto out;
    }
    if (!x.n_units)
        return rc_progress(r, "fuzzy", 1, 1, err);
    if ((rc = all_candidates(r, &x, &ps, err)) < 0)
        goto out;
    rc_tmp_rewind(r, mark); /* the buckets are done with */
    if ((rc = assign(r, &ps, n_units)) < 0) {
        h2h_err_set(err, rc, "out of memory");
        goto out;
    }
    rc = rc_progress(r, "fuzzy", 1, 1, err);
out:
    free(ps.v);
    return rc;
}
