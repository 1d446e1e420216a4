/*
 * openapi_json.c - create, health, certificate inventory and close of the
 * JSON open-banking bank; see openapi_json.h.  Settings are read in
 * oj_config.c; the operations live in oj_submit.c (submit, recover) and
 * oj_poll.c (poll).
 *
 * Everything the instance loads is loaded at create, so that a wrong
 * passphrase, a key readable by others or a missing certificate refuses
 * the bank at start (and a reload keeps the old configuration) instead of
 * failing the first payment.
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fsutil.h"

/* ---- shared helpers -------------------------------------------------------
 */

void oj_note_err(struct oj *o, const struct h2h_err *e)
{
    if (!e || e->code == H2H_ECANCELED)
        return; /* our own shutdown says nothing about the bank */
    snprintf(o->last_err, sizeof(o->last_err), "%s", e->msg);
}

void oj_note_ok(struct oj *o)
{
    o->last_err[0] = '\0';
}

static void http_closed_cb(void *data);

/* Close the HTTPS client once nothing of ours runs: requests in flight are
 * let finish (each bounded by request_timeout) rather than cut, which
 * would only turn a payment into "unknown". */
static void maybe_close(struct oj *o)
{
    if (!o->closing || o->ops > 0 || o->works > 0 || o->http_closing)
        return;
    o->http_closing = 1;
    https_client_close(o->http, http_closed_cb, o);
}

void oj_op_done(struct oj *o)
{
    o->ops--;
    maybe_close(o);
}

void oj_work_done(struct oj *o)
{
    o->works--;
    maybe_close(o);
}

int oj_queue_work(struct oj *o, uv_work_t *w, uv_work_cb work,
                  uv_after_work_cb after, struct h2h_err *err)
{
    int rc = uv_queue_work(o->base.loop, w, work, after);
    if (rc < 0)
        return h2h_err_set(err, rc, "thread pool: %s", uv_strerror(rc));
    o->works++;
    return 0;
}

/* ---- create / free ------------------------------------------------------ */

static void oj_free(struct oj *o)
{
    if (!o)
        return;
    oj_token_release(o);
    aset_secret_free(o->secret);
    cert_identity_free(o->sign_id);
    cert_identity_free(o->tls_id);
    cert_certs_free(o->bank_pin);
    cert_certs_free(o->tls_cas);
    oj_replay_put(o->replay);
    oj_settings_release(&o->s);
    free(o->base.bank);
    free(o);
}

static void http_closed_cb(void *data)
{
    struct oj *o = data;
    o->http = NULL;
    /* The daemon's callback may still look at a->bank and a->data. */
    if (o->close_cb)
        o->close_cb(&o->base);
    oj_free(o);
}


static int oj_create(uv_loop_t *loop, const config_setting_t *bank,
                     const char *bank_name, const char *base_dir,
                     const char *state_dir, struct h2h_adapter **out,
                     struct h2h_err *err)
{
    int rc;
    struct oj *o = calloc(1, sizeof(*o));
    if (!o)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    o->base.ops = &openapi_json_ops;
    o->base.loop = loop;
    if (!(o->base.bank = strdup(bank_name))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = oj_settings_load(bank, base_dir, &o->s, err)) < 0 ||
        (rc = arec_dirs_init(&o->dirs, state_dir, err)) < 0)
        goto fail;
    /* bill and scf records (oj_fam.c) */
    if (fsu_join(o->fam_dir, sizeof(o->fam_dir), o->dirs.state, "fam") != 0) {
        rc = h2h_err_set(err, H2H_ETOOBIG, "state_dir too long");
        goto fail;
    }
    if ((rc = fsu_mkdirs(o->fam_dir, 0700, err)) < 0 ||
        (rc = fsu_clean_tmp(o->fam_dir, err)) < 0)
        goto fail;
    if ((rc = aset_secret_read(o->s.client_secret_file, "client_secret_file",
                             &o->secret, err)) < 0)
        goto fail;
    if ((rc = aset_sign_load(&o->s.sign, &o->sign_id, err)) < 0)
        goto fail;
    if ((rc = cert_load_certs(o->s.bank_cert, &o->bank_pin, err)) < 0) {
        h2h_err_prefix(err, "bank_cert");
        goto fail;
    }
    /* The TLS identity is loaded here too (curl loads its own copy): for
     * the certificate inventory, and so that its problems are named
     * early. */
    if ((rc = aset_tls_load(&o->s.tls, &o->tls_id, &o->tls_cas, err)) < 0)
        goto fail;
    if ((rc = aset_https_client(loop, &o->s.tls, o->s.connect_timeout_s,
                                o->s.request_timeout_s, o->s.max_sessions,
                                &o->http, err)) < 0)
        goto fail;
    if ((rc = oj_replay_get(bank_name, o->s.replay_window_s, &o->replay, err)) <
        0) {
        https_client_close(o->http, NULL, NULL);
        o->http = NULL;
        goto fail;
    }
    unsigned char r[4] = {0};
    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        uint64_t t = uv_hrtime();
        memcpy(r, &t, sizeof(r));
    }
    snprintf(o->tag, sizeof(o->tag), "%02x%02x%02x%02x", r[0], r[1], r[2],
             r[3]);
    *out = &o->base;
    return 0;
fail:
    h2h_err_prefix(err, "bank %s", bank_name);
    oj_free(o);
    return rc;
}

/* ---- health, certificates, close ------------------------------------------
 */

static const char *oj_health(struct h2h_adapter *a)
{
    struct oj *o = (struct oj *)a;
    if (o->last_err[0])
        snprintf(o->health, sizeof(o->health), "degraded: %s", o->last_err);
    else
        snprintf(o->health, sizeof(o->health), "ok");
    return o->health;
}

static void oj_certs(struct h2h_adapter *a, h2h_cert_cb cb, void *ctx)
{
    struct oj *o = (struct oj *)a;
    if (o->tls_id)
        cb(ctx, "tls client", cert_identity_cert(o->tls_id));
    if (o->sign_id)
        cb(ctx, "request signing", cert_identity_cert(o->sign_id));
    for (int i = 0; o->bank_pin && i < sk_X509_num(o->bank_pin); i++)
        cb(ctx, "bank response signing (pinned)",
           sk_X509_value(o->bank_pin, i));
    for (int i = 0; o->tls_cas && i < sk_X509_num(o->tls_cas); i++)
        cb(ctx, "tls trust anchor", sk_X509_value(o->tls_cas, i));
}

static void oj_close(struct h2h_adapter *a, void (*cb)(struct h2h_adapter *a))
{
    struct oj *o = (struct oj *)a;
    if (o->closing)
        H2H_BUG("adapter %s closed twice", a->bank);
    o->closing = 1;
    o->close_cb = cb;
    maybe_close(o);
}

static int oj_check(const config_setting_t *bank, const char *base_dir,
                    void (*report)(void *ctx, const config_setting_t *s,
                                   const char *msg),
                    void *ctx)
{
    (void)base_dir; /* its files are read at create only */
    return oj_check_config(bank, report, ctx);
}

static unsigned oj_instance_kinds(struct h2h_adapter *a)
{
    return ((struct oj *)a)->s.kinds;
}

const struct h2h_adapter_ops openapi_json_ops = {
    .name = "openapi_json",
    .kinds = H2H_KIND_PAYMENTS | H2H_KIND_BILLS | H2H_KIND_SCF,
    .instance_kinds = oj_instance_kinds,
    .check_config = oj_check,
    .create = oj_create,
    .submit = oj_submit,
    .recover = oj_recover,
    .inquire = NULL,
    .poll = oj_poll,
    .poll_delivered = oj_poll_delivered,
    .health = oj_health,
    .close = oj_close,
    .certs = oj_certs,
};
