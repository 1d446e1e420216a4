/*
 * test_certs.c - certs/: identities, trust stores, CMS and XML-DSig
 * signatures, replay window, inventory.
 *
 * Truth from outside: a real test PKI is generated at start with the
 * openssl command line (two CAs, RSA / EC / expired / short-lived leaves,
 * an encrypted PEM key, a PKCS#12 file), and signatures are checked in
 * both directions against the openssl and xmlsec1 command lines, so the
 * module cannot pass by agreeing with itself.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "testutil.h"

static char pki[256];

/* Path of a file in the PKI folder; a ring of buffers so that a few can
 * be used in one expression. */
static const char *pk(const char *name)
{
    static char ring[16][512];
    static int i;
    char *b = ring[i++ % 16];
    snprintf(b, 512, "%s/%s", pki, name);
    return b;
}

static int has(const struct h2h_err *e, const char *s)
{
    int ok = strstr(e->msg, s) != NULL;
    if (!ok)
        fprintf(stderr, "\n  message \"%s\" lacks \"%s\"\n", e->msg, s);
    return ok;
}

static const char gen_sh[] =
    "set -e\n"
    /* OpenSSL 3.0's x509 -req cannot backdate; openssl ca can.  The CAs
     * start in 2019 so that verifying "as of 2020" is meaningful. */
    "mkdir -p newcerts; : > index.txt; echo 1000 > serial\n"
    "cat > ca.cnf <<'X'\n"
    "[ca]\n"
    "default_ca = CA_default\n"
    "[CA_default]\n"
    "database = ./index.txt\n"
    "new_certs_dir = ./newcerts\n"
    "serial = ./serial\n"
    "default_md = sha256\n"
    "policy = pol\n"
    "unique_subject = no\n"
    "utf8 = yes\n"
    "x509_extensions = leaf_ext\n"
    "[pol]\n"
    "countryName = optional\n"
    "organizationName = optional\n"
    "commonName = supplied\n"
    "[ca_ext]\n"
    "basicConstraints = critical, CA:TRUE\n"
    "keyUsage = critical, keyCertSign, cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[leaf_ext]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical, digitalSignature, nonRepudiation\n"
    "subjectKeyIdentifier = hash\n"
    "authorityKeyIdentifier = keyid\n"
    "X\n"
    "mkca() {\n"
    "  openssl req -utf8 -new -newkey rsa:2048 -nodes -keyout $1.key "
    "-out $1.csr -subj \"/C=CN/O=H2H Test/CN=$2\"\n"
    "  openssl ca -batch -config ca.cnf -selfsign -keyfile $1.key -in "
    "$1.csr -out $1.pem -startdate 20190101000000Z -enddate "
    "20391231000000Z -extensions ca_ext -notext\n"
    "}\n"
    "mkca ca 'H2H Test CA'\n"
    "mkca ca2 'Other CA'\n"
    "leaf() {\n"
    "  if [ \"$4\" = ec ]; then\n"
    "    openssl req -utf8 -new -newkey ec -pkeyopt "
    "ec_paramgen_curve:P-256 -nodes -keyout $1.key -out $1.csr "
    "-subj \"/C=CN/O=H2H Test/CN=$2\"\n"
    "  else\n"
    "    openssl req -utf8 -new -newkey rsa:2048 -nodes -keyout $1.key "
    "-out $1.csr -subj \"/C=CN/O=H2H Test/CN=$2\"\n"
    "  fi\n"
    "  openssl x509 -req -in $1.csr -CA $3.pem -CAkey $3.key "
    "-CAcreateserial -out $1.pem -days $5 -sha256 -extfile ca.cnf "
    "-extensions leaf_ext\n"
    "}\n"
    "leaf rsa 'rsa-leaf 银行' ca rsa 365\n"
    "leaf ec ec-leaf ca ec 365\n"
    "leaf other other-leaf ca2 rsa 365\n"
    "leaf soon soon-leaf ca rsa 20\n"
    "openssl req -new -newkey rsa:2048 -nodes -keyout expired.key "
    "-out expired.csr -subj '/C=CN/O=H2H Test/CN=expired-leaf'\n"
    "openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key "
    "-in expired.csr -out expired.pem -startdate 20200101000000Z "
    "-enddate 20210101000000Z -notext\n"
    "openssl pkcs12 -export -inkey rsa.key -in rsa.pem -certfile ca.pem "
    "-out rsa.p12 -passout pass:p12-Secret -name rsa-leaf\n"
    "openssl pkey -in ec.key -aes256 -passout pass:pem-Secret "
    "-out ec-enc.key\n"
    "openssl x509 -in rsa.pem -outform DER -out rsa.der\n"
    "printf 'pem-Secret\\n' > pem.pass\n"
    "printf 'p12-Secret\\n' > p12.pass\n"
    "printf 'not-the-Secret\\n' > wrong.pass\n"
    "chmod 600 *.key *.p12 *.pass\n";

static int gen_pki(void)
{
    const char *d = tu_mkdtemp();
    if (!d)
        return -1;
    snprintf(pki, sizeof(pki), "%s", d);
    if (tu_write_file(pk("gen.sh"), gen_sh, strlen(gen_sh)) < 0)
        return -1;
    if (tu_system("cd '%s' && sh gen.sh > gen.log 2>&1", pki) != 0) {
        tu_system("cat '%s/gen.log' >&2", pki);
        return -1;
    }
    return 0;
}

static struct cert_identity *id_load(const struct cert_identity_src *src)
{
    struct cert_identity *id = NULL;
    struct h2h_err err = {0};
    int rc = cert_identity_load(src, &id, &err);
    if (rc != 0)
        fprintf(stderr, "\n  identity: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    return id;
}

static struct cert_identity *id_pem(const char *name)
{
    char key[64], crt[64];
    snprintf(key, sizeof(key), "%s.key", name);
    snprintf(crt, sizeof(crt), "%s.pem", name);
    struct cert_identity_src src = {.key_file = pk(key), .cert_file = pk(crt)};
    return id_load(&src);
}

static STACK_OF(X509) * certs_of(const char *name)
{
    STACK_OF(X509) *sk = NULL;
    struct h2h_err err = {0};
    int rc = cert_load_certs(pk(name), &sk, &err);
    if (rc != 0)
        fprintf(stderr, "\n  certs: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    return sk;
}

static struct cert_trust *trust_of(const char *name)
{
    struct cert_trust *t = NULL;
    struct h2h_err err = {0};
    int rc = cert_trust_load(pk(name), 0, &t, &err);
    if (rc != 0)
        fprintf(stderr, "\n  trust: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    return t;
}

static int cn_is(X509 *x, const char *cn)
{
    char buf[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
                              sizeof(buf));
    return strcmp(buf, cn) == 0;
}

/* ------------------------------------------------------------------ */
/* identities                                                          */

static void test_pem_rsa(void)
{
    struct cert_identity *id = id_pem("rsa");
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    CU_ASSERT_TRUE(cn_is(cert_identity_cert(id), "rsa-leaf 银行"));
    CU_ASSERT_EQUAL(EVP_PKEY_get_base_id(cert_identity_key(id)), EVP_PKEY_RSA);
    CU_ASSERT_EQUAL(
        X509_check_private_key(cert_identity_cert(id), cert_identity_key(id)),
        1);
    CU_ASSERT_PTR_NOT_NULL(cert_identity_chain(id));
    CU_ASSERT_EQUAL(sk_X509_num(cert_identity_chain(id)), 0);
    cert_identity_free(id);
    cert_identity_free(NULL);
}

/* Key and certificates in one file, CA first: the leaf is found by its
 * key, not by position. */
static void test_pem_combined(void)
{
    CU_ASSERT_EQUAL(tu_system("cd '%s' && cat ca.pem rsa.key rsa.pem > "
                              "combined.key && chmod 600 combined.key",
                              pki),
                    0);
    struct cert_identity_src src = {.key_file = pk("combined.key")};
    struct cert_identity *id = id_load(&src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    CU_ASSERT_TRUE(cn_is(cert_identity_cert(id), "rsa-leaf 银行"));
    CU_ASSERT_EQUAL_FATAL(sk_X509_num(cert_identity_chain(id)), 1);
    CU_ASSERT_TRUE(
        cn_is(sk_X509_value(cert_identity_chain(id), 0), "H2H Test CA"));
    cert_identity_free(id);
}

static void test_pem_passphrase_file(void)
{
    struct cert_identity_src src = {.key_file = pk("ec-enc.key"),
                                    .cert_file = pk("ec.pem"),
                                    .passphrase_file = pk("pem.pass")};
    struct cert_identity *id = id_load(&src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    CU_ASSERT_TRUE(cn_is(cert_identity_cert(id), "ec-leaf"));
    CU_ASSERT_EQUAL(EVP_PKEY_get_base_id(cert_identity_key(id)), EVP_PKEY_EC);
    cert_identity_free(id);
}

static void test_pem_passphrase_env(void)
{
    setenv("H2H_TEST_CERT_PASS", "pem-Secret", 1);
    struct cert_identity_src src = {.key_file = pk("ec-enc.key"),
                                    .cert_file = pk("ec.pem"),
                                    .passphrase_env = "H2H_TEST_CERT_PASS"};
    struct cert_identity *id = id_load(&src);
    CU_ASSERT_PTR_NOT_NULL(id);
    cert_identity_free(id);

    /* unset variable: a configuration error naming the variable */
    unsetenv("H2H_TEST_CERT_PASS");
    struct h2h_err err = {0};
    id = (void *)1;
    CU_ASSERT_EQUAL(cert_identity_load(&src, &id, &err), H2H_ECONFIG);
    CU_ASSERT_PTR_NULL(id);
    CU_ASSERT_TRUE(has(&err, "H2H_TEST_CERT_PASS"));
    CU_ASSERT_TRUE(has(&err, "not set"));
}

static void test_wrong_passphrase(void)
{
    struct h2h_err err = {0};
    struct cert_identity *id = NULL;
    struct cert_identity_src src = {.key_file = pk("ec-enc.key"),
                                    .cert_file = pk("ec.pem"),
                                    .passphrase_file = pk("wrong.pass")};
    CU_ASSERT_EQUAL(cert_identity_load(&src, &id, &err), H2H_EAUTH);
    CU_ASSERT_PTR_NULL(id);
    CU_ASSERT_TRUE(has(&err, "wrong passphrase"));
    CU_ASSERT_TRUE(has(&err, "ec-enc.key"));
    /* never a secret in a message */
    CU_ASSERT_PTR_NULL(strstr(err.msg, "not-the-Secret"));
    CU_ASSERT_PTR_NULL(strstr(err.msg, "pem-Secret"));

    setenv("H2H_TEST_CERT_PASS", "env-Wrong", 1);
    struct cert_identity_src s2 = {.key_file = pk("ec-enc.key"),
                                   .cert_file = pk("ec.pem"),
                                   .passphrase_env = "H2H_TEST_CERT_PASS"};
    CU_ASSERT_EQUAL(cert_identity_load(&s2, &id, &err), H2H_EAUTH);
    CU_ASSERT_PTR_NULL(strstr(err.msg, "env-Wrong"));
    unsetenv("H2H_TEST_CERT_PASS");

    /* encrypted key, no passphrase configured */
    struct cert_identity_src s3 = {.key_file = pk("ec-enc.key"),
                                   .cert_file = pk("ec.pem")};
    CU_ASSERT_EQUAL(cert_identity_load(&s3, &id, &err), H2H_ECONFIG);
    CU_ASSERT_TRUE(has(&err, "encrypted"));
    CU_ASSERT_TRUE(has(&err, "no passphrase"));
}

static void test_permissions(void)
{
    struct h2h_err err = {0};
    struct cert_identity *id = NULL;
    CU_ASSERT_EQUAL(tu_system("cd '%s' && cp rsa.key open.key && chmod 644 "
                              "open.key && cp rsa.key group.key && chmod 640 "
                              "group.key && cp rsa.p12 open.p12 && chmod 644 "
                              "open.p12 && cp pem.pass open.pass && chmod "
                              "604 open.pass",
                              pki),
                    0);
    struct cert_identity_src src = {.key_file = pk("open.key"),
                                    .cert_file = pk("rsa.pem")};
    CU_ASSERT_EQUAL(cert_identity_load(&src, &id, &err), H2H_ESECURITY);
    CU_ASSERT_PTR_NULL(id);
    CU_ASSERT_TRUE(has(&err, "open.key"));
    CU_ASSERT_TRUE(has(&err, "readable by group or others"));
    CU_ASSERT_TRUE(has(&err, "0644"));
    CU_ASSERT_TRUE(has(&err, "chmod 600"));

    src.key_file = pk("group.key");
    CU_ASSERT_EQUAL(cert_identity_load(&src, &id, &err), H2H_ESECURITY);
    CU_ASSERT_TRUE(has(&err, "0640"));

    struct cert_identity_src p12 = {.p12_file = pk("open.p12"),
                                    .passphrase_file = pk("p12.pass")};
    CU_ASSERT_EQUAL(cert_identity_load(&p12, &id, &err), H2H_ESECURITY);
    CU_ASSERT_TRUE(has(&err, "open.p12"));

    struct cert_identity_src pf = {.key_file = pk("ec-enc.key"),
                                   .cert_file = pk("ec.pem"),
                                   .passphrase_file = pk("open.pass")};
    CU_ASSERT_EQUAL(cert_identity_load(&pf, &id, &err), H2H_ESECURITY);
    CU_ASSERT_TRUE(has(&err, "passphrase file"));
    CU_ASSERT_TRUE(has(&err, "0604"));

    /* a public certificate may be world-readable */
    CU_ASSERT_EQUAL(tu_system("chmod 644 '%s/rsa.pem'", pki), 0);
    struct cert_identity *ok = id_pem("rsa");
    CU_ASSERT_PTR_NOT_NULL(ok);
    cert_identity_free(ok);
}

static void test_p12(void)
{
    struct cert_identity_src src = {.p12_file = pk("rsa.p12"),
                                    .passphrase_file = pk("p12.pass")};
    struct cert_identity *id = id_load(&src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    CU_ASSERT_TRUE(cn_is(cert_identity_cert(id), "rsa-leaf 银行"));
    CU_ASSERT_EQUAL(
        X509_check_private_key(cert_identity_cert(id), cert_identity_key(id)),
        1);
    CU_ASSERT_EQUAL_FATAL(sk_X509_num(cert_identity_chain(id)), 1);
    CU_ASSERT_TRUE(
        cn_is(sk_X509_value(cert_identity_chain(id), 0), "H2H Test CA"));
    cert_identity_free(id);

    setenv("H2H_TEST_P12_PASS", "p12-Secret", 1);
    struct cert_identity_src env = {.p12_file = pk("rsa.p12"),
                                    .passphrase_env = "H2H_TEST_P12_PASS"};
    id = id_load(&env);
    CU_ASSERT_PTR_NOT_NULL(id);
    cert_identity_free(id);
    unsetenv("H2H_TEST_P12_PASS");

    struct h2h_err err = {0};
    struct cert_identity_src bad = {.p12_file = pk("rsa.p12"),
                                    .passphrase_file = pk("wrong.pass")};
    CU_ASSERT_EQUAL(cert_identity_load(&bad, &id, &err), H2H_EAUTH);
    CU_ASSERT_PTR_NULL(id);
    CU_ASSERT_TRUE(has(&err, "wrong passphrase"));
    CU_ASSERT_PTR_NULL(strstr(err.msg, "not-the-Secret"));

    struct cert_identity_src none = {.p12_file = pk("rsa.p12")};
    CU_ASSERT_EQUAL(cert_identity_load(&none, &id, &err), H2H_ECONFIG);
    CU_ASSERT_TRUE(has(&err, "passphrase"));

    /* a PEM file is not a PKCS#12 file */
    struct cert_identity_src pem = {.p12_file = pk("rsa.key"),
                                    .passphrase_file = pk("p12.pass")};
    CU_ASSERT_EQUAL(cert_identity_load(&pem, &id, &err), H2H_EPARSE);
}

static void test_identity_errors(void)
{
    struct h2h_err err = {0};
    struct cert_identity *id = NULL;
    struct cert_identity_src none = {0};
    CU_ASSERT_EQUAL(cert_identity_load(&none, &id, &err), H2H_EINVALID);

    struct cert_identity_src both = {.key_file = pk("rsa.key"),
                                     .p12_file = pk("rsa.p12")};
    CU_ASSERT_EQUAL(cert_identity_load(&both, &id, &err), H2H_EINVALID);

    struct cert_identity_src twopass = {.key_file = pk("ec-enc.key"),
                                        .cert_file = pk("ec.pem"),
                                        .passphrase_file = pk("pem.pass"),
                                        .passphrase_env = "X"};
    CU_ASSERT_EQUAL(cert_identity_load(&twopass, &id, &err), H2H_EINVALID);

    struct cert_identity_src mismatch = {.key_file = pk("rsa.key"),
                                         .cert_file = pk("ec.pem")};
    CU_ASSERT_EQUAL(cert_identity_load(&mismatch, &id, &err), H2H_ECONFIG);
    CU_ASSERT_TRUE(has(&err, "no certificate matches the private key"));

    struct cert_identity_src nokey = {.key_file = pk("ca.pem.copy")};
    CU_ASSERT_EQUAL(tu_system("cd '%s' && cp ca.pem ca.pem.copy && chmod 600 "
                              "ca.pem.copy",
                              pki),
                    0);
    CU_ASSERT_EQUAL(cert_identity_load(&nokey, &id, &err), H2H_EPARSE);
    CU_ASSERT_TRUE(has(&err, "no PEM private key"));

    struct cert_identity_src missing = {.key_file = pk("nope.key"),
                                        .cert_file = pk("rsa.pem")};
    CU_ASSERT_EQUAL(cert_identity_load(&missing, &id, &err), -ENOENT);
    CU_ASSERT_PTR_NULL(id);
}

static void test_load_certs(void)
{
    STACK_OF(X509) *sk = certs_of("rsa.der");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sk);
    CU_ASSERT_EQUAL(sk_X509_num(sk), 1);
    CU_ASSERT_TRUE(cn_is(sk_X509_value(sk, 0), "rsa-leaf 银行"));
    cert_certs_free(sk);

    CU_ASSERT_EQUAL(tu_system("cd '%s' && cat ca.pem ca2.pem > two.pem", pki),
                    0);
    sk = certs_of("two.pem");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sk);
    CU_ASSERT_EQUAL(sk_X509_num(sk), 2);
    cert_certs_free(sk);

    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(cert_load_certs(pk("gen.sh"), &sk, &err), H2H_EPARSE);
    CU_ASSERT_PTR_NULL(sk);
}

/* ------------------------------------------------------------------ */
/* trust stores                                                        */

static void test_trust_ok(void)
{
    struct cert_trust *t = trust_of("ca.pem");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(sk_X509_num(cert_trust_certs(t)), 1);
    CU_ASSERT_PTR_NOT_NULL(cert_trust_store(t));
    STACK_OF(X509) *rsa = certs_of("rsa.pem"), *ec = certs_of("ec.pem");
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(
        cert_trust_verify(t, sk_X509_value(rsa, 0), NULL, 0, 0, &err), 0);
    CU_ASSERT_EQUAL(cert_trust_verify(t, sk_X509_value(ec, 0), NULL,
                                      X509_PURPOSE_ANY, 0, &err),
                    0);
    /* a purpose the key usage does not allow */
    CU_ASSERT_EQUAL(cert_trust_verify(t, sk_X509_value(rsa, 0), NULL,
                                      X509_PURPOSE_CRL_SIGN, 0, &err),
                    H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "purpose"));
    cert_certs_free(rsa);
    cert_certs_free(ec);
    cert_trust_free(t);
}

static void test_trust_untrusted(void)
{
    struct cert_trust *t = trust_of("ca.pem");
    STACK_OF(X509) *other = certs_of("other.pem");
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(
        cert_trust_verify(t, sk_X509_value(other, 0), NULL, 0, 0, &err),
        H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "CN=other-leaf"));
    CU_ASSERT_TRUE(has(&err, "untrusted"));
    CU_ASSERT_TRUE(has(&err, "CN=Other CA"));

    /* the other CA itself is self-signed and not in the store */
    STACK_OF(X509) *ca2 = certs_of("ca2.pem");
    CU_ASSERT_EQUAL(
        cert_trust_verify(t, sk_X509_value(ca2, 0), NULL, 0, 0, &err),
        H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "untrusted"));
    cert_certs_free(ca2);
    cert_certs_free(other);
    cert_trust_free(t);
}

static void test_trust_expired(void)
{
    struct cert_trust *t = trust_of("ca.pem");
    STACK_OF(X509) *ex = certs_of("expired.pem"), *rsa = certs_of("rsa.pem");
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(
        cert_trust_verify(t, sk_X509_value(ex, 0), NULL, 0, 0, &err),
        H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "expired"));
    CU_ASSERT_TRUE(has(&err, "2021-01-01T00:00:00Z"));
    CU_ASSERT_TRUE(has(&err, "CN=expired-leaf"));

    /* at a time inside its validity it verifies: "at" is honoured */
    time_t mid = 1590969600; /* 2020-06-01 */
    CU_ASSERT_EQUAL(
        cert_trust_verify(t, sk_X509_value(ex, 0), NULL, 0, mid, &err), 0);

    /* the RSA leaf two years from now, and before it was issued */
    time_t later = time(NULL) + 2 * 366 * 86400;
    CU_ASSERT_EQUAL(
        cert_trust_verify(t, sk_X509_value(rsa, 0), NULL, 0, later, &err),
        H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "expired"));
    CU_ASSERT_EQUAL(
        cert_trust_verify(t, sk_X509_value(rsa, 0), NULL, 0, mid, &err),
        H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "not yet valid"));
    cert_certs_free(ex);
    cert_certs_free(rsa);
    cert_trust_free(t);
}

static void test_trust_dir(void)
{
    CU_ASSERT_EQUAL(tu_system("cd '%s' && mkdir -p cadir emptydir && "
                              "cp ca.pem cadir/bank.crt && openssl x509 -in "
                              "ca2.pem -outform DER -out cadir/other.cer && "
                              "echo hello > cadir/README && cp ca.pem "
                              "cadir/.hidden.pem && echo x > emptydir/x.txt",
                              pki),
                    0);
    struct cert_trust *t = trust_of("cadir");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(sk_X509_num(cert_trust_certs(t)), 2);
    STACK_OF(X509) *rsa = certs_of("rsa.pem"), *other = certs_of("other.pem");
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(
        cert_trust_verify(t, sk_X509_value(rsa, 0), NULL, 0, 0, &err), 0);
    CU_ASSERT_EQUAL(
        cert_trust_verify(t, sk_X509_value(other, 0), NULL, 0, 0, &err), 0);
    cert_certs_free(rsa);
    cert_certs_free(other);
    cert_trust_free(t);

    struct cert_trust *e = NULL;
    CU_ASSERT_EQUAL(cert_trust_load(pk("emptydir"), 0, &e, &err), H2H_ECONFIG);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(cert_trust_load(pk("nothere"), 0, &e, &err), -ENOENT);
}

static void test_peer_accept(void)
{
    STACK_OF(X509) *rsa = certs_of("rsa.pem"), *ec = certs_of("ec.pem"),
                   *other = certs_of("other.pem"),
                   *ex = certs_of("expired.pem");
    struct cert_trust *t = trust_of("ca.pem");
    X509 *r = sk_X509_value(rsa, 0), *e = sk_X509_value(ec, 0),
         *o = sk_X509_value(other, 0), *x = sk_X509_value(ex, 0);
    struct h2h_err err = {0};
    struct cert_peer pinned = {.pinned = rsa};
    CU_ASSERT_EQUAL(cert_peer_accept(&pinned, r, NULL, &err), 0);
    /* chains to the same CA, but is not the pinned certificate */
    CU_ASSERT_EQUAL(cert_peer_accept(&pinned, e, NULL, &err), H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "not the pinned certificate"));
    CU_ASSERT_TRUE(has(&err, "CN=ec-leaf"));
    struct cert_info in;
    CU_ASSERT_EQUAL(cert_info_get(e, 0, &in, &err), 0);
    CU_ASSERT_EQUAL(cert_peer_accept(&pinned, e, NULL, &err), H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, in.fingerprint));
    /* two pinned certificates (a bank rolling its key over) */
    STACK_OF(X509) *two = sk_X509_dup(rsa);
    sk_X509_push(two, e);
    struct cert_peer rollover = {.pinned = two};
    CU_ASSERT_EQUAL(cert_peer_accept(&rollover, r, NULL, &err), 0);
    CU_ASSERT_EQUAL(cert_peer_accept(&rollover, e, NULL, &err), 0);
    CU_ASSERT_EQUAL(cert_peer_accept(&rollover, o, NULL, &err), H2H_EAUTH);
    sk_X509_free(two);
    /* pinned is not enough when it has expired */
    struct cert_peer xp = {.pinned = ex};
    CU_ASSERT_EQUAL(cert_peer_accept(&xp, x, NULL, &err), H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "expired"));
    /* chain only; pinned and chain */
    struct cert_peer chain = {.trust = t};
    CU_ASSERT_EQUAL(cert_peer_accept(&chain, e, NULL, &err), 0);
    CU_ASSERT_EQUAL(cert_peer_accept(&chain, o, NULL, &err), H2H_EAUTH);
    struct cert_peer both = {.pinned = other, .trust = t};
    CU_ASSERT_EQUAL(cert_peer_accept(&both, o, NULL, &err), H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "untrusted"));
    struct cert_peer none = {0};
    CU_ASSERT_EQUAL(cert_peer_accept(&none, r, NULL, &err), H2H_EINVALID);
    cert_trust_free(t);
    cert_certs_free(rsa);
    cert_certs_free(ec);
    cert_certs_free(other);
    cert_certs_free(ex);
}

/* ------------------------------------------------------------------ */
/* CMS                                                                 */

static const char body[] =
    "<?xml version=\"1.0\" encoding=\"GBK\"?>\r\n<CMBSDKPGK><INFO>"
    "<FUNNAM>DCPAYMNT</FUNNAM></INFO><AMT>100.00</AMT></CMBSDKPGK>\r\n";

static int cms_sign(struct cert_identity *id, const void *b, size_t n,
                    unsigned flags, unsigned char **der, size_t *dl)
{
    struct h2h_err err = {0};
    int rc = cert_cms_sign(id, b, n, flags, der, dl, &err);
    if (rc != 0)
        fprintf(stderr, "\n  cms sign: %s\n", err.msg);
    return rc;
}

static void test_cms_roundtrip(void)
{
    const char *names[] = {"rsa", "ec"};
    struct cert_trust *t = trust_of("ca.pem");
    for (int k = 0; k < 2; k++) {
        struct cert_identity *id = id_pem(names[k]);
        char pem[16];
        snprintf(pem, sizeof(pem), "%s.pem", names[k]);
        STACK_OF(X509) *pin = certs_of(pem);
        CU_ASSERT_PTR_NOT_NULL_FATAL(id);
        unsigned flagsets[] = {0, CERT_CMS_NOATTR, CERT_CMS_NOCERTS,
                               CERT_CMS_CHAIN};
        for (size_t f = 0; f < 4; f++) {
            unsigned char *der = NULL;
            size_t dl = 0;
            CU_ASSERT_EQUAL_FATAL(
                cms_sign(id, body, sizeof(body) - 1, flagsets[f], &der, &dl),
                0);
            CU_ASSERT_TRUE(dl > 100);
            struct h2h_err err = {0};
            struct cert_peer pinned = {.pinned = pin};
            X509 *signer = NULL;
            int rc = cert_cms_verify(der, dl, body, sizeof(body) - 1, &pinned,
                                     &signer, &err);
            if (rc)
                fprintf(stderr, "\n  %s/%zu: %s\n", names[k], f, err.msg);
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT_PTR_NOT_NULL(signer);
            if (signer)
                CU_ASSERT_EQUAL(X509_cmp(signer, sk_X509_value(pin, 0)), 0);
            X509_free(signer);

            struct cert_peer chained = {.trust = t};
            struct cert_peer both = {.pinned = pin, .trust = t};
            if (flagsets[f] & CERT_CMS_NOCERTS) {
                /* chain-only needs the certificate inside the signature */
                CU_ASSERT_EQUAL(cert_cms_verify(der, dl, body, sizeof(body) - 1,
                                                &chained, NULL, &err),
                                H2H_EAUTH);
                CU_ASSERT_TRUE(has(&err, "not in the signature"));
            } else {
                CU_ASSERT_EQUAL(cert_cms_verify(der, dl, body, sizeof(body) - 1,
                                                &chained, NULL, &err),
                                0);
            }
            CU_ASSERT_EQUAL(cert_cms_verify(der, dl, body, sizeof(body) - 1,
                                            &both, NULL, &err),
                            0);
            free(der);
        }
        cert_certs_free(pin);
        cert_identity_free(id);
    }
    cert_trust_free(t);
}

static void test_cms_refusals(void)
{
    struct cert_identity *rsa = id_pem("rsa"), *other = id_pem("other"),
                         *ec = id_pem("ec");
    STACK_OF(X509) *pin = certs_of("rsa.pem"), *opin = certs_of("other.pem");
    struct cert_trust *t = trust_of("ca.pem");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rsa);
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    struct cert_peer pinned = {.pinned = pin}, chained = {.trust = t};
    struct h2h_err err = {0};
    unsigned char *der;
    size_t dl;
    size_t n = sizeof(body) - 1;

    /* modified body: one byte, and one more line end */
    CU_ASSERT_EQUAL_FATAL(cms_sign(rsa, body, n, 0, &der, &dl), 0);
    char *mod = malloc(n + 2);
    memcpy(mod, body, n);
    char *amt = strstr(mod, "100.00");
    CU_ASSERT_PTR_NOT_NULL_FATAL(amt);
    amt[0] = '9';
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, mod, n, &pinned, NULL, &err),
                    H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "does not match the body"));
    memcpy(mod, body, n);
    mod[n] = '\n';
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, mod, n + 1, &pinned, NULL, &err),
                    H2H_EAUTH);
    /* line ends are bytes: CRLF -> LF is a modification too */
    char *lf = strdup(body);
    char *cr = strchr(lf, '\r');
    memmove(cr, cr + 1, strlen(cr));
    CU_ASSERT_EQUAL(
        cert_cms_verify(der, dl, lf, strlen(lf), &pinned, NULL, &err),
        H2H_EAUTH);
    free(lf);
    free(mod);
    /* a signature that was itself damaged */
    der[dl - 5] ^= 0x55;
    CU_ASSERT_NOT_EQUAL(cert_cms_verify(der, dl, body, n, &pinned, NULL, &err),
                        0);
    free(der);

    /* signed by another key: refused by the pin, and by the chain */
    CU_ASSERT_EQUAL_FATAL(cms_sign(other, body, n, 0, &der, &dl), 0);
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, body, n, &pinned, NULL, &err),
                    H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "pinned"));
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, body, n, &chained, NULL, &err),
                    H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "untrusted"));
    CU_ASSERT_TRUE(has(&err, "Other CA"));
    /* pinned to other but the bank also requires its chain: refused */
    struct cert_peer both = {.pinned = opin, .trust = t};
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, body, n, &both, NULL, &err),
                    H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "untrusted"));
    free(der);

    /* signed by a key that chains to the bank's CA but is not the pinned
     * one: pinning means exactly that certificate */
    CU_ASSERT_EQUAL_FATAL(cms_sign(ec, body, n, 0, &der, &dl), 0);
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, body, n, &pinned, NULL, &err),
                    H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "pinned"));
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, body, n, &chained, NULL, &err), 0);
    free(der);

    /* no policy at all */
    struct cert_peer none = {0};
    CU_ASSERT_EQUAL_FATAL(cms_sign(rsa, body, n, 0, &der, &dl), 0);
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, body, n, &none, NULL, &err),
                    H2H_EINVALID);
    /* not a signature */
    CU_ASSERT_EQUAL(cert_cms_verify((const unsigned char *)body, n, body, n,
                                    &pinned, NULL, &err),
                    H2H_EPARSE);
    free(der);

    cert_trust_free(t);
    cert_certs_free(pin);
    cert_certs_free(opin);
    cert_identity_free(rsa);
    cert_identity_free(other);
    cert_identity_free(ec);
}

static void test_cms_expired_signer(void)
{
    struct cert_identity *ex = id_pem("expired");
    STACK_OF(X509) *pin = certs_of("expired.pem");
    struct cert_trust *t = trust_of("ca.pem");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    unsigned char *der;
    size_t dl;
    CU_ASSERT_EQUAL_FATAL(cms_sign(ex, body, sizeof(body) - 1, 0, &der, &dl),
                          0);
    struct h2h_err err = {0};
    struct cert_peer pinned = {.pinned = pin}, chained = {.trust = t};
    CU_ASSERT_EQUAL(
        cert_cms_verify(der, dl, body, sizeof(body) - 1, &pinned, NULL, &err),
        H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "expired"));
    CU_ASSERT_EQUAL(
        cert_cms_verify(der, dl, body, sizeof(body) - 1, &chained, NULL, &err),
        H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "expired"));
    /* verified as of a time when it was valid */
    pinned.at = chained.at = 1590969600;
    CU_ASSERT_EQUAL(
        cert_cms_verify(der, dl, body, sizeof(body) - 1, &pinned, NULL, &err),
        0);
    CU_ASSERT_EQUAL(
        cert_cms_verify(der, dl, body, sizeof(body) - 1, &chained, NULL, &err),
        0);
    free(der);
    cert_trust_free(t);
    cert_certs_free(pin);
    cert_identity_free(ex);
}

/* openssl cms -sign  ->  cert_cms_verify */
static void test_cms_from_openssl(void)
{
    CU_ASSERT_EQUAL_FATAL(tu_write_file(pk("body.bin"), body, sizeof(body) - 1),
                          0);
    CU_ASSERT_EQUAL_FATAL(
        tu_system("cd '%s' && openssl cms -sign -binary -outform DER -in "
                  "body.bin -signer rsa.pem -inkey rsa.key -md sha256 -out "
                  "cli.der && openssl cms -sign -binary -outform DER -in "
                  "body.bin -signer ec.pem -inkey ec.key -md sha256 -out "
                  "cli-ec.der && openssl cms -sign -binary -outform DER -in "
                  "body.bin -signer rsa.pem -inkey rsa.key -md sha1 -out "
                  "cli-sha1.der && openssl cms -sign -nodetach -binary "
                  "-outform DER -in body.bin -signer rsa.pem -inkey rsa.key "
                  "-out cli-attached.der && openssl cms -sign -binary "
                  "-outform PEM -in body.bin -signer rsa.pem -inkey rsa.key "
                  "-out cli.pem",
                  pki),
        0);
    size_t dl;
    unsigned char *der = (unsigned char *)tu_read_file(pk("cli.der"), &dl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(der);
    STACK_OF(X509) *pin = certs_of("rsa.pem"), *epin = certs_of("ec.pem");
    struct cert_trust *t = trust_of("ca.pem");
    struct cert_peer pinned = {.pinned = pin}, chained = {.trust = t};
    struct h2h_err err = {0};
    int rc =
        cert_cms_verify(der, dl, body, sizeof(body) - 1, &pinned, NULL, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(
        cert_cms_verify(der, dl, body, sizeof(body) - 1, &chained, NULL, &err),
        0);
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, "x", 1, &pinned, NULL, &err),
                    H2H_EAUTH);
    free(der);

    der = (unsigned char *)tu_read_file(pk("cli-ec.der"), &dl);
    struct cert_peer epinned = {.pinned = epin};
    CU_ASSERT_EQUAL(
        cert_cms_verify(der, dl, body, sizeof(body) - 1, &epinned, NULL, &err),
        0);
    free(der);

    /* SHA-1: refused unless the bank is allowed it */
    der = (unsigned char *)tu_read_file(pk("cli-sha1.der"), &dl);
    CU_ASSERT_EQUAL(
        cert_cms_verify(der, dl, body, sizeof(body) - 1, &pinned, NULL, &err),
        H2H_ESECURITY);
    CU_ASSERT_TRUE(has(&err, "SHA-1"));
    pinned.flags = CERT_PEER_ALLOW_SHA1;
    CU_ASSERT_EQUAL(
        cert_cms_verify(der, dl, body, sizeof(body) - 1, &pinned, NULL, &err),
        0);
    pinned.flags = 0;
    free(der);

    /* content inside the signature is not a detached signature */
    der = (unsigned char *)tu_read_file(pk("cli-attached.der"), &dl);
    CU_ASSERT_EQUAL(
        cert_cms_verify(der, dl, body, sizeof(body) - 1, &pinned, NULL, &err),
        H2H_EINVALID);
    CU_ASSERT_TRUE(has(&err, "detached"));
    free(der);

    /* the body of a PEM signature is base64 wrapped at 64 columns */
    size_t pl;
    char *pem = tu_read_file(pk("cli.pem"), &pl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pem);
    char *b = strchr(pem, '\n') + 1;
    char *e = strstr(b, "-----END");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(cert_cms_verify_b64(b, (size_t)(e - b), body,
                                        sizeof(body) - 1, &pinned, NULL, &err),
                    0);
    free(pem);
    cert_trust_free(t);
    cert_certs_free(pin);
    cert_certs_free(epin);
}

/* cert_cms_sign  ->  openssl cms -verify */
static void test_cms_to_openssl(void)
{
    CU_ASSERT_EQUAL_FATAL(tu_write_file(pk("body.bin"), body, sizeof(body) - 1),
                          0);
    CU_ASSERT_EQUAL_FATAL(
        tu_write_file(pk("body-mod.bin"), body, sizeof(body) - 2), 0);
    const char *names[] = {"rsa", "ec"};
    unsigned flagsets[] = {0, CERT_CMS_NOATTR, CERT_CMS_CHAIN};
    for (int k = 0; k < 2; k++) {
        struct cert_identity *id = id_pem(names[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(id);
        for (int f = 0; f < 3; f++) {
            unsigned char *der;
            size_t dl;
            CU_ASSERT_EQUAL_FATAL(
                cms_sign(id, body, sizeof(body) - 1, flagsets[f], &der, &dl),
                0);
            CU_ASSERT_EQUAL_FATAL(tu_write_file(pk("ours.der"), der, dl), 0);
            free(der);
            CU_ASSERT_EQUAL(
                tu_system("cd '%s' && openssl cms -verify -binary -inform "
                          "DER -in ours.der -content body.bin -CAfile ca.pem "
                          "-purpose any -out /dev/null 2>cli.err",
                          pki),
                0);
            /* and the CLI is a real check: a modified body fails there */
            CU_ASSERT_NOT_EQUAL(
                tu_system("cd '%s' && openssl cms -verify -binary -inform "
                          "DER -in ours.der -content body-mod.bin -CAfile "
                          "ca.pem -purpose any -out /dev/null 2>/dev/null",
                          pki),
                0);
        }
        cert_identity_free(id);
    }

    /* base64 helper output decodes with the CLI too */
    struct cert_identity *id = id_pem("rsa");
    struct h2h_err err = {0};
    char *b64 = NULL;
    CU_ASSERT_EQUAL_FATAL(
        cert_cms_sign_b64(id, body, sizeof(body) - 1, 0, &b64, &err), 0);
    CU_ASSERT_PTR_NULL(strchr(b64, '\n'));
    CU_ASSERT_EQUAL_FATAL(tu_write_file(pk("ours.b64"), b64, strlen(b64)), 0);
    CU_ASSERT_EQUAL(
        tu_system("cd '%s' && openssl base64 -d -A -in ours.b64 -out "
                  "ours-b64.der && openssl cms -verify -binary -inform DER "
                  "-in ours-b64.der -content body.bin -CAfile ca.pem "
                  "-purpose any -out /dev/null 2>/dev/null",
                  pki),
        0);
    STACK_OF(X509) *pin = certs_of("rsa.pem");
    struct cert_peer pinned = {.pinned = pin};
    CU_ASSERT_EQUAL(cert_cms_verify_b64(b64, strlen(b64), body,
                                        sizeof(body) - 1, &pinned, NULL, &err),
                    0);
    free(b64);
    cert_certs_free(pin);
    cert_identity_free(id);
}

static void test_cms_sign_file(void)
{
    /* bigger than one read buffer, with every byte value */
    size_t n = 3 * 65536 + 17;
    unsigned char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 7 + (i >> 9));
    CU_ASSERT_EQUAL_FATAL(tu_write_file(pk("big.bin"), big, n), 0);
    struct cert_identity *id = id_pem("ec");
    STACK_OF(X509) *pin = certs_of("ec.pem");
    struct cert_peer pinned = {.pinned = pin};
    struct h2h_err err = {0};
    unsigned char *der;
    size_t dl;
    CU_ASSERT_EQUAL_FATAL(
        cert_cms_sign_file(id, pk("big.bin"), 0, &der, &dl, &err), 0);
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, big, n, &pinned, NULL, &err), 0);
    big[n / 2] ^= 1;
    CU_ASSERT_EQUAL(cert_cms_verify(der, dl, big, n, &pinned, NULL, &err),
                    H2H_EAUTH);
    free(der);
    CU_ASSERT_EQUAL(
        cert_cms_sign_file(id, pk("missing.bin"), 0, &der, &dl, &err), -ENOENT);
    free(big);
    cert_certs_free(pin);
    cert_identity_free(id);
}

static void test_b64(void)
{
    struct h2h_err err = {0};
    unsigned char data[40];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(0xF0 ^ i * 37);
    for (size_t len = 0; len <= sizeof(data); len++) {
        char *b = NULL;
        size_t bl = 0;
        CU_ASSERT_EQUAL_FATAL(cert_b64_encode(data, len, &b, &bl, &err), 0);
        CU_ASSERT_EQUAL(bl, 4 * ((len + 2) / 3));
        CU_ASSERT_EQUAL(strlen(b), bl);
        unsigned char *d = NULL;
        size_t dl = 99;
        CU_ASSERT_EQUAL_FATAL(cert_b64_decode(b, bl, &d, &dl, &err), 0);
        CU_ASSERT_EQUAL(dl, len);
        CU_ASSERT_EQUAL(memcmp(d, data, len), 0);
        free(d);
        free(b);
    }
    unsigned char *d = NULL;
    size_t dl;
    CU_ASSERT_EQUAL(cert_b64_decode("aGVs\r\nbG8=\n", 11, &d, &dl, &err), 0);
    CU_ASSERT_EQUAL(dl, 5);
    CU_ASSERT_EQUAL(memcmp(d, "hello", 5), 0);
    free(d);
    CU_ASSERT_EQUAL(cert_b64_decode("aGVsbG8", 7, &d, &dl, &err), H2H_EPARSE);
    CU_ASSERT_EQUAL(cert_b64_decode("aGVs*G8=", 8, &d, &dl, &err), H2H_EPARSE);
    CU_ASSERT_EQUAL(cert_b64_decode("aG=sbG8=", 8, &d, &dl, &err), H2H_EPARSE);
    CU_ASSERT_PTR_NULL(d);
}

/* ------------------------------------------------------------------ */
/* XML-DSig                                                            */

static const char doc_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\">\n"
    "  <CstmrCdtTrfInitn>\n"
    "    <GrpHdr><MsgId>MSG-0001</MsgId><NbOfTxs>1</NbOfTxs></GrpHdr>\n"
    "    <PmtInf><Amt Ccy=\"CNY\">100.00</Amt><Nm>北京 &amp; Co</Nm></PmtInf>\n"
    "  </CstmrCdtTrfInitn>\n"
    "</Document>\n";

/* Parse, sign, serialise: the signed text (caller frees), NULL on error. */
static char *xml_signed(const char *xml, struct cert_identity *id,
                        const char *parent_name)
{
    struct h2h_err err = {0};
    xmlDocPtr doc = NULL;
    if (cert_xml_parse(xml, strlen(xml), "test", &doc, &err) != 0) {
        fprintf(stderr, "\n  parse: %s\n", err.msg);
        return NULL;
    }
    xmlNodePtr parent = NULL;
    if (parent_name) {
        for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE &&
                xmlStrEqual(c->name, BAD_CAST parent_name))
                parent = c;
    }
    char *out = NULL;
    if (cert_xml_sign(doc, parent, id, 0, &err) != 0)
        fprintf(stderr, "\n  sign: %s\n", err.msg);
    else if (cert_xml_dump(doc, &out, NULL, &err) != 0)
        fprintf(stderr, "\n  dump: %s\n", err.msg);
    xmlFreeDoc(doc);
    return out;
}

static int xml_verify(const char *xml, size_t len, STACK_OF(X509) * pin,
                      struct h2h_err *err)
{
    struct cert_peer peer = {.pinned = pin};
    return cert_xml_verify_mem(xml, len, "test", &peer, err);
}

/* Replace the first occurrence of from by to (same length or not). */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    if (!p)
        return NULL;
    size_t n = strlen(s) - strlen(from) + strlen(to);
    char *r = malloc(n + 1);
    size_t pre = (size_t)(p - s);
    memcpy(r, s, pre);
    strcpy(r + pre, to);
    strcat(r, p + strlen(from));
    return r;
}

static void test_xml_sign_verify(void)
{
    const char *names[] = {"rsa", "ec"};
    const char *algs[] = {"xmldsig-more#rsa-sha256",
                          "xmldsig-more#ecdsa-sha256"};
    for (int k = 0; k < 2; k++) {
        struct cert_identity *id = id_pem(names[k]);
        char pem[16];
        snprintf(pem, sizeof(pem), "%s.pem", names[k]);
        STACK_OF(X509) *pin = certs_of(pem);
        char *s = xml_signed(doc_xml, id, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_PTR_NOT_NULL(strstr(s, algs[k]));
        CU_ASSERT_PTR_NOT_NULL(strstr(s, "xml-exc-c14n#"));
        CU_ASSERT_PTR_NOT_NULL(strstr(s, "enveloped-signature"));
        CU_ASSERT_PTR_NOT_NULL(strstr(s, "<ds:X509Certificate>"));
        CU_ASSERT_PTR_NOT_NULL(strstr(s, "<ds:Reference URI=\"\">"));
        CU_ASSERT_PTR_NOT_NULL(strstr(s, "北京 &amp; Co"));
        struct h2h_err err = {0};
        int rc = xml_verify(s, strlen(s), pin, &err);
        if (rc)
            fprintf(stderr, "\n  verify %s: %s\n", names[k], err.msg);
        CU_ASSERT_EQUAL(rc, 0);
        free(s);

        /* signature placed deeper than the root: still the whole doc */
        s = xml_signed(doc_xml, id, "CstmrCdtTrfInitn");
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL(xml_verify(s, strlen(s), pin, &err), 0);
        free(s);
        cert_certs_free(pin);
        cert_identity_free(id);
    }
}

static void test_xml_refusals(void)
{
    struct cert_identity *rsa = id_pem("rsa"), *other = id_pem("other");
    STACK_OF(X509) *pin = certs_of("rsa.pem"), *ecpin = certs_of("ec.pem");
    struct h2h_err err = {0};
    char *s = xml_signed(doc_xml, rsa, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);

    /* a tampered element, a tampered attribute, an added element */
    char *t = replace(s, "100.00", "900.00");
    CU_ASSERT_EQUAL(xml_verify(t, strlen(t), pin, &err), H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "modified"));
    free(t);
    t = replace(s, "Ccy=\"CNY\"", "Ccy=\"USD\"");
    CU_ASSERT_EQUAL(xml_verify(t, strlen(t), pin, &err), H2H_EAUTH);
    free(t);
    t = replace(s, "<NbOfTxs>", "<X/><NbOfTxs>");
    CU_ASSERT_EQUAL(xml_verify(t, strlen(t), pin, &err), H2H_EAUTH);
    free(t);

    /* the embedded certificate is not trusted: replacing it with another
     * one changes nothing, the pinned key decides */
    char *ob = xml_signed(doc_xml, other, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ob);
    const char *c1 = strstr(s, "<ds:X509Certificate>");
    const char *c2 = strstr(ob, "<ds:X509Certificate>");
    const char *e1 = strstr(s, "</ds:X509Certificate>");
    const char *e2 = strstr(ob, "</ds:X509Certificate>");
    CU_ASSERT_FATAL(c1 && c2 && e1 && e2);
    char *ours_cert = strndup(c1, (size_t)(e1 - c1));
    char *their_cert = strndup(c2, (size_t)(e2 - c2));
    t = replace(s, ours_cert, their_cert);
    CU_ASSERT_EQUAL(xml_verify(t, strlen(t), pin, &err), 0);
    free(t);

    /* signed by another key, even when it carries the pinned cert */
    CU_ASSERT_EQUAL(xml_verify(ob, strlen(ob), pin, &err), H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "another key"));
    t = replace(ob, their_cert, ours_cert);
    CU_ASSERT_EQUAL(xml_verify(t, strlen(t), pin, &err), H2H_EAUTH);
    free(t);
    /* pinned to an EC certificate, RSA signature */
    CU_ASSERT_EQUAL(xml_verify(s, strlen(s), ecpin, &err), H2H_EAUTH);
    CU_ASSERT_TRUE(has(&err, "another key"));
    free(ours_cert);
    free(their_cert);
    free(ob);

    /* two signatures: wrapping is not possible */
    const char *sb = strstr(s, "<ds:Signature");
    const char *se = strstr(s, "</ds:Signature>");
    CU_ASSERT_FATAL(sb && se);
    char *sig = strndup(sb, (size_t)(se - sb) + strlen("</ds:Signature>"));
    char *with = malloc(strlen(sig) + 40);
    sprintf(with, "<GrpHdr>%s", sig);
    t = replace(s, "<GrpHdr>", with);
    CU_ASSERT_EQUAL(xml_verify(t, strlen(t), pin, &err), H2H_EINVALID);
    CU_ASSERT_TRUE(has(&err, "2 ds:Signature"));
    free(t);
    free(with);
    free(sig);

    /* unsigned document, no pinned certificate */
    CU_ASSERT_EQUAL(xml_verify(doc_xml, strlen(doc_xml), pin, &err),
                    H2H_EINVALID);
    CU_ASSERT_TRUE(has(&err, "not signed"));
    struct cert_trust *tr = trust_of("ca.pem");
    struct cert_peer chain_only = {.trust = tr};
    CU_ASSERT_EQUAL(cert_xml_verify_mem(s, strlen(s), "t", &chain_only, &err),
                    H2H_EINVALID);
    CU_ASSERT_TRUE(has(&err, "pinned"));
    /* pinned and chained */
    struct cert_peer both = {.pinned = pin, .trust = tr};
    CU_ASSERT_EQUAL(cert_xml_verify_mem(s, strlen(s), "t", &both, &err), 0);
    cert_trust_free(tr);

    /* signing twice is refused, the document is left alone */
    xmlDocPtr doc;
    CU_ASSERT_EQUAL_FATAL(cert_xml_parse(s, strlen(s), "s", &doc, &err), 0);
    CU_ASSERT_EQUAL(cert_xml_sign(doc, NULL, rsa, 0, &err), H2H_ESTATE);
    xmlFreeDoc(doc);
    free(s);
    cert_certs_free(pin);
    cert_certs_free(ecpin);
    cert_identity_free(rsa);
    cert_identity_free(other);
}

/* cert_xml_sign  ->  xmlsec1 --verify, both ways of giving it the key */
static void test_xml_to_xmlsec1(void)
{
    const char *names[] = {"rsa", "ec"};
    for (int k = 0; k < 2; k++) {
        struct cert_identity *id = id_pem(names[k]);
        char *s = xml_signed(doc_xml, id, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL_FATAL(tu_write_file(pk("signed.xml"), s, strlen(s)), 0);
        CU_ASSERT_EQUAL(tu_system("cd '%s' && xmlsec1 --verify "
                                  "--enabled-key-data x509 --trusted-pem "
                                  "ca.pem signed.xml >xs.log 2>&1",
                                  pki),
                        0);
        CU_ASSERT_EQUAL(tu_system("cd '%s' && xmlsec1 --verify "
                                  "--pubkey-cert-pem %s.pem signed.xml "
                                  ">xs.log 2>&1",
                                  pki, names[k]),
                        0);
        char *t = replace(s, "100.00", "100.01");
        CU_ASSERT_EQUAL_FATAL(tu_write_file(pk("tampered.xml"), t, strlen(t)),
                              0);
        CU_ASSERT_NOT_EQUAL(tu_system("cd '%s' && xmlsec1 --verify "
                                      "--enabled-key-data x509 --trusted-pem "
                                      "ca.pem tampered.xml >/dev/null 2>&1",
                                      pki),
                            0);
        free(t);
        free(s);
        cert_identity_free(id);
    }

    /* GBK on the wire, as Chinese bank dialects declare */
    static const char gbk[] =
        "<?xml version=\"1.0\" encoding=\"GBK\"?>\n"
        "<CMBSDKPGK><INFO><FUNNAM>DCPAYMNT</FUNNAM>"
        "</INFO><NAM>\xD6\xD0\xB9\xFA</NAM></CMBSDKPGK>\n";
    struct cert_identity *id = id_pem("rsa");
    STACK_OF(X509) *pin = certs_of("rsa.pem");
    char *s = xml_signed(gbk, id, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "encoding=\"GBK\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\xD6\xD0\xB9\xFA"));
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(xml_verify(s, strlen(s), pin, &err), 0);
    CU_ASSERT_EQUAL_FATAL(tu_write_file(pk("gbk.xml"), s, strlen(s)), 0);
    CU_ASSERT_EQUAL(tu_system("cd '%s' && xmlsec1 --verify "
                              "--enabled-key-data x509 --trusted-pem ca.pem "
                              "gbk.xml >xs.log 2>&1",
                              pki),
                    0);
    free(s);
    cert_certs_free(pin);
    cert_identity_free(id);
}

/* xmlsec1 --sign  ->  cert_xml_verify; and a signature over an Id
 * reference (valid, but not the whole document) is refused */
static void test_xml_from_xmlsec1(void)
{
    static const char tmpl[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Doc xmlns=\"urn:test\"><Amt Ccy=\"CNY\">100.00</Amt>\n"
        "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">"
        "<SignedInfo><CanonicalizationMethod "
        "Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
        "<SignatureMethod Algorithm=\"http://www.w3.org/2001/04/"
        "xmldsig-more#rsa-sha256\"/><Reference URI=\"\"><Transforms>"
        "<Transform Algorithm=\"http://www.w3.org/2000/09/"
        "xmldsig#enveloped-signature\"/><Transform "
        "Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
        "</Transforms><DigestMethod Algorithm=\"http://www.w3.org/2001/04/"
        "xmlenc#sha256\"/><DigestValue/></Reference></SignedInfo>"
        "<SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature>"
        "</Doc>\n";
    static const char tmpl_id[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Doc><Data Id=\"d1\"><Amt>100.00</Amt></Data><Other>x</Other>\n"
        "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">"
        "<SignedInfo><CanonicalizationMethod "
        "Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
        "<SignatureMethod Algorithm=\"http://www.w3.org/2001/04/"
        "xmldsig-more#rsa-sha256\"/><Reference URI=\"#d1\"><Transforms>"
        "<Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
        "</Transforms><DigestMethod Algorithm=\"http://www.w3.org/2001/04/"
        "xmlenc#sha256\"/><DigestValue/></Reference></SignedInfo>"
        "<SignatureValue/></Signature></Doc>\n";
    CU_ASSERT_EQUAL_FATAL(tu_write_file(pk("tmpl.xml"), tmpl, strlen(tmpl)), 0);
    CU_ASSERT_EQUAL_FATAL(
        tu_write_file(pk("tmpl-id.xml"), tmpl_id, strlen(tmpl_id)), 0);
    CU_ASSERT_EQUAL_FATAL(
        tu_system("cd '%s' && xmlsec1 --sign --privkey-pem rsa.key,rsa.pem "
                  "--output xs-signed.xml tmpl.xml >xs.log 2>&1 && xmlsec1 "
                  "--sign --privkey-pem rsa.key --id-attr:Id Data --output "
                  "xs-id.xml tmpl-id.xml >>xs.log 2>&1",
                  pki),
        0);
    STACK_OF(X509) *pin = certs_of("rsa.pem"), *opin = certs_of("other.pem");
    struct h2h_err err = {0};
    size_t n;
    char *s = tu_read_file(pk("xs-signed.xml"), &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int rc = xml_verify(s, n, pin, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(xml_verify(s, n, opin, &err), H2H_EAUTH);
    char *t = replace(s, "100.00", "100.50");
    CU_ASSERT_EQUAL(xml_verify(t, strlen(t), pin, &err), H2H_EAUTH);
    free(t);
    free(s);

    /* SHA-1: refused unless the bank is allowed it */
    char *t1 = replace(tmpl, "2001/04/xmldsig-more#rsa-sha256",
                       "2000/09/xmldsig#rsa-sha1");
    char *t2 = replace(t1, "2001/04/xmlenc#sha256", "2000/09/xmldsig#sha1");
    CU_ASSERT_EQUAL_FATAL(tu_write_file(pk("tmpl-sha1.xml"), t2, strlen(t2)),
                          0);
    free(t1);
    free(t2);
    CU_ASSERT_EQUAL_FATAL(
        tu_system("cd '%s' && xmlsec1 --sign --privkey-pem rsa.key,rsa.pem "
                  "--output xs-sha1.xml tmpl-sha1.xml >xs.log 2>&1",
                  pki),
        0);
    s = tu_read_file(pk("xs-sha1.xml"), &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(xml_verify(s, n, pin, &err), H2H_EINVALID);
    CU_ASSERT_TRUE(has(&err, "sha1"));
    struct cert_peer sha1ok = {.pinned = pin, .flags = CERT_PEER_ALLOW_SHA1};
    CU_ASSERT_EQUAL(cert_xml_verify_mem(s, n, "sha1", &sha1ok, &err), 0);
    free(s);

    s = tu_read_file(pk("xs-id.xml"), &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(xml_verify(s, n, pin, &err), H2H_EINVALID);
    CU_ASSERT_TRUE(has(&err, "whole document"));
    CU_ASSERT_TRUE(has(&err, "#d1"));
    free(s);
    cert_certs_free(pin);
    cert_certs_free(opin);
}

static void test_xml_parse_safety(void)
{
    static const struct {
        const char *label;
        const char *xml;
        int code;
        const char *words;
    } cases[] = {
        {"plain", "<a><b>x</b></a>", 0, NULL},
        {"doctype", "<!DOCTYPE a><a/>", H2H_ESECURITY, "DOCTYPE"},
        {"internal entity",
         "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY e \"x\">]>\n"
         "<a>&e;</a>",
         H2H_ESECURITY, "line 2: DOCTYPE"},
        {"billion laughs",
         "<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">"
         "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
         "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><l>&c;</l>",
         H2H_ESECURITY, "DOCTYPE"},
        {"external entity",
         "<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
         H2H_ESECURITY, "DOCTYPE"},
        {"external dtd", "<!DOCTYPE a SYSTEM \"http://127.0.0.1:9/x.dtd\"><a/>",
         H2H_ESECURITY, "DOCTYPE"},
        {"undeclared entity", "<a>&x;</a>", H2H_EPARSE, "line 1"},
        {"not well-formed", "<a>\n<b></a>", H2H_EPARSE, "line 2"},
        {"empty", "", H2H_EPARSE, "empty"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct h2h_err err = {0};
        xmlDocPtr doc = NULL;
        int rc = cert_xml_parse(cases[i].xml, strlen(cases[i].xml),
                                cases[i].label, &doc, &err);
        if (rc != cases[i].code)
            fprintf(stderr, "\n  %s: rc %d (%s)\n", cases[i].label, rc,
                    err.msg);
        CU_ASSERT_EQUAL(rc, cases[i].code);
        if (cases[i].code == 0) {
            CU_ASSERT_PTR_NOT_NULL(doc);
        } else {
            CU_ASSERT_PTR_NULL(doc);
            CU_ASSERT_TRUE(has(&err, cases[i].words));
        }
        xmlFreeDoc(doc);
    }
    /* the verifier parses the same way */
    STACK_OF(X509) *pin = certs_of("rsa.pem");
    struct h2h_err err = {0};
    const char *x = cases[2].xml;
    CU_ASSERT_EQUAL(xml_verify(x, strlen(x), pin, &err), H2H_ESECURITY);
    cert_certs_free(pin);
}

/* ------------------------------------------------------------------ */
/* replay                                                              */

static void test_replay_window(void)
{
    struct cert_replay *r = NULL;
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL_FATAL(cert_replay_new(300, 100, &r, &err), 0);
    time_t now = 1800000000;
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", "R-1", now, now, &err), 0);
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", "R-1", now, now + 5, &err),
                    H2H_EDUP);
    CU_ASSERT_TRUE(has(&err, "R-1"));
    CU_ASSERT_TRUE(has(&err, "cmb"));
    /* the same id from another bank is another message */
    CU_ASSERT_EQUAL(cert_replay_check(r, "icbc", "R-1", now, now, &err), 0);
    /* ids are compared whole: no prefix confusion across the separator */
    CU_ASSERT_EQUAL(cert_replay_check(r, "cm", "bR-1", now, now, &err), 0);
    /* edges of the window are inside, one second more is outside */
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", "R-2", now - 300, now, &err),
                    0);
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", "R-3", now + 300, now, &err),
                    0);
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", "R-4", now - 301, now, &err),
                    H2H_ESECURITY);
    CU_ASSERT_TRUE(has(&err, "301 s before now"));
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", "R-5", now + 301, now, &err),
                    H2H_ESECURITY);
    CU_ASSERT_TRUE(has(&err, "after now"));
    /* a refused message is not remembered */
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", "R-4", now, now, &err), 0);
    CU_ASSERT_EQUAL(cert_replay_count(r, now), 6);

    /* later: the first message replayed is refused by its timestamp, and
     * its id was forgotten (memory), so a new message may reuse it */
    time_t later = now + 301;
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", "R-1", now, later, &err),
                    H2H_ESECURITY);
    CU_ASSERT_EQUAL(cert_replay_count(r, later), 1); /* R-3 (now + 300) */
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", "R-1", later, later, &err), 0);
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", "R-3", later, later, &err),
                    H2H_EDUP);

    CU_ASSERT_EQUAL(cert_replay_check(r, "", "x", now, now, &err),
                    H2H_EINVALID);
    char longid[CERT_REPLAY_ID_MAX + 2];
    memset(longid, 'i', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    CU_ASSERT_EQUAL(cert_replay_check(r, "cmb", longid, later, later, &err),
                    H2H_EINVALID);
    cert_replay_free(r);
    cert_replay_free(NULL);
    CU_ASSERT_EQUAL(cert_replay_new(0, 10, &r, &err), H2H_EINVALID);
}

static void test_replay_bounded(void)
{
    struct cert_replay *r = NULL;
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL_FATAL(cert_replay_new(60, 50, &r, &err), 0);
    time_t now = 1800000000;
    char id[32];
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof(id), "M%d", i);
        CU_ASSERT_EQUAL(cert_replay_check(r, "b", id, now, now, &err), 0);
    }
    /* full: fail closed rather than forget an id that is still live */
    CU_ASSERT_EQUAL(cert_replay_check(r, "b", "M50", now, now, &err),
                    H2H_ETOOBIG);
    CU_ASSERT_EQUAL(cert_replay_count(r, now), 50);
    CU_ASSERT_EQUAL(cert_replay_check(r, "b", "M7", now, now + 60, &err),
                    H2H_EDUP);
    CU_ASSERT_EQUAL(cert_replay_count(r, now + 61), 0);
    CU_ASSERT_EQUAL(cert_replay_check(r, "b", "M50", now + 61, now + 61, &err),
                    0);
    cert_replay_free(r);

    /* a steady stream: memory stays at what the window can hold, with
     * timestamps arriving out of order */
    CU_ASSERT_EQUAL_FATAL(cert_replay_new(60, 1000, &r, &err), 0);
    size_t peak = 0;
    int fails = 0;
    for (int i = 0; i < 20000; i++) {
        time_t t = now + i / 4;
        time_t ts = t - (i * 7919) % 50;
        snprintf(id, sizeof(id), "S%d", i);
        if (cert_replay_check(r, "b", id, ts, t, &err) != 0)
            fails++;
        size_t c = cert_replay_count(r, t);
        if (c > peak)
            peak = c;
    }
    CU_ASSERT_EQUAL(fails, 0);
    /* 4 per second, each remembered until its timestamp (at most 49 s
     * old on arrival) is 60 s old: between 11 and 61 s */
    CU_ASSERT_TRUE(peak <= 4 * 62);
    CU_ASSERT_TRUE(peak >= 4 * 11);
    cert_replay_free(r);
}

/* ------------------------------------------------------------------ */
/* inventory                                                           */

/* The text after "=" of an openssl x509 -noout option, trimmed. */
static int cli_field(const char *cert, const char *opt, char *buf, size_t bufsz)
{
    if (tu_system("cd '%s' && openssl x509 -in %s -noout %s > field.out", pki,
                  cert, opt) != 0)
        return -1;
    char *s = tu_read_file(pk("field.out"), NULL);
    if (!s)
        return -1;
    char *eq = strchr(s, '=');
    snprintf(buf, bufsz, "%s", eq ? eq + 1 : s);
    buf[strcspn(buf, "\r\n")] = '\0';
    free(s);
    return 0;
}

static void test_info(void)
{
    STACK_OF(X509) *rsa = certs_of("rsa.pem"), *ec = certs_of("ec.pem");
    struct cert_info in;
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL_FATAL(cert_info_get(sk_X509_value(rsa, 0), 0, &in, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(in.subject, "CN=rsa-leaf 银行,O=H2H Test,C=CN");
    CU_ASSERT_STRING_EQUAL(in.issuer, "CN=H2H Test CA,O=H2H Test,C=CN");
    CU_ASSERT_STRING_EQUAL(in.key, "RSA-2048");
    char cli[256];
    CU_ASSERT_EQUAL_FATAL(
        cli_field("rsa.pem", "-fingerprint -sha256", cli, sizeof(cli)), 0);
    CU_ASSERT_STRING_EQUAL(in.fingerprint, cli);
    CU_ASSERT_EQUAL(strlen(in.fingerprint), CERT_FP_LEN);
    CU_ASSERT_EQUAL_FATAL(cli_field("rsa.pem", "-serial", cli, sizeof(cli)), 0);
    CU_ASSERT_STRING_EQUAL(in.serial, cli);
    /* "2027-11-29 05:38:46Z" -> ISO 8601 with T */
    CU_ASSERT_EQUAL_FATAL(
        cli_field("rsa.pem", "-enddate -dateopt iso_8601", cli, sizeof(cli)),
        0);
    char *sp = strchr(cli, ' ');
    CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
    *sp = 'T';
    CU_ASSERT_STRING_EQUAL(in.not_after, cli);
    CU_ASSERT_TRUE(in.days_left == 364 || in.days_left == 365);

    char fp[CERT_FP_LEN + 1];
    CU_ASSERT_EQUAL(
        cert_fingerprint(sk_X509_value(rsa, 0), fp, sizeof(fp), &err), 0);
    CU_ASSERT_STRING_EQUAL(fp, in.fingerprint);
    CU_ASSERT_EQUAL(cert_fingerprint(sk_X509_value(rsa, 0), fp, 10, &err),
                    H2H_EINVALID);

    CU_ASSERT_EQUAL(cert_info_get(sk_X509_value(ec, 0), 0, &in, &err), 0);
    CU_ASSERT_STRING_EQUAL(in.key, "EC-P-256");
    CU_ASSERT_EQUAL_FATAL(
        cli_field("ec.pem", "-fingerprint -sha256", cli, sizeof(cli)), 0);
    CU_ASSERT_STRING_EQUAL(in.fingerprint, cli);
    cert_certs_free(rsa);
    cert_certs_free(ec);

    /* the identity's key in use, via the P12 */
    struct cert_identity_src src = {.p12_file = pk("rsa.p12"),
                                    .passphrase_file = pk("p12.pass")};
    struct cert_identity *id = id_load(&src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    struct cert_info pi;
    CU_ASSERT_EQUAL(cert_info_get(cert_identity_cert(id), 0, &pi, &err), 0);
    CU_ASSERT_EQUAL_FATAL(
        cli_field("rsa.pem", "-fingerprint -sha256", cli, sizeof(cli)), 0);
    CU_ASSERT_STRING_EQUAL(pi.fingerprint, cli);
    cert_identity_free(id);

    /* every CA of a trust store */
    struct cert_trust *t = trust_of("ca.pem");
    CU_ASSERT_EQUAL(
        cert_info_get(sk_X509_value(cert_trust_certs(t), 0), 0, &pi, &err), 0);
    CU_ASSERT_STRING_EQUAL(pi.subject, "CN=H2H Test CA,O=H2H Test,C=CN");
    CU_ASSERT_TRUE(pi.days_left > 3600);
    cert_trust_free(t);
}

static void test_days_left(void)
{
    STACK_OF(X509) *soon = certs_of("soon.pem"), *ex = certs_of("expired.pem");
    struct cert_info in;
    struct h2h_err err = {0};
    X509 *x = sk_X509_value(soon, 0);
    CU_ASSERT_EQUAL_FATAL(cert_info_get(x, 0, &in, &err), 0);
    /* issued for 20 days a moment ago */
    CU_ASSERT_TRUE(in.days_left == 19 || in.days_left == 20);
    time_t na = in.not_after_t;
    struct {
        time_t now;
        long days;
    } cases[] = {
        {na - 20 * 86400, 20},
        {na - 20 * 86400 + 1, 19},
        {na - 86400, 1},
        {na - 1, 0},
        {na, 0},
        {na + 1, -1},
        {na + 86400, -1},
        {na + 86401, -2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CU_ASSERT_EQUAL(cert_info_get(x, cases[i].now, &in, &err), 0);
        CU_ASSERT_EQUAL(in.days_left, cases[i].days);
    }
    CU_ASSERT_EQUAL(cert_info_get(sk_X509_value(ex, 0), 0, &in, &err), 0);
    CU_ASSERT_STRING_EQUAL(in.not_after, "2021-01-01T00:00:00Z");
    CU_ASSERT_STRING_EQUAL(in.not_before, "2020-01-01T00:00:00Z");
    CU_ASSERT_TRUE(in.days_left < -1000);
    CU_ASSERT_EQUAL(cert_warn_level(in.not_after_t, time(NULL)),
                    CERT_WARN_EXPIRED);
    cert_certs_free(soon);
    cert_certs_free(ex);
}

static void test_warn_thresholds(void)
{
    const time_t D = 86400, na = 1900000000;
    struct {
        time_t left;
        enum cert_warn w;
    } lv[] = {
        {40 * D, CERT_WARN_NONE},    {30 * D, CERT_WARN_NONE},
        {30 * D - 1, CERT_WARN_30D}, {7 * D, CERT_WARN_30D},
        {7 * D - 1, CERT_WARN_7D},   {D, CERT_WARN_7D},
        {D - 1, CERT_WARN_1D},       {0, CERT_WARN_1D},
        {-1, CERT_WARN_EXPIRED},
    };
    for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++)
        CU_ASSERT_EQUAL(cert_warn_level(na, na - lv[i].left), lv[i].w);

    /* a daemon checking hourly logs each threshold exactly once */
    int seen[5] = {0};
    time_t prev = 0;
    for (time_t now = na - 45 * D; now <= na + 2 * D; now += 3600) {
        enum cert_warn w = cert_warn_crossed(na, prev, now);
        if (w != CERT_WARN_NONE)
            seen[w]++;
        prev = now;
    }
    CU_ASSERT_EQUAL(seen[CERT_WARN_NONE], 0);
    CU_ASSERT_EQUAL(seen[CERT_WARN_30D], 1);
    CU_ASSERT_EQUAL(seen[CERT_WARN_7D], 1);
    CU_ASSERT_EQUAL(seen[CERT_WARN_1D], 1);
    CU_ASSERT_EQUAL(seen[CERT_WARN_EXPIRED], 1);

    /* first check ever: the current level is news, if any */
    CU_ASSERT_EQUAL(cert_warn_crossed(na, 0, na - 20 * D), CERT_WARN_30D);
    CU_ASSERT_EQUAL(cert_warn_crossed(na, 0, na - 40 * D), CERT_WARN_NONE);
    /* nothing new within a level */
    CU_ASSERT_EQUAL(cert_warn_crossed(na, na - 20 * D, na - 19 * D),
                    CERT_WARN_NONE);
    /* several thresholds between two checks: the most severe */
    CU_ASSERT_EQUAL(cert_warn_crossed(na, na - 40 * D, na - D / 2),
                    CERT_WARN_1D);
    /* renewed: the new certificate starts over */
    time_t renewed = na + 365 * D;
    CU_ASSERT_EQUAL(cert_warn_crossed(renewed, na - D, na), CERT_WARN_NONE);
    CU_ASSERT_STRING_EQUAL(cert_warn_name(CERT_WARN_30D), "30 days");
    CU_ASSERT_STRING_EQUAL(cert_warn_name(CERT_WARN_1D), "1 day");
    CU_ASSERT_STRING_EQUAL(cert_warn_name(CERT_WARN_EXPIRED), "expired");
}

/* ------------------------------------------------------------------ */
/* threads                                                             */

struct worker {
    struct cert_identity *id;
    STACK_OF(X509) * pin;
    int fails;
};

/* What the libuv pool will do: sign and verify concurrently with shared
 * identities and pinned certificates. */
static void *work(void *arg)
{
    struct worker *w = arg;
    struct cert_peer peer = {.pinned = w->pin};
    for (int i = 0; i < 15; i++) {
        struct h2h_err err = {0};
        unsigned char *der;
        size_t dl;
        if (cert_cms_sign(w->id, body, sizeof(body) - 1, 0, &der, &dl, &err) !=
                0 ||
            cert_cms_verify(der, dl, body, sizeof(body) - 1, &peer, NULL,
                            &err) != 0) {
            w->fails++;
            fprintf(stderr, "\n  thread cms: %s\n", err.msg);
        } else {
            free(der);
        }
        if (cert_cms_verify((const unsigned char *)"x", 1, body, 1, &peer, NULL,
                            &err) == 0)
            w->fails++;
        char *s = xml_signed(doc_xml, w->id, NULL);
        if (!s || cert_xml_verify_mem(s, strlen(s), "t", &peer, &err) != 0) {
            w->fails++;
            fprintf(stderr, "\n  thread xml: %s\n", err.msg);
        }
        char *t = s ? replace(s, "100.00", "300.00") : NULL;
        if (!t ||
            cert_xml_verify_mem(t, strlen(t), "t", &peer, &err) != H2H_EAUTH)
            w->fails++;
        free(t);
        free(s);
    }
    return NULL;
}

static void test_threads(void)
{
    struct cert_identity *rsa = id_pem("rsa"), *ec = id_pem("ec");
    STACK_OF(X509) *rpin = certs_of("rsa.pem"), *epin = certs_of("ec.pem");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rsa);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ec);
    struct worker w[4] = {
        {rsa, rpin, 0}, {ec, epin, 0}, {rsa, rpin, 0}, {ec, epin, 0}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(w[i].fails, 0);
    }
    cert_certs_free(rpin);
    cert_certs_free(epin);
    cert_identity_free(rsa);
    cert_identity_free(ec);
}

static void test_init_counted(void)
{
    struct h2h_err err = {0};
    /* main() holds one reference; a second pair leaves it working */
    CU_ASSERT_EQUAL(cert_init(&err), 0);
    cert_shutdown();
    struct cert_identity *id = id_pem("ec");
    char *s = xml_signed(doc_xml, id, NULL);
    CU_ASSERT_PTR_NOT_NULL(s);
    free(s);
    cert_identity_free(id);
}

static const struct tu_case cases[] = {
    {"pem rsa identity", test_pem_rsa},
    {"pem key and certificates in one file", test_pem_combined},
    {"encrypted pem, passphrase file", test_pem_passphrase_file},
    {"encrypted pem, passphrase from env", test_pem_passphrase_env},
    {"wrong or missing passphrase", test_wrong_passphrase},
    {"secrets readable by others refused", test_permissions},
    {"pkcs#12 identity", test_p12},
    {"identity argument and content errors", test_identity_errors},
    {"certificate lists pem and der", test_load_certs},
    {"trust store verify ok, purpose", test_trust_ok},
    {"trust store untrusted ca", test_trust_untrusted},
    {"trust store expired, at time", test_trust_expired},
    {"trust store from a folder", test_trust_dir},
    {"peer: pinned and/or chained", test_peer_accept},
    {"cms sign and verify", test_cms_roundtrip},
    {"cms verify refusals", test_cms_refusals},
    {"cms expired signer", test_cms_expired_signer},
    {"cms openssl cli -> ours", test_cms_from_openssl},
    {"cms ours -> openssl cli", test_cms_to_openssl},
    {"cms sign a file", test_cms_sign_file},
    {"base64", test_b64},
    {"xml-dsig sign and verify", test_xml_sign_verify},
    {"xml-dsig refusals", test_xml_refusals},
    {"xml-dsig ours -> xmlsec1 cli", test_xml_to_xmlsec1},
    {"xml-dsig xmlsec1 cli -> ours", test_xml_from_xmlsec1},
    {"xml parse refuses dtd and entities", test_xml_parse_safety},
    {"replay window", test_replay_window},
    {"replay memory bounded", test_replay_bounded},
    {"inventory fields", test_info},
    {"days left", test_days_left},
    {"warning thresholds 30/7/1", test_warn_thresholds},
    {"threads sign and verify", test_threads},
    {"init is counted", test_init_counted},
    {NULL, NULL},
};

int main(void)
{
    struct h2h_err err = {0};
    if (cert_init(&err) != 0) {
        fprintf(stderr, "cert_init: %s\n", err.msg);
        return 1;
    }
    if (gen_pki() != 0) {
        fprintf(stderr, "cannot generate the test PKI with openssl\n");
        return 1;
    }
    int rc = tu_main("certs", cases);
    tu_rmtree(pki);
    cert_shutdown();
    return rc;
}
