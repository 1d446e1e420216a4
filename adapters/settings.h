/*
 * settings.h - reading an adapter's settings group from the config.
 *
 * Every adapter checks its own subtree of a bank's config in one pass that
 * serves both check_config (every problem reported, file:line style,
 * nothing kept) and create (the settings of a subtree that passed are
 * copied).  These helpers are that pass's vocabulary: typed lookups that
 * report what is wrong in the operator's words, unknown names refused, and
 * local paths resolved against the daemon's base_dir.
 *
 * Ownership: strings returned by aset_str() belong to the config tree;
 * aset_dup() and aset_local_path() return malloc'd copies the caller
 * frees (NULL with a->oom set when memory ran out).
 * Threads: loop thread (config parsing), like the adapters.
 */
#ifndef H2H_ADAPTER_SETTINGS_H
#define H2H_ADAPTER_SETTINGS_H

#include <stddef.h>

#include <libconfig.h>
#include <openssl/x509.h>
#include <uv.h>

#include "h2h_err.h"

struct aset {
    /* where problems go (check_config's report, or aset_first_report) */
    void (*report)(void *ctx, const config_setting_t *s, const char *msg);
    void *ctx;
    const char *group;    /* the adapter's group name, for messages */
    const char *base_dir; /* local paths are relative to it (may be NULL) */
    int n;                /* problems reported so far */
    int oom;              /* a copy could not be made */
};

void aset_problem(struct aset *a, const config_setting_t *s, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));
/* 1 when s holds a control character. */
int aset_has_ctl(const char *s);
/* A string member of g; NULL when absent (reported when required) or bad
 * (reported: not a string, empty, longer than max, control characters).
 * where prefixes the name in messages ("openapi_json.", "... tls."). */
const char *aset_str(struct aset *a, const config_setting_t *g,
                     const char *where, const char *name, int required,
                     size_t max, const char *what);
/* A whole number member of g in [min, max]; def when absent or bad (bad
 * is reported, naming unit). */
long long aset_int(struct aset *a, const config_setting_t *g, const char *name,
                   long long def, long long min, long long max,
                   const char *unit);
/* Report every member of g whose name is not in known (NULL-terminated):
 * a typo never passes silently. */
void aset_check_known(struct aset *a, const config_setting_t *g,
                      const char *where, const char *const *known);
/* Copies (see Ownership); NULL in, NULL out. */
char *aset_dup(struct aset *a, const char *s);
char *aset_local_path(struct aset *a, const char *p);

/* For create: keep the first problem as "line N: message". */
struct aset_first {
    int n;
    char msg[600];
};
void aset_first_report(void *ctx, const config_setting_t *s, const char *msg);
/* After a pass with aset_first_report: 0, H2H_ECONFIG with the first
 * problem (" (and more)" when there were others) or H2H_ENOMEM. */
int aset_result(const struct aset *a, const struct aset_first *f,
                struct h2h_err *err);

/* The "tls" group of an HTTPS bank (openapi_json, cnbank_xml):
 *   tls = { ca_file; client_cert; client_key; | client_p12;
 *           passphrase_file; pinned_pubkey; proxy; no_proxy; };
 * Paths are resolved against base_dir; every member may be NULL. */
struct aset_tls {
    char *ca_file, *client_cert, *client_key, *client_p12;
    char *passphrase_file, *pinned_pubkey, *proxy, *no_proxy;
};
/* Check g's "tls" member (required: the bank wants mutual TLS) and, with
 * out, copy it.  group names the adapter's group in messages. */
void aset_tls_read(struct aset *a, const config_setting_t *g,
                   struct aset_tls *out);
void aset_tls_release(struct aset_tls *t);

/* The "sign" group: our request-signing identity,
 *   sign = { key; cert; | p12; passphrase_file; };
 * required unless required is 0 (then absent is fine). */
struct aset_sign {
    char *key, *cert, *p12, *passphrase_file;
};
void aset_sign_read(struct aset *a, const config_setting_t *g, int required,
                    struct aset_sign *out);
void aset_sign_release(struct aset_sign *s);

/* The first line of path (without its line end) into a new string the
 * caller wipes and frees (aset_secret_free).  The file must be a regular
 * file without any permission for group or others (H2H_ESECURITY), at
 * most 4 KiB, its line not empty.  Messages name the file, never the
 * content.  Any thread. */
int aset_secret_read(const char *path, const char *what, char **out,
                     struct h2h_err *err);
void aset_secret_free(char *s);

/* Loading what the groups name (create only; files are read here).
 * aset_sign_load: the signing identity (cert_identity_free).
 * aset_tls_load: the TLS client identity and the CA certificates (NULL
 * when no ca_file), for the certificate inventory and so that problems
 * are named at create (curl loads its own copies).
 * aset_https_client: an HTTPS client with these TLS settings (the
 * passphrase is read from its file and wiped again). */
struct cert_identity;
struct https_client;
int aset_sign_load(const struct aset_sign *s, struct cert_identity **out,
                   struct h2h_err *err);
int aset_tls_load(const struct aset_tls *t, struct cert_identity **id,
                  STACK_OF(X509) * *cas, struct h2h_err *err);
int aset_https_client(uv_loop_t *loop, const struct aset_tls *t,
                      unsigned connect_timeout_s, unsigned request_timeout_s,
                      unsigned max_concurrent, struct https_client **out,
                      struct h2h_err *err);

/* ---- voucher parties (settings_parties.c) -------------------------------
 *
 * A voucher platform names parties by member id (e.g. the unified social
 * credit code); banks want name, account and bank code.  The HTTPS
 * adapters' setting scf_parties maps one to the other:
 *   scf_parties = ( { id = "..."; name = "..."; account = "...";
 *                     bank_code = "<12 digits>"; }, ... );
 */
struct aset_party {
    char *id, *name, *account, *bank_code;
};
/* Read g's scf_parties (absent: none).  where prefixes messages
 * ("cnbank_xml."); name_max bounds names (characters as bytes);
 * account_ok(account) says whether the bank takes the account, and
 * account_rule says what it takes, for the message.  An id listed twice
 * is a problem.  With out (create): *out a calloc'd array of *n copies,
 * freed with aset_parties_free; entries with problems are left out. */
void aset_parties(struct aset *a, const config_setting_t *g, const char *where,
                  size_t name_max, int (*account_ok)(const char *account),
                  const char *account_rule, struct aset_party **out,
                  size_t *n);
void aset_parties_free(struct aset_party *p, size_t n);
/* The entry for member id, or NULL. */
const struct aset_party *aset_party_find(const struct aset_party *p, size_t n,
                                         const char *id);

#endif
