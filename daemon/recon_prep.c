/*
 * recon_prep.c - step 0 of recon.h: the as-of date, the same booking
 * delivered twice found by its fingerprint, reversals set aside and linked
 * to their originals (step 5, in the same pass), the open list of entries
 * later phases work from, and batches (payments booked as one entry)
 * gathered with their sums.
 *
 * The pass reads the list of booked entries made while they were added
 * (entry, fingerprint hash, reversal filter hashes: 16 bytes, not the
 * row); the fingerprint table is probed at a random place per entry, so
 * the slot of the entry a few places ahead is prefetched.  Rows are read
 * only for what needs them: a fingerprint seen before, an amount, account
 * and direction a reversal has.
 */
#include <stdlib.h>
#include <string.h>

#include "recon_int.h"

#define AHEAD 32 /* entries ahead of the one being looked up */

/* The strongest reference of an entry, or its id when it has none: two
 * entries without references are the same booking only when they are the
 * same entry. */
static rc_str fp_ref(const struct recon *r, const struct rc_entry *e,
                     uint8_t *kind)
{
    const rc_str refs[] = {e->acct_svcr_ref, e->e2e, e->uetr, e->cust_ref,
                           e->bank_ref};
    for (uint8_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        if (refs[i] && rc_key_present(rc_s(&r->pool, refs[i]))) {
            *kind = i;
            return refs[i];
        }
    }
    *kind = 5;
    return e->id;
}

uint32_t rc_fp_hash(const struct recon *r, const struct rc_entry *e)
{
    uint8_t kind;
    rc_str ref = fp_ref(r, e, &kind);
    uint32_t h = rc_key_hash(rc_s(&r->pool, ref));
    h = rc_hash_u32(h, e->account); /* interned: equal refs, equal text */
    h = rc_hash_u32(h, (uint32_t)e->amount ^ (uint32_t)(e->amount >> 32));
    h = rc_hash_u32(h, (uint32_t)e->book);
    return rc_hash_u32(h, (uint32_t)e->ccy << 8 | e->credit << 4 | kind);
}

/* Our own references tell two bookings apart even when the bank's
 * reference is the same: the items of a payroll carry the batch's
 * reference, and two equal salaries are two bookings. */
static int own_refs_differ(const struct recon *r, const struct rc_entry *a,
                           const struct rc_entry *b)
{
    const rc_str ra[] = {a->e2e, a->uetr, a->cust_ref};
    const rc_str rb[] = {b->e2e, b->uetr, b->cust_ref};
    for (size_t i = 0; i < sizeof(ra) / sizeof(ra[0]); i++)
        if (ra[i] && rb[i] && rc_key_present(rc_s(&r->pool, ra[i])) &&
            rc_key_present(rc_s(&r->pool, rb[i])) &&
            !rc_key_eq(rc_s(&r->pool, ra[i]), rc_s(&r->pool, rb[i])))
            return 1;
    return 0;
}

static int fp_eq(const struct recon *r, const struct rc_entry *a,
                 const struct rc_entry *b)
{
    uint8_t ka, kb;
    if (a->account != b->account || a->amount != b->amount ||
        a->book != b->book || a->ccy != b->ccy || a->credit != b->credit ||
        own_refs_differ(r, a, b))
        return 0;
    rc_str ra = fp_ref(r, a, &ka), rb = fp_ref(r, b, &kb);
    return ka == kb && rc_key_eq(rc_s(&r->pool, ra), rc_s(&r->pool, rb));
}

struct fp_slot {
    uint32_t hash, entry; /* entry + 1; 0 empty */
};

/* Duplicates, reversals and the open list of entries, in one pass; every
 * entry that could have been reversed is offered to the reversal index
 * (step 5) on the way. */
static int scan_entries(struct recon *r, struct rindex *rev,
                        struct h2h_err *err)
{
    uint32_t cap = 16, n = r->n_fl;
    while (cap < (uint64_t)n * 2 && cap < (UINT32_C(1) << 31))
        cap *= 2;
    struct fp_slot *t = rc_tmp(r, cap, sizeof(*t));
    if (!t)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    const struct rc_fent *fl = r->fl;
    int rc = 0;
    for (uint32_t q = 0; q < AHEAD && q < n; q++)
        __builtin_prefetch(&t[fl[q].fp & (cap - 1)], 1);
    for (uint32_t q = 0; q < n; q++) {
        uint32_t i = fl[q].entry & ~(UINT32_C(1) << 31);
        uint32_t h = fl[q].fp;
        if (q + AHEAD < n)
            __builtin_prefetch(&t[fl[q + AHEAD].fp & (cap - 1)], 1);
        if ((rc = rc_progress(r, "prepare", q, n, err)) < 0)
            goto out;
        uint32_t j = h & (cap - 1);
        for (; t[j].entry; j = (j + 1) & (cap - 1)) {
            if (t[j].hash == h &&
                fp_eq(r, &r->entries[t[j].entry - 1], &r->entries[i]))
                break;
        }
        if (!t[j].entry) {
            t[j].hash = h;
            t[j].entry = i + 1;
            if (fl[q].entry >> 31) {
                /* in r->rev since it was added */
                r->entries[i].st = RC_E_REVERSAL;
                continue;
            }
            r->open_e[r->n_open_e++] = i;
            if (rev)
                rc_rev_probe(r, rev, &fl[q]);
            continue;
        }
        struct rc_entry *e = &r->entries[i];
        uint32_t first = t[j].entry - 1;
        uint8_t kind;
        struct rc_exc x = rc_exc_blank(RECON_EXC_DUPLICATE_ENTRY);
        x.entry = i;
        x.other = first;
        x.key = RECON_KEY_ENTRY;
        x.keyval = fp_ref(r, e, &kind);
        x.booked = e->amount;
        e->st = RC_E_DUP;
        e->link = first;
        /* the same booking again: out of the totals */
        if (e->credit)
            r->acc_tot[e->ccy].credits -= e->amount;
        else
            r->acc_tot[e->ccy].debits -= e->amount;
        if ((rc = rc_add_exc(r, &x)) < 0) {
            h2h_err_set(err, rc, "out of memory");
            goto out;
        }
    }
out:
    return rc;
}

/* Batch ids are interned, so the reference itself is the key. */
struct bslot {
    rc_str id; /* 0: empty */
    uint32_t batch;
};

static int gather_batches(struct recon *r, struct h2h_err *err)
{
    uint32_t cap = 16, cap_b = 0, n = r->n_bm;
    int rc = 0;
    if (!n)
        return 0;
    while (cap < (uint64_t)n * 2)
        cap *= 2;
    struct bslot *t = rc_tmp(r, cap, sizeof(*t));
    if (!t)
        goto nomem;
    for (uint32_t m = 0; m < n; m++) {
        struct rc_item *it = &r->items[r->bm[m]];
        if (it->kind != RECON_SIDE_PAYMENT)
            continue;
        uint32_t j = rc_hash_u32(0, it->batch_id) & (cap - 1);
        while (t[j].id && t[j].id != it->batch_id)
            j = (j + 1) & (cap - 1);
        if (!t[j].id) {
            if (rc_grow((void **)&r->batches, &cap_b, sizeof(*r->batches),
                        r->n_batches + 1) < 0)
                goto nomem;
            t[j].id = it->batch_id;
            t[j].batch = r->n_batches;
            r->batches[r->n_batches++] = (struct rc_batch){
                .id = it->batch_id,
                .account = it->account,
                .group = RC_NONE,
                .date = it->date,
                .ccy = it->ccy,
            };
        }
        struct rc_batch *b = &r->batches[t[j].batch];
        it->batch = t[j].batch;
        b->count++;
        if (b->ccy != it->ccy || it->amount > INT64_MAX - b->sum)
            b->mixed = 1;
        else
            b->sum += it->amount;
        if (it->date < b->date)
            b->date = it->date;
    }
    /* members grouped per batch: counting sort, linear */
    r->members = malloc((size_t)n * sizeof(*r->members));
    if (!r->members)
        goto nomem;
    uint32_t at = 0;
    for (uint32_t k = 0; k < r->n_batches; k++) {
        r->batches[k].first = at;
        at += r->batches[k].count;
        r->batches[k].count = 0;
    }
    for (uint32_t m = 0; m < n; m++) {
        struct rc_item *it = &r->items[r->bm[m]];
        if (it->batch == RC_NONE)
            continue;
        struct rc_batch *b = &r->batches[it->batch];
        r->members[b->first + b->count++] = r->bm[m];
    }
    /* one payment, or mixed currencies: booked one by one after all */
    for (uint32_t k = 0; k < r->n_batches; k++) {
        struct rc_batch *b = &r->batches[k];
        if (b->count < 2)
            b->mixed = 1;
        if (!b->mixed)
            continue;
        for (uint32_t m = 0; m < b->count; m++)
            r->items[r->members[b->first + m]].batch = RC_NONE;
    }
    goto out;
nomem:
    rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
out:
    return rc;
}

int rc_prepare(struct recon *r, struct h2h_err *err)
{
    if (r->as_of == INT32_MIN)
        r->as_of = r->max_book != INT32_MIN ? r->max_book : r->max_date;
    rc_tmp_reset(r);
    r->open_e = malloc(((size_t)r->n_entries + 1) * sizeof(*r->open_e));
    r->imb = calloc((size_t)r->n_items / 64 + 1, sizeof(*r->imb));
    if (!r->open_e || !r->imb)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    struct rindex *rev = NULL;
    int rc = rc_rev_begin(r, &rev);
    if (rc < 0)
        return h2h_err_set(err, rc, "out of memory");
    rc = scan_entries(r, rev, err);
    rc_rev_link(r, rev); /* also frees the index */
    if (rc < 0)
        return rc;
    if ((rc = gather_batches(r, err)) < 0)
        return rc;
    return rc_progress(r, "prepare", r->n_entries, r->n_entries, err);
}
