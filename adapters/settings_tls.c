/*
 * settings_tls.c - the "tls" and "sign" groups that every HTTPS bank
 * shares (openapi_json, cnbank_xml), and turning them into a TLS client
 * and a signing identity; see settings.h.
 */
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "https.h"

#define PATH_MAX_LEN 4096

static const char *const tls_keys[] = {
    "ca_file",    "client_cert",     "client_key",
    "client_p12", "passphrase_file", "pinned_pubkey",
    "proxy",      "no_proxy",        NULL,
};
static const char *const sign_keys[] = {"key", "cert", "p12", "passphrase_file",
                                        NULL};

void aset_tls_read(struct aset *a, const config_setting_t *g,
                   struct aset_tls *out)
{
    const char *G = a->group;
    char w[96], wg[96];
    snprintf(w, sizeof(w), "%s.tls.", G);
    snprintf(wg, sizeof(wg), "%s.tls", G);
    const config_setting_t *t = config_setting_get_member(g, "tls");
    if (!t || !config_setting_is_group(t)) {
        aset_problem(a, t ? t : g,
                     "%s.tls must be a group with the client certificate for "
                     "mutual TLS (client_cert and client_key, or client_p12)",
                     G);
        return;
    }
    aset_check_known(a, t, wg, tls_keys);
    const char *ca =
        aset_str(a, t, w, "ca_file", 0, PATH_MAX_LEN,
                 "PEM file of the CAs the bank's server chains to");
    const char *cc = aset_str(a, t, w, "client_cert", 0, PATH_MAX_LEN,
                              "our TLS client certificate, PEM");
    const char *ck = aset_str(a, t, w, "client_key", 0, PATH_MAX_LEN,
                              "its private key, PEM");
    const char *p12 = aset_str(a, t, w, "client_p12", 0, PATH_MAX_LEN,
                               "certificate and key as PKCS#12");
    const char *pp = aset_str(a, t, w, "passphrase_file", 0, PATH_MAX_LEN,
                              "a file holding the key's passphrase");
    const char *pin = aset_str(a, t, w, "pinned_pubkey", 0, 1024,
                               "\"sha256//base64\" of the server's key");
    const char *px = aset_str(a, t, w, "proxy", 0, 1024,
                              "\"http://host:port\" of a CONNECT proxy");
    const char *np = aset_str(a, t, w, "no_proxy", 0, 4096,
                              "hosts reached without the proxy");
    int has_cc = config_setting_get_member(t, "client_cert") != NULL;
    int has_ck = config_setting_get_member(t, "client_key") != NULL;
    int has_p12 = config_setting_get_member(t, "client_p12") != NULL;
    if (!has_cc && !has_p12)
        aset_problem(
            a, t,
            "%s.tls.client_cert (with client_key) or %s.tls.client_p12 "
            "is required: the bank wants mutual TLS",
            G, G);
    if (has_p12 && (has_cc || has_ck))
        aset_problem(a, config_setting_get_member(t, "client_p12"),
                     "%s.tls.client_p12 holds certificate and key: leave out "
                     "client_cert and client_key",
                     G);
    if (has_ck && !has_cc)
        aset_problem(a, config_setting_get_member(t, "client_key"),
                     "%s.tls.client_key needs %s.tls.client_cert", G, G);
    if (pin && strncmp(pin, "sha256//", 8) != 0)
        aset_problem(a, config_setting_get_member(t, "pinned_pubkey"),
                     "%s.tls.pinned_pubkey must look like \"sha256//base64\" "
                     "(several joined with ';')",
                     G);
    if (px && strncmp(px, "http://", 7) != 0 && strncmp(px, "https://", 8) != 0)
        aset_problem(a, config_setting_get_member(t, "proxy"),
                     "%s.tls.proxy must be \"http://host:port\" or "
                     "\"https://host:port\"",
                     G);
    if (!out)
        return;
    out->ca_file = aset_local_path(a, ca);
    out->client_cert = aset_local_path(a, cc);
    out->client_key = aset_local_path(a, ck);
    out->client_p12 = aset_local_path(a, p12);
    out->passphrase_file = aset_local_path(a, pp);
    out->pinned_pubkey = aset_dup(a, pin);
    out->proxy = aset_dup(a, px);
    out->no_proxy = aset_dup(a, np);
}

void aset_tls_release(struct aset_tls *t)
{
    char **v[] = {&t->ca_file,    &t->client_cert,     &t->client_key,
                  &t->client_p12, &t->passphrase_file, &t->pinned_pubkey,
                  &t->proxy,      &t->no_proxy};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        free(*v[i]);
        *v[i] = NULL;
    }
}

void aset_sign_read(struct aset *a, const config_setting_t *g, int required,
                    struct aset_sign *out)
{
    const char *G = a->group;
    char w[96], wg[96];
    snprintf(w, sizeof(w), "%s.sign.", G);
    snprintf(wg, sizeof(wg), "%s.sign", G);
    const config_setting_t *t = config_setting_get_member(g, "sign");
    if (!t && !required)
        return;
    if (!t || !config_setting_is_group(t)) {
        aset_problem(a, t ? t : g,
                     "%s.sign must be a group with our request-signing "
                     "identity (key and cert, or p12)",
                     G);
        return;
    }
    aset_check_known(a, t, wg, sign_keys);
    const char *k = aset_str(a, t, w, "key", 0, PATH_MAX_LEN,
                             "the signing private key, PEM");
    const char *c =
        aset_str(a, t, w, "cert", 0, PATH_MAX_LEN, "its certificate, PEM");
    const char *p12 = aset_str(a, t, w, "p12", 0, PATH_MAX_LEN,
                               "key and certificate as PKCS#12");
    const char *pp = aset_str(a, t, w, "passphrase_file", 0, PATH_MAX_LEN,
                              "a file holding the key's passphrase");
    int has_k = config_setting_get_member(t, "key") != NULL;
    int has_c = config_setting_get_member(t, "cert") != NULL;
    int has_p12 = config_setting_get_member(t, "p12") != NULL;
    if (!has_k && !has_p12)
        aset_problem(a, t,
                     "%s.sign.key (with cert) or %s.sign.p12 is required: "
                     "requests are signed",
                     G, G);
    if (has_p12 && (has_k || has_c))
        aset_problem(a, config_setting_get_member(t, "p12"),
                     "%s.sign.p12 holds key and certificate: leave out key "
                     "and cert",
                     G);
    if (has_c && !has_k)
        aset_problem(a, config_setting_get_member(t, "cert"),
                     "%s.sign.cert needs %s.sign.key", G, G);
    if (!out)
        return;
    out->key = aset_local_path(a, k);
    out->cert = aset_local_path(a, c);
    out->p12 = aset_local_path(a, p12);
    out->passphrase_file = aset_local_path(a, pp);
}

void aset_sign_release(struct aset_sign *s)
{
    char **v[] = {&s->key, &s->cert, &s->p12, &s->passphrase_file};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        free(*v[i]);
        *v[i] = NULL;
    }
}

int aset_sign_load(const struct aset_sign *s, struct cert_identity **out,
                   struct h2h_err *err)
{
    struct cert_identity_src src = {
        .key_file = s->key,
        .cert_file = s->cert,
        .p12_file = s->p12,
        .passphrase_file = s->passphrase_file,
    };
    int rc = cert_identity_load(&src, out, err);
    return rc < 0 ? h2h_err_prefix(err, "signing identity") : 0;
}

int aset_tls_load(const struct aset_tls *t, struct cert_identity **id,
                  STACK_OF(X509) * *cas, struct h2h_err *err)
{
    struct cert_identity_src src = {.passphrase_file = t->passphrase_file};
    if (t->client_p12) {
        src.p12_file = t->client_p12;
    } else {
        src.key_file = t->client_key ? t->client_key : t->client_cert;
        src.cert_file = t->client_key ? t->client_cert : NULL;
    }
    int rc = cert_identity_load(&src, id, err);
    if (rc < 0)
        return h2h_err_prefix(err, "tls client identity");
    *cas = NULL;
    if (t->ca_file && (rc = cert_load_certs(t->ca_file, cas, err)) < 0) {
        cert_identity_free(*id);
        *id = NULL;
        return h2h_err_prefix(err, "tls.ca_file");
    }
    return 0;
}

int aset_https_client(uv_loop_t *loop, const struct aset_tls *t,
                      unsigned connect_timeout_s, unsigned request_timeout_s,
                      unsigned max_concurrent, struct https_client **out,
                      struct h2h_err *err)
{
    char *pass = NULL;
    int rc;
    if (t->passphrase_file &&
        (rc = aset_secret_read(t->passphrase_file, "tls.passphrase_file", &pass,
                               err)) < 0)
        return rc;
    struct https_opts ho = {
        .ca_file = t->ca_file,
        .client_cert = t->client_cert,
        .client_key = t->client_key,
        .client_p12 = t->client_p12,
        .key_passphrase = pass,
        .pinned_pubkey = t->pinned_pubkey,
        .proxy = t->proxy,
        .no_proxy = t->no_proxy,
        .user_agent = "h2hd",
        .connect_timeout_ms = connect_timeout_s * 1000u,
        .request_timeout_ms = request_timeout_s * 1000u,
        .max_concurrent = max_concurrent,
    };
    rc = https_client_new(loop, &ho, out, err);
    aset_secret_free(pass);
    return rc;
}
