/*
 * cx_config.c - the bank's "cnbank_xml" settings; see cnbank_xml.h for
 * what each means and etc/h2hd.conf.sample for the operator's view.
 *
 * One pass serves check_config (every problem reported, nothing kept) and
 * create (copied).  The profile file is read in both: it is configuration,
 * shipped in etc/, and its mistakes must show in --check-config with the
 * profile's file:line.  Key and certificate files are read only at create
 * (so --check-config works on another machine).
 */
#include "cx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP "cnbank_xml"
#define W GROUP "."

/* h2hd's message ids: "M20261128-000042" */
#define MSG_ID_LEN 16
/* "-" and a transaction index up to 9999 */
#define SERIAL_INDEX_LEN 5

static const char *const known_keys[] = {
    "profile",
    "url",
    "host",
    "port",
    "login",
    "user",
    "accounts",
    "serial_prefix",
    "sign",
    "bank_cert",
    "tls",
    "statement_days",
    "statement_interval",
    "pending_interval",
    "bills_interval",
    "scf_parties",
    "receipts",
    "connect_timeout",
    "request_timeout",
    NULL,
};

static int all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    return strspn(s, "0123456789") == n;
}

static int id_chars(const char *s)
{
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-") == strlen(s);
}

static int url_ok(const char *u)
{
    if (strncmp(u, "https://", 8) != 0)
        return 0;
    const char *h = u + 8;
    size_t hl = strcspn(h, "/");
    if (hl == 0 || memchr(h, '@', hl))
        return 0;
    return strpbrk(u, "# \"<>\\^`{|}") == NULL;
}

static int loopback(const char *h)
{
    return strcmp(h, "127.0.0.1") == 0 || strcmp(h, "::1") == 0 ||
           strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0;
}

static void read_accounts(struct aset *a, const config_setting_t *g,
                          struct cx_settings *s)
{
    const config_setting_t *l = config_setting_get_member(g, "accounts");
    if (!l)
        return;
    if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
        aset_problem(a, l,
                     W "accounts must be a list of account numbers, e.g. "
                       "( \"755912345610001\" )");
        return;
    }
    int n = config_setting_length(l);
    if (s && n > 0 && !(s->accounts = calloc((size_t)n, sizeof(char *)))) {
        a->oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        const char *v = config_setting_type(e) == CONFIG_TYPE_STRING
                            ? config_setting_get_string(e)
                            : NULL;
        if (!v || !all_digits(v, 10, 30)) {
            aset_problem(
                a, e, W "accounts[%d] must be a string of 10 to 30 digits", i);
            continue;
        }
        int dup = 0;
        for (int k = 0; k < i; k++) {
            const config_setting_t *o = config_setting_get_elem(l, (unsigned)k);
            if (config_setting_type(o) == CONFIG_TYPE_STRING &&
                strcmp(config_setting_get_string(o), v) == 0)
                dup = 1;
        }
        if (dup)
            aset_problem(a, e, W "accounts[%d] is listed twice", i);
        else if (s)
            s->accounts[s->n_accounts++] = aset_dup(a, v);
    }
}

static int cnaps_account(const char *ac)
{
    return all_digits(ac, 10, 30);
}

/* cnbank_xml.scf_parties (settings.h): who a voucher goes to.  A
 * <VchrOp> names its counterparty by member id only, and a front end
 * wants the receiver's name, account and bank. */
static void read_parties(struct aset *a, const config_setting_t *g,
                         struct cx_settings *s)
{
    aset_parties(a, g, W, 300, cnaps_account, "10 to 30 digits",
                 s ? &s->parties : NULL, s ? &s->n_parties : NULL);
}

static void read_endpoint(struct aset *a, const config_setting_t *g,
                          const struct cx_profile *p, struct cx_settings *s)
{
    const config_setting_t *um = config_setting_get_member(g, "url");
    const config_setting_t *hm = config_setting_get_member(g, "host");
    const config_setting_t *pm = config_setting_get_member(g, "port");
    const config_setting_t *tm = config_setting_get_member(g, "tls");
    if (p->framing == CX_FRAMING_HTTP) {
        const char *url = aset_str(a, g, W, "url", 1, 1024,
                                   "the front end's https:// address");
        if (url && !url_ok(url))
            aset_problem(a, um,
                         W "url must be \"https://host[:port]/path\" without "
                           "credentials");
        if (hm || pm)
            aset_problem(a, hm ? hm : pm,
                         W "host and port are for framing \"tcp\"; profile %s "
                           "posts over HTTPS to url",
                         p->name);
        aset_tls_read(a, g, s ? &s->tls : NULL);
        if (s)
            s->url = aset_dup(a, url);
        return;
    }
    const char *host =
        aset_str(a, g, W, "host", 1, 255, "the front end's loopback address");
    long long port = aset_int(a, g, "port", 0, 1, 65535, "(a TCP port)");
    if (!pm)
        aset_problem(a, g, W "port (the front end's TCP port) is required");
    if (host && !loopback(host))
        aset_problem(a, hm,
                     W "host must be a loopback address (127.0.0.1, ::1): "
                       "framing \"tcp\" is plain text and only talks to a "
                       "front end on this machine");
    if (um || tm)
        aset_problem(a, um ? um : tm,
                     W "url and tls are for framing \"http\"; profile %s "
                       "talks to a local front end at host and port",
                     p->name);
    if (s) {
        s->host = aset_dup(a, host);
        s->port = (int)port;
    }
}

int cx_settings_read(const config_setting_t *bank, struct aset *a,
                     struct cx_settings *s)
{
    int n0 = a->n;
    const char *pf = NULL;
    const config_setting_t *pfs =
        config_setting_get_member(bank, "payment_format");
    if (pfs && config_setting_type(pfs) == CONFIG_TYPE_STRING)
        pf = config_setting_get_string(pfs);
    if (!pf || strcmp(pf, "canonical") != 0)
        aset_problem(a, pfs ? pfs : bank,
                     "adapter " GROUP " reads payments in h2hd's canonical "
                     "form: set the bank's payment_format = \"canonical\" "
                     "(it is \"%s\")",
                     pf ? pf : "as-received");
    const config_setting_t *g = config_setting_get_member(bank, GROUP);
    if (!g || !config_setting_is_group(g)) {
        aset_problem(a, g ? g : bank,
                     "adapter " GROUP " needs a \"" GROUP "\" group with at "
                     "least profile, login, url (or host and port), sign and "
                     "bank_cert");
        return a->n - n0;
    }
    aset_check_known(a, g, GROUP, known_keys);
    const char *prof = aset_str(a, g, W, "profile", 1, CX_PATH_MAX,
                                "the bank's profile file, e.g. "
                                "\"cnbank/cmb-style.profile\"");
    const char *login =
        aset_str(a, g, W, "login", 1, 30, "our customer / login id");
    const char *user =
        aset_str(a, g, W, "user", 0, 30, "our user / certificate id");
    const char *sp = aset_str(a, g, W, "serial_prefix", 0, 20,
                              "the start of our customer serial numbers");
    const char *bc = aset_str(a, g, W, "bank_cert", 0, CX_PATH_MAX,
                              "the bank's signing certificate, PEM");
    long long sd = aset_int(a, g, "statement_days", 1, 0, 366, "days");
    long long si =
        aset_int(a, g, "statement_interval", 300, 0, 86400, "seconds");
    long long pi = aset_int(a, g, "pending_interval", 60, 0, 86400, "seconds");
    long long bi = aset_int(a, g, "bills_interval", 300, 0, 86400, "seconds");
    long long cto = aset_int(a, g, "connect_timeout", 10, 1, 600, "seconds");
    long long rto = aset_int(a, g, "request_timeout", 60, 1, 3600, "seconds");
    int receipts = 1;
    const config_setting_t *rm = config_setting_get_member(g, "receipts");
    if (rm) {
        if (config_setting_type(rm) != CONFIG_TYPE_BOOL)
            aset_problem(a, rm, W "receipts must be true or false");
        else
            receipts = config_setting_get_bool(rm);
    }
    if (login && !id_chars(login))
        aset_problem(a, config_setting_get_member(g, "login"),
                     W "login may hold letters, digits and '-' only");
    if (user && (!id_chars(user) && !strchr(user, '.')))
        aset_problem(a, config_setting_get_member(g, "user"),
                     W "user may hold letters, digits, '.' and '-' only");
    if (!sp)
        sp = "H2H";
    if (!id_chars(sp))
        aset_problem(a, config_setting_get_member(g, "serial_prefix"),
                     W "serial_prefix may hold letters, digits and '-' only "
                       "(it starts every customer serial number)");
    read_accounts(a, g, s);
    read_parties(a, g, s);

    struct cx_profile *p = NULL;
    char *path = prof ? aset_local_path(a, prof) : NULL;
    if (path) {
        if (cx_profile_load(path, a, config_setting_get_member(g, "profile"),
                            &p) > 0)
            p = NULL;
    }
    if (p) {
        read_endpoint(a, g, p, s);
        int need_sign = p->sig_where != CX_SIG_NONE;
        aset_sign_read(a, g, need_sign, s ? &s->sign : NULL);
        if (p->resp_sig_where != CX_SIG_NONE && !bc)
            aset_problem(a, g,
                         W "bank_cert (the bank's signing certificate) is "
                           "required: profile %s has signed answers",
                         p->name);
        size_t longest = strlen(sp) + MSG_ID_LEN + SERIAL_INDEX_LEN;
        if (longest > (size_t)p->limits.serial)
            aset_problem(a,
                         config_setting_get_member(g, "serial_prefix")
                             ? config_setting_get_member(g, "serial_prefix")
                             : g,
                         W "serial_prefix \"%s\" is too long for profile %s: "
                           "serials are prefix + message id (16) + \"-\" + "
                           "index, at most %d characters",
                         sp, p->name, p->limits.serial);
    }
    if (s && a->n == n0) {
        s->profile_path = path;
        path = NULL;
        s->profile = p;
        p = NULL;
        s->login = aset_dup(a, login);
        s->user = aset_dup(a, user ? user : login);
        s->serial_prefix = aset_dup(a, sp);
        s->bank_cert = aset_local_path(a, bc);
        s->statement_days = (int)sd;
        s->statement_interval_s = (unsigned)si;
        s->pending_interval_s = (unsigned)pi;
        s->bills_interval_s = (unsigned)bi;
        s->receipts = receipts;
        s->connect_timeout_s = (unsigned)cto;
        s->request_timeout_s = (unsigned)rto;
        int ms = 0;
        s->max_concurrent =
            config_setting_lookup_int(bank, "max_sessions", &ms) && ms > 0 ? ms
                                                                           : 4;
    }
    cx_profile_free(p);
    free(path);
    return a->n - n0;
}

void cx_settings_release(struct cx_settings *s)
{
    char **strs[] = {&s->profile_path, &s->url,  &s->host,
                     &s->login,        &s->user, &s->serial_prefix,
                     &s->bank_cert};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    for (size_t i = 0; i < s->n_accounts; i++)
        free(s->accounts[i]);
    free(s->accounts);
    s->accounts = NULL;
    s->n_accounts = 0;
    aset_parties_free(s->parties, s->n_parties);
    s->parties = NULL;
    s->n_parties = 0;
    aset_tls_release(&s->tls);
    aset_sign_release(&s->sign);
    cx_profile_free(s->profile);
    s->profile = NULL;
}
