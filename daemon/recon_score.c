/*
 * recon_score.c - the fuzzy score of recon.h step 3:
 *
 *     score = round(60 N + 30 A + 10 D), clamped to 0..100
 *
 * in integer per-mille arithmetic so that a run is bit-for-bit
 * reproducible.  Amount and currency are not in the score: only entries
 * with exactly the candidate's amount and currency get here.
 */
#include "recon_int.h"

int rc_score(const struct recon *r, const struct rc_entry *e,
             const struct rc_name *en, uint32_t u)
{
    int n_pm, a;
    int32_t date;
    if (rc_unit_is_batch(r->n_items, u)) {
        const struct rc_batch *b = &r->batches[u - r->n_items];
        /* a batch has no one counterparty: its size stands in for the
         * name, and the debtor account for the counterparty account */
        n_pm = e->n_dtls == 0 ? 500 : e->n_dtls == b->count ? 1000 : 0;
        a = b->account && e->account ? 1 : 0;
        date = b->date;
    } else {
        const struct rc_item *it = &r->items[u];
        struct rc_name in;
        rc_name_prep(rc_s(&r->pool, it->cpty_name), &in);
        n_pm = rc_name_sim(en, &in);
        if (!it->cpty_acct || !e->cpty_acct)
            a = 0;
        else
            a = rc_acct_compatible(r, it->cpty_acct, e->cpty_acct) ? 1 : -1;
        date = it->date;
    }
    int64_t d = (int64_t)e->book - date;
    if (d < 0)
        d = -d;
    int64_t d_pm = 1000 - d * 1000 / (r->o.window_days + 1);
    if (d_pm < 0)
        d_pm = 0;
    int64_t s = 60 * (int64_t)n_pm + 30000 * (int64_t)a + 10 * d_pm;
    s = (s + 500) / 1000;
    return s < 0 ? 0 : s > 100 ? 100 : (int)s;
}
