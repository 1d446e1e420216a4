/*
 * cnbank_xml.c - create, health, certificate inventory and close of a
 * direct-connect bank; see cnbank_xml.h.  Settings and the profile are
 * read in cx_config.c / cx_profile.c; the operations live in cx_submit.c
 * and cx_poll.c.
 *
 * Everything the instance needs is loaded at create, so that a wrong
 * passphrase, a key readable by others or a missing certificate refuses
 * the bank at start (and a reload keeps the old configuration).
 */
#include "cx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cnbank_xml.h"
#include "fsutil.h"

void cx_note_err(struct cx *c, const struct h2h_err *e)
{
    if (!e || e->code == H2H_ECANCELED)
        return; /* our own shutdown says nothing about the bank */
    snprintf(c->last_err, sizeof(c->last_err), "%s", e->msg);
}

void cx_note_ok(struct cx *c)
{
    c->last_err[0] = '\0';
}

static void wire_closed_cb(void *data);

/* Close the wire once nothing of ours runs: exchanges in flight are let
 * finish (each bounded by request_timeout) rather than cut, which would
 * only turn a payment into "unknown". */
static void maybe_close(struct cx *c)
{
    if (!c->closing || c->ops > 0 || c->works > 0 || c->wire_closing)
        return;
    c->wire_closing = 1;
    cx_wire_close(c->wire, wire_closed_cb, c);
}

void cx_op_done(struct cx *c)
{
    c->ops--;
    maybe_close(c);
}

void cx_work_done(struct cx *c)
{
    c->works--;
    maybe_close(c);
}

int cx_queue_work(struct cx *c, uv_work_t *w, uv_work_cb work,
                  uv_after_work_cb after, struct h2h_err *err)
{
    int rc = uv_queue_work(c->base.loop, w, work, after);
    if (rc < 0)
        return h2h_err_set(err, rc, "thread pool: %s", uv_strerror(rc));
    c->works++;
    return 0;
}

void cx_request_id(struct cx *c, char *buf, size_t n)
{
    snprintf(buf, n, "Q%s%lu", c->tag, ++c->seq);
}

void cx_local_name(struct cx *c, char *buf, size_t n)
{
    /* unique per bank and run; the temporary prefix lets the daemon's
     * start-up clean-up remove what a crash left */
    snprintf(buf, n, FSU_TMP_PREFIX "%.64s.cx.%s.%lu", c->base.bank, c->tag,
             ++c->seq);
}

/* ---- create / free ------------------------------------------------------ */

static void cx_free(struct cx *c)
{
    if (!c)
        return;
    cert_identity_free(c->sign_id);
    cert_identity_free(c->tls_id);
    cert_certs_free(c->bank_pin);
    cert_certs_free(c->tls_cas);
    cx_settings_release(&c->s);
    free(c->base.bank);
    free(c);
}

static void wire_closed_cb(void *data)
{
    struct cx *c = data;
    c->wire = NULL;
    if (c->close_cb)
        c->close_cb(&c->base);
    cx_free(c);
}

static int cx_create(uv_loop_t *loop, const config_setting_t *bank,
                     const char *bank_name, const char *base_dir,
                     const char *state_dir, struct h2h_adapter **out,
                     struct h2h_err *err)
{
    int rc;
    struct cx *c = calloc(1, sizeof(*c));
    if (!c)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    c->base.ops = &cnbank_xml_ops;
    c->base.loop = loop;
    if (!(c->base.bank = strdup(bank_name))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto fail;
    }
    struct aset_first fp = {0};
    struct aset a = {.report = aset_first_report,
                     .ctx = &fp,
                     .group = "cnbank_xml",
                     .base_dir = base_dir};
    cx_settings_read(bank, &a, &c->s);
    if ((rc = aset_result(&a, &fp, err)) < 0)
        goto fail;
    c->p = c->s.profile;
    if ((rc = arec_dirs_init(&c->dirs, state_dir, err)) < 0)
        goto fail;
    if ((rc = fsu_join(c->receipts_dir, sizeof(c->receipts_dir), state_dir,
                       "receipts")) != 0) {
        rc = h2h_err_set(err, rc, "state folder path too long");
        goto fail;
    }
    if ((rc = fsu_mkdirs(c->receipts_dir, 0700, err)) < 0)
        goto fail;
    if ((rc = fsu_join(c->fam_dir, sizeof(c->fam_dir), state_dir, "fam")) !=
        0) {
        rc = h2h_err_set(err, rc, "state folder path too long");
        goto fail;
    }
    if ((rc = fsu_mkdirs(c->fam_dir, 0700, err)) < 0)
        goto fail;
    if (c->p->sig_where != CX_SIG_NONE &&
        (rc = aset_sign_load(&c->s.sign, &c->sign_id, err)) < 0)
        goto fail;
    if (c->s.bank_cert &&
        (rc = cert_load_certs(c->s.bank_cert, &c->bank_pin, err)) < 0) {
        h2h_err_prefix(err, "bank_cert");
        goto fail;
    }
    c->peer.pinned = c->bank_pin;
    if (c->p->framing == CX_FRAMING_HTTP &&
        (rc = aset_tls_load(&c->s.tls, &c->tls_id, &c->tls_cas, err)) < 0)
        goto fail;
    if ((rc = cx_wire_new(loop, c->p, &c->s, &c->wire, err)) < 0)
        goto fail;
    unsigned char r[4] = {0};
    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        uint64_t t = uv_hrtime();
        memcpy(r, &t, sizeof(r));
    }
    snprintf(c->tag, sizeof(c->tag), "%02x%02x%02x%02x", r[0], r[1], r[2],
             r[3]);
    *out = &c->base;
    return 0;
fail:
    h2h_err_prefix(err, "bank %s", bank_name);
    cx_free(c);
    return rc;
}

/* ---- health, certificates, close ----------------------------------------- */

static const char *cx_health(struct h2h_adapter *a)
{
    struct cx *c = (struct cx *)a;
    if (!c->last_err[0])
        return "ok";
    snprintf(c->health, sizeof(c->health), "degraded: %s", c->last_err);
    return c->health;
}

static void cx_certs(struct h2h_adapter *a, h2h_cert_cb cb, void *ctx)
{
    struct cx *c = (struct cx *)a;
    if (c->tls_id)
        cb(ctx, "tls client", cert_identity_cert(c->tls_id));
    if (c->sign_id)
        cb(ctx, "request signing", cert_identity_cert(c->sign_id));
    for (int i = 0; c->bank_pin && i < sk_X509_num(c->bank_pin); i++)
        cb(ctx, "bank signature (pinned)", sk_X509_value(c->bank_pin, i));
    for (int i = 0; c->tls_cas && i < sk_X509_num(c->tls_cas); i++)
        cb(ctx, "tls trust anchor", sk_X509_value(c->tls_cas, i));
}

static void cx_close(struct h2h_adapter *a, void (*cb)(struct h2h_adapter *a))
{
    struct cx *c = (struct cx *)a;
    if (c->closing)
        H2H_BUG("adapter %s closed twice", a->bank);
    c->closing = 1;
    c->close_cb = cb;
    maybe_close(c);
}

static int cx_check(const config_setting_t *bank, const char *base_dir,
                    void (*report)(void *ctx, const config_setting_t *s,
                                   const char *msg),
                    void *ctx)
{
    struct aset a = {.report = report,
                     .ctx = ctx,
                     .group = "cnbank_xml",
                     .base_dir = base_dir};
    return cx_settings_read(bank, &a, NULL);
}

/* The front end's clock is the profile's utc_offset ({date}, booking
 * dates, the bank date of drafts and vouchers). */
static int cx_clock_offset(struct h2h_adapter *a, int *minutes)
{
    *minutes = ((struct cx *)a)->p->utc_offset_min;
    return 0;
}

/* The serials cx_pay.c gives: <prefix><msg id>-<n> per payment, and
 * <prefix><msg id> for a payroll batch (a file with a SALA group), whose
 * items the bank books one by one as <batch serial>-<item no> (the same
 * text as the per-payment serial, a SALA group being the file's only
 * group) or as one debit under the batch serial. */
static void cx_booking_refs(struct h2h_adapter *a, const char **serial,
                            const char **batch, const char **batch_purpose)
{
    struct cx *c = (struct cx *)a;
    if (!c->serial_pattern[0]) {
        snprintf(c->serial_pattern, sizeof(c->serial_pattern), "%s{msgid}-{n}",
                 c->s.serial_prefix ? c->s.serial_prefix : "");
        snprintf(c->batch_pattern, sizeof(c->batch_pattern), "%s{msgid}",
                 c->s.serial_prefix ? c->s.serial_prefix : "");
    }
    *serial = c->serial_pattern;
    *batch = c->batch_pattern;
    *batch_purpose = "SALA";
}

/* A bank takes bill or scf messages when its profile has that family. */
static unsigned cx_instance_kinds(struct h2h_adapter *a)
{
    struct cx *c = (struct cx *)a;
    return H2H_KIND_PAYMENTS | (c->p->has_bills ? H2H_KIND_BILLS : 0) |
           (c->p->has_scf ? H2H_KIND_SCF : 0);
}

static int is_fam(const struct h2h_submit_req *req)
{
    return req && req->kind &&
           (strcmp(req->kind, "bill") == 0 || strcmp(req->kind, "scf") == 0);
}

static int cx_submit_any(struct h2h_adapter *a, struct h2h_submit_req *req,
                         h2h_result_cb cb, struct h2h_err *err)
{
    if (is_fam(req))
        return cx_fam_submit((struct cx *)a, req, cb, 0, err);
    return cx_submit(a, req, cb, err);
}

static int cx_recover_any(struct h2h_adapter *a, struct h2h_submit_req *req,
                          h2h_result_cb cb, struct h2h_err *err)
{
    if (is_fam(req))
        return cx_fam_submit((struct cx *)a, req, cb, 1, err);
    return cx_recover(a, req, cb, err);
}

const struct h2h_adapter_ops cnbank_xml_ops = {
    .name = "cnbank_xml",
    .kinds = H2H_KIND_PAYMENTS | H2H_KIND_BILLS | H2H_KIND_SCF,
    .instance_kinds = cx_instance_kinds,
    .check_config = cx_check,
    .create = cx_create,
    .submit = cx_submit_any,
    .recover = cx_recover_any,
    .inquire = NULL,
    .poll = cx_poll,
    .poll_delivered = cx_poll_delivered,
    .health = cx_health,
    .close = cx_close,
    .certs = cx_certs,
    .clock_offset = cx_clock_offset,
    .booking_refs = cx_booking_refs,
};
