/*
 * oj_stmt.c - an account's statement for from..to: the bank's balances
 * (GET /v1/accounts/{iban}/balances) and booked entries (GET .../
 * transactions?from=&to=, every page by cursor) as one canonical
 * Statements document (formats/canon.h), which the daemon converts into
 * each channel's output format.
 *
 * The document is built by stmtbuild.c (balances derived from the
 * bank's closingBooked and interimAvailable along its entries).
 *
 * The document depends on the bank's data only (no clock): polled again
 * with nothing new it is the same bytes, which the daemon's download
 * registry recognises; with new entries it is a new version under the
 * same remote name (stmt_<account tag>_<from>_<to>.xml), delivered again.
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "canon.h"
#include "fsutil.h"
#include "ident.h"

/* ---- fetching (loop) -------------------------------------------------------
 */

struct oj_stmt_job {
    struct oj *o;
    char iban[40];
    char from[11], to[11];
    char tmp_dir[OJ_PATH_MAX];
    oj_stmt_done_fn done;
    void *data;
    json_t *balances;
    json_t *entries;
    unsigned pages;
    uv_work_t work;
    int rc;
    struct h2h_err err;
    char name[256], local[OJ_PATH_MAX], sha256[65];
    uint64_t size;
};

static void job_end(struct oj_stmt_job *j, const struct h2h_err *e,
                    int bank_down)
{
    struct oj *o = j->o;
    oj_stmt_done_fn done = j->done;
    void *data = j->data;
    json_decref(j->balances);
    json_decref(j->entries);
    if (e) {
        free(j);
        done(o, data, NULL, NULL, NULL, 0, e, bank_down);
        return;
    }
    char local[OJ_PATH_MAX], name[256], sha[65];
    uint64_t size = j->size;
    snprintf(local, sizeof(local), "%s", j->local);
    snprintf(name, sizeof(name), "%s", j->name);
    snprintf(sha, sizeof(sha), "%s", j->sha256);
    free(j);
    done(o, data, local, name, sha, size, NULL, 0);
}

static void build_work(uv_work_t *w)
{
    struct oj_stmt_job *j = w->data;
    char *buf = NULL;
    size_t len = 0;
    const char *slash = strrchr(j->local, '/');
    j->rc = astmt_build("OJ", j->iban, j->balances, j->entries, j->from, j->to,
                        NULL, &buf, &len, &j->err);
    if (j->rc == 0)
        j->rc = fsu_write_file(j->tmp_dir, slash + 1, buf, len, 0, &j->err);
    free(buf);
    if (j->rc == 0)
        j->rc = fsu_sha256_file(j->local, j->sha256, &j->size, &j->err);
}

static void build_after(uv_work_t *w, int status)
{
    struct oj_stmt_job *j = w->data;
    struct oj *o = j->o;
    oj_work_done(o);
    if (status != 0 || j->rc < 0) {
        struct h2h_err e = j->err;
        char tag[40];
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        astmt_acct_tag(j->iban, tag, sizeof(tag));
        h2h_err_prefix(&e, "statement of account %s", tag);
        job_end(j, &e, 0);
        return;
    }
    job_end(j, NULL, 0);
}

static int get_transactions(struct oj_stmt_job *j, const char *cursor,
                            struct h2h_err *err);

/* A failed call: the account is named by its tag only. */
static void call_failed(struct oj_stmt_job *j, const struct oj_reply *r,
                        const char *what)
{
    struct h2h_err e;
    char tag[40];
    astmt_acct_tag(j->iban, tag, sizeof(tag));
    if (r->outcome != H2H_OUT_OK) {
        e = r->err;
        h2h_err_prefix(&e, "%s of account %s", what, tag);
        job_end(j, &e, !r->bad_answer);
        return;
    }
    char prob[300];
    oj_reply_problem(r, prob, sizeof(prob));
    h2h_err_set(&e, r->status == 404 ? H2H_ENOTFOUND : H2H_EPROTO,
                "%s of account %s: HTTP %ld %s", what, tag, r->status, prob);
    job_end(j, &e, r->status >= 500);
}

static void tx_cb(struct oj *o, const struct oj_reply *r, void *data)
{
    struct oj_stmt_job *j = data;
    struct h2h_err e = {0};
    json_t *list = json_object_get(r->json, "transactions");
    json_t *next = json_object_get(r->json, "next_cursor");
    if (r->outcome != H2H_OUT_OK || r->status != 200 || !json_is_array(list) ||
        (next && !json_is_null(next) && !json_is_string(next))) {
        call_failed(j, r, "transactions");
        return;
    }
    if (json_array_extend(j->entries, list) != 0 ||
        json_array_size(j->entries) > OJ_STMT_MAX_ENTRIES) {
        h2h_err_set(&e, H2H_ETOOBIG,
                    "statement of more than %d entries not fetched",
                    OJ_STMT_MAX_ENTRIES);
        job_end(j, &e, 0);
        return;
    }
    if (json_is_string(next) && *json_string_value(next)) {
        if (++j->pages > OJ_STMT_MAX_PAGES) {
            h2h_err_set(&e, H2H_ETOOBIG, "more than %d pages of entries",
                        OJ_STMT_MAX_PAGES);
            job_end(j, &e, 0);
            return;
        }
        if (get_transactions(j, json_string_value(next), &e) != 0)
            job_end(j, &e, 0);
        return;
    }
    /* every page is here: build and write on the thread pool */
    char lname[200];
    snprintf(lname, sizeof(lname), FSU_TMP_PREFIX "%.64s.oj.%s.%lu",
             o->base.bank, o->tag, ++o->seq);
    if (fsu_join(j->local, sizeof(j->local), j->tmp_dir, lname) != 0) {
        h2h_err_set(&e, H2H_ETOOBIG, "tmp_dir path too long");
        job_end(j, &e, 0);
        return;
    }
    astmt_name(j->iban, j->from, j->to, j->name, sizeof(j->name));
    j->work.data = j;
    if (oj_queue_work(o, &j->work, build_work, build_after, &e) != 0)
        job_end(j, &e, 0);
}

static int get_transactions(struct oj_stmt_job *j, const char *cursor,
                            struct h2h_err *err)
{
    char path[2048], enc[1024];
    int n = snprintf(path, sizeof(path),
                     "/v1/accounts/%s/transactions?from=%s&to=%s", j->iban,
                     j->from, j->to);
    if (cursor) {
        if (oj_urlenc(cursor, enc, sizeof(enc)) != 0)
            return h2h_err_set(err, H2H_ETOOBIG, "paging cursor too long");
        n = snprintf(path + n, sizeof(path) - (size_t)n, "&cursor=%s", enc);
    }
    struct oj_call_spec sp = {
        .method = "GET", .path = path, .flags = HTTPS_IDEMPOTENT};
    return oj_call(j->o, &sp, tx_cb, j, err);
}

static void bal_cb(struct oj *o, const struct oj_reply *r, void *data)
{
    struct oj_stmt_job *j = data;
    struct h2h_err e = {0};
    json_t *bals = json_object_get(r->json, "balances");
    (void)o;
    if (r->outcome != H2H_OUT_OK || r->status != 200 || !json_is_array(bals)) {
        call_failed(j, r, "balances");
        return;
    }
    j->balances = json_incref(bals);
    if (!(j->entries = json_array())) {
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        job_end(j, &e, 0);
        return;
    }
    if (get_transactions(j, NULL, &e) != 0)
        job_end(j, &e, 0);
}

int oj_stmt_fetch(struct oj *o, size_t i, const char *from, const char *to,
                  const char *tmp_dir, oj_stmt_done_fn done, void *data,
                  struct h2h_err *err)
{
    if (i >= o->s.n_accounts)
        return h2h_err_set(err, H2H_EINVALID, "no account %zu", i);
    struct oj_stmt_job *j = calloc(1, sizeof(*j));
    if (!j)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    j->o = o;
    j->done = done;
    j->data = data;
    snprintf(j->iban, sizeof(j->iban), "%s", o->s.accounts[i]);
    snprintf(j->from, sizeof(j->from), "%s", from);
    snprintf(j->to, sizeof(j->to), "%s", to);
    snprintf(j->tmp_dir, sizeof(j->tmp_dir), "%s", tmp_dir);
    char path[200];
    snprintf(path, sizeof(path), "/v1/accounts/%s/balances", j->iban);
    struct oj_call_spec sp = {
        .method = "GET", .path = path, .flags = HTTPS_IDEMPOTENT};
    int rc = oj_call(o, &sp, bal_cb, j, err);
    if (rc < 0)
        free(j);
    return rc;
}
