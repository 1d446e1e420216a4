/*
 * oj_submit.c - submit and recover of one message: a canonical payment
 * batch, sent as one POST /v1/payments per transaction.
 *
 * A message moves through three steps:
 *   prepare   (thread pool) read the canonical payload, build every body
 *             and key (oj_json.c); a transaction the bank would refuse
 *             fails the message before anything is sent (PERMFAIL);
 *   requests  (loop) submit: transaction 1 alone first, then the rest, at
 *             most max_sessions at a time; recover: one inquiry by key per
 *             transaction (GET /v1/payments?idempotency_key=K);
 *   finish    (thread pool, when the bank has the message) the record and
 *             its pain.002 made durable (oj_record.c), then the result.
 *
 * Outcome of a submit, from what its transactions got:
 *   any UNKNOWN (no complete answer, or an answer failing its signature,
 *     id or freshness check)              -> UNKNOWN: the daemon recovers
 *   else a 422 (key used with other bytes), or a refusal that is about
 *     our set-up (401 after a fresh token, 403, 404, 415, TLS trust, ...)
 *                                          -> PERMFAIL
 *   else a 5xx, 408, 429 or a transport failure before any answer
 *                                          -> TEMPFAIL (a retry sends the
 *     same bytes under the same keys; the bank answers created ones
 *     idempotently, so nothing is paid twice)
 *   else nothing created, all refused with 400 naming a field
 *                                          -> PERMFAIL naming the field
 *   else                                   -> OK, with a status report:
 *     created payments with the bank's status (ACCP / RJCT + reason /
 *     PDNG), refused ones RJCT with the bank's words (NARR).
 * Transaction 1 goes alone: when it is refused (400), the rest are not
 * sent, so a problem common to every transaction fails the message with
 * nothing created.  A later refusal does not stop the others: the bank
 * then holds part of the message, and the status report says which part
 * (PART), as a file bank's pain.002 would.  Anything but a refusal stops
 * further sends: the daemon's retry or recover repeats the whole message
 * anyway.
 *
 * Outcome of a recover: every key found -> OK (the status report is made
 * from the current statuses unless one was made before); any key not
 * found (404) -> NOT_SENT (the daemon sends the message again: found ones
 * replay under their keys, the bank ends with each payment once); anything
 * else -> TEMPFAIL (cannot tell now).
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct txref {
    struct oj_msg *m;
    size_t i;
};

struct oj_msg {
    struct oj_msg *next; /* o->msgs */
    struct oj *o;
    struct h2h_submit_req *req;
    h2h_result_cb cb;
    int recover;
    char *msg_id, *payload;
    char today[11];
    struct oj_batch b;
    struct txref *refs;
    int rc; /* of the last thread-pool step */
    struct h2h_err err;
    size_t next_tx, running;
    int probing, stop;
    json_t *rec;
    int fresh;
    uv_work_t work;
    struct h2h_result res;
};

static void msg_free(struct oj_msg *m)
{
    oj_batch_release(&m->b);
    json_decref(m->rec);
    free(m->refs);
    free(m->msg_id);
    free(m->payload);
    free(m);
}

static void finish(struct oj_msg *m)
{
    struct oj *o = m->o;
    for (struct oj_msg **pp = &o->msgs; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    if (m->res.outcome == H2H_OUT_OK)
        oj_note_ok(o);
    m->cb(&o->base, m->req, &m->res);
    msg_free(m);
    oj_op_done(o);
}

static void fail(struct oj_msg *m, enum h2h_outcome out,
                 const struct h2h_err *e)
{
    m->res.outcome = out;
    m->res.err = *e;
    finish(m);
}

/* ---- the finish step ------------------------------------------------------
 */

static void record_work(uv_work_t *w)
{
    struct oj_msg *m = w->data;
    m->rc = arec_open(&m->o->dirs, m->msg_id, m->rec, &m->fresh, &m->err);
}

static void record_after(uv_work_t *w, int status)
{
    struct oj_msg *m = w->data;
    struct oj *o = m->o;
    oj_work_done(o);
    if (status != 0 || m->rc < 0) {
        /* The bank has the payments; only our status report is missing.
         * A retry sends the same bytes again (idempotent replays) and
         * comes back here. */
        struct h2h_err e = m->err;
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        h2h_err_prefix(&e, "the bank has the payments, but their status "
                           "report could not be stored");
        oj_note_err(o, &e);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    m->res.outcome = H2H_OUT_OK;
    h2h_err_clear(&m->res.err);
    const char *first = NULL;
    size_t created = 0;
    for (size_t i = 0; i < m->b.n_txs; i++)
        if (m->b.txs[i].st == TX_CREATED) {
            if (!first)
                first = m->b.txs[i].payment_id;
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

int oj_msg_running(const struct oj *o, const char *msg_id)
{
    for (const struct oj_msg *p = o->msgs; p; p = p->next)
        if (strcmp(p->msg_id, msg_id) == 0)
            return 1;
    return 0;
}

static void bank_has_it(struct oj_msg *m)
{
    struct oj *o = m->o;
    struct h2h_err e = {0};
    if (oj_poll_holds(o, m->msg_id)) {
        /* The poll is writing this message's next report right now (the
         * daemon recovers a message whose OK it did not see, while its
         * payments are asked about): one writer per record.  The retry
         * replays, and then finds the record. */
        h2h_err_set(&e, H2H_ESTATE,
                    "the bank has the payments; their status record is "
                    "being updated, try again");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    if (!(m->rec = oj_record_new(m->msg_id, &m->b))) {
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    m->work.data = m;
    if (oj_queue_work(o, &m->work, record_work, record_after, &e) != 0)
        fail(m, H2H_OUT_TEMPFAIL, &e);
}

/* ---- conclusions -------------------------------------------------------- */

static struct oj_tx *first_in(struct oj_msg *m, enum oj_tx_state st)
{
    for (size_t i = 0; i < m->b.n_txs; i++)
        if (m->b.txs[i].st == st)
            return &m->b.txs[i];
    return NULL;
}

static size_t count(struct oj_msg *m, enum oj_tx_state st)
{
    size_t n = 0;
    for (size_t i = 0; i < m->b.n_txs; i++)
        n += m->b.txs[i].st == st;
    return n;
}

static void tx_fail(struct oj_msg *m, enum h2h_outcome out, struct oj_tx *x,
                    const char *what)
{
    struct h2h_err e;
    h2h_err_set(&e, H2H_EPROTO, "transaction %zu of %zu (key %s): %s%s%s",
                (size_t)(x - m->b.txs) + 1, m->b.n_txs, x->key, what,
                x->error ? ": " : "", x->error ? x->error : "");
    fail(m, out, &e);
}

static void conclude_submit(struct oj_msg *m)
{
    struct oj *o = m->o;
    struct oj_tx *x;
    size_t created = count(m, TX_CREATED), n = m->b.n_txs;
    if ((x = first_in(m, TX_UNKNOWN))) {
        tx_fail(m, H2H_OUT_UNKNOWN, x,
                "outcome unknown, the bank is asked by key before anything "
                "is sent again");
        return;
    }
    if ((x = first_in(m, TX_CONFLICT))) {
        tx_fail(m, H2H_OUT_PERMFAIL, x,
                "the bank holds another payment under this key");
        return;
    }
    if ((x = first_in(m, TX_PERM))) {
        tx_fail(m, H2H_OUT_PERMFAIL, x, "refused");
        return;
    }
    if ((x = first_in(m, TX_TEMP))) {
        tx_fail(m, H2H_OUT_TEMPFAIL, x,
                "not done now; a retry sends the same bytes under the same "
                "keys");
        return;
    }
    if (count(m, TX_NONE) && o->closing) {
        /* our own shutdown stopped the sends half-way */
        struct h2h_err e;
        h2h_err_set(&e, H2H_ECANCELED,
                    "shutting down after %zu of %zu transactions; a retry "
                    "sends the same bytes under the same keys",
                    m->next_tx, n);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    if (created == 0) {
        /* Every transaction sent was refused for its data (when
         * transaction 1 was, the others were not even sent). */
        struct h2h_err e;
        x = first_in(m, TX_REFUSED);
        if (!x)
            h2h_err_set(&e, H2H_ESTATE, "no transaction was sent");
        else
            h2h_err_set(&e, H2H_EINVALID,
                        "refused by the bank, nothing created: transaction "
                        "%zu of %zu (EndToEndId %s): %s",
                        (size_t)(x - m->b.txs) + 1, n, x->e2e ? x->e2e : "-",
                        x->error ? x->error : "refused");
        fail(m, x ? H2H_OUT_PERMFAIL : H2H_OUT_TEMPFAIL, &e);
        return;
    }
    bank_has_it(m);
}

static void conclude_recover(struct oj_msg *m)
{
    struct oj_tx *x;
    struct h2h_err e;
    if ((x = first_in(m, TX_MISSING))) {
        h2h_err_set(&e, H2H_ENOTFOUND,
                    "transaction %zu of %zu (key %s) was never created at "
                    "the bank; the message is sent again (what the bank has "
                    "replays under its key)",
                    (size_t)(x - m->b.txs) + 1, m->b.n_txs, x->key);
        fail(m, H2H_OUT_NOT_SENT, &e);
        return;
    }
    x = first_in(m, TX_TEMP);
    if (!x)
        x = first_in(m, TX_UNKNOWN);
    if (!x)
        x = first_in(m, TX_PERM);
    if (x || count(m, TX_NONE)) {
        if (x)
            h2h_err_set(&e, H2H_EPROTO,
                        "cannot tell whether the bank has transaction %zu of "
                        "%zu (key %s): %s",
                        (size_t)(x - m->b.txs) + 1, m->b.n_txs, x->key,
                        x->error ? x->error : "no answer");
        else
            h2h_err_set(&e, H2H_ECANCELED,
                        "shutting down before every key was asked");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    bank_has_it(m);
}

/* ---- the requests ----------------------------------------------------------
 */

static void set_error(struct oj_tx *x, const char *fmt, const char *a)
{
    free(x->error);
    x->error = NULL;
    if (asprintf(&x->error, fmt, a) < 0)
        x->error = NULL;
}

/* The bank's view of one payment (201 to a POST, 200 to an inquiry). */
static int take_payment(struct oj_tx *x, const struct oj_reply *r)
{
    const char *pid = json_string_value(json_object_get(r->json, "payment_id"));
    const char *sts = json_string_value(json_object_get(r->json, "status"));
    json_t *rsn = json_object_get(r->json, "status_reason");
    const char *e2e =
        json_string_value(json_object_get(r->json, "end_to_end_id"));
    if (!pid || !*pid || strlen(pid) >= sizeof(x->payment_id) || !sts ||
        strlen(sts) != 4 || strspn(sts, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 4 ||
        (rsn && !json_is_null(rsn) &&
         (!json_is_string(rsn) || strlen(json_string_value(rsn)) < 1 ||
          strlen(json_string_value(rsn)) > 4))) {
        set_error(x, "%s", "the bank's answer lacks payment_id or status");
        return -1;
    }
    if (!e2e || !x->e2e || strcmp(e2e, x->e2e) != 0) {
        set_error(x, "%s",
                  "the bank answered for another payment (end_to_end_id "
                  "differs)");
        return -1;
    }
    for (const char *p = pid; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            set_error(x, "%s", "the bank's payment_id is not printable");
            return -1;
        }
    snprintf(x->payment_id, sizeof(x->payment_id), "%s", pid);
    snprintf(x->status, sizeof(x->status), "%s", sts);
    snprintf(x->reason, sizeof(x->reason), "%s",
             json_is_string(rsn) ? json_string_value(rsn) : "");
    return 0;
}

static enum oj_tx_state transport_state(const struct oj_reply *r)
{
    return r->outcome == H2H_OUT_TEMPFAIL   ? TX_TEMP
           : r->outcome == H2H_OUT_PERMFAIL ? TX_PERM
                                            : TX_UNKNOWN;
}

static void classify_post(struct oj_tx *x, const struct oj_reply *r)
{
    char prob[400];
    if (r->outcome != H2H_OUT_OK) {
        x->st = transport_state(r);
        set_error(x, "%s", r->err.msg);
        return;
    }
    long s = r->status;
    oj_reply_problem(r, prob, sizeof(prob));
    if (s == 200 || s == 201) {
        x->st = take_payment(x, r) == 0 ? TX_CREATED : TX_UNKNOWN;
        return;
    }
    const char *code = json_string_value(json_object_get(r->json, "error"));
    if (s == 400 && code &&
        (strcmp(code, "invalid_field") == 0 ||
         strcmp(code, "missing_field") == 0)) {
        x->st = TX_REFUSED; /* this payment's data: nothing was created */
    } else if (s == 422) {
        x->st = TX_CONFLICT;
    } else if (s == 408 || s == 429 || s >= 500) {
        x->st = TX_TEMP;
    } else if (s >= 300 && s < 500) {
        x->st = TX_PERM; /* our set-up: token, scope, URL, signature */
    } else {
        x->st = TX_UNKNOWN;
    }
    char buf[480];
    snprintf(buf, sizeof(buf), "HTTP %ld %s", s, prob);
    set_error(x, "%s", s == 400 || s == 422 ? prob : buf);
}

static void classify_get(struct oj_tx *x, const struct oj_reply *r)
{
    char prob[400];
    if (r->outcome != H2H_OUT_OK) {
        x->st = TX_TEMP; /* an inquiry can always be repeated */
        set_error(x, "%s", r->err.msg);
        return;
    }
    const char *code = json_string_value(json_object_get(r->json, "error"));
    if (r->status == 200) {
        x->st = take_payment(x, r) == 0 ? TX_CREATED : TX_TEMP;
        return;
    }
    if (r->status == 404 && code && strcmp(code, "payment_not_found") == 0) {
        x->st = TX_MISSING;
        return;
    }
    oj_reply_problem(r, prob, sizeof(prob));
    char buf[480];
    snprintf(buf, sizeof(buf), "HTTP %ld %s", r->status, prob);
    x->st = TX_TEMP;
    set_error(x, "%s", buf);
}

static void pump(struct oj_msg *m);

static void tx_cb(struct oj *o, const struct oj_reply *r, void *data)
{
    struct txref *ref = data;
    struct oj_msg *m = ref->m;
    struct oj_tx *x = &m->b.txs[ref->i];
    m->running--;
    if (m->recover)
        classify_get(x, r);
    else
        classify_post(x, r);
    if (x->st == TX_TEMP || x->st == TX_UNKNOWN || x->st == TX_PERM) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_EPROTO, "%s", x->error ? x->error : "failed");
        if (r->err.code != H2H_ECANCELED)
            oj_note_err(o, &e);
    }
    int probe = m->probing;
    m->probing = 0;
    if (x->st != TX_CREATED && x->st != TX_MISSING && x->st != TX_REFUSED)
        m->stop = 1; /* the daemon repeats or recovers the whole message */
    if (probe && x->st == TX_REFUSED)
        m->stop = 1; /* likely common to all: send nothing more */
    if (m->recover && x->st == TX_MISSING)
        m->stop = 1; /* one missing key decides: NOT_SENT */
    pump(m);
}

static int start_tx(struct oj_msg *m, size_t i, struct h2h_err *err)
{
    struct oj *o = m->o;
    struct oj_tx *x = &m->b.txs[i];
    m->refs[i].m = m;
    m->refs[i].i = i;
    if (m->recover) {
        char enc[OJ_KEY_MAX * 3 + 1], path[300];
        if (oj_urlenc(x->key, enc, sizeof(enc)) != 0)
            return h2h_err_set(err, H2H_ETOOBIG, "key too long");
        snprintf(path, sizeof(path), "/v1/payments?idempotency_key=%s", enc);
        struct oj_call_spec sp = {
            .method = "GET", .path = path, .flags = HTTPS_IDEMPOTENT};
        return oj_call(o, &sp, tx_cb, &m->refs[i], err);
    }
    /* The signature is made afresh for every send: the bank compares the
     * body bytes only, never the signature. */
    char *sig = NULL, *h_sig = NULL, *h_key = NULL;
    int rc = cert_cms_sign_b64(o->sign_id, x->body, x->body_len, 0, &sig, err);
    if (rc < 0)
        return h2h_err_prefix(err, "signing the request");
    if (asprintf(&h_sig, "X-Request-Signature: %s", sig) < 0)
        h_sig = NULL;
    if (asprintf(&h_key, "Idempotency-Key: %s", x->key) < 0)
        h_key = NULL;
    free(sig);
    if (!h_sig || !h_key) {
        free(h_sig);
        free(h_key);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    const char *hdrs[] = {h_key, h_sig, NULL};
    struct oj_call_spec sp = {.method = "POST",
                              .path = "/v1/payments",
                              .body = x->body,
                              .body_len = x->body_len,
                              .content_type = "application/json",
                              .headers = hdrs};
    rc = oj_call(o, &sp, tx_cb, &m->refs[i], err);
    free(h_sig);
    free(h_key);
    return rc;
}

/* Start what may start; conclude when nothing runs and nothing will. */
static void pump(struct oj_msg *m)
{
    struct oj *o = m->o;
    size_t window = m->probing || (!m->recover && m->next_tx == 0)
                        ? 1
                        : (o->s.max_sessions ? o->s.max_sessions : 1);
    if (!m->recover && m->next_tx == 0)
        m->probing = 1;
    while (!m->stop && !o->closing && m->running < window &&
           m->next_tx < m->b.n_txs) {
        struct h2h_err e = {0};
        size_t i = m->next_tx++;
        if (start_tx(m, i, &e) != 0) {
            struct oj_tx *x = &m->b.txs[i];
            x->st = e.code == H2H_ENOMEM || e.code == H2H_ECANCELED ||
                            e.code == H2H_ESTATE
                        ? TX_TEMP
                        : TX_PERM;
            set_error(x, "%s", e.msg);
            m->stop = 1;
            if (m->probing)
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

/* ---- the prepare step -----------------------------------------------------
 */

static void prepare_work(uv_work_t *w)
{
    struct oj_msg *m = w->data;
    m->rc = oj_batch_read(m->payload, m->msg_id, m->today, &m->b, &m->err);
}

static void prepare_after(uv_work_t *w, int status)
{
    struct oj_msg *m = w->data;
    struct oj *o = m->o;
    struct h2h_err e = {0};
    oj_work_done(o);
    if (status != 0) {
        h2h_err_set(&e, H2H_ECANCELED, "canceled");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    if (m->rc < 0) {
        /* The payload is the daemon's immutable rendering: if it cannot
         * be read or holds what the bank refuses, no retry helps.  Memory
         * may come back. */
        fail(m, m->rc == H2H_ENOMEM ? H2H_OUT_TEMPFAIL : H2H_OUT_PERMFAIL,
             &m->err);
        return;
    }
    if (o->closing) {
        h2h_err_set(&e, H2H_ECANCELED, "bank %s is shutting down",
                    o->base.bank);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    if (!(m->refs = calloc(m->b.n_txs, sizeof(*m->refs)))) {
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    pump(m);
}

/* Message ids become part of keys and file names. */
static int msg_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 40 || s[0] == '.' || strstr(s, ".."))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || strchr("._-", *s)))
            return 0;
    return 1;
}

static int start(struct h2h_adapter *a, struct h2h_submit_req *req,
                 h2h_result_cb cb, int recover, struct h2h_err *err)
{
    struct oj *o = (struct oj *)a;
    if (o->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           a->bank);
    if (!req || !req->payload || !cb)
        return h2h_err_set(err, H2H_EINVALID, "incomplete request");
    if (!msg_id_ok(req->msg_id))
        return h2h_err_set(err, H2H_EINVALID,
                           "message id \"%.40s\" cannot name keys and files",
                           req->msg_id ? req->msg_id : "");
    /* The same keys twice at once would race for the same record. */
    if (oj_msg_running(o, req->msg_id))
        return h2h_err_set(err, H2H_ESTATE,
                           "an operation on %s is already running",
                           req->msg_id);
    struct oj_msg *m = calloc(1, sizeof(*m));
    if (!m || !(m->msg_id = strdup(req->msg_id)) ||
        !(m->payload = strdup(req->payload))) {
        if (m)
            msg_free(m);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    m->o = o;
    m->req = req;
    m->cb = cb;
    m->recover = recover;
    oj_date(0, m->today);
    m->work.data = m;
    int rc = oj_queue_work(o, &m->work, prepare_work, prepare_after, err);
    if (rc < 0) {
        msg_free(m);
        return rc;
    }
    m->next = o->msgs;
    o->msgs = m;
    o->ops++;
    return 0;
}

/* Bill-pool and supply-chain-finance requests go their own way
 * (oj_fam.c): one request, one POST or inquiry. */
static int family(const struct h2h_submit_req *req)
{
    return req && req->kind &&
           (strcmp(req->kind, "bill") == 0 || strcmp(req->kind, "scf") == 0);
}

int oj_submit(struct h2h_adapter *a, struct h2h_submit_req *req,
              h2h_result_cb cb, struct h2h_err *err)
{
    if (family(req) && req->payload && cb && !((struct oj *)a)->closing)
        return oj_fam_submit(a, req, cb, 0, err);
    return start(a, req, cb, 0, err);
}

int oj_recover(struct h2h_adapter *a, struct h2h_submit_req *req,
               h2h_result_cb cb, struct h2h_err *err)
{
    if (family(req) && req->payload && cb && !((struct oj *)a)->closing)
        return oj_fam_submit(a, req, cb, 1, err);
    return start(a, req, cb, 1, err);
}
