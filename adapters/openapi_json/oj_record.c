/*
 * oj_record.c - the record of a message the bank took (see records.h for
 * what a record is and how status reports come from it): built from the
 * transactions as sent and answered.
 */
#include "oj_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void oj_date(int days_offset, char out[11])
{
    time_t t = time(NULL) + (time_t)days_offset * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static int jset(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, v && *v ? json_string(v) : json_null());
}

json_t *oj_record_new(const char *msg_id, const struct oj_batch *b)
{
    json_t *r = json_object(), *txs = json_array();
    int bad = !r || !txs;
    bad = bad || jset(r, "msg_id", msg_id) ||
          jset(r, "orgnl_msg_id", b->orgnl_msg_id) ||
          jset(r, "orgnl_nm_id", b->orgnl_nm_id) ||
          json_object_set_new(r, "seq", json_integer(0)) ||
          json_object_set_new(r, "written", json_integer(0)) ||
          jset(r, "cre_dt_tm", NULL) || json_object_set(r, "txs", txs);
    for (size_t i = 0; !bad && i < b->n_txs; i++) {
        const struct oj_tx *x = &b->txs[i];
        json_t *t = json_object();
        int created = x->st == TX_CREATED;
        if (!t || jset(t, "key", x->key) || jset(t, "e2e", x->e2e) ||
            jset(t, "instr_id", x->instr_id) ||
            jset(t, "pmt_inf_id", x->pmt_inf_id) ||
            jset(t, "amount", x->amount) || jset(t, "ccy", x->ccy) ||
            jset(t, "payment_id", created ? x->payment_id : NULL) ||
            /* refused by the bank: never created, rejected for treasury */
            jset(t, "status", created ? x->status : "RJCT") ||
            jset(t, "reason", created ? x->reason : NULL) ||
            jset(t, "error", created ? NULL : x->error)) {
            json_decref(t);
            bad = 1;
        } else {
            bad = json_array_append_new(txs, t) != 0;
        }
    }
    json_decref(txs);
    if (bad) {
        json_decref(r);
        return NULL;
    }
    return r;
}
