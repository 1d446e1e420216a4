/*
 * cx_submit.c - submit and recover of one message: single payments (one
 * request each) or one payroll batch.
 *
 *   prepare   (thread pool) read the canonical payload (cx_pay.c) and,
 *             for a submit, build and sign every request; a value the bank
 *             cannot take fails the message before anything is sent;
 *   requests  (loop) submit: unit 1 alone first, then the rest, at most
 *             max_sessions at a time; recover: one payment_status (or
 *             payroll_result) per unit, by serial;
 *   finish    (thread pool, when the bank has the message) the record and
 *             its pain.002 made durable (records.h), then the result.
 *
 * Outcome of a submit, from its units:
 *   any UNKNOWN (no usable answer)        -> UNKNOWN: the daemon recovers
 *   else a duplicate (the serial is someone else's) or a TLS / local
 *     problem                               -> PERMFAIL
 *   else busy or a transport failure before sending -> TEMPFAIL (a retry
 *     sends the same content under the same serials: created ones replay)
 *   else nothing created, all refused     -> PERMFAIL with the bank's code
 *     and message
 *   else                                  -> OK, with a status report:
 *     created ones with the bank's status, refused ones RJCT (NARR).
 * Recover: every serial found -> OK; any not_found -> NOT_SENT (the whole
 * message is sent again: found ones replay); else TEMPFAIL.
 */
#include "cx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct uref {
    struct cx_msg *m;
    size_t k;
};

struct cx_msg {
    struct cx_msg *next; /* c->msgs */
    struct cx *c;
    struct h2h_submit_req *req;
    h2h_result_cb cb;
    int recover;
    char *msg_id, *payload;
    char id_base[24];
    struct cx_batch b;
    struct uref *refs;
    int rc;
    struct h2h_err err;
    size_t next_unit, running;
    int probing, stop;
    json_t *rec;
    int fresh;
    uv_work_t work;
    struct h2h_result res;
};

static void msg_free(struct cx_msg *m)
{
    cx_batch_release(&m->b);
    json_decref(m->rec);
    free(m->refs);
    free(m->msg_id);
    free(m->payload);
    free(m);
}

static void finish(struct cx_msg *m)
{
    struct cx *c = m->c;
    for (struct cx_msg **pp = &c->msgs; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    if (m->res.outcome == H2H_OUT_OK)
        cx_note_ok(c);
    m->cb(&c->base, m->req, &m->res);
    msg_free(m);
    cx_op_done(c);
}

static void fail(struct cx_msg *m, enum h2h_outcome out,
                 const struct h2h_err *e)
{
    m->res.outcome = out;
    m->res.err = *e;
    finish(m);
}

int cx_msg_running(const struct cx *c, const char *msg_id)
{
    for (const struct cx_msg *p = c->msgs; p; p = p->next)
        if (strcmp(p->msg_id, msg_id) == 0)
            return 1;
    return 0;
}

/* ---- finish ----------------------------------------------------------------
 */

static void record_work(uv_work_t *w)
{
    struct cx_msg *m = w->data;
    m->rc = arec_open(&m->c->dirs, m->msg_id, m->rec, &m->fresh, &m->err);
}

static void record_after(uv_work_t *w, int status)
{
    struct cx_msg *m = w->data;
    struct cx *c = m->c;
    cx_work_done(c);
    if (status != 0 || m->rc < 0) {
        struct h2h_err e = m->err;
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        h2h_err_prefix(&e, "the bank has the payments, but their status "
                           "report could not be stored");
        cx_note_err(c, &e);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    m->res.outcome = H2H_OUT_OK;
    h2h_err_clear(&m->res.err);
    const char *first = NULL;
    size_t created = 0;
    for (size_t k = 0; k < m->b.n_units; k++)
        if (m->b.units[k].st == TX_CREATED) {
            if (!first)
                first = m->b.units[k].bank_ref;
            created++;
        }
    if (created > 1)
        snprintf(m->res.bank_ref, sizeof(m->res.bank_ref), "%.64s and %zu more",
                 first, created - 1);
    else
        snprintf(m->res.bank_ref, sizeof(m->res.bank_ref), "%.64s",
                 first ? first : "");
    finish(m);
}

static void bank_has_it(struct cx_msg *m)
{
    struct cx *c = m->c;
    struct h2h_err e = {0};
    if (cx_poll_holds(c, m->msg_id)) {
        /* the poll writes this message's next report right now: one
         * writer per record; the retry replays and finds the record */
        h2h_err_set(&e, H2H_ESTATE,
                    "the bank has the payments; their status record is "
                    "being updated, try again");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    if (!(m->rec = cx_record_new(c, m->msg_id, &m->b))) {
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    m->work.data = m;
    if (cx_queue_work(c, &m->work, record_work, record_after, &e) != 0)
        fail(m, H2H_OUT_TEMPFAIL, &e);
}

/* ---- conclusions -------------------------------------------------------- */

static struct cx_unit *first_in(struct cx_msg *m, enum cx_tx_state st)
{
    for (size_t k = 0; k < m->b.n_units; k++)
        if (m->b.units[k].st == st)
            return &m->b.units[k];
    return NULL;
}

static size_t count(struct cx_msg *m, enum cx_tx_state st)
{
    size_t n = 0;
    for (size_t k = 0; k < m->b.n_units; k++)
        n += m->b.units[k].st == st;
    return n;
}

static void unit_fail(struct cx_msg *m, enum h2h_outcome out, struct cx_unit *u,
                      const char *what)
{
    struct h2h_err e;
    h2h_err_set(&e, H2H_EPROTO, "%s %s: %s%s%s",
                m->b.payroll ? "payroll batch" : "payment", u->serial, what,
                u->error ? ": " : "", u->error ? u->error : "");
    fail(m, out, &e);
}

static void conclude_submit(struct cx_msg *m)
{
    struct cx *c = m->c;
    struct cx_unit *u;
    if ((u = first_in(m, TX_UNKNOWN))) {
        unit_fail(m, H2H_OUT_UNKNOWN, u,
                  "outcome unknown, the bank is asked by serial before "
                  "anything is sent again");
        return;
    }
    if ((u = first_in(m, TX_CONFLICT))) {
        unit_fail(m, H2H_OUT_PERMFAIL, u,
                  "the bank holds another instruction under this serial");
        return;
    }
    if ((u = first_in(m, TX_PERM))) {
        unit_fail(m, H2H_OUT_PERMFAIL, u, "refused");
        return;
    }
    if ((u = first_in(m, TX_TEMP))) {
        unit_fail(m, H2H_OUT_TEMPFAIL, u,
                  "not done now; a retry sends the same content under the "
                  "same serial");
        return;
    }
    if (count(m, TX_NONE) && c->closing) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_ECANCELED,
                    "shutting down after %zu of %zu requests; a retry sends "
                    "the same content under the same serials",
                    m->next_unit, m->b.n_units);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    if (count(m, TX_CREATED) == 0) {
        struct h2h_err e;
        u = first_in(m, TX_REFUSED);
        if (!u)
            h2h_err_set(&e, H2H_ESTATE, "no request was sent");
        else
            h2h_err_set(&e, H2H_EINVALID,
                        "refused by the bank, nothing created: %s %s: %s",
                        m->b.payroll ? "payroll batch" : "payment", u->serial,
                        u->error ? u->error : "refused");
        fail(m, u ? H2H_OUT_PERMFAIL : H2H_OUT_TEMPFAIL, &e);
        return;
    }
    bank_has_it(m);
}

static void conclude_recover(struct cx_msg *m)
{
    struct cx_unit *u;
    struct h2h_err e;
    if ((u = first_in(m, TX_MISSING))) {
        h2h_err_set(&e, H2H_ENOTFOUND,
                    "serial %s was never created at the bank; the message is "
                    "sent again (what the bank has replays under its serial)",
                    u->serial);
        fail(m, H2H_OUT_NOT_SENT, &e);
        return;
    }
    if ((u = first_in(m, TX_CONFLICT))) {
        unit_fail(m, H2H_OUT_PERMFAIL, u,
                  "the bank holds another instruction under this serial");
        return;
    }
    u = first_in(m, TX_TEMP);
    if (!u)
        u = first_in(m, TX_UNKNOWN);
    if (!u)
        u = first_in(m, TX_PERM);
    if (u || count(m, TX_NONE)) {
        if (u)
            h2h_err_set(&e, H2H_EPROTO,
                        "cannot tell whether the bank has serial %s: %s",
                        u->serial, u->error ? u->error : "no answer");
        else
            h2h_err_set(&e, H2H_ECANCELED,
                        "shutting down before every serial was asked");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    bank_has_it(m);
}

/* ---- the requests ----------------------------------------------------------
 */

static void set_error(struct cx_unit *u, const char *fmt, const char *a,
                      const char *b)
{
    free(u->error);
    u->error = NULL;
    if (asprintf(&u->error, fmt, a, b ? b : "") < 0)
        u->error = NULL;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v && *v ? strdup(v) : NULL;
}

/* The bank's view of one unit in an ok answer (to the request or to an
 * inquiry): the serial must be ours; the status maps (or stays pending
 * when the bank's value is not in status_map). */
static int take_unit(struct cx_msg *m, struct cx_unit *u,
                     const struct cx_answer *a)
{
    const char *ser = a->top[CX_K_SERIAL], *sts = a->top[CX_K_STATUS];
    const char *ref = a->top[CX_K_BANK_REF];
    if (!ser || strcmp(ser, u->serial) != 0) {
        set_error(u, "the bank answered for serial \"%.32s\"%s", ser ? ser : "",
                  "");
        return -1;
    }
    if (!sts || !*sts) {
        set_error(u, "the bank's answer has no status%s%s", "", "");
        return -1;
    }
    const char *iso = cx_status_iso(m->c->p, sts);
    snprintf(u->status, sizeof(u->status), "%s", iso ? iso : "PDNG");
    if (!iso) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_EPROTO,
                    "bank.status.unknown: serial %s has status \"%.20s\", "
                    "which status_map does not list; kept pending",
                    u->serial, sts);
        cx_note_err(m->c, &e);
    }
    set_str(&u->bank_status, sts);
    snprintf(u->bank_ref, sizeof(u->bank_ref), "%.64s", ref ? ref : "");
    if (strcmp(u->status, "RJCT") == 0)
        set_error(u, "%s%s",
                  a->top[CX_K_REASON] && *a->top[CX_K_REASON]
                      ? a->top[CX_K_REASON]
                      : "rejected by the bank",
                  "");
    /* payroll_result: the items' own statuses */
    if (m->b.payroll && a->items) {
        for (size_t i = 0; i < a->n_items; i++) {
            char *const *row = &a->items[i * CX_K_N];
            const char *no = row[CX_K_ITEM_NO], *ist = row[CX_K_STATUS];
            for (size_t t = 0; no && ist && t < m->b.n_txs; t++) {
                struct cx_tx *x = &m->b.txs[t];
                if (strcmp(x->item_no, no) != 0)
                    continue;
                const char *iiso = cx_status_iso(m->c->p, ist);
                snprintf(x->status, sizeof(x->status), "%s",
                         iiso ? iiso : "PDNG");
                free(x->reason);
                x->reason = row[CX_K_REASON] && *row[CX_K_REASON]
                                ? strdup(row[CX_K_REASON])
                                : NULL;
            }
        }
    }
    return 0;
}

static void classify(struct cx_msg *m, struct cx_unit *u,
                     const struct cx_reply *r)
{
    if (r->out != H2H_OUT_OK) {
        /* an inquiry can always be repeated: never worse than TEMP */
        u->st = m->recover && r->out != H2H_OUT_PERMFAIL ? TX_TEMP
                : r->out == H2H_OUT_TEMPFAIL             ? TX_TEMP
                : r->out == H2H_OUT_PERMFAIL             ? TX_PERM
                                                         : TX_UNKNOWN;
        set_error(u, "%s%s", r->err.msg, "");
        return;
    }
    const struct cx_answer *a = r->ans;
    char said[400];
    snprintf(said, sizeof(said), "bank code %.20s%s%.300s", a->code,
             a->message ? ": " : "", a->message ? a->message : "");
    switch (a->cls) {
    case CX_CODE_OK:
        u->st = take_unit(m, u, a) == 0 ? TX_CREATED
                : m->recover            ? TX_TEMP
                                        : TX_UNKNOWN;
        return;
    case CX_CODE_BUSY: u->st = TX_TEMP; break;
    case CX_CODE_NOT_FOUND:
        /* to an inquiry: never created.  To a payment: an odd answer,
         * but a code that is not ok says nothing was done. */
        u->st = m->recover ? TX_MISSING : TX_REFUSED;
        break;
    case CX_CODE_DUPLICATE: u->st = TX_CONFLICT; break;
    default:
        /* refused, nothing done; for an inquiry: cannot tell */
        u->st = m->recover ? TX_TEMP : TX_REFUSED;
        break;
    }
    set_error(u, "%s%s", said, "");
}

static void pump(struct cx_msg *m);

static void unit_cb(struct cx *c, const struct cx_reply *r, void *data)
{
    struct uref *ref = data;
    struct cx_msg *m = ref->m;
    struct cx_unit *u = &m->b.units[ref->k];
    m->running--;
    classify(m, u, r);
    if (u->st == TX_TEMP || u->st == TX_UNKNOWN || u->st == TX_PERM) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_EPROTO, "%s", u->error ? u->error : "failed");
        if (r->err.code != H2H_ECANCELED)
            cx_note_err(c, &e);
    }
    int probe = m->probing;
    m->probing = 0;
    if (u->st != TX_CREATED && u->st != TX_MISSING && u->st != TX_REFUSED)
        m->stop = 1; /* the daemon repeats or recovers the whole message */
    if (probe && u->st == TX_REFUSED)
        m->stop = 1; /* likely common to all: send nothing more */
    if (m->recover && u->st == TX_MISSING)
        m->stop = 1; /* one missing serial decides: NOT_SENT */
    pump(m);
}

static int start_unit(struct cx_msg *m, size_t k, struct h2h_err *err)
{
    struct cx *c = m->c;
    struct cx_unit *u = &m->b.units[k];
    m->refs[k].m = m;
    m->refs[k].k = k;
    if (m->recover) {
        struct cx_vals v;
        memset(&v, 0, sizeof(v));
        v.v[CX_T_SERIAL] = u->serial;
        return cx_call(
            c, m->b.payroll ? CX_FN_PAYROLL_RESULT : CX_FN_PAYMENT_STATUS, &v,
            unit_cb, &m->refs[k], err);
    }
    return cx_call_send(c, m->b.payroll ? CX_FN_PAYROLL : CX_FN_PAYMENT, &u->rq,
                        &u->vals, unit_cb, &m->refs[k], err);
}

static void pump(struct cx_msg *m)
{
    struct cx *c = m->c;
    size_t window =
        m->probing || (!m->recover && m->next_unit == 0)
            ? 1
            : (size_t)(c->s.max_concurrent > 0 ? c->s.max_concurrent : 1);
    if (!m->recover && m->next_unit == 0)
        m->probing = 1;
    while (!m->stop && !c->closing && m->running < window &&
           m->next_unit < m->b.n_units) {
        struct h2h_err e = {0};
        size_t k = m->next_unit++;
        if (start_unit(m, k, &e) != 0) {
            struct cx_unit *u = &m->b.units[k];
            u->st = e.code == H2H_ENOMEM || e.code == H2H_ECANCELED ||
                            e.code == H2H_ESTATE
                        ? TX_TEMP
                        : TX_PERM;
            set_error(u, "%s%s", e.msg, "");
            m->stop = 1;
            m->probing = 0;
            break;
        }
        m->running++;
    }
    if (m->running > 0)
        return;
    if (m->recover)
        conclude_recover(m);
    else
        conclude_submit(m);
}

/* ---- prepare ---------------------------------------------------------------
 */

static void prepare_work(uv_work_t *w)
{
    struct cx_msg *m = w->data;
    m->rc = cx_batch_read(m->c, m->payload, m->msg_id, &m->b, &m->err);
    if (m->rc == 0 && !m->recover)
        m->rc = cx_batch_build(m->c, &m->b, m->id_base, &m->err);
}

static void prepare_after(uv_work_t *w, int status)
{
    struct cx_msg *m = w->data;
    struct cx *c = m->c;
    struct h2h_err e = {0};
    cx_work_done(c);
    if (status != 0) {
        h2h_err_set(&e, H2H_ECANCELED, "canceled");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    if (m->rc < 0) {
        /* the payload is the daemon's immutable rendering: what the bank
         * cannot take, no retry helps with */
        fail(m, m->rc == H2H_ENOMEM ? H2H_OUT_TEMPFAIL : H2H_OUT_PERMFAIL,
             &m->err);
        return;
    }
    if (c->closing) {
        h2h_err_set(&e, H2H_ECANCELED, "bank %s is shutting down",
                    c->base.bank);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    if (!(m->refs = calloc(m->b.n_units, sizeof(*m->refs)))) {
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    pump(m);
}

static int msg_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 20 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-") == n;
}

static int start(struct h2h_adapter *a, struct h2h_submit_req *req,
                 h2h_result_cb cb, int recover, struct h2h_err *err)
{
    struct cx *c = (struct cx *)a;
    if (c->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           a->bank);
    if (!req || !req->payload || !cb)
        return h2h_err_set(err, H2H_EINVALID, "incomplete request");
    if (!msg_id_ok(req->msg_id))
        return h2h_err_set(err, H2H_EINVALID,
                           "message id \"%.40s\" cannot be part of a customer "
                           "serial ([A-Za-z0-9-])",
                           req->msg_id ? req->msg_id : "");
    if (cx_msg_running(c, req->msg_id))
        return h2h_err_set(err, H2H_ESTATE,
                           "an operation on %s is already running",
                           req->msg_id);
    struct cx_msg *m = calloc(1, sizeof(*m));
    if (!m || !(m->msg_id = strdup(req->msg_id)) ||
        !(m->payload = strdup(req->payload))) {
        if (m)
            msg_free(m);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    m->c = c;
    m->req = req;
    m->cb = cb;
    m->recover = recover;
    cx_request_id(c, m->id_base, sizeof(m->id_base));
    m->work.data = m;
    int rc = cx_queue_work(c, &m->work, prepare_work, prepare_after, err);
    if (rc < 0) {
        msg_free(m);
        return rc;
    }
    m->next = c->msgs;
    c->msgs = m;
    c->ops++;
    return 0;
}

int cx_submit(struct h2h_adapter *a, struct h2h_submit_req *req,
              h2h_result_cb cb, struct h2h_err *err)
{
    return start(a, req, cb, 0, err);
}

int cx_recover(struct h2h_adapter *a, struct h2h_submit_req *req,
               h2h_result_cb cb, struct h2h_err *err)
{
    return start(a, req, cb, 1, err);
}
