/*
 * render.c - see render.h.
 *
 * Everything here that parses a file runs on the libuv thread pool; the
 * formats layer is thread-safe per conversion (no globals beyond
 * formats_init()).  Jobs copy what they need from the configuration, so a
 * reload while a job runs changes nothing under it.
 */
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canon.h"
#include "canon_bill.h"
#include "canon_scf.h"
#include "convert.h"
#include "fsutil.h"
#include "pain002.h"
#include "tsin.h"

/* ---- input validation -----------------------------------------------------
 */

int render_in_opts_init(struct render_in_opts *o, const struct cfg_channel *c)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->input_format, sizeof(o->input_format), "%s",
             c->input_format ? c->input_format : "passthrough");
    snprintf(o->profile, sizeof(o->profile), "%s",
             c->profile ? c->profile : "none");
    snprintf(o->charset, sizeof(o->charset), "%s",
             c->charset ? c->charset : "");
    snprintf(o->bank, sizeof(o->bank), "%s", c->bank ? c->bank : "");
    if (c->n_routes == 0)
        return 0;
    o->routes = calloc(c->n_routes, sizeof(*o->routes));
    if (!o->routes)
        return H2H_ENOMEM;
    for (size_t i = 0; i < c->n_routes; i++) {
        o->routes[i].account = strdup(c->routes[i].account);
        o->routes[i].bank = strdup(c->routes[i].bank);
        o->n_routes++;
        if (!o->routes[i].account || !o->routes[i].bank) {
            render_in_opts_release(o);
            return H2H_ENOMEM;
        }
    }
    return 0;
}

void render_in_opts_release(struct render_in_opts *o)
{
    for (size_t i = 0; i < o->n_routes; i++) {
        free(o->routes[i].account);
        free(o->routes[i].bank);
    }
    free(o->routes);
    o->routes = NULL;
    o->n_routes = 0;
}

static char *dup_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* Pick the one bank all of a file's debtor accounts route to. */
static int route_file(const struct render_in_opts *o,
                      const struct fmt_convert_info *info, char *bank,
                      size_t banksz, char **why)
{
    struct cfg_channel ch = {
        .bank = (char *)o->bank, .routes = o->routes, .n_routes = o->n_routes};
    const char *first = cfg_route(&ch, NULL);
    const char *first_acct = NULL;
    for (size_t i = 0; i < info->n_debtor_accounts; i++) {
        const char *acct = info->debtor_accounts[i];
        const char *b = cfg_route(&ch, acct);
        if (i == 0) {
            first = b;
            first_acct = acct;
        } else if (strcmp(b, first) != 0) {
            /* Only the last four characters of an account reach a
             * reason file: it is read by more people than the payment. */
            size_t la = strlen(first_acct), lb = strlen(acct);
            *why = dup_printf(
                "the payment groups of this file are for accounts that go "
                "to different banks (account ...%s to %s, account ...%s to "
                "%s); drop one file per bank",
                first_acct + (la > 4 ? la - 4 : 0), first,
                acct + (lb > 4 ? lb - 4 : 0), b);
            return -1;
        }
    }
    snprintf(bank, banksz, "%s", first);
    return 0;
}

/* The bill-pool family, told by its root (urn:h2hd:bills:1): 1 when the
 * file is one (handled: *rc is the verdict), 0 when it is not. */
static int validate_bill(const char *path, const char *name,
                         char *business_id, size_t bidsz, char *kind,
                         size_t kindsz, char **why, int *rc)
{
    char head[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
    if (fd >= 0)
        close(fd);
    int what = n > 0 ? fmt_canon_bill_detect(head, (size_t)n) : -1;
    if (what < 0)
        return 0;
    *rc = -1;
    if (what != FMT_CANON_BILL_REQUEST) {
        *why = dup_printf("%s: this is a bill %s, which h2hd writes; "
                          "treasury drops a <BillRequest>",
                          name,
                          what == FMT_CANON_BILL_RESULT ? "result" : "notice");
        return 1;
    }
    struct fmt_bill_request rq = {0};
    struct fmt_diag diag;
    struct h2h_err err = {0};
    struct fmt_src src = {.path = path, .name = name};
    fmt_diag_init(&diag, name);
    if (fmt_canon_bill_read_request(&src, &rq, &diag, &err) != 0) {
        *why = diag.n ? fmt_diag_join(&diag)
                      : dup_printf("%s: %s", name,
                                   err.msg[0] ? err.msg : "unreadable");
    } else {
        snprintf(business_id, bidsz, "%s", rq.req_id ? rq.req_id : "");
        snprintf(kind, kindsz, "%s", "bill");
        *rc = 0;
    }
    fmt_bill_request_release(&rq);
    fmt_diag_release(&diag);
    return 1;
}

/* Supply-chain finance, told by its root: a <ScfRequest>
 * (urn:h2hd:scf:1), or a tsin.001 / tsin.003 treasury may drop as it is.
 * 1 when the file is one (handled: *rc is the verdict), 0 when not. */
static int validate_scf(const char *path, const char *name, char *business_id,
                        size_t bidsz, char *kind, size_t kindsz, char **why,
                        int *rc)
{
    char head[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return 0;
    int canon = fmt_canon_scf_detect(head, (size_t)n);
    int tsin = canon < 0 ? fmt_tsin_detect(head, (size_t)n) : 0;
    if (canon < 0 && tsin <= 0)
        return 0;
    *rc = -1;
    if (canon == FMT_CANON_SCF_RESULT || tsin == FMT_TSIN_002) {
        *why = dup_printf("%s: this is a supply-chain-finance %s, which h2hd "
                          "writes; treasury drops a <ScfRequest> (or a "
                          "tsin.001 / tsin.003)",
                          name,
                          canon == FMT_CANON_SCF_RESULT ? "result"
                                                        : "status report "
                                                          "(tsin.002)");
        return 1;
    }
    struct fmt_diag diag;
    struct h2h_err err = {0};
    struct fmt_src src = {.path = path, .name = name};
    const char *id = NULL;
    int bad;
    fmt_diag_init(&diag, name);
    if (canon == FMT_CANON_SCF_REQUEST) {
        struct fmt_canon_scf_request rq;
        bad = fmt_canon_scf_read_request(&src, &rq, &diag, &err) != 0;
        switch (rq.kind) {
        case FMT_CANON_SCF_FINANCING: id = rq.fincg.request_id; break;
        case FMT_CANON_SCF_INQUIRY: id = rq.inq.inquiry_id; break;
        case FMT_CANON_SCF_CANCEL: id = rq.cxl.cancel_id; break;
        case FMT_CANON_SCF_VOUCHER_OP: id = rq.vop.req_id; break;
        case FMT_CANON_SCF_VOUCHER_INQ: id = rq.vinq.inquiry_id; break;
        default: break;
        }
        if (!bad)
            snprintf(business_id, bidsz, "%s", id ? id : "");
        fmt_canon_scf_request_release(&rq);
    } else if (tsin == FMT_TSIN_001) {
        struct fmt_scf_request rq = {0};
        bad = fmt_tsin001_read(&src, &rq, &diag, &err) != 0 || diag.n > 0;
        if (!bad)
            snprintf(business_id, bidsz, "%s",
                     rq.request_id ? rq.request_id : "");
        fmt_scf_request_release(&rq);
    } else {
        struct fmt_scf_cancel c;
        fmt_scf_cancel_init(&c);
        bad = fmt_tsin003_read(&src, &c, &diag, &err) != 0 || diag.n > 0;
        if (!bad)
            snprintf(business_id, bidsz, "%s", c.cancel_id ? c.cancel_id : "");
        fmt_scf_cancel_release(&c);
    }
    if (bad) {
        *why = diag.n ? fmt_diag_join(&diag)
                      : dup_printf("%s: %s", name,
                                   err.msg[0] ? err.msg : "unreadable");
    } else {
        snprintf(kind, kindsz, "%s", "scf");
        *rc = 0;
    }
    fmt_diag_release(&diag);
    return 1;
}

int render_validate_input(const struct render_in_opts *o, const char *path,
                          const char *name, char *business_id, size_t bidsz,
                          char *bank, size_t banksz, char *kind,
                          size_t kindsz, char **why)
{
    struct fmt_convert_opts co;
    struct fmt_convert_info info = {0};
    struct fmt_diag diag;
    struct h2h_err err = {0};
    int rc = -1;

    if (bidsz)
        business_id[0] = '\0';
    snprintf(bank, banksz, "%s", o->bank);
    snprintf(kind, kindsz, "%s", "payment");
    *why = NULL;
    if (validate_bill(path, name, business_id, bidsz, kind, kindsz, why,
                      &rc))
        return rc;
    if (validate_scf(path, name, business_id, bidsz, kind, kindsz, why, &rc))
        return rc;
    if (strcmp(o->input_format, "passthrough") == 0)
        return 0;

    fmt_diag_init(&diag, name);
    fmt_convert_opts_init(&co);
    if (fmt_profile_by_name(o->profile, &co.profile, &err) != 0 ||
        (strcmp(o->input_format, "auto") != 0 &&
         fmt_format_parse(o->input_format, &co.from, &err) != 0)) {
        *why = dup_printf("configuration: %s", err.msg);
        goto out;
    }
    struct fmt_src src = {.path = path,
                          .name = name,
                          .charset = o->charset[0] ? o->charset : NULL};
    int crc = fmt_convert(&src, &co, NULL, &diag, &info, &err);
    if (crc != 0 && diag.n > 0) {
        *why = fmt_diag_join(&diag);
        goto out;
    }
    if (crc != 0) {
        *why = dup_printf("%s: %s", name, err.msg[0] ? err.msg : "unreadable");
        goto out;
    }
    if (info.fam != FMT_FAM_PAYMENTS) {
        *why = dup_printf("%s: this channel takes payment files, but this is "
                          "a %s file",
                          name, fmt_format_name(info.from));
        goto out;
    }
    if (route_file(o, &info, bank, banksz, why) != 0)
        goto out;
    if (bidsz)
        snprintf(business_id, bidsz, "%s", info.msg_id);
    rc = 0;
out:
    if (rc != 0 && !*why)
        *why = strdup("invalid input (out of memory while explaining why)");
    fmt_convert_info_release(&info);
    fmt_diag_release(&diag);
    return rc;
}

/* ---- rendering for a bank ------------------------------------------------ */

int render_needed(const struct cfg_bank *b)
{
    return b->payment_format && strcmp(b->payment_format, "as-received") != 0;
}

struct render_job {
    uv_work_t work;
    void *data;
    render_done_cb done;
    char msg[STORE_ID_MAX];
    char bank[CFG_NAME_MAX + 1];
    char format[32], profile[32], charset[32];
    char *payload, *data_dir;
    /* results (pool thread writes, loop thread reads after the work) */
    int rc;
    char out_path[4096];
    char *why;
};

static const char *format_ext(const char *format)
{
    return strcmp(format, "mt101") == 0 ? "fin" : "xml";
}

/* Write src converted to a temporary in dir, fsync it; tmp receives its
 * path.  *why on problems. */
static int convert_to_tmp(const struct fmt_src *src,
                          const struct fmt_convert_opts *co, const char *dir,
                          const char *tag, char *tmp, size_t tmpsz,
                          struct fmt_convert_info *info, char **why)
{
    struct fmt_diag diag;
    struct h2h_err err = {0};
    int rc;
    char name[128];
    snprintf(name, sizeof(name), "%s%s", FSU_TMP_PREFIX, tag);
    if (fsu_join(tmp, tmpsz, dir, name) != 0) {
        *why = strdup("path too long");
        return H2H_ETOOBIG;
    }
    int fd =
        open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        rc = -errno;
        *why = dup_printf("cannot create %s: %s", tmp, strerror(errno));
        return rc;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        rc = -errno;
        close(fd);
        unlink(tmp);
        *why = strdup("out of memory");
        return rc;
    }
    fmt_diag_init(&diag, src->name);
    rc = fmt_convert(src, co, f, &diag, info, &err);
    if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        rc = -errno;
        h2h_err_set(&err, rc, "writing %s: %s", tmp, strerror(errno));
    }
    if (fclose(f) != 0 && rc == 0) {
        rc = H2H_EIO;
        h2h_err_set(&err, rc, "closing %s", tmp);
    }
    if (rc != 0) {
        if (diag.n > 0)
            *why = fmt_diag_join(&diag);
        else
            *why = dup_printf("%s", err.msg[0] ? err.msg : "conversion failed");
        unlink(tmp);
    } else if (diag.n > 0) {
        *why = fmt_diag_join(&diag); /* warnings: statement figures */
    }
    fmt_diag_release(&diag);
    return rc;
}

static void render_work(uv_work_t *w)
{
    struct render_job *rj = w->data;
    struct fmt_convert_opts co;
    struct h2h_err err = {0};
    char tmp[4096], final[256];

    fmt_convert_opts_init(&co);
    if (fmt_profile_by_name(rj->profile, &co.profile, &err) != 0 ||
        fmt_format_parse(rj->format, &co.to, &err) != 0) {
        rj->rc = err.code ? err.code : H2H_ECONFIG;
        rj->why = dup_printf("configuration of bank %s: %s", rj->bank, err.msg);
        return;
    }
    /* The payload was validated at acceptance, against the channel's
     * rules; today's date may have moved on since (a payment held over a
     * weekend), but a stale execution date is the bank's to judge now. */
    co.profile.exec_date_tolerance_days = 3650;
    struct fmt_src src = {.path = rj->payload,
                          .name = rj->msg,
                          .charset = rj->charset[0] ? rj->charset : NULL};
    rj->rc = convert_to_tmp(&src, &co, rj->data_dir, rj->msg, tmp, sizeof(tmp),
                            NULL, &rj->why);
    if (rj->rc != 0)
        return;
    free(rj->why); /* warnings do not apply to payments */
    rj->why = NULL;
    snprintf(final, sizeof(final), "%s.r.%s", rj->msg, format_ext(rj->format));
    fsu_join(rj->out_path, sizeof(rj->out_path), rj->data_dir, final);
    /* A leftover from a crash before the store recorded it: ours, and the
     * message is still `accepted`, so nobody has sent it. */
    unlink(rj->out_path);
    if (fsu_rename_noreplace(tmp, rj->out_path, &err) != 0 ||
        fsu_fsync_dir(rj->data_dir, &err) != 0) {
        rj->rc = err.code ? err.code : H2H_EIO;
        rj->why = dup_printf("%s", err.msg);
        unlink(tmp);
    }
}

static void render_after(uv_work_t *w, int status)
{
    struct render_job *rj = w->data;
    if (status == UV_ECANCELED && rj->rc == 0) {
        rj->rc = H2H_ECANCELED;
        free(rj->why);
        rj->why = strdup("canceled");
    }
    rj->done(rj, rj->rc, rj->rc == 0 ? rj->out_path : NULL, rj->why);
}

int render_start(uv_loop_t *loop, const struct cfg_bank *b,
                 const struct store_msg *m, const char *in_charset,
                 const char *data_dir, render_done_cb done, void *data)
{
    struct render_job *rj = calloc(1, sizeof(*rj));
    if (!rj)
        return H2H_ENOMEM;
    rj->data = data;
    rj->done = done;
    snprintf(rj->msg, sizeof(rj->msg), "%s", m->id);
    snprintf(rj->bank, sizeof(rj->bank), "%s", b->name);
    snprintf(rj->format, sizeof(rj->format), "%s", b->payment_format);
    snprintf(rj->profile, sizeof(rj->profile), "%s",
             b->profile ? b->profile : "none");
    snprintf(rj->charset, sizeof(rj->charset), "%s",
             in_charset ? in_charset : "");
    rj->payload = strdup(m->payload_path ? m->payload_path : "");
    rj->data_dir = strdup(data_dir);
    rj->work.data = rj;
    if (!rj->payload || !rj->data_dir ||
        uv_queue_work(loop, &rj->work, render_work, render_after) != 0) {
        render_job_free(rj);
        return H2H_ENOMEM;
    }
    return 0;
}

void *render_job_data(struct render_job *rj)
{
    return rj->data;
}

const char *render_job_msg(struct render_job *rj)
{
    return rj->msg;
}

const char *render_job_bank(struct render_job *rj)
{
    return rj->bank;
}

void render_job_free(struct render_job *rj)
{
    if (!rj)
        return;
    free(rj->payload);
    free(rj->data_dir);
    free(rj->why);
    free(rj);
}

/* ---- what banks send back ------------------------------------------------ */

static const char *kind_of(const char *path, enum fmt_format *fmt,
                           enum fmt_family *fam)
{
    char head[4096];
    *fmt = FMT_UNKNOWN;
    *fam = FMT_FAM_NONE;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "other";
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    if (n >= 4 && memcmp(head, "%PDF", 4) == 0)
        return "receipts";
    /* the bill pool's and supply-chain finance's own documents */
    if (n > 0 && fmt_canon_bill_detect(head, (size_t)n) >= 0)
        return "bills";
    if (n > 0 && (fmt_canon_scf_detect(head, (size_t)n) >= 0 ||
                  fmt_tsin_detect(head, (size_t)n) > 0))
        return "scf";
    struct fmt_src src = {.path = path};
    struct h2h_err err = {0};
    if (fmt_detect(&src, fmt, fam, &err) != 0)
        return "other";
    switch (*fam) {
    case FMT_FAM_STATUS: return "status";
    case FMT_FAM_STATEMENTS: return "statements";
    default: return "other";
    }
}

const char *render_classify(const char *path)
{
    enum fmt_format fmt;
    enum fmt_family fam;
    return kind_of(path, &fmt, &fam);
}

struct dl_job {
    uv_work_t work;
    render_dl_cb done;
    void *data;
    char output_format[32], charset[64];
    char in_path[4096], remote[256];
    /* results */
    struct render_dl_result r;
    struct render_status status;
    char out_path[4096], name[300], sha256[65];
    char *note;
};

void render_renamed(char *out, size_t outsz, const char *remote,
                    const char *ext)
{
    const char *dot = strrchr(remote, '.');
    size_t base =
        dot && dot != remote ? (size_t)(dot - remote) : strlen(remote);
    snprintf(out, outsz, "%.*s.%s", (int)base, remote, ext);
}

static int accepted_code(const char *c)
{
    static const char *const ok[] = {"ACCP", "ACSC", "ACSP", "ACTC", "ACWC",
                                     "ACCC", "ACFC", "ACWP", NULL};
    for (int i = 0; ok[i]; i++)
        if (c && strcmp(c, ok[i]) == 0)
            return 1;
    return 0;
}

struct reason_tally {
    char code[8][8];
    int n[8];
    int used;
};

static void tally(struct reason_tally *t, const struct fmt_reason *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *c = r[i].code ? r[i].code : r[i].prtry;
        if (!c)
            continue;
        int k;
        for (k = 0; k < t->used; k++)
            if (strncmp(t->code[k], c, 7) == 0)
                break;
        if (k == t->used) {
            if (t->used == 8)
                continue;
            snprintf(t->code[t->used++], 8, "%.7s", c);
        }
        t->n[k]++;
    }
}

/* Most per-payment statuses kept from one report (a bigger report still
 * moves its message; the rest is in the file itself). */
#define TX_STATUS_MAX 100000

static void add_tx(struct render_status *st, const char *pmt_inf_id,
                   const char *e2e, const char *sts,
                   const struct fmt_reason *r, size_t n_r)
{
    if (st->n_txs >= TX_STATUS_MAX)
        return;
    if (st->n_txs == st->cap_txs) {
        size_t cap = st->cap_txs ? st->cap_txs * 2 : 16;
        struct render_tx_status *v = realloc(st->txs, cap * sizeof(*v));
        if (!v)
            return; /* the counts still move the message */
        st->txs = v;
        st->cap_txs = cap;
    }
    struct render_tx_status *t = &st->txs[st->n_txs++];
    memset(t, 0, sizeof(*t));
    snprintf(t->pmt_inf_id, sizeof(t->pmt_inf_id), "%s",
             pmt_inf_id ? pmt_inf_id : "");
    snprintf(t->e2e, sizeof(t->e2e), "%s", e2e ? e2e : "");
    snprintf(t->sts, sizeof(t->sts), "%s", sts);
    for (size_t i = 0; i < n_r; i++) {
        const char *c = r[i].code ? r[i].code : r[i].prtry;
        size_t l = strlen(t->reasons);
        if (c)
            snprintf(t->reasons + l, sizeof(t->reasons) - l, "%s%s",
                     l ? "," : "", c);
    }
}

/* Reduce a status report to what moves a message: its verdict, counts and
 * reason codes.  Transaction statuses win over a missing group status. */
static void read_status(const char *path, const char *name,
                        struct render_status *st)
{
    struct fmt_status_report rep;
    struct fmt_diag diag;
    struct h2h_err err = {0};
    struct fmt_src src = {.path = path, .name = name};
    enum fmt_format fmt;
    enum fmt_family fam;
    memset(st, 0, sizeof(*st));
    if (fmt_detect(&src, &fmt, &fam, &err) != 0 || fam != FMT_FAM_STATUS)
        return;
    fmt_status_report_init(&rep);
    fmt_diag_init(&diag, name);
    int rc = fmt == FMT_PAIN002
                 ? fmt_pain002_read(&src, &rep, &diag, &err)
                 : fmt_canon_read_status(&src, &rep, &diag, &err);
    if (rc != 0 || !rep.orgnl_msg_id)
        goto out;
    struct reason_tally t = {0};
    size_t p_acc = 0, p_rej = 0;
    tally(&t, rep.reasons, rep.n_reasons);
    for (size_t i = 0; i < rep.n_pmts; i++) {
        const struct fmt_pmt_status *p = &rep.pmts[i];
        tally(&t, p->reasons, p->n_reasons);
        p_acc += accepted_code(p->sts);
        p_rej += p->sts && strcmp(p->sts, "RJCT") == 0;
        if (p->sts)
            add_tx(st, p->orgnl_pmt_inf_id, NULL, p->sts, p->reasons,
                   p->n_reasons);
        for (size_t k = 0; k < p->n_txs; k++) {
            const char *ts = p->txs[k].sts ? p->txs[k].sts : p->sts;
            if (ts)
                add_tx(st, p->orgnl_pmt_inf_id,
                       p->txs[k].orgnl_end_to_end_id
                           ? p->txs[k].orgnl_end_to_end_id
                           : p->txs[k].orgnl_instr_id,
                       ts, p->txs[k].reasons, p->txs[k].n_reasons);
            st->n_tx++;
            if (accepted_code(ts))
                st->n_accepted++;
            else if (ts && strcmp(ts, "RJCT") == 0)
                st->n_rejected++;
            tally(&t, p->txs[k].reasons, p->txs[k].n_reasons);
        }
    }
    const char *v = rep.grp_sts;
    if (!v && st->n_tx) {
        if (st->n_rejected == st->n_tx)
            v = "RJCT";
        else if (st->n_rejected)
            v = "PART";
        else if (st->n_accepted == st->n_tx)
            v = "ACCP";
    } else if (!v && rep.n_pmts) {
        /* payment-level statuses only (a B-level report) */
        if (p_rej == rep.n_pmts)
            v = "RJCT";
        else if (p_rej)
            v = "PART";
        else if (p_acc == rep.n_pmts)
            v = "ACCP";
    }
    snprintf(st->verdict, sizeof(st->verdict), "%s", v ? v : "PDNG");
    snprintf(st->orgnl_msg_id, sizeof(st->orgnl_msg_id), "%s",
             rep.orgnl_msg_id);
    for (int k = 0; k < t.used; k++) {
        size_t l = strlen(st->reasons);
        if (t.n[k] > 1)
            snprintf(st->reasons + l, sizeof(st->reasons) - l, "%s%s x%d",
                     l ? ", " : "", t.code[k], t.n[k]);
        else
            snprintf(st->reasons + l, sizeof(st->reasons) - l, "%s%s",
                     l ? ", " : "", t.code[k]);
    }
    st->present = 1;
out:
    fmt_status_report_release(&rep);
    fmt_diag_release(&diag);
}

static const char *dirname_of(const char *path, char *buf, size_t sz)
{
    snprintf(buf, sz, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, sz, ".");
    else if (slash == buf)
        slash[1] = '\0';
    else
        *slash = '\0';
    return buf;
}

static void dl_work(uv_work_t *w)
{
    struct dl_job *j = w->data;
    enum fmt_format fmt;
    enum fmt_family fam;
    struct h2h_err err = {0};

    j->r.kind = kind_of(j->in_path, &fmt, &fam);
    j->r.path = j->in_path;
    j->r.status = &j->status;
    if (fam == FMT_FAM_STATUS)
        read_status(j->in_path, j->remote, &j->status);
    snprintf(j->name, sizeof(j->name), "%s", j->remote);

    struct fmt_convert_opts co;
    fmt_convert_opts_init(&co);
    const char *ext = NULL;
    const char *of = j->output_format;
    if (strcmp(of, "as-received") == 0 || fam == FMT_FAM_NONE) {
        ext = NULL;
    } else if (fam == FMT_FAM_STATEMENTS && strcmp(of, "canonical") != 0) {
        if (fmt_format_parse(of, &co.to, &err) == 0)
            ext = strcmp(of, "mt940") == 0 ? "sta"
                  : strcmp(of, "csv") == 0 ? "csv"
                                           : "xml";
        /* an MT942 stays an interim report when MT is asked for */
        if (co.to.fmt == FMT_MT940 && fmt == FMT_MT942)
            co.to.fmt = FMT_MT942;
        if (fmt == co.to.fmt && co.to.fmt != FMT_CAMT053)
            ext = NULL; /* already in the asked format */
    } else if (strcmp(of, "canonical") == 0) {
        co.to.fmt = FMT_CANONICAL;
        ext = fmt == FMT_CANONICAL ? NULL : "xml";
    }
    if (ext) {
        char tag[64], tmp[4096];
        snprintf(tag, sizeof(tag), "dl-%lx", (unsigned long)(uintptr_t)j);
        struct fmt_src src = {.path = j->in_path,
                              .name = j->remote,
                              .charset = j->charset[0] ? j->charset : NULL};
        int rc = convert_to_tmp(
            &src, &co, dirname_of(j->in_path, tmp, sizeof(tmp)), tag,
            j->out_path, sizeof(j->out_path), NULL, &j->note);
        if (rc == 0) {
            j->r.path = j->out_path;
            j->r.converted = 1;
            render_renamed(j->name, sizeof(j->name), j->remote, ext);
            if (j->note) {
                char *n = dup_printf("converted to %s; the bank's own "
                                     "figures do not add up: %s",
                                     of, j->note);
                free(j->note);
                j->note = n;
            }
        } else {
            char *n = dup_printf("delivered as received: conversion to %s "
                                 "failed: %s",
                                 of, j->note ? j->note : "unknown error");
            free(j->note);
            j->note = n;
        }
    }
    uint64_t size;
    if (fsu_sha256_file(j->r.path, j->sha256, &size, &err) != 0)
        j->r.rc = err.code ? err.code : H2H_EIO;
    j->r.name = j->name;
    j->r.sha256 = j->sha256;
    j->r.note = j->note;
}

static void dl_after(uv_work_t *w, int status)
{
    struct dl_job *j = w->data;
    if (status == UV_ECANCELED)
        j->r.rc = H2H_ECANCELED;
    j->done(j->data, &j->r);
    free(j->status.txs);
    free(j->note);
    free(j);
}

int render_download_start(uv_loop_t *loop, const char *output_format,
                          const char *in_charset, const char *in_path,
                          const char *remote_name, render_dl_cb done,
                          void *data)
{
    struct dl_job *j = calloc(1, sizeof(*j));
    if (!j)
        return H2H_ENOMEM;
    j->done = done;
    j->data = data;
    snprintf(j->output_format, sizeof(j->output_format), "%s",
             output_format ? output_format : "as-received");
    snprintf(j->charset, sizeof(j->charset), "%s",
             in_charset ? in_charset : "");
    snprintf(j->in_path, sizeof(j->in_path), "%s", in_path);
    snprintf(j->remote, sizeof(j->remote), "%s", remote_name);
    j->work.data = j;
    if (uv_queue_work(loop, &j->work, dl_work, dl_after) != 0) {
        free(j);
        return H2H_ENOMEM;
    }
    return 0;
}
