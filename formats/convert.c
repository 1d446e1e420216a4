/*
 * convert.c - naming, sniffing and converting formats; see convert.h.
 *
 * A conversion is a chain of sinks, built per family:
 *
 *   payments    reader -> validator -> gate -> writer
 *   statements  reader -> checker   -> gate -> writer
 *   status      reader -> struct fmt_status_report -> writer
 *
 * The gate is this file's own sink.  It fills struct fmt_convert_info,
 * hands the pain.001 writer the totals a source did not declare, and
 * keeps a writer that failed from aborting the reader: the reader then
 * runs to the end so that the validator / checker still see every
 * problem of the file, which is what a treasury user needs to fix it in
 * one go.  Nothing here holds more than one transaction or entry (the
 * readers own those); the only thing that grows is the list of distinct
 * debtor accounts that info reports.
 *
 * Which problems fail a conversion (convert.h): everything a reader or the
 * payment validator records; the statement checker's findings are kept
 * apart in a diag of their own while streaming (so that reader problems
 * can be counted) and appended to the caller's diag at the end.
 */
#include "convert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "amount.h"
#include "camt.h"
#include "canon.h"
#include "csv_pay.h"
#include "csv_stmt.h"
#include "ident.h"
#include "mt101.h"
#include "mt940.h"
#include "pain001.h"
#include "pain002.h"
#include "stmtcheck.h"

#define SNIFF_MAX (64u * 1024u)

/* ---- names ---------------------------------------------------------------
 */

static const struct fmt_name {
    enum fmt_format fmt;
    const char *name;
    enum fmt_family fam; /* FMT_FAM_NONE: follows the input */
    int versions[2];     /* message versions a user may name (0: none) */
} names[] = {
    {FMT_PAIN001, "pain.001", FMT_FAM_PAYMENTS, {3, 9}},
    {FMT_PAIN002, "pain.002", FMT_FAM_STATUS, {3, 10}},
    {FMT_CAMT052, "camt.052", FMT_FAM_STATEMENTS, {2, 8}},
    {FMT_CAMT053, "camt.053", FMT_FAM_STATEMENTS, {2, 8}},
    {FMT_CAMT054, "camt.054", FMT_FAM_STATEMENTS, {2, 8}},
    {FMT_MT940, "mt940", FMT_FAM_STATEMENTS, {0, 0}},
    {FMT_MT942, "mt942", FMT_FAM_STATEMENTS, {0, 0}},
    {FMT_MT101, "mt101", FMT_FAM_PAYMENTS, {0, 0}},
    {FMT_CANONICAL, "canonical", FMT_FAM_NONE, {0, 0}},
    {FMT_CSV, "csv", FMT_FAM_NONE, {0, 0}},
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

#define KNOWN_NAMES                                                            \
    "auto, pain.001 (.001.03, .001.09), pain.002 (.001.03, .001.10), "         \
    "camt.052 / camt.053 / camt.054 (.001.02, .001.08), mt940, mt942, "        \
    "mt101, canonical, csv"

static const struct fmt_name *name_of(enum fmt_format f)
{
    for (size_t i = 0; i < N_NAMES; i++)
        if (names[i].fmt == f)
            return &names[i];
    return NULL;
}

const char *fmt_format_name(enum fmt_format f)
{
    const struct fmt_name *n = name_of(f);
    return n ? n->name : "unknown";
}

static const char *family_name(enum fmt_family fam)
{
    switch (fam) {
    case FMT_FAM_PAYMENTS: return "payments";
    case FMT_FAM_STATUS: return "status reports";
    case FMT_FAM_STATEMENTS: return "statements";
    case FMT_FAM_NONE: break;
    }
    return "unknown";
}

int fmt_format_parse(const char *s, struct fmt_target *out, struct h2h_err *err)
{
    if (!s || !out)
        return h2h_err_set(err, H2H_EINVALID, "no format named; known: %s",
                           KNOWN_NAMES);
    out->fmt = FMT_UNKNOWN;
    out->version = 0;
    if (!strcasecmp(s, "auto"))
        return 0;
    for (size_t i = 0; i < N_NAMES; i++) {
        size_t n = strlen(names[i].name);
        if (strncasecmp(s, names[i].name, n))
            continue;
        const char *rest = s + n;
        if (!*rest) {
            out->fmt = names[i].fmt;
            return 0;
        }
        /* ".001.NN" names the message version to write. */
        if (names[i].versions[0] && !strncmp(rest, ".001.", 5) &&
            rest[5] >= '0' && rest[5] <= '9' && rest[6] >= '0' &&
            rest[6] <= '9' && !rest[7]) {
            int v = (rest[5] - '0') * 10 + (rest[6] - '0');
            if (v == names[i].versions[0] || v == names[i].versions[1]) {
                out->fmt = names[i].fmt;
                out->version = v;
                return 0;
            }
            return h2h_err_set(err, H2H_EINVALID,
                               "%s: h2hd writes %s only in versions "
                               ".001.%02d and .001.%02d",
                               s, names[i].name, names[i].versions[0],
                               names[i].versions[1]);
        }
    }
    return h2h_err_set(err, H2H_EINVALID, "unknown format \"%s\"; known: %s", s,
                       KNOWN_NAMES);
}

int fmt_profile_by_name(const char *name, struct fmt_profile *p,
                        struct h2h_err *err)
{
    if (!p)
        return h2h_err_set(err, H2H_EINVALID, "no profile");
    fmt_profile_init(p);
    if (!name || !*name || !strcasecmp(name, "none"))
        return 0;
    if (!strcasecmp(name, "sepa")) {
        p->practice = FMT_PRACTICE_SEPA;
        return 0;
    }
    if (!strcasecmp(name, "sepa-translit")) {
        p->practice = FMT_PRACTICE_SEPA;
        p->transliterate = 1;
        return 0;
    }
    if (!strcasecmp(name, "cgi")) {
        p->practice = FMT_PRACTICE_CGI;
        return 0;
    }
    return h2h_err_set(err, H2H_EINVALID,
                       "unknown profile \"%s\"; known: none, sepa, "
                       "sepa-translit, cgi",
                       name);
}

void fmt_convert_opts_init(struct fmt_convert_opts *o)
{
    memset(o, 0, sizeof(*o));
    fmt_profile_init(&o->profile);
}

void fmt_convert_info_release(struct fmt_convert_info *info)
{
    if (!info)
        return;
    for (size_t i = 0; i < info->n_debtor_accounts; i++)
        free(info->debtor_accounts[i]);
    free(info->debtor_accounts);
    memset(info, 0, sizeof(*info));
}

/* ---- sniffing ------------------------------------------------------------
 */

/* The first SNIFF_MAX bytes of src into a malloc'd buffer. */
static int sniff_read(const struct fmt_src *src, char **buf, size_t *len,
                      struct h2h_err *err)
{
    *buf = NULL;
    *len = 0;
    if (!src || (!src->path && !src->buf))
        return h2h_err_set(err, H2H_EINVALID, "no input given");
    char *b = malloc(SNIFF_MAX + 1);
    if (!b)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    size_t n = 0;
    if (!src->path) {
        n = src->len < SNIFF_MAX ? src->len : SNIFF_MAX;
        memcpy(b, src->buf, n);
    } else {
        int fd = open(src->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            free(b);
            return h2h_err_set(err, -e, "%s: %s", src->path, strerror(e));
        }
        while (n < SNIFF_MAX) {
            ssize_t r = read(fd, b + n, SNIFF_MAX - n);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                int e = errno;
                close(fd);
                free(b);
                return h2h_err_set(err, -e, "%s: %s", src->path, strerror(e));
            }
            if (r == 0)
                break;
            n += (size_t)r;
        }
        close(fd);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

static enum fmt_family family_of(enum fmt_format f)
{
    const struct fmt_name *n = name_of(f);
    return n ? n->fam : FMT_FAM_NONE;
}

/* Advance past a comment, processing instruction or declaration starting
 * at p ("<!--", "<?", "<!"); returns the position after it, or end. */
static const char *skip_markup(const char *p, const char *end)
{
    const char *close = "-->";
    if (end - p >= 4 && !memcmp(p, "<!--", 4))
        close = "-->";
    else if (end - p >= 2 && p[1] == '?')
        close = "?>";
    else
        close = ">";
    size_t cl = strlen(close);
    for (const char *q = p + 2; q + cl <= end; q++)
        if (!memcmp(q, close, cl))
            return q + cl;
    return end;
}

/* ISO 20022 message named in a namespace (or any) value s[0..n). */
static enum fmt_format iso_msg_in(const char *s, size_t n)
{
    static const struct {
        const char *id;
        enum fmt_format fmt;
    } ids[] = {
        {"pain.001", FMT_PAIN001}, {"pain.002", FMT_PAIN002},
        {"camt.052", FMT_CAMT052}, {"camt.053", FMT_CAMT053},
        {"camt.054", FMT_CAMT054},
    };
    for (size_t i = 0; i + 8 <= n; i++)
        for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++)
            if (!memcmp(s + i, ids[k].id, 8))
                return ids[k].fmt;
    return FMT_UNKNOWN;
}

/* Message element (the child of <Document>) by local name. */
static enum fmt_format iso_root(const char *name, size_t n)
{
    static const struct {
        const char *name;
        enum fmt_format fmt;
    } roots[] = {
        {"CstmrCdtTrfInitn", FMT_PAIN001},      {"CstmrPmtStsRpt", FMT_PAIN002},
        {"BkToCstmrAcctRpt", FMT_CAMT052},      {"BkToCstmrStmt", FMT_CAMT053},
        {"BkToCstmrDbtCdtNtfctn", FMT_CAMT054},
    };
    for (size_t k = 0; k < sizeof(roots) / sizeof(roots[0]); k++)
        if (strlen(roots[k].name) == n && !memcmp(name, roots[k].name, n))
            return roots[k].fmt;
    return FMT_UNKNOWN;
}

/*
 * An XML document: the message is named by an ISO 20022 namespace on any
 * start tag (an AppHdr's head.001 namespace names nothing we read, so a
 * business envelope falls through to its Document), else by the message
 * element's name (pain.002 without a namespace is read leniently; for the
 * others the reader then says what is wrong with the namespace).  A
 * canonical root is recognised here too when fmt_canon_detect() did not
 * see it (it wants the root first: a DOCTYPE in front, which the reader
 * will refuse, hides it).  Only start tags are looked at, comments are
 * skipped: nothing is parsed.
 */
static enum fmt_format sniff_xml(const char *p, const char *end,
                                 enum fmt_family *fam)
{
    static const struct {
        const char *root;
        enum fmt_family fam;
    } canon_roots[] = {{"PaymentBatch", FMT_FAM_PAYMENTS},
                       {"StatusReport", FMT_FAM_STATUS},
                       {"Statements", FMT_FAM_STATEMENTS}};
    enum fmt_format by_name = FMT_UNKNOWN;
    *fam = FMT_FAM_NONE;
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            break;
        if (lt + 1 < end && (lt[1] == '!' || lt[1] == '?')) {
            p = skip_markup(lt, end);
            continue;
        }
        if (lt + 1 < end && lt[1] == '/') {
            p = lt + 2;
            continue;
        }
        /* element name, local part */
        const char *q = lt + 1, *nm = q;
        while (q < end && !strchr(" \t\r\n/>", *q)) {
            if (*q == ':')
                nm = q + 1;
            q++;
        }
        if (by_name == FMT_UNKNOWN)
            by_name = iso_root(nm, (size_t)(q - nm));
        /* attributes up to '>' */
        const char *gt = memchr(q, '>', (size_t)(end - q));
        if (!gt)
            gt = end;
        for (const char *a = q; a + 5 < gt; a++) {
            if (memcmp(a, "xmlns", 5))
                continue;
            const char *v = a + 5;
            while (v < gt && *v != '=')
                v++;
            v++;
            while (v < gt &&
                   (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
                v++;
            if (v >= gt || (*v != '"' && *v != '\''))
                continue;
            const char *ve = memchr(v + 1, *v, (size_t)(gt - v - 1));
            if (!ve)
                break;
            size_t vl = (size_t)(ve - v - 1);
            enum fmt_format f = iso_msg_in(v + 1, vl);
            if (f != FMT_UNKNOWN) {
                *fam = family_of(f);
                return f;
            }
            if (vl == strlen(FMT_CANON_NS) && !memcmp(v + 1, FMT_CANON_NS, vl))
                for (size_t k = 0; k < 3; k++)
                    if ((size_t)(q - nm) == strlen(canon_roots[k].root) &&
                        !memcmp(nm, canon_roots[k].root, (size_t)(q - nm))) {
                        *fam = canon_roots[k].fam;
                        return FMT_CANONICAL;
                    }
            a = ve;
        }
        p = gt;
    }
    *fam = family_of(by_name);
    return by_name;
}

/* Does the line s[0..n) start with the MT tag t? */
static int mt_tag(const char *s, size_t n, const char *t)
{
    size_t tl = strlen(t);
    return n >= tl && !memcmp(s, t, tl);
}

/* SWIFT MT: the message type in a {2:I940 / {2:O940 application header,
 * else the tags: MT101 has :28D: / :32B: / :50H: and no statement fields;
 * anything else with an MT940/942 field tag at the start of a line is a
 * statement, even a fragment of one (the reader then names what is
 * missing, which says more than "unknown format"). */
static enum fmt_format sniff_mt(const char *p, const char *end)
{
    static const struct {
        const char *mt;
        enum fmt_format fmt;
    } b2[] = {{"940", FMT_MT940}, {"942", FMT_MT942}, {"101", FMT_MT101}};
    for (const char *q = p; q + 7 <= end; q++) {
        if (q[0] != '{' || q[1] != '2' || q[2] != ':' ||
            (q[3] != 'I' && q[3] != 'O'))
            continue;
        for (size_t k = 0; k < 3; k++)
            if (!memcmp(q + 4, b2[k].mt, 3))
                return b2[k].fmt;
    }
    static const char *const stmt_tags[] = {
        ":20:",  ":21:",  ":25:",  ":28C:", ":28:",  ":60F:",
        ":60M:", ":61:",  ":62F:", ":62M:", ":64:",  ":65:",
        ":86:",  ":90D:", ":90C:", ":34F:", ":13D:", NULL};
    static const char *const mt101_tags[] = {
        ":28D:", ":32B:", ":50H:", ":50G:", NULL};
    int stmt = 0, t20 = 0, mt101 = 0, report = 0, opening = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s = p;
        while (s < le && (*s == '\x01' || *s == ' '))
            s++;
        if (le - s >= 3 && !memcmp(s, "{4:", 3))
            s += 3;
        size_t n = (size_t)(le - s);
        t20 |= mt_tag(s, n, ":20:");
        for (int i = 0; stmt_tags[i]; i++)
            if (i != 0 && mt_tag(s, n, stmt_tags[i]))
                stmt = 1;
        for (int i = 0; mt101_tags[i]; i++)
            mt101 |= mt_tag(s, n, mt101_tags[i]);
        report |= mt_tag(s, n, ":34F:") || mt_tag(s, n, ":13D:");
        opening |= mt_tag(s, n, ":60F:") || mt_tag(s, n, ":60M:");
        p = nl ? nl + 1 : end;
    }
    if (mt101 && !opening)
        return FMT_MT101;
    if (stmt || t20)
        return report && !opening ? FMT_MT942 : FMT_MT940;
    return FMT_UNKNOWN;
}

/* A CSV header row naming h2hd's payment columns (or its statement
 * columns, which h2hd writes but does not read). */
static enum fmt_family sniff_csv(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    size_t commas = 0, semis = 0;
    for (const char *q = p; q < le; q++) {
        commas += *q == ',';
        semis += *q == ';';
    }
    if (!commas && !semis)
        return FMT_FAM_NONE;
    char sep = semis > commas ? ';' : ',';
    int msg_id = 0, amount = 0, stmt_id = 0, cd = 0;
    while (p < le) {
        const char *fe = memchr(p, sep, (size_t)(le - p));
        if (!fe)
            fe = le;
        const char *a = p, *b = fe;
        while (a < b && strchr(" \t\"\r", *a))
            a++;
        while (b > a && strchr(" \t\"\r", b[-1]))
            b--;
        size_t n = (size_t)(b - a);
#define COL(s) (n == sizeof(s) - 1 && !strncasecmp(a, s, n))
        msg_id |= COL("msg_id");
        amount |= COL("amount");
        stmt_id |= COL("statement_id");
        cd |= COL("credit_debit");
#undef COL
        p = fe + 1;
    }
    if (msg_id && amount)
        return FMT_FAM_PAYMENTS;
    if (stmt_id && cd)
        return FMT_FAM_STATEMENTS;
    return FMT_FAM_NONE;
}

static enum fmt_family canon_family(int kind)
{
    switch (kind) {
    case FMT_CANON_PAYMENTS: return FMT_FAM_PAYMENTS;
    case FMT_CANON_STATUS: return FMT_FAM_STATUS;
    case FMT_CANON_STATEMENTS: return FMT_FAM_STATEMENTS;
    }
    return FMT_FAM_NONE;
}

static void sniff_buf(const char *buf, size_t len, enum fmt_format *fmt,
                      enum fmt_family *fam)
{
    *fmt = FMT_UNKNOWN;
    *fam = FMT_FAM_NONE;
    const char *p = buf, *end = buf + len;
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
        p += 3;
    while (p < end && strchr(" \t\r\n", *p) && *p)
        p++;
    if (p >= end)
        return;
    if (*p == '<') {
        int k = fmt_canon_detect(buf, len);
        if (k > 0) {
            *fmt = FMT_CANONICAL;
            *fam = canon_family(k);
            return;
        }
        *fmt = sniff_xml(p, end, fam);
        return;
    }
    *fmt = sniff_mt(p, end);
    if (*fmt != FMT_UNKNOWN) {
        *fam = family_of(*fmt);
        return;
    }
    *fam = sniff_csv(p, end);
    if (*fam != FMT_FAM_NONE)
        *fmt = FMT_CSV;
}

int fmt_detect(const struct fmt_src *src, enum fmt_format *fmt,
               enum fmt_family *fam, struct h2h_err *err)
{
    char *buf;
    size_t len;
    *fmt = FMT_UNKNOWN;
    *fam = FMT_FAM_NONE;
    int rc = sniff_read(src, &buf, &len, err);
    if (rc < 0)
        return rc;
    sniff_buf(buf, len, fmt, fam);
    free(buf);
    return 0;
}

/* ---- problems ------------------------------------------------------------
 */

/* 1 when a reader's fatal code says the input is at fault (not the
 * machine: I/O, memory, a sink's own abort). */
static int input_fault(int rc)
{
    switch (rc) {
    case H2H_EPARSE:
    case H2H_EINVALID:
    case H2H_ESECURITY:
    case H2H_ETOOBIG:
    case H2H_ECHARSET:
    case H2H_EUNSUPPORTED: return 1;
    }
    return 0;
}

static const char *fault_rule(int rc)
{
    switch (rc) {
    case H2H_EPARSE: return "input.syntax";
    case H2H_ESECURITY: return "input.security";
    case H2H_ETOOBIG: return "input.size";
    case H2H_ECHARSET: return "input.charset";
    case H2H_EUNSUPPORTED: return "input.format";
    }
    return "input.invalid";
}

/* Record a reader's fatal error (its words in err, never NULL here) as a
 * problem of the file, with the line taken out of a "line N: ..." message
 * so that it prints like the others. */
static int fault(struct fmt_diag *diag, int rc, struct h2h_err *err)
{
    const char *m = err->msg[0] ? err->msg : h2h_strerror(rc);
    int line = 0;
    const char *l = strstr(m, "line ");
    if (l && (l == m || l[-1] == ' ')) {
        char *e;
        long v = strtol(l + 5, &e, 10);
        if (e != l + 5 && *e == ':' && v > 0 && v < INT32_MAX) {
            line = (int)v;
            if (l == m) {
                m = e + 1;
                while (*m == ' ')
                    m++;
            }
        }
    }
    fmt_diag_add(diag, line, NULL, fault_rule(rc), "%s", m);
    err->code = H2H_EINVALID;
    return H2H_EINVALID;
}

static size_t diag_count(const struct fmt_diag *d)
{
    return d ? d->n + d->dropped : 0;
}

static int problems_found(struct fmt_diag *diag, size_t n0, const char *what,
                          struct h2h_err *err)
{
    size_t n = diag_count(diag) - n0;
    return h2h_err_set(err, H2H_EINVALID, "%s: %zu problem%s", what, n,
                       n == 1 ? "" : "s");
}

/* ---- info ----------------------------------------------------------------
 */

/* Distinct debtor accounts: the list in info plus an open-addressing set
 * of indices into it, so a file with many groups stays linear. */
struct acct_set {
    size_t *slot; /* index + 1, 0 empty */
    size_t cap;   /* power of two */
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int acct_add(struct acct_set *set, struct fmt_convert_info *info,
                    const char *acct)
{
    if (!acct || !*acct)
        return 0;
    if ((info->n_debtor_accounts + 1) * 2 > set->cap) {
        size_t nc = set->cap ? set->cap * 2 : 16;
        size_t *ns = calloc(nc, sizeof(*ns));
        if (!ns)
            return H2H_ENOMEM;
        for (size_t i = 0; i < info->n_debtor_accounts; i++) {
            size_t h = (size_t)str_hash(info->debtor_accounts[i]) & (nc - 1);
            while (ns[h])
                h = (h + 1) & (nc - 1);
            ns[h] = i + 1;
        }
        free(set->slot);
        set->slot = ns;
        set->cap = nc;
    }
    size_t h = (size_t)str_hash(acct) & (set->cap - 1);
    while (set->slot[h]) {
        if (!strcmp(info->debtor_accounts[set->slot[h] - 1], acct))
            return 0;
        h = (h + 1) & (set->cap - 1);
    }
    char **nv = realloc(info->debtor_accounts,
                        (info->n_debtor_accounts + 1) * sizeof(*nv));
    if (!nv)
        return H2H_ENOMEM;
    info->debtor_accounts = nv;
    if (!(nv[info->n_debtor_accounts] = strdup(acct)))
        return H2H_ENOMEM;
    set->slot[h] = ++info->n_debtor_accounts;
    return 0;
}

static void set_msg_id(struct fmt_convert_info *info, const char *id)
{
    if (id && !info->msg_id[0])
        snprintf(info->msg_id, sizeof(info->msg_id), "%s", id);
}

/* ---- payments ------------------------------------------------------------
 */

struct pay_totals {
    int64_t nb;
    int64_t sum;
    int sum_ok;
    int declared; /* the source declares GrpHdr NbOfTxs */
};

static int totals_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct pay_totals *t = ctx;
    if (h->nb_of_txs >= 0) {
        /* declared: nothing to count, stop reading */
        t->declared = 1;
        return H2H_ECANCELED;
    }
    return 0;
}

static int totals_tx(void *ctx, const struct fmt_pay_group *g,
                     const struct fmt_pay_tx *tx)
{
    (void)g;
    struct pay_totals *t = ctx;
    t->nb++;
    int64_t m = fmt_minor_to_milli(tx->amt.minor, tx->amt.ccy);
    if (t->sum_ok && __builtin_add_overflow(t->sum, m, &t->sum))
        t->sum_ok = 0;
    return 0;
}

struct pay_gate {
    const struct fmt_pay_sink *next; /* the writer, NULL when validating */
    int wfail;                       /* the writer's first error */
    const struct pay_totals *totals; /* to patch into the header, or NULL */
    const char *cre_dt_tm;           /* to patch into the header, or NULL */
    struct fmt_convert_info *info;
    struct acct_set accts;
};

/* The header as the writer must see it: pain.001 requires GrpHdr/NbOfTxs
 * and CreDtTm.  A source without the count gets the pre-pass's totals; one
 * without a creation time (CSV has none) gets the time of the conversion,
 * which is when this message is created.  A shallow copy, valid for the
 * call. */
static const struct fmt_pay_header *gate_hdr(struct pay_gate *g,
                                             const struct fmt_pay_header *h,
                                             struct fmt_pay_header *tmp)
{
    int count = g->totals && h->nb_of_txs < 0;
    int when = g->cre_dt_tm && (!h->cre_dt_tm || !*h->cre_dt_tm);
    if (!count && !when)
        return h;
    *tmp = *h;
    if (count) {
        tmp->nb_of_txs = g->totals->nb;
        if (!tmp->has_ctrl_sum && g->totals->sum_ok) {
            tmp->has_ctrl_sum = 1;
            tmp->ctrl_sum_milli = g->totals->sum;
        }
    }
    if (when)
        tmp->cre_dt_tm = (char *)g->cre_dt_tm;
    return tmp;
}

/* Pass rc of a writer callback on as "keep reading": the failure is kept
 * and later events are not forwarded. */
static int gate_wr(struct pay_gate *g, int rc)
{
    if (rc < 0 && !g->wfail)
        g->wfail = rc;
    return 0;
}

static int pg_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct pay_gate *g = ctx;
    set_msg_id(g->info, h->msg_id);
    struct fmt_pay_header tmp;
    if (g->next && !g->wfail && g->next->begin)
        return gate_wr(g, g->next->begin(g->next->ctx, gate_hdr(g, h, &tmp)));
    return 0;
}

static int pg_group_begin(void *ctx, const struct fmt_pay_group *grp)
{
    struct pay_gate *g = ctx;
    g->info->n_groups++;
    const char *acct =
        grp->dbtr_acct.iban ? grp->dbtr_acct.iban : grp->dbtr_acct.other_id;
    int rc = acct_add(&g->accts, g->info, acct);
    if (rc < 0)
        return rc;
    if (g->next && !g->wfail && g->next->group_begin)
        return gate_wr(g, g->next->group_begin(g->next->ctx, grp));
    return 0;
}

static int pg_tx(void *ctx, const struct fmt_pay_group *grp,
                 const struct fmt_pay_tx *tx)
{
    struct pay_gate *g = ctx;
    g->info->n_items++;
    if (g->next && !g->wfail && g->next->tx)
        return gate_wr(g, g->next->tx(g->next->ctx, grp, tx));
    return 0;
}

static int pg_group_end(void *ctx, const struct fmt_pay_group *grp)
{
    struct pay_gate *g = ctx;
    if (g->next && !g->wfail && g->next->group_end)
        return gate_wr(g, g->next->group_end(g->next->ctx, grp));
    return 0;
}

static int pg_end(void *ctx, const struct fmt_pay_header *h)
{
    struct pay_gate *g = ctx;
    struct fmt_pay_header tmp;
    if (g->next && !g->wfail && g->next->end)
        return gate_wr(g, g->next->end(g->next->ctx, gate_hdr(g, h, &tmp)));
    return 0;
}

static int read_pay(enum fmt_format f, const struct fmt_src *src,
                    const struct fmt_pay_sink *s, struct fmt_diag *d,
                    struct h2h_err *err)
{
    switch (f) {
    case FMT_PAIN001: return fmt_pain001_read(src, s, d, err);
    case FMT_CSV: return fmt_csv_pay_read(src, s, d, err);
    case FMT_CANONICAL: return fmt_canon_read_pay(src, s, d, err);
    default: break;
    }
    return h2h_err_set(err, H2H_EUNSUPPORTED, "%s is not read as payments",
                       fmt_format_name(f));
}

/* One payment writer behind a uniform face. */
struct pay_writer {
    struct fmt_pain001_writer *pain;
    struct fmt_mt101_writer *mt;
    struct fmt_canon_writer *canon;
    struct fmt_pay_sink sink;
};

static int pay_writer_open(struct pay_writer *w, const struct fmt_target *to,
                           const struct fmt_convert_opts *o, FILE *out,
                           struct h2h_err *err)
{
    memset(w, 0, sizeof(*w));
    switch (to->fmt) {
    case FMT_PAIN001: {
        struct fmt_pain001_opts po = {
            .version = to->version ? to->version : 9,
            .market_practice = (int)o->profile.practice,
            .transliterate = o->profile.transliterate,
        };
        if (!(w->pain = fmt_pain001_writer_new(out, &po)))
            break;
        w->sink = fmt_pain001_writer_sink(w->pain);
        return 0;
    }
    case FMT_MT101: {
        /* SWIFT X is the only character set an MT101 can carry: text is
         * transliterated as for MT940 output (convert.h), whatever the
         * profile (which governs pain.001's SEPA set) */
        struct fmt_mt101_opts mo = {.transliterate = 1};
        if (!(w->mt = fmt_mt101_writer_new(out, &mo)))
            break;
        w->sink = fmt_mt101_writer_sink(w->mt);
        return 0;
    }
    case FMT_CANONICAL:
        if (!(w->canon = fmt_canon_writer_new(out)))
            break;
        w->sink = fmt_canon_pay_sink(w->canon);
        return 0;
    default:
        return h2h_err_set(err, H2H_EUNSUPPORTED, "cannot write %s",
                           fmt_format_name(to->fmt));
    }
    return h2h_err_set(err, H2H_ENOMEM, "cannot create the %s writer",
                       fmt_format_name(to->fmt));
}

static int pay_writer_finish(struct pay_writer *w, struct h2h_err *err)
{
    if (w->pain)
        return fmt_pain001_writer_finish(w->pain, err);
    if (w->mt)
        return fmt_mt101_writer_finish(w->mt, err);
    if (w->canon)
        return fmt_canon_writer_finish(w->canon, err);
    return 0;
}

static void pay_writer_free(struct pay_writer *w)
{
    fmt_pain001_writer_free(w->pain);
    fmt_mt101_writer_free(w->mt);
    fmt_canon_writer_free(w->canon);
    memset(w, 0, sizeof(*w));
}

static int convert_pay(const struct fmt_src *src, enum fmt_format from,
                       const struct fmt_convert_opts *o, FILE *out,
                       struct fmt_diag *diag, struct fmt_convert_info *info,
                       struct h2h_err *err)
{
    const struct fmt_target *to = &o->to;
    struct pay_writer w = {0};
    struct fmt_pay_validator *v = NULL;
    struct pay_totals totals = {.sum_ok = 1};
    struct pay_gate gate = {.info = info};
    size_t n0 = diag_count(diag);
    char now[32];
    int rc;

    if (o->profile.today && fmt_date_check(o->profile.today, NULL) < 0)
        return h2h_err_set(err, H2H_ECONFIG,
                           "profile date \"%s\" is not YYYY-MM-DD",
                           o->profile.today);

    /* pain.001 needs GrpHdr/NbOfTxs before the first payment: a source
     * that does not declare it is read twice (CSV counts on its own).
     * The probe stops at the header when the count is declared. */
    if (to->fmt == FMT_PAIN001 && from != FMT_CSV) {
        struct fmt_pay_sink ts = {
            .begin = totals_begin, .tx = totals_tx, .ctx = &totals};
        struct fmt_diag scratch;
        struct h2h_err perr = {0};
        fmt_diag_init(&scratch, NULL);
        scratch.max = 1;
        rc = read_pay(from, src, &ts, &scratch, &perr);
        fmt_diag_release(&scratch);
        /* a fatal error shows again, with its words, in the real pass */
        if (rc == 0 && !totals.declared)
            gate.totals = &totals;
    }

    if (to->fmt == FMT_PAIN001) {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
        gate.cre_dt_tm = now;
    }
    if (to->fmt != FMT_UNKNOWN) {
        if ((rc = pay_writer_open(&w, to, o, out, err)) < 0)
            goto out;
        gate.next = &w.sink;
    }
    struct fmt_pay_sink gs = {pg_begin,     pg_group_begin, pg_tx,
                              pg_group_end, pg_end,         &gate};
    if (!(v = fmt_pay_validator_new(&o->profile, diag, &gs))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "cannot create the validator");
        goto out;
    }
    struct fmt_pay_sink vs = fmt_pay_validator_sink(v);
    rc = read_pay(from, src, &vs, diag, err);
    if (rc < 0) {
        if (input_fault(rc))
            rc = fault(diag, rc, err);
        goto out;
    }
    if ((rc = fmt_pay_validator_finish(v)) < 0) {
        rc = h2h_err_set(err, rc, "payment validator: %s", h2h_strerror(rc));
        goto out;
    }
    if (diag_count(diag) > n0) {
        rc = problems_found(diag, n0, fmt_format_name(from), err);
        goto out;
    }
    rc = 0;
    if (gate.next && (rc = pay_writer_finish(&w, err)) < 0)
        h2h_err_prefix(err, "%s", fmt_format_name(to->fmt));
out:
    fmt_pay_validator_free(v);
    pay_writer_free(&w);
    free(gate.accts.slot);
    return rc;
}

/* ---- statements ----------------------------------------------------------
 */

struct stmt_gate {
    const struct fmt_stmt_sink *next;
    int wfail;
    struct fmt_convert_info *info;
};

static int sg_wr(struct stmt_gate *g, int rc)
{
    if (rc < 0 && !g->wfail)
        g->wfail = rc;
    return 0;
}

static int sg_begin(void *ctx, const struct fmt_stmt_doc *doc)
{
    struct stmt_gate *g = ctx;
    set_msg_id(g->info, doc->msg_id);
    if (g->next && !g->wfail && g->next->begin)
        return sg_wr(g, g->next->begin(g->next->ctx, doc));
    return 0;
}

static int sg_stmt_begin(void *ctx, const struct fmt_stmt *st)
{
    struct stmt_gate *g = ctx;
    g->info->n_groups++;
    /* MT940 has no message id: the first :20: stands for it */
    set_msg_id(g->info, st->id);
    if (g->next && !g->wfail && g->next->stmt_begin)
        return sg_wr(g, g->next->stmt_begin(g->next->ctx, st));
    return 0;
}

static int sg_entry(void *ctx, const struct fmt_stmt *st,
                    const struct fmt_entry *e)
{
    struct stmt_gate *g = ctx;
    g->info->n_items++;
    if (g->next && !g->wfail && g->next->entry)
        return sg_wr(g, g->next->entry(g->next->ctx, st, e));
    return 0;
}

static int sg_stmt_end(void *ctx, const struct fmt_stmt *st)
{
    struct stmt_gate *g = ctx;
    if (g->next && !g->wfail && g->next->stmt_end)
        return sg_wr(g, g->next->stmt_end(g->next->ctx, st));
    return 0;
}

static int sg_end(void *ctx, const struct fmt_stmt_doc *doc)
{
    struct stmt_gate *g = ctx;
    if (g->next && !g->wfail && g->next->end)
        return sg_wr(g, g->next->end(g->next->ctx, doc));
    return 0;
}

static int read_stmt(enum fmt_format f, const struct fmt_src *src,
                     const struct fmt_stmt_sink *s, struct fmt_diag *d,
                     struct h2h_err *err)
{
    switch (f) {
    case FMT_CAMT052:
    case FMT_CAMT053:
    case FMT_CAMT054: return fmt_camt_read(src, s, d, err);
    case FMT_MT940:
    case FMT_MT942: return fmt_mt940_read(src, s, d, err);
    case FMT_CANONICAL: return fmt_canon_read_stmt(src, s, d, err);
    default: break;
    }
    return h2h_err_set(err, H2H_EUNSUPPORTED, "%s is not read as statements",
                       fmt_format_name(f));
}

struct stmt_writer {
    struct fmt_camt_writer *camt;
    struct fmt_mt940_writer *mt;
    struct fmt_csv_stmt_writer *csv;
    struct fmt_canon_writer *canon;
    struct fmt_stmt_sink sink;
};

static int stmt_writer_open(struct stmt_writer *w, const struct fmt_target *to,
                            const struct fmt_convert_opts *o, FILE *out,
                            struct h2h_err *err)
{
    memset(w, 0, sizeof(*w));
    switch (to->fmt) {
    case FMT_CAMT052:
    case FMT_CAMT053:
    case FMT_CAMT054: {
        struct fmt_camt_opts co = {
            .msg = to->fmt == FMT_CAMT052   ? 52
                   : to->fmt == FMT_CAMT053 ? 53
                                            : 54,
            .version = to->version ? to->version : 8,
        };
        if (!(w->camt = fmt_camt_writer_new(out, &co)))
            break;
        w->sink = fmt_camt_writer_sink(w->camt);
        return 0;
    }
    case FMT_MT940:
    case FMT_MT942: {
        struct fmt_mt940_opts mo = {
            .mt = to->fmt == FMT_MT942 ? 942 : 940,
            .charset = o->out_charset,
            .envelope = o->mt_envelope,
        };
        struct h2h_err e = {0};
        if (!(w->mt = fmt_mt940_writer_new(out, &mo, &e))) {
            if (e.code)
                return h2h_err_set(err, e.code, "%s", e.msg);
            break;
        }
        w->sink = fmt_mt940_writer_sink(w->mt);
        return 0;
    }
    case FMT_CSV:
        if (!(w->csv = fmt_csv_stmt_writer_new(out, NULL)))
            break;
        w->sink = fmt_csv_stmt_sink(w->csv);
        return 0;
    case FMT_CANONICAL:
        if (!(w->canon = fmt_canon_writer_new(out)))
            break;
        w->sink = fmt_canon_stmt_sink(w->canon);
        return 0;
    default:
        return h2h_err_set(err, H2H_EUNSUPPORTED, "cannot write %s",
                           fmt_format_name(to->fmt));
    }
    return h2h_err_set(err, H2H_ENOMEM, "cannot create the %s writer",
                       fmt_format_name(to->fmt));
}

static int stmt_writer_finish(struct stmt_writer *w, struct h2h_err *err)
{
    if (w->camt)
        return fmt_camt_writer_finish(w->camt, err);
    if (w->mt)
        return fmt_mt940_writer_finish(w->mt, err);
    if (w->csv)
        return fmt_csv_stmt_writer_finish(w->csv, err);
    if (w->canon)
        return fmt_canon_writer_finish(w->canon, err);
    return 0;
}

static void stmt_writer_free(struct stmt_writer *w)
{
    fmt_camt_writer_free(w->camt);
    fmt_mt940_writer_free(w->mt);
    fmt_csv_stmt_writer_free(w->csv);
    fmt_canon_writer_free(w->canon);
    memset(w, 0, sizeof(*w));
}

/* Append every problem of from to to. */
static void diag_merge(struct fmt_diag *to, const struct fmt_diag *from)
{
    for (size_t i = 0; i < from->n; i++) {
        const struct fmt_problem *p = &from->v[i];
        fmt_diag_add(to, p->line, p->where, p->rule, "%s",
                     p->msg ? p->msg : "");
    }
    if (to)
        to->dropped += from->dropped;
}

static int convert_stmt(const struct fmt_src *src, enum fmt_format from,
                        const struct fmt_convert_opts *o, FILE *out,
                        struct fmt_diag *diag, struct fmt_convert_info *info,
                        struct h2h_err *err)
{
    struct stmt_writer w = {0};
    struct stmt_gate gate = {.info = info};
    struct fmt_stmt_checker *c = NULL;
    struct fmt_diag bal;
    size_t n0 = diag_count(diag);
    int rc;

    fmt_diag_init(&bal, diag ? diag->file : NULL);
    if (diag)
        bal.max = diag->max;
    if (o->to.fmt != FMT_UNKNOWN) {
        if ((rc = stmt_writer_open(&w, &o->to, o, out, err)) < 0)
            goto out;
        gate.next = &w.sink;
    }
    struct fmt_stmt_sink gs = {sg_begin,    sg_stmt_begin, sg_entry,
                               sg_stmt_end, sg_end,        &gate};
    if (!(c = fmt_stmt_checker_new(&bal, &gs))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "cannot create the checker");
        goto out;
    }
    struct fmt_stmt_sink cs = fmt_stmt_checker_sink(c);
    rc = read_stmt(from, src, &cs, diag, err);
    if (rc < 0) {
        if (input_fault(rc))
            rc = fault(diag, rc, err);
        goto out;
    }
    fmt_stmt_checker_finish(c);
    struct fmt_stmt_check_results res;
    fmt_stmt_checker_results(c, &res);
    info->stmt_mismatches = res.unbalanced;
    if (diag_count(diag) > n0) {
        rc = problems_found(diag, n0, fmt_format_name(from), err);
        goto out;
    }
    rc = 0;
    if (gate.next && (rc = stmt_writer_finish(&w, err)) < 0)
        h2h_err_prefix(err, "%s", fmt_format_name(o->to.fmt));
out:
    /* the bank's figures, flagged after the reader's own problems */
    diag_merge(diag, &bal);
    fmt_diag_release(&bal);
    fmt_stmt_checker_free(c);
    stmt_writer_free(&w);
    return rc;
}

/* ---- status reports ------------------------------------------------------
 */

static int convert_status(const struct fmt_src *src, enum fmt_format from,
                          const struct fmt_convert_opts *o, FILE *out,
                          struct fmt_diag *diag, struct fmt_convert_info *info,
                          struct h2h_err *err)
{
    struct fmt_status_report r;
    size_t n0 = diag_count(diag);
    int rc;

    fmt_status_report_init(&r);
    if (from == FMT_PAIN002)
        rc = fmt_pain002_read(src, &r, diag, err);
    else if (from == FMT_CANONICAL)
        rc = fmt_canon_read_status(src, &r, diag, err);
    else
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "%s is not read as a status report",
                         fmt_format_name(from));
    if (rc < 0) {
        if (input_fault(rc))
            rc = fault(diag, rc, err);
        goto out;
    }
    set_msg_id(info, r.msg_id);
    info->n_groups = r.n_pmts;
    for (size_t i = 0; i < r.n_pmts; i++)
        info->n_items += r.pmts[i].n_txs;
    if (diag_count(diag) > n0) {
        rc = problems_found(diag, n0, fmt_format_name(from), err);
        goto out;
    }
    switch (o->to.fmt) {
    case FMT_UNKNOWN: rc = 0; break;
    case FMT_PAIN002:
        rc =
            fmt_pain002_write(out, &r, o->to.version ? o->to.version : 10, err);
        break;
    case FMT_CANONICAL: rc = fmt_canon_write_status(out, &r, err); break;
    default:
        rc = h2h_err_set(err, H2H_EUNSUPPORTED, "cannot write %s",
                         fmt_format_name(o->to.fmt));
        break;
    }
    if (rc < 0)
        h2h_err_prefix(err, "%s", fmt_format_name(o->to.fmt));
out:
    fmt_status_report_release(&r);
    return rc;
}

/* ---- the door ------------------------------------------------------------
 */

/* Can f be read as fam / written as fam?  (canonical and CSV follow the
 * input; CSV is read for payments and written for statements only.) */
static int can_read(enum fmt_format f, enum fmt_family fam)
{
    switch (f) {
    case FMT_PAIN001: return fam == FMT_FAM_PAYMENTS;
    case FMT_PAIN002: return fam == FMT_FAM_STATUS;
    case FMT_CAMT052:
    case FMT_CAMT053:
    case FMT_CAMT054:
    case FMT_MT940:
    case FMT_MT942: return fam == FMT_FAM_STATEMENTS;
    case FMT_CANONICAL: return fam != FMT_FAM_NONE;
    case FMT_CSV: return fam == FMT_FAM_PAYMENTS;
    default: break;
    }
    return 0;
}

static int can_write(enum fmt_format f, enum fmt_family fam)
{
    switch (f) {
    case FMT_PAIN001:
    case FMT_MT101: return fam == FMT_FAM_PAYMENTS;
    case FMT_PAIN002: return fam == FMT_FAM_STATUS;
    case FMT_CAMT052:
    case FMT_CAMT053:
    case FMT_CAMT054:
    case FMT_MT940:
    case FMT_MT942: return fam == FMT_FAM_STATEMENTS;
    case FMT_CANONICAL: return fam != FMT_FAM_NONE;
    case FMT_CSV: return fam == FMT_FAM_STATEMENTS;
    default: break;
    }
    return 0;
}

static int version_ok(const struct fmt_target *t)
{
    const struct fmt_name *n = name_of(t->fmt);
    return !t->version || (n && (t->version == n->versions[0] ||
                                 t->version == n->versions[1]));
}

/* Which family src holds and in which format, given what the caller named
 * (canonical and CSV say their family only by looking); 0 or negative with
 * the input's problem in diag (H2H_EINVALID) or err (I/O). */
static int identify(const struct fmt_src *src, const struct fmt_target *given,
                    enum fmt_format *from, enum fmt_family *fam,
                    struct fmt_diag *diag, struct h2h_err *err)
{
    *from = given->fmt;
    *fam = family_of(*from);
    if (*from != FMT_UNKNOWN && *from != FMT_CANONICAL && *from != FMT_CSV)
        return 0;
    enum fmt_format got;
    enum fmt_family gfam;
    char *buf;
    size_t len;
    int rc = sniff_read(src, &buf, &len, err);
    if (rc < 0)
        return rc;
    sniff_buf(buf, len, &got, &gfam);
    /* NUL bytes: binary or UTF-16/32, which the readers refuse too */
    int binary = memchr(buf, '\0', len) != NULL;
    free(buf);
    if (*from == FMT_UNKNOWN) {
        *from = got;
        *fam = gfam;
    } else if (*from == got) {
        *fam = gfam;
    } else if (*from == FMT_CSV) {
        *fam = FMT_FAM_PAYMENTS; /* the CSV reader says what is wrong */
    }
    if (*from != FMT_UNKNOWN && *fam != FMT_FAM_NONE)
        return 0;
    fmt_diag_add(
        diag, 0, NULL, "input.format", "%s%s",
        given->fmt == FMT_CANONICAL
            ? "not an h2hd canonical document (no <PaymentBatch>, "
              "<StatusReport> or <Statements> in namespace " FMT_CANON_NS ")"
            : "not a format h2hd reads (ISO 20022 pain.001, "
              "pain.002, camt.052/053/054, MT940/MT942, canonical "
              "XML or CSV payments)",
        binary ? "; the file holds binary data or UTF-16/32 text" : "");
    return h2h_err_set(err, H2H_EINVALID,
                       "cannot tell the format of the input");
}

int fmt_convert(const struct fmt_src *src, const struct fmt_convert_opts *o,
                FILE *out, struct fmt_diag *diag, struct fmt_convert_info *info,
                struct h2h_err *err)
{
    struct fmt_convert_info scratch;
    struct h2h_err scratch_err;
    enum fmt_format from;
    enum fmt_family fam;
    int rc;

    /* the readers' words go into diag even when the caller wants no err */
    if (!err) {
        h2h_err_clear(&scratch_err);
        err = &scratch_err;
    }
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof(*info));
    if (!src || !o)
        return h2h_err_set(err, H2H_EINVALID, "no input or no options");
    if (o->to.fmt != FMT_UNKNOWN && !out)
        return h2h_err_set(err, H2H_EINVALID, "no output for %s",
                           fmt_format_name(o->to.fmt));
    rc = identify(src, &o->from, &from, &fam, diag, err);
    info->from = from;
    info->fam = fam;
    if (rc < 0)
        return rc;

    if (!can_read(from, fam))
        return h2h_err_set(err, H2H_EUNSUPPORTED, "h2hd does not read %s%s%s",
                           fmt_format_name(from), from == FMT_CSV ? " " : "",
                           from == FMT_CSV ? family_name(fam) : "");
    if (o->to.fmt != FMT_UNKNOWN && !can_write(o->to.fmt, fam)) {
        enum fmt_family tfam = family_of(o->to.fmt);
        if (tfam != FMT_FAM_NONE && tfam != fam)
            return h2h_err_set(err, H2H_EUNSUPPORTED,
                               "cannot convert %s (%s) to %s (%s)",
                               fmt_format_name(from), family_name(fam),
                               fmt_format_name(o->to.fmt), family_name(tfam));
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "h2hd does not write %s as %s", family_name(fam),
                           fmt_format_name(o->to.fmt));
    }
    if (o->to.fmt != FMT_UNKNOWN && !version_ok(&o->to))
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "h2hd does not write %s.001.%02d",
                           fmt_format_name(o->to.fmt), o->to.version);

    switch (fam) {
    case FMT_FAM_PAYMENTS:
        rc = convert_pay(src, from, o, out, diag, info, err);
        break;
    case FMT_FAM_STATEMENTS:
        rc = convert_stmt(src, from, o, out, diag, info, err);
        break;
    case FMT_FAM_STATUS:
        rc = convert_status(src, from, o, out, diag, info, err);
        break;
    case FMT_FAM_NONE:
        rc = h2h_err_set(err, H2H_EUNSUPPORTED, "no family");
        break;
    }
    if (info == &scratch)
        fmt_convert_info_release(&scratch);
    return rc;
}

/* A format to read: the one given, else the one src looks like. */
static int format_to_read(const struct fmt_src *src, enum fmt_format *fmt,
                          struct h2h_err *err)
{
    enum fmt_family fam;
    if (*fmt != FMT_UNKNOWN)
        return 0;
    return fmt_detect(src, fmt, &fam, err);
}

int fmt_read_payments(const struct fmt_src *src, enum fmt_format fmt,
                      const struct fmt_pay_sink *sink, struct fmt_diag *diag,
                      struct h2h_err *err)
{
    int rc = format_to_read(src, &fmt, err);
    return rc < 0 ? rc : read_pay(fmt, src, sink, diag, err);
}

int fmt_read_statements(const struct fmt_src *src, enum fmt_format fmt,
                        const struct fmt_stmt_sink *sink,
                        struct fmt_diag *diag, struct h2h_err *err)
{
    int rc = format_to_read(src, &fmt, err);
    return rc < 0 ? rc : read_stmt(fmt, src, sink, diag, err);
}
