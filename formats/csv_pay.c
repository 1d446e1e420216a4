/*
 * csv_pay.c - CSV payment file reader; see csv_pay.h and CSV.md.
 *
 * The input is read as a stream of raw bytes, record by record, twice:
 * pass 1 only counts rows and sums amounts (for the header totals), pass 2
 * reports problems and emits the events.  Records are split on the raw
 * bytes before decoding, which is safe for UTF-8 and GB18030 alike: in
 * both, the bytes of '"', ',', ';', CR and LF never occur inside a
 * multi-byte character (GB18030 trail bytes are 0x30-0x39, 0x40-0x7E or
 * 0x80-0xFE).  Only fields with bytes >= 0x80 need converting.
 */
#include "csv_pay.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "charset.h"
#include "ident.h"

enum col {
    C_MSG_ID,
    C_PMT_INF_ID,
    C_EXEC_DATE,
    C_DEBTOR_NAME,
    C_DEBTOR_IBAN,
    C_DEBTOR_ACCOUNT,
    C_DEBTOR_BIC,
    C_SVC_LVL,
    C_CTGY_PURP,
    C_INSTR_ID,
    C_E2E,
    C_AMOUNT,
    C_CURRENCY,
    C_CHRG_BR,
    C_CDTR_NAME,
    C_CDTR_IBAN,
    C_CDTR_ACCOUNT,
    C_CDTR_BIC,
    C_CDTR_CLR_SYS,
    C_CDTR_CLR_ID,
    C_CDTR_STREET,
    C_CDTR_POSTCODE,
    C_CDTR_TOWN,
    C_CDTR_COUNTRY,
    C_REMITTANCE,
    C_PURPOSE,
    C_UETR,
    C__N
};

static const char *const col_names[C__N] = {
    "msg_id",
    "pmt_inf_id",
    "execution_date",
    "debtor_name",
    "debtor_iban",
    "debtor_account",
    "debtor_bic",
    "service_level",
    "category_purpose",
    "instr_id",
    "end_to_end_id",
    "amount",
    "currency",
    "charge_bearer",
    "creditor_name",
    "creditor_iban",
    "creditor_account",
    "creditor_bic",
    "creditor_clearing_system",
    "creditor_clearing_id",
    "creditor_street",
    "creditor_postcode",
    "creditor_town",
    "creditor_country",
    "remittance",
    "purpose",
    "uetr",
};

static const enum col required[] = {C_MSG_ID, C_EXEC_DATE, C_DEBTOR_NAME,
                                    C_AMOUNT, C_CURRENCY,  C_CDTR_NAME};

/* ---- record reader ------------------------------------------------------ */

struct fld {
    char *b;
    size_t len, cap;
    int quoted;
    int too_big;
};

struct csvr {
    FILE *f;
    int sep;
    long line;     /* physical line of the next byte */
    long rec_line; /* line where the current record starts */
    struct fld fl[FMT_CSV_MAX_COLS];
    int nf;           /* fields in the record (may exceed cap) */
    int report;       /* pass 2: report syntax problems */
    int unterminated; /* the record ends in an open quote */
    struct fmt_diag *diag;
    int col_of_field[FMT_CSV_MAX_COLS]; /* enum col or -1, for messages */
    const char *hdr_names[FMT_CSV_MAX_COLS];
    char *hdr_store[FMT_CSV_MAX_COLS];
    int nhdr;
};

static const char *field_name(struct csvr *r, int i, char *buf, size_t sz)
{
    if (i >= 0 && i < r->nhdr && r->hdr_names[i] && r->hdr_names[i][0])
        return r->hdr_names[i];
    snprintf(buf, sz, "column %d", i + 1);
    return buf;
}

static void rec_problem(struct csvr *r, long line, int fi, const char *rule,
                        const char *msg)
{
    char b[32];
    if (r->report && r->diag)
        fmt_diag_add(r->diag, (int)line, field_name(r, fi, b, sizeof(b)), rule,
                     "%s", msg);
}

static int append(struct csvr *r, int c)
{
    if (r->nf > FMT_CSV_MAX_COLS)
        return 0;
    struct fld *f = &r->fl[r->nf - 1];
    if (f->len + 1 >= FMT_CSV_MAX_FIELD) {
        if (!f->too_big) {
            f->too_big = 1;
            rec_problem(r, r->rec_line, r->nf - 1, "csv.size",
                        "field longer than 64 KiB, the rest is ignored");
        }
        return 0;
    }
    if (f->len + 2 > f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 64;
        char *nb = realloc(f->b, nc);
        if (!nb)
            return H2H_ENOMEM;
        f->b = nb;
        f->cap = nc;
    }
    f->b[f->len++] = (char)c;
    f->b[f->len] = '\0';
    return 0;
}

static void new_field(struct csvr *r)
{
    r->nf++;
    if (r->nf > FMT_CSV_MAX_COLS) {
        if (r->nf == FMT_CSV_MAX_COLS + 1)
            rec_problem(r, r->rec_line, -1, "csv.size",
                        "more than 64 fields in a record, the rest is "
                        "ignored");
        return;
    }
    struct fld *f = &r->fl[r->nf - 1];
    f->len = 0;
    f->quoted = 0;
    f->too_big = 0;
    if (f->b)
        f->b[0] = '\0';
}

static int next(struct csvr *r)
{
    int c = getc_unlocked(r->f);
    if (c == '\n')
        r->line++;
    return c;
}

/* After a CR: swallow the LF of a CRLF pair; a lone CR ends a line too. */
static void after_cr(struct csvr *r)
{
    int c = getc_unlocked(r->f);
    if (c != '\n') {
        if (c != EOF)
            ungetc(c, r->f);
    }
    r->line++;
}

/* One record: 1, 0 at end of input, negative on error. */
static int read_record(struct csvr *r)
{
    int c, rc;
again:
    r->nf = 0;
    r->unterminated = 0;
    r->rec_line = r->line;
    c = next(r);
    if (c == EOF)
        return ferror(r->f) ? -EIO : 0;
    new_field(r);
    for (;;) {
        /* at the start of a field, c is its first byte */
        if (c == '"') {
            if (r->nf <= FMT_CSV_MAX_COLS)
                r->fl[r->nf - 1].quoted = 1;
            long qline = r->line;
            for (;;) {
                c = next(r);
                if (c == EOF) {
                    rec_problem(r, qline, r->nf - 1, "csv.quote",
                                "quoted field is never closed");
                    r->unterminated = 1;
                    return 1;
                }
                if (c == '"') {
                    c = next(r);
                    if (c == '"') {
                        if ((rc = append(r, '"')) < 0)
                            return rc;
                        continue;
                    }
                    break;
                }
                if (c == '\r') {
                    /* line breaks inside a field are kept as "\n" */
                    after_cr(r);
                    c = '\n';
                }
                if ((rc = append(r, c)) < 0)
                    return rc;
            }
            /* c follows the closing quote */
            if (c != r->sep && c != '\n' && c != '\r' && c != EOF) {
                rec_problem(r, r->line, r->nf - 1, "csv.quote",
                            "text after the closing quote of a field");
                if ((rc = append(r, c)) < 0)
                    return rc;
                c = next(r);
            }
        }
        /* unquoted part */
        while (c != r->sep && c != '\n' && c != '\r' && c != EOF) {
            if (c == '"')
                rec_problem(r, r->line, r->nf - 1, "csv.quote",
                            "quote inside an unquoted field (quote the "
                            "whole field and double the quote)");
            if ((rc = append(r, c)) < 0)
                return rc;
            c = next(r);
        }
        if (c == r->sep) {
            new_field(r);
            c = next(r);
            continue;
        }
        if (c == '\r')
            after_cr(r);
        break;
    }
    /* a blank line */
    if (r->nf == 1 && r->fl[0].len == 0 && !r->fl[0].quoted) {
        if (c == EOF)
            return 0;
        goto again;
    }
    return 1;
}

static void release_fields(struct csvr *r)
{
    for (int i = 0; i < FMT_CSV_MAX_COLS; i++) {
        free(r->fl[i].b);
        free(r->hdr_store[i]);
    }
}

/* The raw text of field i, trimmed unless quoted; len in *n. */
static const char *raw(struct csvr *r, int i, size_t *n)
{
    if (i < 0 || i >= r->nf || i >= FMT_CSV_MAX_COLS || !r->fl[i].b) {
        *n = 0;
        return "";
    }
    const char *s = r->fl[i].b;
    size_t len = r->fl[i].len;
    if (!r->fl[i].quoted) {
        while (len && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
    }
    *n = len;
    return s;
}

/* ---- the reader --------------------------------------------------------- */

struct rd {
    struct csvr c;
    const struct fmt_src *src;
    const struct fmt_pay_sink *sink;
    struct fmt_diag *diag;
    struct h2h_err *err;
    const char *charset; /* NULL for UTF-8 */
    long data_start;     /* offset after BOM */
    int col[C__N];       /* field index of each column, -1 */

    struct fmt_pay_header hdr;
    struct fmt_pay_group grp;
    int began, in_grp;
    char *grp_key;
    long n_grp;

    uint64_t *keys, *ids; /* seen group keys / pmt_inf_ids (hashes) */
    size_t nkeys, capkeys, nids, capids;
};

static void problem(struct rd *r, long line, enum col c, const char *rule,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void problem(struct rd *r, long line, enum col c, const char *rule,
                    const char *fmt, ...)
{
    if (!r->diag)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fmt_diag_add(r->diag, (int)line, (int)c >= 0 ? col_names[c] : NULL, rule,
                 "%s", msg);
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h ? h : 1;
}

/* Open-addressing set of non-zero hashes: 1 if h was there, 0 added. */
static int set_add(uint64_t **v, size_t *n, size_t *cap, uint64_t h)
{
    if ((*n + 1) * 2 > *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        uint64_t *nv = calloc(nc, sizeof(*nv));
        if (!nv)
            return H2H_ENOMEM;
        for (size_t i = 0; i < *cap; i++)
            if ((*v)[i]) {
                size_t k = (*v)[i] & (nc - 1);
                while (nv[k])
                    k = (k + 1) & (nc - 1);
                nv[k] = (*v)[i];
            }
        free(*v);
        *v = nv;
        *cap = nc;
    }
    size_t k = h & (*cap - 1);
    while ((*v)[k]) {
        if ((*v)[k] == h)
            return 1;
        k = (k + 1) & (*cap - 1);
    }
    (*v)[k] = h;
    (*n)++;
    return 0;
}

static int open_input(struct rd *r)
{
    const struct fmt_src *s = r->src;
    if (s->path) {
        r->c.f = fopen(s->path, "rb");
        if (!r->c.f)
            return h2h_err_set(r->err, -errno, "cannot open %s: %s", s->path,
                               strerror(errno));
    } else {
        if (!s->buf || s->len == 0)
            return h2h_err_set(r->err, H2H_EPARSE,
                               "%s: empty file, no header row",
                               s->name ? s->name : "<memory>");
        r->c.f = fmemopen((void *)s->buf, s->len, "rb");
        if (!r->c.f)
            return h2h_err_set(r->err, -errno, "cannot read buffer: %s",
                               strerror(errno));
    }
    /* a byte order mark: UTF-8, or GB18030's own */
    unsigned char b[4];
    size_t n = fread(b, 1, 4, r->c.f);
    r->data_start = 0;
    if (!r->charset && n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
        r->data_start = 3;
    else if (r->charset && n == 4 && b[0] == 0x84 && b[1] == 0x31 &&
             b[2] == 0x95 && b[3] == 0x33)
        r->data_start = 4;
    return 0;
}

static int rewind_input(struct rd *r)
{
    if (fseek(r->c.f, r->data_start, SEEK_SET) != 0)
        return h2h_err_set(r->err, H2H_EIO, "cannot rewind the input");
    r->c.line = 1;
    return 0;
}

/* Separator: ',' or ';', whichever occurs more often outside quotes in the
 * header line. */
static int detect_sep(struct rd *r)
{
    int c, inq = 0;
    long commas = 0, semis = 0;
    while ((c = getc_unlocked(r->c.f)) != EOF) {
        if (c == '"')
            inq = !inq;
        else if (!inq && (c == '\n' || c == '\r'))
            break;
        else if (!inq && c == ',')
            commas++;
        else if (!inq && c == ';')
            semis++;
    }
    r->c.sep = semis > commas ? ';' : ',';
    return rewind_input(r);
}

/* Header row: map names to columns (pass 2 reports). */
static int read_header(struct rd *r, int report)
{
    int rc = read_record(&r->c);
    if (rc < 0)
        return h2h_err_set(r->err, H2H_EIO, "read error");
    if (rc == 0)
        return h2h_err_set(r->err, H2H_EPARSE, "%s: no header row",
                           r->diag && r->diag->file ? r->diag->file : "input");
    for (int k = 0; k < C__N; k++)
        r->col[k] = -1;
    int n = r->c.nf < FMT_CSV_MAX_COLS ? r->c.nf : FMT_CSV_MAX_COLS;
    r->c.nhdr = n;
    for (int i = 0; i < n; i++) {
        size_t len;
        const char *s = raw(&r->c, i, &len);
        char name[64];
        if (len >= sizeof(name))
            len = sizeof(name) - 1;
        for (size_t k = 0; k < len; k++)
            name[k] = (char)tolower((unsigned char)s[k]);
        name[len] = '\0';
        free(r->c.hdr_store[i]);
        r->c.hdr_store[i] = strdup(name);
        if (!r->c.hdr_store[i])
            return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
        r->c.hdr_names[i] = r->c.hdr_store[i];
        int found = -1;
        for (int k = 0; k < C__N; k++)
            if (!strcmp(name, col_names[k]))
                found = k;
        if (found < 0) {
            if (report && r->diag) {
                char shown[80];
                /* a name may be in any encoding; show it only if UTF-8 */
                snprintf(shown, sizeof(shown), "%s",
                         fmt_utf8_valid(name, strlen(name)) ? name : "?");
                fmt_diag_add(r->diag, (int)r->c.rec_line,
                             len ? shown : "(empty)", "csv.column.unknown",
                             "unknown column \"%s\" (see CSV.md for the "
                             "column names)",
                             shown);
            }
            continue;
        }
        if (r->col[found] >= 0) {
            if (report)
                problem(r, r->c.rec_line, (enum col)found,
                        "csv.column.duplicate", "column given twice");
            continue;
        }
        r->col[found] = i;
    }
    if (!report)
        return 0;
    for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
        if (r->col[required[k]] < 0)
            problem(r, r->c.rec_line, required[k], "csv.column.missing",
                    "required column %s is missing", col_names[required[k]]);
    if (r->col[C_DEBTOR_IBAN] < 0 && r->col[C_DEBTOR_ACCOUNT] < 0)
        problem(r, r->c.rec_line, C_DEBTOR_IBAN, "csv.column.missing",
                "a debtor_iban or debtor_account column is required");
    if (r->col[C_CDTR_IBAN] < 0 && r->col[C_CDTR_ACCOUNT] < 0)
        problem(r, r->c.rec_line, C_CDTR_IBAN, "csv.column.missing",
                "a creditor_iban or creditor_account column is required");
    return 0;
}

/* Amount text with a decimal comma allowed for ';' files. */
static int parse_amount(struct rd *r, const char *s, size_t n, const char *ccy,
                        int64_t *minor, struct h2h_err *e)
{
    char buf[64];
    if (n >= sizeof(buf))
        return h2h_err_set(e, H2H_EINVALID, "amount is too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (r->c.sep == ';' && !memchr(buf, '.', n)) {
        char *comma = strchr(buf, ',');
        if (comma && !strchr(comma + 1, ','))
            *comma = '.';
    }
    return fmt_amount_parse(buf, n, ccy, 0, minor, e);
}

/* Pass 1: data rows and the sum of their amounts (in 1/1000 units). */
static int first_pass(struct rd *r)
{
    int rc;
    int64_t n = 0, sum = 0;
    r->c.report = 0;
    if ((rc = read_header(r, 0)) < 0)
        return rc;
    while ((rc = read_record(&r->c)) == 1) {
        n++;
        size_t la, lc;
        const char *a = raw(&r->c, r->col[C_AMOUNT], &la);
        const char *c = raw(&r->c, r->col[C_CURRENCY], &lc);
        char ccy[4];
        int64_t minor;
        if (lc != 3)
            continue;
        for (int k = 0; k < 3; k++)
            ccy[k] = (char)toupper((unsigned char)c[k]);
        ccy[3] = '\0';
        if (parse_amount(r, a, la, ccy, &minor, NULL) == 0) {
            int64_t m = fmt_minor_to_milli(minor, ccy);
            if (__builtin_add_overflow(sum, m, &sum))
                sum = INT64_MAX;
        }
    }
    if (rc < 0)
        return h2h_err_set(r->err, H2H_EIO, "read error");
    r->hdr.nb_of_txs = n;
    r->hdr.has_ctrl_sum = 1;
    r->hdr.ctrl_sum_milli = sum;
    return 0;
}

/* Decoded, NUL-terminated value of column k in the current row; NULL when
 * empty or absent, or when it cannot be decoded (problem reported). */
static char *value(struct rd *r, enum col k, int *oom)
{
    size_t n;
    int fi = r->col[k];
    if (fi < 0)
        return NULL;
    const char *s = raw(&r->c, fi, &n);
    if (n == 0)
        return NULL;
    int high = 0;
    for (size_t i = 0; i < n && !high; i++)
        high = (unsigned char)s[i] >= 0x80;
    char *out = NULL;
    struct h2h_err e = {0};
    if (high && r->charset) {
        size_t olen;
        int rc = fmt_to_utf8(r->charset, s, n, &out, &olen, &e);
        if (rc == H2H_ENOMEM) {
            *oom = 1;
            return NULL;
        }
        if (rc < 0) {
            problem(r, r->c.rec_line, k, "csv.charset",
                    "text cannot be decoded as %s: %s", r->charset, e.msg);
            return NULL;
        }
        return out;
    }
    if (high && !fmt_utf8_valid(s, n)) {
        problem(r, r->c.rec_line, k, "csv.charset",
                "text is not valid UTF-8 (declare the file's character set, "
                "e.g. GB18030, or save it as UTF-8)");
        return NULL;
    }
    out = malloc(n + 1);
    if (!out) {
        *oom = 1;
        return NULL;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    if (memchr(out, '\0', n)) {
        problem(r, r->c.rec_line, k, "csv.charset", "NUL byte in a field");
        free(out);
        return NULL;
    }
    return out;
}

static char *take(char **v)
{
    char *s = *v;
    *v = NULL;
    return s;
}

static void iban_norm(char **v)
{
    char buf[80];
    if (!*v)
        return;
    int n = fmt_iban_normalize(*v, buf, sizeof(buf));
    if (n > 0) {
        free(*v);
        *v = strdup(buf);
    }
}

static int sink_rc(struct rd *r, int rc, const char *what)
{
    if (rc < 0 && r->err && r->err->code == 0)
        h2h_err_set(r->err, rc, "sink refused %s: %s", what, h2h_strerror(rc));
    return rc;
}

static int send_begin(struct rd *r)
{
    if (r->began)
        return 0;
    r->began = 1;
    if (r->sink && r->sink->begin)
        return sink_rc(r, r->sink->begin(r->sink->ctx, &r->hdr), "begin");
    return 0;
}

static int end_group(struct rd *r)
{
    int rc = 0;
    if (!r->in_grp)
        return 0;
    if (r->sink && r->sink->group_end)
        rc = sink_rc(r, r->sink->group_end(r->sink->ctx, &r->grp), "group_end");
    fmt_pay_group_release(&r->grp);
    r->in_grp = 0;
    return rc;
}

/* One data row of pass 2. */
static int row(struct rd *r)
{
    char *v[C__N] = {0};
    int oom = 0, rc = 0;
    long line = r->c.rec_line;
    struct fmt_pay_tx tx;
    struct fmt_diag *diag = r->diag;
    memset(&tx, 0, sizeof(tx));
    /* an open quote swallowed the rest of the file: every other problem
     * of this row would be a consequence of it */
    if (r->c.unterminated)
        r->diag = NULL;

    if (r->c.nf != r->c.nhdr)
        problem(r, line, -1, "csv.columns",
                "row has %d fields but the header has %d", r->c.nf, r->c.nhdr);
    for (int k = 0; k < C__N; k++)
        v[k] = value(r, (enum col)k, &oom);
    if (oom) {
        rc = h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
        goto out;
    }

    /* format-level checks */
    for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
        if (r->col[required[k]] >= 0 && !v[required[k]])
            problem(r, line, required[k], "csv.required", "%s is empty",
                    col_names[required[k]]);
    if ((r->col[C_DEBTOR_IBAN] >= 0 || r->col[C_DEBTOR_ACCOUNT] >= 0) &&
        !v[C_DEBTOR_IBAN] && !v[C_DEBTOR_ACCOUNT])
        problem(r, line,
                r->col[C_DEBTOR_IBAN] >= 0 ? C_DEBTOR_IBAN : C_DEBTOR_ACCOUNT,
                "csv.required", "debtor account is empty");
    if ((r->col[C_CDTR_IBAN] >= 0 || r->col[C_CDTR_ACCOUNT] >= 0) &&
        !v[C_CDTR_IBAN] && !v[C_CDTR_ACCOUNT])
        problem(r, line,
                r->col[C_CDTR_IBAN] >= 0 ? C_CDTR_IBAN : C_CDTR_ACCOUNT,
                "csv.required", "creditor account is empty");
    if (v[C_CURRENCY]) {
        for (char *p = v[C_CURRENCY]; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        if (strlen(v[C_CURRENCY]) != 3 || !fmt_ccy_valid(v[C_CURRENCY]))
            problem(r, line, C_CURRENCY, "csv.currency",
                    "\"%.20s\" is not an ISO 4217 currency code",
                    v[C_CURRENCY]);
        else
            memcpy(tx.amt.ccy, v[C_CURRENCY], 4);
    }
    if (v[C_AMOUNT] && tx.amt.ccy[0]) {
        struct h2h_err e = {0};
        if (parse_amount(r, v[C_AMOUNT], strlen(v[C_AMOUNT]), tx.amt.ccy,
                         &tx.amt.minor, &e) < 0)
            problem(r, line, C_AMOUNT, "csv.amount", "%s", e.msg);
    }
    if (v[C_EXEC_DATE]) {
        struct h2h_err e = {0};
        if (fmt_date_check(v[C_EXEC_DATE], &e) < 0)
            problem(r, line, C_EXEC_DATE, "csv.date",
                    "\"%.40s\" is not a date YYYY-MM-DD: %s", v[C_EXEC_DATE],
                    e.msg);
    }
    if (v[C_UETR]) {
        struct h2h_err e = {0};
        for (char *p = v[C_UETR]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (fmt_uuid_check(v[C_UETR], &e) < 0)
            problem(r, line, C_UETR, "csv.uetr", "%s", e.msg);
    }
    if (!v[C_CDTR_CLR_SYS] != !v[C_CDTR_CLR_ID])
        problem(r, line, v[C_CDTR_CLR_SYS] ? C_CDTR_CLR_ID : C_CDTR_CLR_SYS,
                "csv.clearing",
                "creditor_clearing_system and creditor_clearing_id go "
                "together");
    iban_norm(&v[C_DEBTOR_IBAN]);
    iban_norm(&v[C_CDTR_IBAN]);

    /* header: msg_id of the first row, the same everywhere */
    if (!r->began) {
        r->hdr.msg_id = v[C_MSG_ID] ? strdup(v[C_MSG_ID]) : NULL;
        if ((rc = send_begin(r)) < 0)
            goto out;
    } else if (v[C_MSG_ID] &&
               (!r->hdr.msg_id || strcmp(v[C_MSG_ID], r->hdr.msg_id))) {
        problem(r, line, C_MSG_ID, "csv.msg_id",
                "msg_id \"%.40s\" differs from the first row's; one file is "
                "one message",
                v[C_MSG_ID]);
    }

    /* group */
    /* msg_id is not part of the key: it is one per file, and a row that
     * changes it has its own problem already */
    static const enum col key_cols[] = {
        C_PMT_INF_ID, C_DEBTOR_NAME, C_DEBTOR_IBAN, C_DEBTOR_ACCOUNT,
        C_DEBTOR_BIC, C_EXEC_DATE,   C_SVC_LVL,     C_CTGY_PURP};
    size_t klen = 1;
    for (size_t k = 0; k < sizeof(key_cols) / sizeof(key_cols[0]); k++)
        klen += (v[key_cols[k]] ? strlen(v[key_cols[k]]) : 0) + 1;
    char *key = malloc(klen);
    if (!key) {
        rc = h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    key[0] = '\0';
    for (size_t k = 0; k < sizeof(key_cols) / sizeof(key_cols[0]); k++) {
        strcat(key, v[key_cols[k]] ? v[key_cols[k]] : "");
        strcat(key, "\x1f");
    }
    if (!r->in_grp || strcmp(key, r->grp_key)) {
        if ((rc = end_group(r)) < 0) {
            free(key);
            goto out;
        }
        int seen = set_add(&r->keys, &r->nkeys, &r->capkeys, fnv(key));
        if (seen < 0) {
            free(key);
            rc = h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        if (seen)
            problem(r, line, v[C_PMT_INF_ID] ? C_PMT_INF_ID : C_DEBTOR_NAME,
                    "csv.group.split",
                    "this row belongs to a payment group that ended earlier "
                    "in the file; rows of one group (pmt_inf_id, "
                    "debtor, execution_date, service_level, "
                    "category_purpose) must be consecutive");
        free(r->grp_key);
        r->grp_key = key;
        r->n_grp++;
        fmt_pay_group_init(&r->grp);
        r->in_grp = 1;
        r->grp.line = (int)line;
        if (v[C_PMT_INF_ID]) {
            int dup = seen ? 0
                           : set_add(&r->ids, &r->nids, &r->capids,
                                     fnv(v[C_PMT_INF_ID]));
            if (dup < 0) {
                rc = h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
                goto out;
            }
            if (dup)
                problem(r, line, C_PMT_INF_ID, "csv.pmt_inf_id",
                        "pmt_inf_id \"%.40s\" is already used by another "
                        "group (other debtor, date, service level or "
                        "category purpose)",
                        v[C_PMT_INF_ID]);
            r->grp.pmt_inf_id = strdup(v[C_PMT_INF_ID]);
        } else {
            char id[96];
            const char *m = r->hdr.msg_id ? r->hdr.msg_id : "PMT";
            /* At most 60 bytes of msg_id, cut before a UTF-8 continuation
             * byte: a byte count alone could split a character. */
            size_t ml = strnlen(m, 60);
            while (ml > 0 && ((unsigned char)m[ml] & 0xC0) == 0x80)
                ml--;
            snprintf(id, sizeof(id), "%.*s-%ld", (int)ml, m, r->n_grp);
            r->grp.pmt_inf_id = strdup(id);
        }
        r->grp.pmt_mtd = strdup("TRF");
        r->grp.reqd_exctn_dt = v[C_EXEC_DATE] ? strdup(v[C_EXEC_DATE]) : NULL;
        r->grp.dbtr.name = v[C_DEBTOR_NAME] ? strdup(v[C_DEBTOR_NAME]) : NULL;
        r->grp.dbtr_acct.iban = take(&v[C_DEBTOR_IBAN]);
        r->grp.dbtr_acct.other_id = take(&v[C_DEBTOR_ACCOUNT]);
        r->grp.dbtr_agt.bic = take(&v[C_DEBTOR_BIC]);
        r->grp.svc_lvl = take(&v[C_SVC_LVL]);
        r->grp.ctgy_purp = take(&v[C_CTGY_PURP]);
        if (!r->grp.pmt_inf_id || !r->grp.pmt_mtd) {
            rc = h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        if (r->sink && r->sink->group_begin &&
            (rc = sink_rc(r, r->sink->group_begin(r->sink->ctx, &r->grp),
                          "group_begin")) < 0)
            goto out;
    } else {
        free(key);
    }

    /* transaction */
    tx.line = (int)line;
    tx.instr_id = take(&v[C_INSTR_ID]);
    tx.end_to_end_id = v[C_E2E] ? take(&v[C_E2E]) : strdup("NOTPROVIDED");
    tx.uetr = take(&v[C_UETR]);
    tx.chrg_br = take(&v[C_CHRG_BR]);
    tx.cdtr_agt.bic = take(&v[C_CDTR_BIC]);
    tx.cdtr_agt.clr_sys = take(&v[C_CDTR_CLR_SYS]);
    tx.cdtr_agt.clr_mmb_id = take(&v[C_CDTR_CLR_ID]);
    tx.cdtr.name = take(&v[C_CDTR_NAME]);
    tx.cdtr.addr.street = take(&v[C_CDTR_STREET]);
    tx.cdtr.addr.postcode = take(&v[C_CDTR_POSTCODE]);
    tx.cdtr.addr.town = take(&v[C_CDTR_TOWN]);
    tx.cdtr.addr.country = take(&v[C_CDTR_COUNTRY]);
    tx.cdtr_acct.iban = take(&v[C_CDTR_IBAN]);
    tx.cdtr_acct.other_id = take(&v[C_CDTR_ACCOUNT]);
    tx.purp = take(&v[C_PURPOSE]);
    tx.rmt_ustrd = take(&v[C_REMITTANCE]);
    if (!tx.end_to_end_id) {
        rc = h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    if (r->sink && r->sink->tx)
        rc = sink_rc(r, r->sink->tx(r->sink->ctx, &r->grp, &tx), "tx");
out:
    r->diag = diag;
    fmt_pay_tx_release(&tx);
    for (int k = 0; k < C__N; k++)
        free(v[k]);
    return rc;
}

int fmt_csv_pay_read(const struct fmt_src *src, const struct fmt_pay_sink *sink,
                     struct fmt_diag *diag, struct h2h_err *err)
{
    if (!src)
        return h2h_err_set(err, H2H_EINVALID, "no input given");
    struct rd *r = calloc(1, sizeof(*r));
    if (!r)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc;
    r->src = src;
    r->sink = sink;
    r->diag = diag;
    r->err = err;
    r->c.diag = diag;
    r->c.line = 1;
    fmt_pay_header_init(&r->hdr);
    fmt_pay_group_init(&r->grp);
    r->hdr.source_format = "csv.pay.1";
    if (!fmt_charset_is_utf8(src->charset)) {
        if (!fmt_charset_known(src->charset)) {
            rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                             "unknown character set %.64s", src->charset);
            goto out;
        }
        r->charset = src->charset;
    }
    if ((rc = open_input(r)) < 0)
        goto out;
    if ((rc = rewind_input(r)) < 0 || (rc = detect_sep(r)) < 0)
        goto out;
    if ((rc = first_pass(r)) < 0 || (rc = rewind_input(r)) < 0)
        goto out;
    r->c.report = 1;
    if ((rc = read_header(r, 1)) < 0)
        goto out;
    while ((rc = read_record(&r->c)) == 1)
        if ((rc = row(r)) < 0)
            goto out;
    if (rc < 0) {
        rc = h2h_err_set(err, rc == H2H_ENOMEM ? H2H_ENOMEM : H2H_EIO,
                         "%s while reading the file",
                         rc == H2H_ENOMEM ? "out of memory" : "read error");
        goto out;
    }
    if (!r->began) {
        problem(r, r->c.line, -1, "csv.empty",
                "no payment rows after the "
                "header");
        if ((rc = send_begin(r)) < 0)
            goto out;
    }
    if ((rc = end_group(r)) < 0)
        goto out;
    if (sink && sink->end)
        rc = sink_rc(r, sink->end(sink->ctx, &r->hdr), "end");
out:
    if (r->c.f)
        fclose(r->c.f);
    release_fields(&r->c);
    fmt_pay_group_release(&r->grp);
    fmt_pay_header_release(&r->hdr);
    free(r->grp_key);
    free(r->keys);
    free(r->ids);
    free(r);
    return rc < 0 ? rc : 0;
}
