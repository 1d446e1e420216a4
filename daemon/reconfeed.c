/*
 * reconfeed.c - the pool thread's side of a reconciliation run
 * (reconrun.h): read the submitted payments and the kept statements into
 * the engine, add treasury's expected receipts, match, find the messages
 * that are booked in full, and publish the reports.
 *
 * Everything here reads files and fills struct rr_job; nothing touches the
 * store, the log or the configuration (the loop thread does, after).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "fsutil.h"
#include "reconrun_int.h"
#include "tz.h"

#define RR_PROBLEMS_MAX 200
/* A statement period longer than this is not believed (a bank's bad
 * FrToDt would otherwise claim years of days). */
#define RR_PERIOD_MAX_DAYS 400

/* ---- progress and problems --------------------------------------------- */

static void progress(struct rr_job *j, const char *phase, uint64_t done,
                     uint64_t total)
{
    pthread_mutex_lock(&j->mu);
    j->phase = phase;
    j->done = done;
    j->total = total;
    pthread_mutex_unlock(&j->mu);
}

static int engine_progress(void *ctx, const char *phase, uint64_t done,
                           uint64_t total)
{
    struct rr_job *j = ctx;
    progress(j, phase, done, total);
    return atomic_load(&j->cancel);
}

static void problem(struct rr_job *j, int expected, const char *file, int line,
                    const char *rule, const char *msg)
{
    if (j->n_probs >= RR_PROBLEMS_MAX) {
        j->probs_dropped++;
        return;
    }
    struct rr_problem *v =
        realloc(j->probs, (j->n_probs + 1) * sizeof(*j->probs));
    if (!v) {
        j->probs_dropped++;
        return;
    }
    j->probs = v;
    struct rr_problem *p = &v[j->n_probs];
    p->file = strdup(file ? file : "");
    p->rule = strdup(rule ? rule : "");
    p->msg = strdup(msg ? msg : "");
    p->line = line;
    p->expected = expected;
    if (!p->file || !p->rule || !p->msg) {
        free(p->file);
        free(p->rule);
        free(p->msg);
        j->probs_dropped++;
        return;
    }
    j->n_probs++;
}

static void diag_problems(struct rr_job *j, int expected, const char *file,
                          const struct fmt_diag *dg)
{
    for (size_t i = 0; i < dg->n; i++)
        problem(j, expected, file, dg->v[i].line, dg->v[i].rule, dg->v[i].msg);
    j->probs_dropped += dg->dropped;
}

/* ---- a small string map: statement coverage and repeated reports ------- */

struct rr_map {
    char **keys;
    size_t *vals;
    size_t cap, n;
};

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t *map_find(const struct rr_map *m, const char *key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = key_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return NULL;
        if (strcmp(m->keys[i], key) == 0)
            return &m->vals[i];
    }
}

/* Set key to val (replacing).  0 or H2H_ENOMEM. */
static int map_put(struct rr_map *m, const char *key, size_t val)
{
    size_t *have = map_find(m, key);
    if (have) {
        *have = val;
        return 0;
    }
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        char **keys = calloc(cap, sizeof(*keys));
        size_t *vals = calloc(cap, sizeof(*vals));
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return H2H_ENOMEM;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i])
                continue;
            size_t k = key_hash(m->keys[i]) & (cap - 1);
            while (keys[k])
                k = (k + 1) & (cap - 1);
            keys[k] = m->keys[i];
            vals[k] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    char *dup = strdup(key);
    if (!dup)
        return H2H_ENOMEM;
    size_t k = key_hash(key) & (m->cap - 1);
    while (m->keys[k])
        k = (k + 1) & (m->cap - 1);
    m->keys[k] = dup;
    m->vals[k] = val;
    m->n++;
    return 0;
}

static void map_free(struct rr_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* ---- dates and small helpers ------------------------------------------- */

/* The date part of a date or date-time into day (11 bytes); 0 when it
 * looks like YYYY-MM-DD, else -1. */
static int day_of(const char *s, char day[11])
{
    if (!s || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    memcpy(day, s, 10);
    day[10] = '\0';
    return 0;
}

static int in_range(const struct rr_job *j, const char *day)
{
    return strcmp(day, j->from) >= 0 && strcmp(day, j->to) <= 0;
}

/* Accounts compare without blanks and ASCII case (IBANs are written in
 * groups of four). */
static void acct_norm(const char *in, char *out, size_t outsz)
{
    size_t n = 0;
    for (; in && *in && n + 1 < outsz; in++)
        if (*in != ' ')
            out[n++] = (char)((*in >= 'a' && *in <= 'z') ? *in - 32 : *in);
    out[n] = '\0';
}

static const char *acct_id(const struct fmt_account *a)
{
    return a->iban && *a->iban ? a->iban : a->other_id;
}

static int account_wanted(const struct rr_job *j, const char *acct)
{
    if (!j->account)
        return 1;
    char a[128], b[128];
    acct_norm(j->account, a, sizeof(a));
    acct_norm(acct, b, sizeof(b));
    return strcmp(a, b) == 0;
}

static const char *nz(const char *s)
{
    return s && *s ? s : NULL;
}

/* ---- payments ---------------------------------------------------------- */

struct pay_ctx {
    struct rr_job *j;
    struct rr_msg *m;
    size_t n; /* transactions of the file so far */
    int rc;
};

static int rejected(const struct rr_msg *m, const struct fmt_pay_group *g,
                    const struct fmt_pay_tx *t)
{
    for (size_t i = 0; i < m->n_rejected; i++) {
        const struct rr_rejected *r = &m->rejected[i];
        if (*r->pmt_inf_id &&
            (!g->pmt_inf_id || strcmp(r->pmt_inf_id, g->pmt_inf_id) != 0))
            continue;
        if (!*r->end_to_end_id ||
            (t->end_to_end_id &&
             strcmp(r->end_to_end_id, t->end_to_end_id) == 0))
            return 1;
    }
    return 0;
}

/* An adapter's booking reference pattern with {msgid} and {n} filled
 * in; "" without a pattern or when it does not fit. */
static void expand_ref(const char *pattern, const char *msg_id, size_t n,
                       char *out, size_t outsz)
{
    size_t k = 0;
    out[0] = '\0';
    for (const char *p = pattern; p && *p;) {
        char num[24];
        const char *put = NULL;
        size_t len = 1, skip = 1;
        if (strncmp(p, "{msgid}", 7) == 0) {
            put = msg_id, len = strlen(msg_id), skip = 7;
        } else if (strncmp(p, "{n}", 3) == 0) {
            snprintf(num, sizeof(num), "%zu", n);
            put = num, len = strlen(num), skip = 3;
        } else {
            put = p;
        }
        if (k + len >= outsz) {
            out[0] = '\0';
            return;
        }
        memcpy(out + k, put, len);
        k += len;
        p += skip;
    }
    out[k] = '\0';
}

static int pay_tx(void *ctx, const struct fmt_pay_group *g,
                  const struct fmt_pay_tx *t)
{
    struct pay_ctx *c = ctx;
    struct rr_msg *m = c->m;
    char id[STORE_ID_MAX + 24], day[11];
    c->n++;
    if (rejected(m, g, t))
        return 0;
    m->n_taken++;
    if (day_of(g->reqd_exctn_dt, day) != 0)
        memcpy(day, m->created_day, sizeof(day));
    const char *debtor = acct_id(&g->dbtr_acct);
    if (!in_range(c->j, day) || !account_wanted(c->j, debtor))
        return 0;
    snprintf(id, sizeof(id), "%s/%zu", m->id, c->n);
    /* every payment has its serial; a file of the adapter's batch
     * purpose (payroll) is also a batch, for a bank that books it as one
     * debit under the batch reference instead of item by item */
    char serial[128] = "", batch[128] = "";
    if (m->batch_purpose && g->ctgy_purp &&
        strcmp(g->ctgy_purp, m->batch_purpose) == 0)
        expand_ref(m->batch_pattern, m->id, c->n, batch, sizeof(batch));
    expand_ref(m->serial_pattern, m->id, c->n, serial, sizeof(serial));
    struct recon_payment p = {
        .id = id,
        .bank = m->bank,
        .account = debtor,
        .end_to_end_id = nz(t->end_to_end_id),
        .uetr = nz(t->uetr),
        .serial = nz(serial),
        .amount = t->amt.minor,
        .ccy = t->amt.ccy,
        .exec_date = day,
        .cpty_name = t->cdtr.name,
        .cpty_account = acct_id(&t->cdtr_acct),
        .rmt_text = t->rmt_ustrd,
        .rmt_ref = nz(t->rmt_strd.cdtr_ref) ? t->rmt_strd.cdtr_ref
                                            : t->rmt_strd.doc_nb,
        .batch_id = batch[0]                ? batch
                    : g->batch_booking == 1 ? nz(g->pmt_inf_id)
                                            : NULL,
        .state = m->state,
    };
    struct h2h_err err = {0};
    int rc = recon_add_payment(c->j->engine, &p, &err);
    if (rc == H2H_ENOMEM || rc == H2H_ETOOBIG) {
        c->j->err = err;
        return c->rc = rc;
    }
    if (rc < 0)
        problem(c->j, 0, m->path, t->line, "recon.payment", err.msg);
    return 0;
}

static int read_payments(struct rr_job *j)
{
    for (size_t i = 0; i < j->n_msgs; i++) {
        if (atomic_load(&j->cancel))
            return h2h_err_set(&j->err, H2H_ECANCELED, "h2hd is stopping");
        struct rr_msg *m = &j->msgs[i];
        struct pay_ctx c = {.j = j, .m = m};
        struct fmt_pay_sink sink = {.tx = pay_tx, .ctx = &c};
        struct fmt_src src = {.path = m->path, .charset = j->channel_charset};
        struct fmt_diag dg;
        struct h2h_err err = {0};
        fmt_diag_init(&dg, m->path);
        int rc = fmt_read_payments(&src, FMT_UNKNOWN, &sink, &dg, &err);
        if (c.rc)
            rc = c.rc;
        if (rc == H2H_ENOMEM || rc == H2H_ETOOBIG || rc == H2H_ECANCELED) {
            fmt_diag_release(&dg);
            return rc;
        }
        if (rc < 0 || dg.n) {
            /* never booked from half a file (nor from one with problems:
             * what was sent was checked, so this is damage) */
            m->unreadable = 1;
            if (dg.n)
                diag_problems(j, 0, m->path, &dg);
            else
                problem(j, 0, m->path, 0, "recon.payload", err.msg);
        }
        fmt_diag_release(&dg);
        progress(j, "payments", i + 1, j->n_msgs);
    }
    return 0;
}

/* ---- statements -------------------------------------------------------- */

struct stmt_ctx {
    struct rr_job *j;
    const struct rr_file *f;
    size_t file_no;
    int eod; /* the document is an end-of-day statement */
    /* Pass 1 fills, pass 2 reads (keys by prefix):
     *   "D|acct|ccy|day" -> index + 1 in idents of the statement that
     *                       speaks for that day (the latest received)
     *   "P|acct|ccy|day|ident|page" -> file_no + 1 of the latest file
     *                       holding that page of that statement
     *   "I|ident" -> index + 1 in idents */
    struct rr_map *owner;
    char **idents;
    size_t n_idents;
    struct rr_map *seen; /* bookings of reports taken from earlier files */
    char **fresh;        /* this file's report bookings, added after it */
    size_t n_fresh;
    size_t n; /* entries of the file so far */
    int pass; /* 1: coverage, 2: entries */
    int rc;
};

static int stmt_begin_doc(void *ctx, const struct fmt_stmt_doc *doc)
{
    struct stmt_ctx *c = ctx;
    c->eod = doc->kind == FMT_STMT_STATEMENT;
    return 0;
}

/* Which statement st is: its id and electronic sequence number (MT940's
 * :20: is often the same every day, its :28C: number is not); one without
 * either is known only by its file.  Pages of one statement may come in
 * separate files and add up; the same page again replaces the earlier. */
static void stmt_ident(const struct stmt_ctx *c, const struct fmt_stmt *st,
                       char *buf, size_t sz)
{
    if (nz(st->id) || nz(st->elctrnc_seq_nb))
        snprintf(buf, sz, "%s/%s", st->id ? st->id : "",
                 st->elctrnc_seq_nb ? st->elctrnc_seq_nb : "");
    else
        snprintf(buf, sz, "#%zu", c->file_no);
}

/* "acct|ccy|day" for a statement's account and day (the currency keeps
 * the statements of a multi-currency account apart). */
static void day_key(const struct fmt_stmt *st, const char *ccy, const char *day,
                    char *buf, size_t sz)
{
    char acct[128];
    acct_norm(acct_id(&st->acct), acct, sizeof(acct));
    snprintf(buf, sz, "%s|%s|%s", acct, ccy ? ccy : "", day);
}

static int intern(struct stmt_ctx *c, const char *ident, size_t *no)
{
    char key[300];
    snprintf(key, sizeof(key), "I|%s", ident);
    size_t *have = map_find(c->owner, key);
    if (have) {
        *no = *have - 1;
        return 0;
    }
    char **v = realloc(c->idents, (c->n_idents + 1) * sizeof(*v));
    if (!v)
        return H2H_ENOMEM;
    c->idents = v;
    if (!(v[c->n_idents] = strdup(ident)))
        return H2H_ENOMEM;
    *no = c->n_idents++;
    return map_put(c->owner, key, *no + 1);
}

static int cover(struct stmt_ctx *c, const struct fmt_stmt *st, const char *ccy,
                 const char *day)
{
    char dk[200], ident[160], key[600];
    size_t no;
    day_key(st, ccy, day, dk, sizeof(dk));
    stmt_ident(c, st, ident, sizeof(ident));
    int rc = intern(c, ident, &no);
    if (rc == 0) {
        snprintf(key, sizeof(key), "D|%s", dk);
        rc = map_put(c->owner, key, no + 1);
    }
    if (rc == 0) {
        snprintf(key, sizeof(key), "P|%s|%s|%s", dk, ident,
                 st->page_nb ? st->page_nb : "");
        rc = map_put(c->owner, key, c->file_no + 1);
    }
    return rc < 0 ? (c->rc = rc) : 0;
}

/* The statement's currency: the account's, else its balances'. */
static const char *stmt_ccy(const struct fmt_stmt *st)
{
    if (nz(st->acct.ccy))
        return st->acct.ccy;
    for (size_t i = 0; i < st->n_bals; i++)
        if (st->bals[i].amt.ccy[0])
            return st->bals[i].amt.ccy;
    return "";
}

/* Pass 1: the days an end-of-day statement speaks for: its period when it
 * names one, else its closing balance's day; and every booking day it
 * holds (stmt_end sees the whole statement). */
static int stmt_cover_end(void *ctx, const struct fmt_stmt *st)
{
    struct stmt_ctx *c = ctx;
    char a[11], b[11];
    const char *ccy = stmt_ccy(st);
    if (!c->eod)
        return 0;
    if (day_of(st->fr_dt_tm, a) == 0 && day_of(st->to_dt_tm, b) == 0) {
        int64_t x = 0, y = -1;
        if (tz_day_parse(a, &x) < 0 || tz_day_parse(b, &y) < 0)
            y = x - 1; /* not real dates: no period */
        for (int64_t k = x; k <= y && k - x < RR_PERIOD_MAX_DAYS; k++) {
            char d[11];
            tz_day_text(k, d);
            if (cover(c, st, ccy, d) < 0)
                return c->rc;
        }
        return 0;
    }
    for (size_t i = 0; i < st->n_bals; i++)
        if ((strcmp(st->bals[i].type, "CLBD") == 0 ||
             strcmp(st->bals[i].type, "CLAV") == 0) &&
            day_of(st->bals[i].date, a) == 0 &&
            cover(c, st, st->bals[i].amt.ccy, a) < 0)
            return c->rc;
    return 0;
}

static int stmt_cover_entry(void *ctx, const struct fmt_stmt *st,
                            const struct fmt_entry *e)
{
    struct stmt_ctx *c = ctx;
    char day[11];
    if (!c->eod || day_of(e->book_dt, day) != 0)
        return 0;
    return cover(c, st, e->amt.ccy, day) < 0 ? c->rc : 0;
}

/* Should pass 2 take this entry?  (See reconrun.h.) */
static int entry_wanted(struct stmt_ctx *c, const struct fmt_stmt *st,
                        const struct fmt_entry *e, const char *day)
{
    char dk[200], key[600];
    day_key(st, e->amt.ccy, day, dk, sizeof(dk));
    snprintf(key, sizeof(key), "D|%s", dk);
    size_t *own = map_find(c->owner, key);
    if (c->eod) {
        char ident[160];
        stmt_ident(c, st, ident, sizeof(ident));
        if (!own || strcmp(c->idents[*own - 1], ident) != 0)
            return 0; /* another statement speaks for this day */
        snprintf(key, sizeof(key), "P|%s|%s|%s", dk, ident,
                 st->page_nb ? st->page_nb : "");
        size_t *page = map_find(c->owner, key);
        return page && *page == c->file_no + 1;
    }
    if (own)
        return 0;
    const struct fmt_entry_dtl *d = e->n_dtls ? &e->dtls[0] : NULL;
    const char *ref = nz(e->acct_svcr_ref)        ? e->acct_svcr_ref
                      : nz(e->ntry_ref)           ? e->ntry_ref
                      : d && nz(d->end_to_end_id) ? d->end_to_end_id
                                                  : "";
    snprintf(key, sizeof(key), "%s|%d|%lld|%s", dk, e->credit,
             (long long)e->amt.minor, ref);
    if (map_find(c->seen, key))
        return 0;
    char **v = realloc(c->fresh, (c->n_fresh + 1) * sizeof(*v));
    if (!v || !(v[c->n_fresh] = strdup(key))) {
        if (v)
            c->fresh = v;
        c->rc = H2H_ENOMEM;
        return 0;
    }
    c->fresh = v;
    c->n_fresh++;
    return 1;
}

static int stmt_entry(void *ctx, const struct fmt_stmt *st,
                      const struct fmt_entry *e)
{
    struct stmt_ctx *c = ctx;
    struct rr_job *j = c->j;
    char day[11], vday[11], id[600];
    c->n++;
    const char *acct = acct_id(&st->acct);
    if (day_of(e->book_dt, day) != 0) {
        problem(j, 0, c->f->path, e->line, "recon.entry",
                "an entry without a booking date is left out");
        return 0;
    }
    if (!in_range(j, day) || !account_wanted(j, acct) ||
        !entry_wanted(c, st, e, day))
        return c->rc;
    snprintf(id, sizeof(id), "%s/%s#%zu", c->f->bank, c->f->remote, c->n);
    const struct fmt_entry_dtl *d = e->n_dtls ? &e->dtls[0] : NULL;
    const struct fmt_entry_dtl none = {0};
    if (!d)
        d = &none;
    int batch = e->n_dtls > 1;
    struct recon_entry r = {
        .id = id,
        .account = acct,
        .book_date = day,
        .value_date = day_of(e->val_dt, vday) == 0 ? vday : NULL,
        .amount = e->amt.minor,
        .ccy = e->amt.ccy,
        .credit = e->credit,
        .reversal = e->reversal,
        .status = e->sts,
        .acct_svcr_ref = e->acct_svcr_ref,
        .end_to_end_id = batch ? NULL : nz(d->end_to_end_id),
        .uetr = batch ? NULL : d->uetr,
        .cust_ref = nz(e->cust_ref) ? e->cust_ref : d->instr_id,
        .bank_ref = nz(d->acct_svcr_ref) ? d->acct_svcr_ref : d->tx_id,
        /* a direct-connect bank's batch carries only our serial */
        .batch_ref = nz(d->pmt_inf_id) ? d->pmt_inf_id
                     : nz(d->msg_id)   ? d->msg_id
                                       : nz(d->instr_id),
        .return_reason = d->rtr_rsn,
        .cpty_name = batch ? NULL : d->cpty.name,
        .cpty_account = batch ? NULL : acct_id(&d->cpty_acct),
        .rmt_text = nz(d->rmt_ustrd) ? d->rmt_ustrd : e->addtl_ntry_inf,
        .rmt_ref = nz(d->rmt_strd.cdtr_ref) ? d->rmt_strd.cdtr_ref
                                            : d->rmt_strd.doc_nb,
        .n_details = (unsigned)e->n_dtls,
    };
    struct h2h_err err = {0};
    int rc = recon_add_entry(j->engine, &r, &err);
    if (rc == H2H_ENOMEM || rc == H2H_ETOOBIG) {
        j->err = err;
        return c->rc = rc;
    }
    if (rc < 0)
        problem(j, 0, c->f->path, e->line, "recon.entry", err.msg);
    return 0;
}

static int read_statement_file(struct rr_job *j, struct stmt_ctx *c)
{
    struct fmt_stmt_sink sink = {.begin = stmt_begin_doc, .ctx = c};
    if (c->pass == 1) {
        sink.entry = stmt_cover_entry;
        sink.stmt_end = stmt_cover_end;
    } else {
        sink.entry = stmt_entry;
    }
    struct fmt_src src = {
        .path = c->f->path, .name = c->f->remote, .charset = c->f->charset};
    struct fmt_diag dg;
    struct h2h_err err = {0};
    fmt_diag_init(&dg, c->f->remote);
    c->n = 0;
    int rc = fmt_read_statements(&src, FMT_UNKNOWN, &sink, &dg, &err);
    if (c->rc)
        rc = c->rc;
    if (rc == H2H_ENOMEM || rc == H2H_ETOOBIG) {
        if (!j->err.code)
            h2h_err_set(&j->err, rc, "%s: %s", c->f->path,
                        err.msg[0] ? err.msg : h2h_strerror(rc));
    } else if (c->pass == 1 && (rc < 0 || dg.n)) {
        /* said once, in the first pass; the second skips it quietly.
         * Problems a reader read past (an amount with too many decimals)
         * are said too: the entry concerned is left out. */
        if (dg.n)
            diag_problems(j, 0, c->f->path, &dg);
        else
            problem(j, 0, c->f->path, 0, "recon.statement", err.msg);
        rc = 0;
    } else if (rc < 0) {
        rc = 0;
    }
    fmt_diag_release(&dg);
    return rc;
}

static int read_statements(struct rr_job *j)
{
    struct rr_map owner = {0}, seen = {0};
    struct stmt_ctx c = {.j = j, .owner = &owner, .seen = &seen};
    int rc = 0;
    for (c.pass = 1; c.pass <= 2 && rc == 0; c.pass++) {
        for (size_t i = 0; i < j->n_files && rc == 0; i++) {
            if (atomic_load(&j->cancel)) {
                rc = h2h_err_set(&j->err, H2H_ECANCELED, "h2hd is stopping");
                break;
            }
            c.f = &j->files[i];
            c.file_no = i;
            rc = read_statement_file(j, &c);
            for (size_t k = 0; k < c.n_fresh; k++) {
                if (rc == 0 && map_put(&seen, c.fresh[k], 1) < 0)
                    rc = h2h_err_set(&j->err, H2H_ENOMEM, "out of memory");
                free(c.fresh[k]);
            }
            c.n_fresh = 0;
            progress(j, c.pass == 1 ? "statements" : "entries", i + 1,
                     j->n_files);
        }
    }
    free(c.fresh);
    for (size_t i = 0; i < c.n_idents; i++)
        free(c.idents[i]);
    free(c.idents);
    map_free(&owner);
    map_free(&seen);
    return rc;
}

/* ---- expected receipts ------------------------------------------------- */

static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && strcasecmp(name + n - k, suffix) == 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int expected_name(const struct dirent *e)
{
    return e->d_name[0] != '.' &&
           (has_suffix(e->d_name, ".csv") || has_suffix(e->d_name, ".xml"));
}

static int read_expected(struct rr_job *j)
{
    struct dirent **names = NULL;
    if (!j->expected_dir)
        return 0;
    int n = scandir(j->expected_dir, &names, expected_name, name_cmp);
    if (n < 0) {
        if (errno != ENOENT)
            problem(j, 1, j->expected_dir, 0, "recon.expected",
                    strerror(errno));
        return 0;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat sb;
        if (rc == 0 &&
            fsu_join(path, sizeof(path), j->expected_dir, names[i]->d_name) ==
                0 &&
            stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            struct fmt_src src = {.path = path};
            struct fmt_diag dg;
            struct h2h_err err = {0};
            fmt_diag_init(&dg, path);
            int r = has_suffix(path, ".csv")
                        ? recon_read_expected_csv(j->engine, &src, &dg, &err)
                        : recon_read_expected_xml(j->engine, &src, &dg, &err);
            diag_problems(j, 1, path, &dg);
            if (r == H2H_ENOMEM || r == H2H_ETOOBIG) {
                j->err = err;
                rc = r;
            } else if (r < 0) {
                problem(j, 1, path, 0, "recon.expected", err.msg);
            }
            fmt_diag_release(&dg);
        }
        free(names[i]);
        progress(j, "expected", (uint64_t)i + 1, (uint64_t)n);
    }
    free(names);
    return rc;
}

/* ---- booked messages --------------------------------------------------- */

static int msg_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rr_msg *)a)->id,
                  ((const struct rr_msg *)b)->id);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Count per message the transactions matched cleanly: a booking of the
 * payment's own amount, neither returned nor reversed. */
static int count_matched(struct rr_job *j)
{
    const unsigned bad =
        RECON_F_AMOUNT_MISMATCH | RECON_F_RETURNED | RECON_F_REVERSED;
    size_t n = recon_pair_count(j->engine), k = 0;
    const char **ids = calloc(n ? n : 1, sizeof(*ids));
    if (!ids)
        return h2h_err_set(&j->err, H2H_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct recon_pair p;
        if (recon_pair_get(j->engine, i, &p) == 0 &&
            p.side == RECON_SIDE_PAYMENT && !(p.flags & bad))
            ids[k++] = p.item_id;
    }
    if (k)
        qsort(ids, k, sizeof(*ids), str_cmp);
    for (size_t i = 0; i < k; i++) {
        if (i && strcmp(ids[i], ids[i - 1]) == 0)
            continue; /* a split booking: one payment, several rows */
        const char *slash = strrchr(ids[i], '/');
        struct rr_msg key;
        if (!slash || (size_t)(slash - ids[i]) >= sizeof(key.id))
            continue;
        memcpy(key.id, ids[i], (size_t)(slash - ids[i]));
        key.id[slash - ids[i]] = '\0';
        struct rr_msg *m = j->n_msgs ? bsearch(&key, j->msgs, j->n_msgs,
                                               sizeof(*j->msgs), msg_cmp)
                                     : NULL;
        if (m)
            m->n_matched++;
    }
    free(ids);
    return 0;
}

/* ---- reports ----------------------------------------------------------- */

/* Remove what a run cut short left: .<id>.tmp folders of flat files. */
static void clean_stale(const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    if (!dh)
        return;
    while ((e = readdir(dh))) {
        char path[4096];
        if (e->d_name[0] != '.' || !has_suffix(e->d_name, ".tmp") ||
            fsu_join(path, sizeof(path), dir, e->d_name) != 0)
            continue;
        DIR *sub = opendir(path);
        struct dirent *f;
        while (sub && (f = readdir(sub))) {
            char fp[4096];
            if (strcmp(f->d_name, ".") && strcmp(f->d_name, "..") &&
                fsu_join(fp, sizeof(fp), path, f->d_name) == 0)
                unlink(fp);
        }
        if (sub)
            closedir(sub);
        rmdir(path);
    }
    closedir(dh);
}

static int publish(struct rr_job *j)
{
    char tmp[4096], name[STORE_ID_MAX + 8];
    int rc;
    progress(j, "writing", 0, 1);
    if ((rc = fsu_mkdirs(j->report_dir, 0750, &j->err)) < 0)
        return rc;
    clean_stale(j->report_dir);
    snprintf(name, sizeof(name), ".%s.tmp", j->id);
    if ((rc = fsu_join(tmp, sizeof(tmp), j->report_dir, name)) < 0 ||
        (rc = fsu_join(j->run_dir, sizeof(j->run_dir), j->report_dir, j->id)) <
            0)
        return h2h_err_set(&j->err, rc, "reconcile dir path too long");
    if (mkdir(tmp, 0750) != 0)
        return h2h_err_set(&j->err, -errno, "mkdir %s: %s", tmp,
                           strerror(errno));
    if ((rc = recon_write_dir(j->engine, tmp, &j->err)) < 0 ||
        (rc = fsu_fsync_dir(tmp, &j->err)) < 0)
        return rc;
    if ((rc = fsu_rename_noreplace(tmp, j->run_dir, &j->err)) < 0)
        return rc;
    progress(j, "writing", 1, 1);
    return fsu_fsync_dir(j->report_dir, &j->err);
}

void rr_work(struct rr_job *j)
{
    int rc;
    j->opts.progress = engine_progress;
    j->opts.progress_ctx = j;
    j->opts.as_of = j->to;
    if (!(j->engine = recon_new(&j->opts, &j->err))) {
        j->rc = j->err.code ? j->err.code : H2H_ENOMEM;
        return;
    }
    if (j->n_msgs)
        qsort(j->msgs, j->n_msgs, sizeof(*j->msgs), msg_cmp);
    if ((rc = read_payments(j)) < 0 || (rc = read_statements(j)) < 0 ||
        (rc = read_expected(j)) < 0 ||
        (rc = recon_run(j->engine, &j->err)) < 0 ||
        (rc = count_matched(j)) < 0 || (rc = publish(j)) < 0) {
        if (!j->err.code)
            h2h_err_set(&j->err, rc, "%s", h2h_strerror(rc));
        j->run_dir[0] = '\0';
    }
    j->rc = rc;
}

void rr_job_free(struct rr_job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n_msgs; i++) {
        struct rr_msg *m = &j->msgs[i];
        free(m->bank);
        free(m->state);
        free(m->path);
        free(m->serial_pattern);
        free(m->batch_pattern);
        free(m->batch_purpose);
        for (size_t k = 0; k < m->n_rejected; k++) {
            free(m->rejected[k].pmt_inf_id);
            free(m->rejected[k].end_to_end_id);
        }
        free(m->rejected);
    }
    free(j->msgs);
    for (size_t i = 0; i < j->n_files; i++) {
        free(j->files[i].bank);
        free(j->files[i].remote);
        free(j->files[i].path);
        free(j->files[i].charset);
    }
    free(j->files);
    for (size_t i = 0; i < j->n_probs; i++) {
        free(j->probs[i].file);
        free(j->probs[i].rule);
        free(j->probs[i].msg);
    }
    free(j->probs);
    free(j->account);
    free(j->channel_charset);
    free(j->report_dir);
    free(j->expected_dir);
    recon_free(j->engine);
    pthread_mutex_destroy(&j->mu);
    free(j);
}
