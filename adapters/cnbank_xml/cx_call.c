/*
 * cx_call.c - one exchange with the front end: a request out, its answer
 * read and checked (cx_msg.c), the outcome classified for the caller.
 *
 * An answer that fails its bank signature, decoding, parsing or echo is
 * no answer at all (PROFILE.md, "Exactly once"): the request may have
 * been processed, so the outcome is UNKNOWN and the caller asks by
 * serial.  It is never read as a refusal.
 */
#include "cx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cx_call {
    struct cx *c;
    enum cx_fn fn;
    cx_call_cb cb;
    void *data;
    struct cx_vals vals; /* copies, owned */
};

static void call_free(struct cx_call *k)
{
    for (int i = 0; i < CX_T_N; i++)
        free((char *)k->vals.v[i]);
    free(k);
}

static void wire_cb(const struct cx_wire_result *w, void *data)
{
    struct cx_call *k = data;
    struct cx *c = k->c;
    struct cx_reply r = {.out = w->outcome};
    struct cx_answer ans;
    memset(&ans, 0, sizeof(ans));
    if (w->outcome != H2H_OUT_OK) {
        r.err = w->err;
    } else {
        int rc = cx_answer_read(
            c->p, k->fn, &k->vals, w->body, w->len, w->sig_header_value,
            c->p->resp_sig_where != CX_SIG_NONE ? &c->peer : NULL, &ans,
            &r.err);
        if (rc < 0) {
            r.out = H2H_OUT_UNKNOWN;
            r.bad_answer = 1;
            h2h_err_prefix(
                &r.err,
                "the answer to %s (request %s) was refused, as if "
                "none had come",
                cx_fn_name(k->fn),
                k->vals.v[CX_T_REQUEST_ID] ? k->vals.v[CX_T_REQUEST_ID] : "?");
        } else {
            r.ans = &ans;
            c->answers++; /* a verified answer: the link to the bank works */
        }
    }
    k->cb(c, &r, k->data);
    cx_answer_release(&ans);
    call_free(k);
}

int cx_call_send(struct cx *c, enum cx_fn fn, const struct cx_request *rq,
                 const struct cx_vals *vals, cx_call_cb cb, void *data,
                 struct h2h_err *err)
{
    if (c->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           c->base.bank);
    struct cx_call *k = calloc(1, sizeof(*k));
    if (!k)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    k->c = c;
    k->fn = fn;
    k->cb = cb;
    k->data = data;
    for (int i = 0; i < CX_T_N; i++)
        if (vals->v[i] && !(k->vals.v[i] = strdup(vals->v[i]))) {
            call_free(k);
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        }
    int rc = cx_wire_send(c->wire, rq, wire_cb, k, err);
    if (rc < 0)
        call_free(k);
    return rc;
}

void cx_fill_common(struct cx *c, enum cx_fn fn, struct cx_vals *v,
                    struct cx_common *bufs)
{
    cx_request_id(c, bufs->request_id, sizeof(bufs->request_id));
    cx_bank_now(c->p, bufs->date, sizeof(bufs->date), bufs->time,
                sizeof(bufs->time));
    v->v[CX_T_FUNCTION] = c->p->fn[fn].code;
    v->v[CX_T_LOGIN] = c->s.login;
    v->v[CX_T_USER] = c->s.user;
    v->v[CX_T_REQUEST_ID] = bufs->request_id;
    v->v[CX_T_DATE] = bufs->date;
    v->v[CX_T_TIME] = bufs->time;
}

int cx_call(struct cx *c, enum cx_fn fn, const struct cx_vals *v, cx_call_cb cb,
            void *data, struct h2h_err *err)
{
    struct cx_vals all = *v;
    struct cx_common bufs;
    struct cx_request rq;
    memset(&rq, 0, sizeof(rq));
    cx_fill_common(c, fn, &all, &bufs);
    int rc = cx_request_build(c->p, fn, &all, NULL, 0, c->sign_id, &rq, err);
    if (rc < 0)
        return h2h_err_prefix(err, "%s request", cx_fn_name(fn));
    rc = cx_call_send(c, fn, &rq, &all, cb, data, err);
    cx_request_release(&rq);
    return rc;
}
