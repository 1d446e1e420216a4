/*
 * cert.h - keys, certificates, trust stores, signing and verification.
 *
 * Purpose: everything h2hd does with X.509 material, behind one API:
 *   - identities: a private key, its certificate and the chain, from PEM
 *     files or a PKCS#12 file (cert_identity_*);
 *   - trust stores: one per bank, CA certificates from a PEM file or a
 *     folder; chain verification with the reason of a failure
 *     (cert_trust_*);
 *   - who may sign for a bank: pinned certificates and/or a trust store
 *     (struct cert_peer, cert_peer_accept);
 *   - CMS / PKCS#7 detached signatures over a request or response body,
 *     SHA-256 (cert_cms_*), as Chinese banks' CFCA set-ups expect;
 *   - XML-DSig enveloped signatures with xmlsec1 (cert_xml_*), and a
 *     hardened parser for the documents they are made over;
 *   - replay protection for signed responses (cert_replay_*);
 *   - inventory and expiry warnings (cert_info_*, cert_warn_*).
 *
 * Set-up: cert_init() once in main() before any thread uses the module
 * (it initialises xmlsec1 and its OpenSSL back end, and the formats
 * layer's hardened libxml2 set-up); cert_shutdown() at exit, after every
 * thread that used the module has stopped.
 *
 * Errors: every function returning int returns 0 or a negative h2h code
 * (h2h_err.h) and fills the optional struct h2h_err with a lower-case
 * message naming the file, certificate or rule involved.  The codes used:
 *   -errno          a file cannot be opened / read (ENOENT, EACCES, ...)
 *   H2H_EINVALID    bad arguments, or input breaking a rule of ours
 *   H2H_ECONFIG     a key / certificate / trust store that is unusable as
 *                   configured (no certificate matches the key, no CA in a
 *                   folder, encrypted key without a passphrase, ...)
 *   H2H_EPARSE      a file, signature or document is not well-formed
 *   H2H_ESECURITY   refused for safety: a secret readable by group or
 *                   others, a DOCTYPE in XML, a weak digest, a timestamp
 *                   outside the replay window
 *   H2H_EAUTH       a wrong passphrase; a signature or chain that does not
 *                   verify (untrusted, expired, modified, other signer)
 *   H2H_EDUP        replay: the message id was already seen
 *   H2H_ETOOBIG     a size cap, or the replay window is full
 *   H2H_EUNSUPPORTED  key type or algorithm we do not sign with
 *   H2H_ESTATE      cert_init() not called; a document already signed
 *   H2H_ENOMEM, H2H_EIO  resources, library failures
 * This module never logs and never writes a passphrase or key bytes into
 * an error message: the caller logs the message once.
 *
 * Ownership: the creator frees (_free functions accept NULL).  Pointers
 * returned by getters are borrowed, live as long as their owner and are
 * read-only (other threads may be using them; take your own reference
 * with EVP_PKEY_up_ref / X509_up_ref / X509_STORE_up_ref to keep one).
 * Buffers returned through out parameters (DER, base64, serialised XML)
 * are malloc'd and freed by the caller with free().  Structs passed in are
 * only read during the call, unless a comment says otherwise.
 *
 * Threads: after cert_init(), every function may run on any thread,
 * including the libuv thread pool (signing and verifying big bodies
 * should run there):
 *   - identities, trust stores and pinned certificates are immutable once
 *     loaded and may be used by several threads at once; the owner must
 *     keep them alive until every job that borrowed them has finished;
 *   - an xmlDoc may be signed / verified on any thread but by one thread
 *     at a time (libxml2 trees are not locked);
 *   - a replay window has its own lock;
 *   - cert_init() / cert_shutdown() are the exceptions (see there).
 */
#ifndef H2H_CERT_H
#define H2H_CERT_H

#include <stddef.h>
#include <time.h>

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "h2h_err.h"

/* ------------------------------------------------------------------ */
/* process-wide set-up                                                 */

/*
 * Initialise libxml2 the formats way (no network, no external entities),
 * xmlsec1, its OpenSSL back end, and route xmlsec1's error reports into
 * our error messages instead of stderr.  Idempotent and counted: each
 * successful call needs one cert_shutdown().  Not thread-safe: call from
 * main() before starting threads.  0, or H2H_EUNSUPPORTED (xmlsec1 library
 * of an incompatible version) / H2H_EIO.
 */
int cert_init(struct h2h_err *err);
/* Undo cert_init(); the last call shuts xmlsec1 down.  Call only when no
 * other thread uses this module any more. */
void cert_shutdown(void);

/* ------------------------------------------------------------------ */
/* identities: our private key, certificate and chain                  */

/*
 * Where an identity comes from.  Either p12_file, or key_file (PEM:
 * PKCS#8 or traditional, encrypted or not) with cert_file (PEM: the leaf
 * and any intermediates, in any order; NULL means the certificates are in
 * key_file too).  The leaf is the certificate whose public key matches
 * the private key; the other certificates become the chain.
 *
 * The passphrase (of an encrypted key, or of the PKCS#12 file) comes from
 * passphrase_file (its first line) or from the environment variable named
 * passphrase_env, never from a command line; at most one of them.  It is
 * read just before use and wiped after it.
 *
 * key_file, p12_file and passphrase_file must be regular files without
 * any permission for group or others (chmod 600): anything else is refused
 * with H2H_ESECURITY before a byte is read.
 */
struct cert_identity_src {
    const char *key_file;
    const char *cert_file;
    const char *p12_file;
    const char *passphrase_file;
    const char *passphrase_env;
};

struct cert_identity; /* opaque, immutable once loaded */

/*
 * Load an identity.  0 with *out set, or negative with *out NULL:
 * H2H_ESECURITY (permissions), H2H_EAUTH (wrong passphrase: the message
 * says so), H2H_ECONFIG (no passphrase configured for an encrypted key,
 * passphrase variable unset, no certificate matching the key, PKCS#12
 * without a key), H2H_EPARSE (not PEM / PKCS#12), H2H_EINVALID (no source
 * or two sources, both passphrase sources), -errno, H2H_ETOOBIG (a file
 * over 1 MiB).
 */
int cert_identity_load(const struct cert_identity_src *src,
                       struct cert_identity **out, struct h2h_err *err);
void cert_identity_free(struct cert_identity *id);

/* Borrowed views; valid until cert_identity_free.  The chain is never
 * NULL (possibly empty) and does not contain the leaf. */
EVP_PKEY *cert_identity_key(const struct cert_identity *id);
X509 *cert_identity_cert(const struct cert_identity *id);
STACK_OF(X509) * cert_identity_chain(const struct cert_identity *id);

/* ------------------------------------------------------------------ */
/* certificates and trust stores                                       */

/*
 * Every certificate in path: PEM (one or more CERTIFICATE blocks) or one
 * DER certificate.  *out is a new stack the caller frees with
 * cert_certs_free.  H2H_EPARSE when the file holds no certificate.
 */
int cert_load_certs(const char *path, STACK_OF(X509) * *out,
                    struct h2h_err *err);
/* Free a stack from cert_load_certs (certificates included); NULL ok. */
void cert_certs_free(STACK_OF(X509) * certs);

struct cert_trust; /* opaque, immutable once loaded */

enum {
    /* Treat every certificate of the store as a trust anchor, so that a
     * bank that hands out only its issuing (intermediate) CA can be
     * trusted without the root (OpenSSL's X509_V_FLAG_PARTIAL_CHAIN). */
    CERT_TRUST_PARTIAL_CHAIN = 1,
};

/*
 * A bank's trust store from path: a PEM file of CA certificates, or a
 * folder whose *.pem, *.crt and *.cer files (PEM or DER) are read in name
 * order (no c_rehash links needed; hidden files and other names are
 * skipped).  H2H_ECONFIG when no certificate is found.
 */
int cert_trust_load(const char *path, unsigned flags, struct cert_trust **out,
                    struct h2h_err *err);
void cert_trust_free(struct cert_trust *t);

/* Borrowed: the OpenSSL store (e.g. for a TLS context: take a reference
 * with X509_STORE_up_ref) and the CA certificates it holds (inventory). */
X509_STORE *cert_trust_store(const struct cert_trust *t);
STACK_OF(X509) * cert_trust_certs(const struct cert_trust *t);

/*
 * Verify that cert chains to t, using untrusted (may be NULL) for
 * intermediates.  purpose: an X509_PURPOSE_* value to check key usage
 * and extended key usage for, or 0 for none.  at: the time to verify at,
 * 0 for now (tests and re-verification of old messages).  0, or H2H_EAUTH
 * with the reason named: "certificate has expired", "not yet valid",
 * "untrusted: issuer ... is not in the trust store", "unsuitable
 * purpose", ..., and the subject of the certificate at fault.
 */
int cert_trust_verify(const struct cert_trust *t, X509 *cert,
                      STACK_OF(X509) * untrusted, int purpose, time_t at,
                      struct h2h_err *err);

/* ------------------------------------------------------------------ */
/* who may sign for a bank                                             */

enum {
    /* Accept SHA-1 digests and signatures from this peer (old CFCA
     * set-ups).  MD5 is never accepted. */
    CERT_PEER_ALLOW_SHA1 = 1,
};

/*
 * A signer is accepted when it passes every check that is configured:
 *   pinned (non-NULL, non-empty): the signer is one of these certificates
 *       (byte for byte) and is within its validity period at `at`;
 *   trust (non-NULL): the signer chains to this trust store at `at`
 *       (intermediates from the signature itself), with purpose checked
 *       when non-zero.
 * "Pinned only", "chain only" and "pinned and chained" are all possible;
 * neither is H2H_EINVALID.  XML-DSig verification requires pinned.
 * Everything is borrowed for the duration of a call.
 */
struct cert_peer {
    STACK_OF(X509) * pinned;
    const struct cert_trust *trust;
    int purpose;    /* X509_PURPOSE_*, 0: no purpose check */
    time_t at;      /* 0: now */
    unsigned flags; /* CERT_PEER_* */
};

/* Would peer accept signer (untrusted: extra intermediates, may be NULL)?
 * 0 or H2H_EAUTH / H2H_EINVALID with the reason. */
int cert_peer_accept(const struct cert_peer *peer, X509 *signer,
                     STACK_OF(X509) * untrusted, struct h2h_err *err);

/* ------------------------------------------------------------------ */
/* CMS / PKCS#7 detached signatures                                    */

/* cert_cms_sign flags; the default (0) is what CFCA-style bank front ends
 * expect: SignedData, SHA-256, signed attributes (content type, signing
 * time, message digest), the signer's certificate included, content
 * detached and never canonicalised (binary). */
enum {
    CERT_CMS_NOCERTS = 1, /* leave the signer's certificate out */
    CERT_CMS_CHAIN = 2,   /* also include the identity's chain */
    CERT_CMS_NOATTR = 4,  /* no signed attributes: sign the body directly */
};

#define CERT_CMS_SIG_MAX (1u << 20) /* cap on a signature we parse */

/*
 * Sign body (len bytes) with id: a DER-encoded CMS SignedData with the
 * content detached.  *der (malloc'd, caller frees) and *der_len.  0 or
 * H2H_EUNSUPPORTED (key type) / H2H_EIO.  CPU-heavy for big bodies: run
 * it on the thread pool.
 */
int cert_cms_sign(const struct cert_identity *id, const void *body, size_t len,
                  unsigned flags, unsigned char **der, size_t *der_len,
                  struct h2h_err *err);
/* The same over the contents of a file, streamed (not loaded whole). */
int cert_cms_sign_file(const struct cert_identity *id, const char *path,
                       unsigned flags, unsigned char **der, size_t *der_len,
                       struct h2h_err *err);
/* The same, base64 (one line, no newline) as a NUL-terminated string. */
int cert_cms_sign_b64(const struct cert_identity *id, const void *body,
                      size_t len, unsigned flags, char **b64,
                      struct h2h_err *err);

/*
 * Verify a detached DER CMS / PKCS#7 signature over body against peer:
 * every signer must verify over exactly these bytes (binary, no
 * canonicalisation) and be accepted by cert_peer_accept.  signer (may be
 * NULL) receives the first signer's certificate with a new reference
 * (X509_free it), e.g. to log its fingerprint.  0, or H2H_EAUTH (modified
 * body, other signer, untrusted or expired chain, reason named),
 * H2H_EPARSE (not a CMS signature), H2H_EINVALID (not detached, no
 * signer), H2H_ESECURITY (MD5 / SHA-1 digest), H2H_ETOOBIG.
 */
int cert_cms_verify(const unsigned char *der, size_t der_len, const void *body,
                    size_t len, const struct cert_peer *peer, X509 **signer,
                    struct h2h_err *err);
/* The same with the signature in base64 (line breaks and spaces ok). */
int cert_cms_verify_b64(const char *b64, size_t b64_len, const void *body,
                        size_t len, const struct cert_peer *peer, X509 **signer,
                        struct h2h_err *err);

/* ------------------------------------------------------------------ */
/* base64                                                              */

/* One line, no newline, '=' padded; *out is malloc'd and NUL-terminated.
 * 0 or H2H_ENOMEM / H2H_ETOOBIG. */
int cert_b64_encode(const void *data, size_t len, char **out, size_t *out_len,
                    struct h2h_err *err);
/* Decode standard base64; ASCII whitespace is skipped.  *out malloc'd.
 * 0 or H2H_EPARSE (bad character, bad length or padding). */
int cert_b64_decode(const char *b64, size_t len, unsigned char **out,
                    size_t *out_len, struct h2h_err *err);

/* ------------------------------------------------------------------ */
/* XML-DSig (xmlsec1)                                                  */

#define CERT_XML_MAX_INPUT (256u << 20) /* bytes cert_xml_parse accepts */

/*
 * Parse buf safely for signing or verification: no network, no DTD
 * loading, no entity substitution; a DOCTYPE is refused as soon as the
 * parser meets it (before any declaration in it is read), so entity
 * expansion and external entities cannot happen; libxml2's depth and size
 * limits stay on; blanks are kept (they are signed).  name is used in
 * messages.  *doc is freed by the caller with xmlFreeDoc.  0 or
 * H2H_ESECURITY (DOCTYPE), H2H_EPARSE (not well-formed, with line),
 * H2H_ETOOBIG.
 */
int cert_xml_parse(const void *buf, size_t len, const char *name,
                   xmlDocPtr *doc, struct h2h_err *err);

/* Serialise doc exactly (no re-indentation, so signatures stay valid) in
 * its declared encoding (UTF-8 when none).  *out malloc'd, NUL-terminated. */
int cert_xml_dump(xmlDocPtr doc, char **out, size_t *out_len,
                  struct h2h_err *err);

/* cert_xml_sign flags */
enum {
    CERT_XML_CHAIN = 1, /* put the identity's chain in X509Data too */
};

/*
 * Sign doc in place with an enveloped signature: a ds:Signature element
 * appended to parent (NULL: the root element) over the whole document
 * (Reference URI=""), transforms enveloped-signature + exclusive c14n,
 * digest SHA-256, rsa-sha256 or ecdsa-sha256 by key type, and the signer
 * certificate in KeyInfo/X509Data/X509Certificate.  0, or
 * H2H_EUNSUPPORTED (key type), H2H_ESTATE (the document already holds a
 * ds:Signature), H2H_EINVALID, H2H_EIO; on failure doc is unchanged.
 */
int cert_xml_sign(xmlDocPtr doc, xmlNodePtr parent,
                  const struct cert_identity *id, unsigned flags,
                  struct h2h_err *err);

/*
 * Verify the enveloped signature of doc against peer->pinned only: the
 * certificate embedded in KeyInfo is never trusted nor even read; the
 * signature must verify with the public key of one of the pinned
 * certificates, which must be valid at peer->at (and chain to
 * peer->trust when set; intermediates must then be in the trust store,
 * since nothing is taken from the document).  Accepted shape, everything else
 * is refused: exactly one ds:Signature in the whole document (anywhere: it
 * covers everything but itself), with exactly one Reference, URI="" (the whole
 * document: no wrapping), transforms limited to enveloped-signature and
 * (exclusive) c14n, digests and signature methods SHA-256/384/512 (SHA-1 with
 * CERT_PEER_ALLOW_SHA1).  0, or H2H_EAUTH (digest mismatch: the document
 * was modified; signature mismatch: signed by another key), H2H_EINVALID
 * (shape, no pinned certificate), H2H_EPARSE.  Read the data from this
 * very tree afterwards (not from a second parse of other bytes), and read
 * text with xmlNodeGetContent or the like: comments are not signed under
 * exclusive c14n, so a reader that stops at the first text node could
 * be fooled by a comment inserted into a value.
 */
int cert_xml_verify(xmlDocPtr doc, const struct cert_peer *peer,
                    struct h2h_err *err);
/* cert_xml_parse + cert_xml_verify. */
int cert_xml_verify_mem(const void *buf, size_t len, const char *name,
                        const struct cert_peer *peer, struct h2h_err *err);

/* ------------------------------------------------------------------ */
/* replay protection                                                   */

/*
 * A window over signed responses, keyed by (bank, message id): a message
 * is refused when its timestamp is more than window_s seconds before or
 * after now (H2H_ESECURITY), or when the same bank's id was already
 * accepted and is still remembered (H2H_EDUP).  An id is remembered until
 * its own timestamp leaves the window (timestamp + window_s < now), after
 * which the timestamp check refuses a replay anyway; so memory is bounded
 * by the ids accepted within 2 * window_s, and hard-capped at max_ids:
 * a full window refuses new messages (H2H_ETOOBIG, fail closed) rather
 * than forget an id early.  Check only after the signature verified, so
 * that forged messages cannot fill it.  Time moving backwards is not
 * detected.  Thread-safe (own lock).
 */
struct cert_replay;

#define CERT_REPLAY_BANK_MAX 64 /* bytes of a bank name */
#define CERT_REPLAY_ID_MAX 256  /* bytes of a message id */

/* window_s >= 1, max_ids >= 1.  0 or H2H_EINVALID / H2H_ENOMEM. */
int cert_replay_new(unsigned window_s, size_t max_ids, struct cert_replay **out,
                    struct h2h_err *err);
void cert_replay_free(struct cert_replay *r);

/* Check one message and remember its id when it passes.  now is the
 * caller's clock (time(NULL) in the daemon).  0 or H2H_ESECURITY /
 * H2H_EDUP / H2H_ETOOBIG / H2H_EINVALID (empty or too long bank or id). */
int cert_replay_check(struct cert_replay *r, const char *bank,
                      const char *msg_id, time_t msg_ts, time_t now,
                      struct h2h_err *err);

/* Ids remembered right now (after expiring those older than now). */
size_t cert_replay_count(struct cert_replay *r, time_t now);

/* ------------------------------------------------------------------ */
/* inventory and expiry                                                */

#define CERT_FP_LEN 95 /* "AB:CD:...:EF", 32 bytes as colon hex */

struct cert_info {
    char subject[512]; /* RFC 2253, UTF-8 kept ("CN=x,O=y,C=CN") */
    char issuer[512];  /* same form */
    char serial[100];  /* hex, upper case, as openssl prints it */
    char fingerprint[CERT_FP_LEN + 1]; /* SHA-256 of the DER, colon hex
                                        * upper case: the text after "="
                                        * of openssl x509 -fingerprint
                                        * -sha256 */
    char key[32];                      /* "RSA-2048", "EC-P-256", ... */
    char not_before[21]; /* ISO 8601 UTC, "2026-11-28T14:02:11Z" */
    char not_after[21];
    time_t not_before_t;
    time_t not_after_t;
    long days_left; /* whole days from now to not_after, rounded down;
                     * negative once expired */
};

/* Describe x as of now (0: the current time).  0 or H2H_EINVALID /
 * H2H_EIO.  Long names are cut to the buffers. */
int cert_info_get(X509 *x, time_t now, struct cert_info *out,
                  struct h2h_err *err);

/* SHA-256 fingerprint of x in the form of cert_info.fingerprint; buf has
 * at least CERT_FP_LEN + 1 bytes.  0 or H2H_EINVALID / H2H_EIO. */
int cert_fingerprint(X509 *x, char *buf, size_t bufsz, struct h2h_err *err);

/* Warning levels, in increasing severity. */
enum cert_warn {
    CERT_WARN_NONE = 0, /* 30 days or more left */
    CERT_WARN_30D,      /* less than 30 days left */
    CERT_WARN_7D,       /* less than 7 days left */
    CERT_WARN_1D,       /* less than 1 day left */
    CERT_WARN_EXPIRED,  /* not_after has passed */
};

/* The level of a certificate ending at not_after, as of now. */
enum cert_warn cert_warn_level(time_t not_after, time_t now);

/*
 * Which threshold has a certificate crossed since the previous check at
 * prev_check (0: never checked)?  The level at now when it is more severe
 * than the level at prev_check, else CERT_WARN_NONE: the daemon checks
 * periodically and logs each warning once; skipping several thresholds
 * between two checks reports the most severe one; a renewed certificate
 * (new not_after) starts over.
 */
enum cert_warn cert_warn_crossed(time_t not_after, time_t prev_check,
                                 time_t now);

/* "30 days", "7 days", "1 day", "expired", "none". */
const char *cert_warn_name(enum cert_warn w);

#endif
