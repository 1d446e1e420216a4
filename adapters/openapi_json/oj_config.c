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

#include "settings.h"

#define GROUP "openapi_json"

struct pctx {
    struct aset a;         /* the pass: problems, base_dir */
    struct oj_settings *s; /* NULL: check only */
};

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
    "kinds",
    "bills_interval",
    "bills_account",
    "scf_parties",
    NULL,
};
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

static void parse_accounts(struct pctx *pc, const config_setting_t *g)
{
    const config_setting_t *l = config_setting_get_member(g, "accounts");
    if (!l)
        return;
    if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
        aset_problem(&pc->a, l,
                     GROUP ".accounts must be a list of IBANs, e.g. "
                           "( \"DE89370400440532013000\" )");
        return;
    }
    int n = config_setting_length(l);
    struct oj_settings *s = pc->s;
    if (s && n > 0 && !(s->accounts = calloc((size_t)n, sizeof(char *)))) {
        pc->a.oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            aset_problem(&pc->a, e,
                         GROUP ".accounts[%d] must be a string (an IBAN)", i);
            continue;
        }
        char iban[64];
        struct h2h_err ie = {0};
        const char *v = config_setting_get_string(e);
        if (fmt_iban_normalize(v, iban, sizeof(iban)) < 0 ||
            fmt_iban_check(iban, &ie) != 0) {
            /* the message names the account: the config is the operator's
             * own, not a log line */
            aset_problem(&pc->a, e,
                         GROUP ".accounts[%d] is not a valid IBAN%s%s", i,
                         ie.msg[0] ? ": " : "", ie.msg);
            continue;
        }
        for (int k = 0; k < i && s; k++)
            if (s->accounts[k] && strcmp(s->accounts[k], iban) == 0)
                iban[0] = '\0';
        if (s && iban[0])
            s->accounts[s->n_accounts++] = aset_dup(&pc->a, iban);
    }
}

/* openapi_json.kinds: what this bank takes, like dirdrop.kinds; default
 * payments only. */
static void parse_kinds(struct pctx *pc, const config_setting_t *g)
{
    const config_setting_t *k = config_setting_get_member(g, "kinds");
    unsigned kinds = H2H_KIND_PAYMENTS;
    if (k) {
        int ok = config_setting_is_aggregate(k) && config_setting_length(k) > 0;
        kinds = 0;
        for (int i = 0; ok && i < config_setting_length(k); i++) {
            const char *v = config_setting_get_string_elem(k, i);
            unsigned bit = v && *v ? h2h_kind_bit(v) : 0;
            ok = bit != 0;
            kinds |= bit;
        }
        if (!ok) {
            aset_problem(&pc->a, k,
                         GROUP ".kinds must be a list of \"payment\", "
                               "\"bill\" and \"scf\"");
            return;
        }
    }
    if (pc->s)
        pc->s->kinds = kinds;
}

/* The bank's account form (section 3 of its contract): digits and capital
 * letters. */
static int account_ok(const char *ac)
{
    return strspn(ac, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(ac);
}

/* openapi_json.scf_parties (settings.h) */
static void parse_parties(struct pctx *pc, const config_setting_t *g)
{
    struct oj_settings *s = pc->s;
    aset_parties(&pc->a, g, GROUP ".", 100, account_ok,
                 "digits and capital letters", s ? &s->parties : NULL,
                 s ? &s->n_parties : NULL);
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
        aset_problem(&pc->a, pfs ? pfs : bank,
                     "adapter " GROUP
                     " reads payments in h2hd's canonical form: "
                     "set the bank's payment_format = \"canonical\" (it is "
                     "\"%s\")",
                     pf ? pf : "as-received");
    if (!g || !config_setting_is_group(g)) {
        aset_problem(&pc->a, g ? g : bank,
                     "adapter " GROUP " needs an \"" GROUP "\" group with at "
                     "least base_url, client_id, client_secret_file, tls, sign "
                     "and bank_cert");
        return;
    }
    aset_check_known(&pc->a, g, GROUP, known_keys);
    const char *w = GROUP ".";
    const char *url = aset_str(&pc->a, g, w, "base_url", 1, 1024,
                               "the bank's API root, https://...");
    if (url && !url_ok(url)) {
        aset_problem(&pc->a, config_setting_get_member(g, "base_url"),
                     GROUP ".base_url must be an https:// URL without "
                           "credentials, query or fragment");
        url = NULL;
    }
    const char *cid =
        aset_str(&pc->a, g, w, "client_id", 1, 256, "our OAuth2 client id");
    const char *csf =
        aset_str(&pc->a, g, w, "client_secret_file", 1, OJ_PATH_MAX,
                 "a file holding the OAuth2 client secret");
    const char *scope =
        aset_str(&pc->a, g, w, "scope", 0, 256, "the OAuth2 scope to ask for");
    const char *tp = aset_str(&pc->a, g, w, "token_path", 0, 1024,
                              "the token endpoint below base_url, or a URL");
    if (tp && tp[0] != '/' && !url_ok(tp)) {
        aset_problem(&pc->a, config_setting_get_member(g, "token_path"),
                     GROUP
                     ".token_path must start with '/' (below base_url) or "
                     "be an https:// URL");
        tp = NULL;
    }
    const char *bc = aset_str(&pc->a, g, w, "bank_cert", 1, OJ_PATH_MAX,
                              "the bank's response-signing certificate");
    long long rw =
        aset_int(&pc->a, g, "replay_window", 300, 1, 86400, "seconds");
    long long sd = aset_int(&pc->a, g, "statement_days", 1, 0, 366, "days");
    long long si =
        aset_int(&pc->a, g, "statement_interval", 300, 0, 86400, "seconds");
    long long pi =
        aset_int(&pc->a, g, "pending_interval", 60, 0, 86400, "seconds");
    long long cto =
        aset_int(&pc->a, g, "connect_timeout", 10, 1, 600, "seconds");
    long long rto =
        aset_int(&pc->a, g, "request_timeout", 60, 1, 3600, "seconds");
    long long bi =
        aset_int(&pc->a, g, "bills_interval", 300, 0, 86400, "seconds");
    const char *ba = aset_str(&pc->a, g, w, "bills_account", 0, 34,
                              "our account for bill money (digits and "
                              "capital letters)");
    if (ba && strspn(ba, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(ba)) {
        aset_problem(&pc->a, config_setting_get_member(g, "bills_account"),
                     GROUP ".bills_account must be 1-34 digits or capital "
                           "letters");
        ba = NULL;
    }
    parse_kinds(pc, g);
    parse_parties(pc, g);
    aset_tls_read(&pc->a, g, s ? &s->tls : NULL);
    aset_sign_read(&pc->a, g, 1, s ? &s->sign : NULL);
    parse_accounts(pc, g);
    if (!s || pc->a.n)
        return;
    size_t ul = strlen(url);
    while (ul > 8 && url[ul - 1] == '/')
        ul--;
    if (!(s->base_url = strndup(url, ul)))
        pc->a.oom = 1;
    s->client_id = aset_dup(&pc->a, cid);
    s->client_secret_file = aset_local_path(&pc->a, csf);
    s->scope = aset_dup(&pc->a, scope);
    if (!tp)
        tp = "/oauth/token";
    if (tp[0] == '/') {
        if (s->base_url && asprintf(&s->token_url, "%s%s", s->base_url, tp) < 0)
            s->token_url = NULL, pc->a.oom = 1;
    } else {
        s->token_url = aset_dup(&pc->a, tp);
    }
    s->bank_cert = aset_local_path(&pc->a, bc);
    s->replay_window_s = (unsigned)rw;
    s->statement_days = (unsigned)sd;
    s->statement_interval_s = (unsigned)si;
    s->pending_interval_s = (unsigned)pi;
    s->bills_interval_s = (unsigned)bi;
    s->bills_account = ba && *ba ? aset_dup(&pc->a, ba) : NULL;
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
    struct pctx pc = {.a = {.report = report, .ctx = ctx, .group = GROUP}};
    parse(bank, &pc);
    return pc.a.n;
}

int oj_settings_load(const config_setting_t *bank, const char *base_dir,
                     struct oj_settings *s, struct h2h_err *err)
{
    struct aset_first fp = {0};
    struct pctx pc = {.a = {.report = aset_first_report,
                            .ctx = &fp,
                            .group = GROUP,
                            .base_dir = base_dir},
                      .s = s};
    parse(bank, &pc);
    return aset_result(&pc.a, &fp, err);
}

void oj_settings_release(struct oj_settings *s)
{
    char **strs[] = {
        &s->base_url,
        &s->client_id,
        &s->client_secret_file,
        &s->scope,
        &s->token_url,
        &s->bank_cert,
        &s->bills_account,
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    aset_parties_free(s->parties, s->n_parties);
    s->parties = NULL;
    s->n_parties = 0;
    aset_tls_release(&s->tls);
    aset_sign_release(&s->sign);
    for (size_t i = 0; i < s->n_accounts; i++)
        free(s->accounts[i]);
    free(s->accounts);
    s->accounts = NULL;
    s->n_accounts = 0;
}
