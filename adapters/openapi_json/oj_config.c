/*
 * oj_config.c - the bank's "openapi_json" settings; see openapi_json.h
 * for what each means and etc/h2hd.conf.sample for the operator's view.
 *
 * One pass over the subtree serves both check_config (every problem
 * reported, file:line style, nothing kept) and create (the settings of a
 * subtree that passed are copied).  Only syntax and ranges are checked:
 * files are read when the adapter is created, so that --check-config
 * works on another machine.
 */
#include "oj_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"

#define GROUP "openapi_json"

struct pctx {
    oj_report_fn report;
    void *ctx;
    int n;
    int oom;
    const char *base_dir;
    struct oj_settings *s; /* NULL: check only */
};

static void problem(struct pctx *pc, const config_setting_t *s, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));
static void problem(struct pctx *pc, const config_setting_t *s, const char *fmt,
                    ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pc->report(pc->ctx, s, msg);
    pc->n++;
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* A string member of g; NULL when absent (reported when required) or bad
 * (reported).  where: "openapi_json." or "openapi_json.tls.". */
static const char *str_opt(struct pctx *pc, const config_setting_t *g,
                           const char *where, const char *name, int required,
                           size_t max, const char *what)
{
    const config_setting_t *m = g ? config_setting_get_member(g, name) : NULL;
    if (!m) {
        if (required)
            problem(pc, g, "%s%s (%s) is required", where, name, what);
        return NULL;
    }
    if (config_setting_type(m) != CONFIG_TYPE_STRING) {
        problem(pc, m, "%s%s must be a string (%s)", where, name, what);
        return NULL;
    }
    const char *s = config_setting_get_string(m);
    if (!*s) {
        problem(pc, m, "%s%s must not be empty (%s)", where, name, what);
        return NULL;
    }
    if (strlen(s) > max) {
        problem(pc, m, "%s%s is longer than %zu bytes", where, name, max);
        return NULL;
    }
    if (has_ctl(s)) {
        problem(pc, m, "%s%s contains a control character", where, name);
        return NULL;
    }
    return s;
}

static long long int_opt(struct pctx *pc, const config_setting_t *g,
                         const char *name, long long def, long long min,
                         long long max, const char *unit)
{
    const config_setting_t *m = config_setting_get_member(g, name);
    if (!m)
        return def;
    int t = config_setting_type(m);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
        problem(pc, m, GROUP ".%s must be a whole number of %s", name, unit);
        return def;
    }
    long long v = config_setting_get_int64(m);
    if (v < min || v > max) {
        problem(pc, m, GROUP ".%s must be between %lld and %lld %s", name, min,
                max, unit);
        return def;
    }
    return v;
}

/* Unknown members are errors: a typo never passes silently. */
static void check_known(struct pctx *pc, const config_setting_t *g,
                        const char *where, const char *const *known)
{
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *nm = config_setting_name(m);
        int ok = 0;
        for (const char *const *k = known; nm && *k; k++)
            if (strcmp(nm, *k) == 0)
                ok = 1;
        if (!ok)
            problem(pc, m, "unknown %s setting \"%s\"", where, nm ? nm : "?");
    }
}

static char *xdup(struct pctx *pc, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        pc->oom = 1;
    return d;
}

/* Local paths are relative to the daemon's base_dir. */
static char *local_path(struct pctx *pc, const char *p)
{
    if (!p)
        return NULL;
    if (p[0] == '/' || !pc->base_dir || !*pc->base_dir)
        return xdup(pc, p);
    char *out = NULL;
    if (asprintf(&out, "%s/%s", pc->base_dir, p) < 0) {
        pc->oom = 1;
        return NULL;
    }
    return out;
}

static const char *const known_keys[] = {
    "base_url",
    "client_id",
    "client_secret_file",
    "scope",
    "token_path",
    "tls",
    "sign",
    "bank_cert",
    "replay_window",
    "accounts",
    "statement_days",
    "statement_interval",
    "pending_interval",
    "connect_timeout",
    "request_timeout",
    NULL,
};
static const char *const tls_keys[] = {
    "ca_file",    "client_cert",     "client_key",
    "client_p12", "passphrase_file", "pinned_pubkey",
    "proxy",      "no_proxy",        NULL,
};
static const char *const sign_keys[] = {"key", "cert", "p12", "passphrase_file",
                                        NULL};

/* "https://host[:port][/prefix]": no credentials, query or fragment. */
static int url_ok(const char *u)
{
    if (strncmp(u, "https://", 8) != 0)
        return 0;
    const char *h = u + 8;
    size_t hl = strcspn(h, "/");
    if (hl == 0 || memchr(h, '@', hl))
        return 0;
    if (strpbrk(u, "?# \"<>\\^`{|}"))
        return 0;
    return 1;
}

static void parse_tls(struct pctx *pc, const config_setting_t *g)
{
    const char *w = GROUP ".tls.";
    const config_setting_t *t = config_setting_get_member(g, "tls");
    if (!t || !config_setting_is_group(t)) {
        problem(pc, t ? t : g,
                GROUP ".tls must be a group with the client certificate for "
                      "mutual TLS (client_cert and client_key, or "
                      "client_p12)");
        return;
    }
    check_known(pc, t, "openapi_json.tls", tls_keys);
    const char *ca = str_opt(pc, t, w, "ca_file", 0, OJ_PATH_MAX,
                             "PEM file of the CAs the bank's server chains to");
    const char *cc = str_opt(pc, t, w, "client_cert", 0, OJ_PATH_MAX,
                             "our TLS client certificate, PEM");
    const char *ck =
        str_opt(pc, t, w, "client_key", 0, OJ_PATH_MAX, "its private key, PEM");
    const char *p12 = str_opt(pc, t, w, "client_p12", 0, OJ_PATH_MAX,
                              "certificate and key as PKCS#12");
    const char *pp = str_opt(pc, t, w, "passphrase_file", 0, OJ_PATH_MAX,
                             "a file holding the key's passphrase");
    const char *pin = str_opt(pc, t, w, "pinned_pubkey", 0, 1024,
                              "\"sha256//base64\" of the server's key");
    const char *px = str_opt(pc, t, w, "proxy", 0, 1024,
                             "\"http://host:port\" of a CONNECT proxy");
    const char *np = str_opt(pc, t, w, "no_proxy", 0, 4096,
                             "hosts reached without the proxy");
    int has_cc = config_setting_get_member(t, "client_cert") != NULL;
    int has_ck = config_setting_get_member(t, "client_key") != NULL;
    int has_p12 = config_setting_get_member(t, "client_p12") != NULL;
    if (!has_cc && !has_p12)
        problem(pc, t,
                GROUP ".tls.client_cert (with client_key) or " GROUP
                      ".tls.client_p12 is required: the bank wants mutual "
                      "TLS");
    if (has_p12 && (has_cc || has_ck))
        problem(pc, config_setting_get_member(t, "client_p12"),
                GROUP ".tls.client_p12 holds certificate and key: leave out "
                      "client_cert and client_key");
    if (has_ck && !has_cc)
        problem(pc, config_setting_get_member(t, "client_key"),
                GROUP ".tls.client_key needs " GROUP ".tls.client_cert");
    if (pin && strncmp(pin, "sha256//", 8) != 0)
        problem(pc, config_setting_get_member(t, "pinned_pubkey"),
                GROUP ".tls.pinned_pubkey must look like \"sha256//base64\" "
                      "(several joined with ';')");
    if (px && strncmp(px, "http://", 7) != 0 && strncmp(px, "https://", 8) != 0)
        problem(pc, config_setting_get_member(t, "proxy"),
                GROUP ".tls.proxy must be \"http://host:port\" or "
                      "\"https://host:port\"");
    struct oj_settings *s = pc->s;
    if (!s)
        return;
    s->ca_file = local_path(pc, ca);
    s->client_cert = local_path(pc, cc);
    s->client_key = local_path(pc, ck);
    s->client_p12 = local_path(pc, p12);
    s->tls_passphrase_file = local_path(pc, pp);
    s->pinned_pubkey = xdup(pc, pin);
    s->proxy = xdup(pc, px);
    s->no_proxy = xdup(pc, np);
}

static void parse_sign(struct pctx *pc, const config_setting_t *g)
{
    const char *w = GROUP ".sign.";
    const config_setting_t *t = config_setting_get_member(g, "sign");
    if (!t || !config_setting_is_group(t)) {
        problem(pc, t ? t : g,
                GROUP ".sign must be a group with our request-signing "
                      "identity (key and cert, or p12)");
        return;
    }
    check_known(pc, t, "openapi_json.sign", sign_keys);
    const char *k = str_opt(pc, t, w, "key", 0, OJ_PATH_MAX,
                            "the signing private key, PEM");
    const char *c =
        str_opt(pc, t, w, "cert", 0, OJ_PATH_MAX, "its certificate, PEM");
    const char *p12 = str_opt(pc, t, w, "p12", 0, OJ_PATH_MAX,
                              "key and certificate as PKCS#12");
    const char *pp = str_opt(pc, t, w, "passphrase_file", 0, OJ_PATH_MAX,
                             "a file holding the key's passphrase");
    int has_k = config_setting_get_member(t, "key") != NULL;
    int has_c = config_setting_get_member(t, "cert") != NULL;
    int has_p12 = config_setting_get_member(t, "p12") != NULL;
    if (!has_k && !has_p12)
        problem(pc, t,
                GROUP ".sign.key (with cert) or " GROUP
                      ".sign.p12 is required: payment requests are signed");
    if (has_p12 && (has_k || has_c))
        problem(pc, config_setting_get_member(t, "p12"),
                GROUP ".sign.p12 holds key and certificate: leave out key "
                      "and cert");
    if (has_c && !has_k)
        problem(pc, config_setting_get_member(t, "cert"),
                GROUP ".sign.cert needs " GROUP ".sign.key");
    struct oj_settings *s = pc->s;
    if (!s)
        return;
    s->sign_key = local_path(pc, k);
    s->sign_cert = local_path(pc, c);
    s->sign_p12 = local_path(pc, p12);
    s->sign_passphrase_file = local_path(pc, pp);
}

static void parse_accounts(struct pctx *pc, const config_setting_t *g)
{
    const config_setting_t *l = config_setting_get_member(g, "accounts");
    if (!l)
        return;
    if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
        problem(pc, l,
                GROUP ".accounts must be a list of IBANs, e.g. "
                      "( \"DE89370400440532013000\" )");
        return;
    }
    int n = config_setting_length(l);
    struct oj_settings *s = pc->s;
    if (s && n > 0 && !(s->accounts = calloc((size_t)n, sizeof(char *)))) {
        pc->oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            problem(pc, e, GROUP ".accounts[%d] must be a string (an IBAN)", i);
            continue;
        }
        char iban[64];
        struct h2h_err ie = {0};
        const char *v = config_setting_get_string(e);
        if (fmt_iban_normalize(v, iban, sizeof(iban)) < 0 ||
            fmt_iban_check(iban, &ie) != 0) {
            /* the message names the account: the config is the operator's
             * own, not a log line */
            problem(pc, e, GROUP ".accounts[%d] is not a valid IBAN%s%s", i,
                    ie.msg[0] ? ": " : "", ie.msg);
            continue;
        }
        for (int k = 0; k < i && s; k++)
            if (s->accounts[k] && strcmp(s->accounts[k], iban) == 0)
                iban[0] = '\0';
        if (s && iban[0])
            s->accounts[s->n_accounts++] = xdup(pc, iban);
    }
}

static void parse(const config_setting_t *bank, struct pctx *pc)
{
    const config_setting_t *g = config_setting_get_member(bank, GROUP);
    struct oj_settings *s = pc->s;
    const char *pf = NULL;
    const config_setting_t *pfs =
        config_setting_get_member(bank, "payment_format");
    if (pfs && config_setting_type(pfs) == CONFIG_TYPE_STRING)
        pf = config_setting_get_string(pfs);
    if (!pf || strcmp(pf, "canonical") != 0)
        problem(pc, pfs ? pfs : bank,
                "adapter " GROUP " reads payments in h2hd's canonical form: "
                "set the bank's payment_format = \"canonical\" (it is "
                "\"%s\")",
                pf ? pf : "as-received");
    if (!g || !config_setting_is_group(g)) {
        problem(pc, g ? g : bank,
                "adapter " GROUP " needs an \"" GROUP "\" group with at "
                "least base_url, client_id, client_secret_file, tls, sign "
                "and bank_cert");
        return;
    }
    check_known(pc, g, GROUP, known_keys);
    const char *w = GROUP ".";
    const char *url = str_opt(pc, g, w, "base_url", 1, 1024,
                              "the bank's API root, https://...");
    if (url && !url_ok(url)) {
        problem(pc, config_setting_get_member(g, "base_url"),
                GROUP ".base_url must be an https:// URL without "
                      "credentials, query or fragment");
        url = NULL;
    }
    const char *cid =
        str_opt(pc, g, w, "client_id", 1, 256, "our OAuth2 client id");
    const char *csf = str_opt(pc, g, w, "client_secret_file", 1, OJ_PATH_MAX,
                              "a file holding the OAuth2 client secret");
    const char *scope =
        str_opt(pc, g, w, "scope", 0, 256, "the OAuth2 scope to ask for");
    const char *tp = str_opt(pc, g, w, "token_path", 0, 1024,
                             "the token endpoint below base_url, or a URL");
    if (tp && tp[0] != '/' && !url_ok(tp)) {
        problem(pc, config_setting_get_member(g, "token_path"),
                GROUP ".token_path must start with '/' (below base_url) or "
                      "be an https:// URL");
        tp = NULL;
    }
    const char *bc = str_opt(pc, g, w, "bank_cert", 1, OJ_PATH_MAX,
                             "the bank's response-signing certificate");
    long long rw = int_opt(pc, g, "replay_window", 300, 1, 86400, "seconds");
    long long sd = int_opt(pc, g, "statement_days", 1, 0, 366, "days");
    long long si =
        int_opt(pc, g, "statement_interval", 300, 0, 86400, "seconds");
    long long pi = int_opt(pc, g, "pending_interval", 60, 0, 86400, "seconds");
    long long cto = int_opt(pc, g, "connect_timeout", 10, 1, 600, "seconds");
    long long rto = int_opt(pc, g, "request_timeout", 60, 1, 3600, "seconds");
    parse_tls(pc, g);
    parse_sign(pc, g);
    parse_accounts(pc, g);
    if (!s || pc->n)
        return;
    size_t ul = strlen(url);
    while (ul > 8 && url[ul - 1] == '/')
        ul--;
    if (!(s->base_url = strndup(url, ul)))
        pc->oom = 1;
    s->client_id = xdup(pc, cid);
    s->client_secret_file = local_path(pc, csf);
    s->scope = xdup(pc, scope);
    if (!tp)
        tp = "/oauth/token";
    if (tp[0] == '/') {
        if (s->base_url && asprintf(&s->token_url, "%s%s", s->base_url, tp) < 0)
            s->token_url = NULL, pc->oom = 1;
    } else {
        s->token_url = xdup(pc, tp);
    }
    s->bank_cert = local_path(pc, bc);
    s->replay_window_s = (unsigned)rw;
    s->statement_days = (unsigned)sd;
    s->statement_interval_s = (unsigned)si;
    s->pending_interval_s = (unsigned)pi;
    s->connect_timeout_s = (unsigned)cto;
    s->request_timeout_s = (unsigned)rto;
    int ms = 0;
    s->max_sessions =
        config_setting_lookup_int(bank, "max_sessions", &ms) && ms > 0
            ? (unsigned)ms
            : 4;
}

int oj_check_config(const config_setting_t *bank, oj_report_fn report,
                    void *ctx)
{
    struct pctx pc = {.report = report, .ctx = ctx};
    parse(bank, &pc);
    return pc.n;
}

struct first_problem {
    int n;
    char msg[600];
};

static void first_report(void *ctx, const config_setting_t *s, const char *msg)
{
    struct first_problem *f = ctx;
    if (f->n++ == 0)
        snprintf(f->msg, sizeof(f->msg), "line %d: %.500s",
                 s ? config_setting_source_line(s) : 0, msg);
}

int oj_settings_load(const config_setting_t *bank, const char *base_dir,
                     struct oj_settings *s, struct h2h_err *err)
{
    struct first_problem fp = {0};
    struct pctx pc = {
        .report = first_report, .ctx = &fp, .base_dir = base_dir, .s = s};
    parse(bank, &pc);
    if (pc.n)
        return h2h_err_set(err, H2H_ECONFIG, "%s%s", fp.msg,
                           pc.n > 1 ? " (and more)" : "");
    if (pc.oom)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

void oj_settings_release(struct oj_settings *s)
{
    char **strs[] = {
        &s->base_url,
        &s->client_id,
        &s->client_secret_file,
        &s->scope,
        &s->token_url,
        &s->ca_file,
        &s->client_cert,
        &s->client_key,
        &s->client_p12,
        &s->tls_passphrase_file,
        &s->pinned_pubkey,
        &s->proxy,
        &s->no_proxy,
        &s->sign_key,
        &s->sign_cert,
        &s->sign_p12,
        &s->sign_passphrase_file,
        &s->bank_cert,
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    for (size_t i = 0; i < s->n_accounts; i++)
        free(s->accounts[i]);
    free(s->accounts);
    s->accounts = NULL;
    s->n_accounts = 0;
}
