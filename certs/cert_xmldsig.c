/*
 * cert_xmldsig.c - XML-DSig enveloped signatures with xmlsec1 (OpenSSL
 * back end): canonicalisation, digests and signature values are xmlsec1's,
 * never ours.  See cert.h.
 *
 * Verification trusts configuration only: the key comes from a pinned
 * certificate and is handed to xmlsec1 before it runs, so KeyInfo in the
 * document (certificates, RetrievalMethod, KeyName) is never consulted.
 * The shape of what is accepted is narrow on purpose (one signature in
 * the whole document, one Reference, to the whole document, an allow-list
 * of transforms): signature wrapping, references to other documents or to
 * files, XSLT and XPath transforms are all refused.  Where the signature
 * sits does not matter then: URI="" covers everything but itself.
 */
#include "cert_int.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/openssl/x509.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

static int is_dsig(xmlNodePtr n)
{
    return n->type == XML_ELEMENT_NODE && n->ns &&
           xmlStrEqual(n->name, xmlSecNodeSignature) &&
           xmlStrEqual(n->ns->href, xmlSecDSigNs);
}

/* Every ds:Signature element under root (iterative: no recursion on
 * input-controlled depth); the count, *first set to the first one. */
static int find_signatures(xmlNodePtr root, xmlNodePtr *first)
{
    int n = 0;
    *first = NULL;
    xmlNodePtr cur = root;
    while (cur) {
        if (is_dsig(cur) && n++ == 0)
            *first = cur;
        if (cur->type == XML_ELEMENT_NODE && cur->children) {
            cur = cur->children;
            continue;
        }
        while (cur && cur != root && !cur->next)
            cur = cur->parent;
        if (!cur || cur == root)
            break;
        cur = cur->next;
    }
    return n;
}

/* ---- sign --------------------------------------------------------- */

/* An xmlsec1 key holding our private key and the certificates to put in
 * X509Data, into *out; 0 or negative with err filled. */
static int sign_key(const struct cert_identity *id, unsigned flags,
                    xmlSecKeyPtr *out, struct h2h_err *err)
{
    *out = NULL;
    EVP_PKEY *pk = cert_identity_key(id);
    xmlSecKeyDataPtr kd = NULL, x5;
    xmlSecKeyPtr key = NULL;
    if (!EVP_PKEY_up_ref(pk))
        goto fail;
    kd = xmlSecOpenSSLEvpKeyAdopt(pk); /* takes our reference */
    if (!kd) {
        EVP_PKEY_free(pk);
        goto fail;
    }
    key = xmlSecKeyCreate();
    if (!key || xmlSecKeySetValue(key, kd) < 0)
        goto fail;
    kd = NULL; /* now the key's */
    x5 = xmlSecKeyEnsureData(key, xmlSecOpenSSLKeyDataX509Id);
    if (!x5)
        goto fail;
    X509 *c = cert_identity_cert(id);
    if (!X509_up_ref(c))
        goto fail;
    if (xmlSecOpenSSLKeyDataX509AdoptKeyCert(x5, c) < 0) {
        X509_free(c);
        goto fail;
    }
    /* X509Data is written from the certificate list, not the key cert. */
    if (!X509_up_ref(c))
        goto fail;
    if (xmlSecOpenSSLKeyDataX509AdoptCert(x5, c) < 0) {
        X509_free(c);
        goto fail;
    }
    if (flags & CERT_XML_CHAIN) {
        STACK_OF(X509) *chain = cert_identity_chain(id);
        for (int i = 0; i < sk_X509_num(chain); i++) {
            X509 *ci = sk_X509_value(chain, i);
            if (!X509_up_ref(ci))
                goto fail;
            if (xmlSecOpenSSLKeyDataX509AdoptCert(x5, ci) < 0) {
                X509_free(ci);
                goto fail;
            }
        }
    }
    *out = key;
    return 0;
fail:
    if (kd)
        xmlSecKeyDataDestroy(kd);
    if (key)
        xmlSecKeyDestroy(key);
    return cert_ossl_fail(err, H2H_EIO, "xml sign: cannot prepare the key%s%s",
                          cert_xmlsec_err()[0] ? ": " : "", cert_xmlsec_err());
}

int cert_xml_sign(xmlDocPtr doc, xmlNodePtr parent,
                  const struct cert_identity *id, unsigned flags,
                  struct h2h_err *err)
{
    if (!doc || !id)
        return h2h_err_set(err, H2H_EINVALID, "xml sign: bad arguments");
    if (!cert_initialised())
        return h2h_err_set(err, H2H_ESTATE,
                           "xml sign: cert_init() was not called");
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root)
        return h2h_err_set(err, H2H_EINVALID, "xml sign: no root element");
    if (!parent)
        parent = root;
    if (parent->doc != doc || parent->type != XML_ELEMENT_NODE)
        return h2h_err_set(err, H2H_EINVALID,
                           "xml sign: parent is not an element of the "
                           "document");
    xmlNodePtr existing;
    if (find_signatures(root, &existing) > 0)
        return h2h_err_set(err, H2H_ESTATE,
                           "xml sign: the document is already signed");
    xmlSecTransformId method;
    int kt = EVP_PKEY_get_base_id(cert_identity_key(id));
    if (kt == EVP_PKEY_RSA)
        method = xmlSecTransformRsaSha256Id;
    else if (kt == EVP_PKEY_EC)
        method = xmlSecTransformEcdsaSha256Id;
    else
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "xml sign: %s keys are not supported (RSA or EC)",
                           OBJ_nid2sn(kt));

    int rc = 0;
    xmlSecDSigCtxPtr ctx = NULL;
    xmlNodePtr sig = NULL, ref, ki, x5;
    struct cert_xml_quiet q;
    cert_xml_quiet_begin(&q);
    cert_xmlsec_err_clear();

    sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId,
                                          method, NULL, BAD_CAST "ds");
    if (!sig)
        goto fail;
    if (!xmlAddChild(parent, sig)) {
        xmlFreeNode(sig);
        sig = NULL;
        goto fail;
    }
    /* URI="": the whole document, minus this signature (enveloped). */
    ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, NULL,
                                          BAD_CAST "", NULL);
    if (!ref ||
        !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) ||
        !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId))
        goto fail;
    ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL);
    x5 = ki ? xmlSecTmplKeyInfoAddX509Data(ki) : NULL;
    if (!x5 || !xmlSecTmplX509DataAddCertificate(x5))
        goto fail;

    ctx = xmlSecDSigCtxCreate(NULL);
    if (!ctx)
        goto fail;
    rc = sign_key(id, flags, &ctx->signKey, err); /* the context owns it */
    if (rc < 0)
        goto undo;
    if (xmlSecDSigCtxSign(ctx, sig) < 0)
        goto fail;
    ERR_clear_error();
    goto out;
fail:
    rc = cert_ossl_fail(err, H2H_EIO, "xml sign: signing failed%s%s",
                        cert_xmlsec_err()[0] ? ": " : "", cert_xmlsec_err());
undo:
    /* Leave the document as it was. */
    if (sig) {
        xmlUnlinkNode(sig);
        xmlFreeNode(sig);
    }
out:
    if (ctx)
        xmlSecDSigCtxDestroy(ctx);
    cert_xml_quiet_end(&q);
    return rc;
}

/* ---- verify ------------------------------------------------------- */

enum { IN_SIG = 1, IN_REF = 2, NEEDS_SHA1_OK = 4 };

/* The only transforms a signature may use: c14n, enveloped-signature,
 * SHA-2 digests and RSA / ECDSA with SHA-2; SHA-1 only when the peer is
 * allowed it.  Everything else (XSLT, XPath, base64, ...) is refused by
 * xmlsec1 itself once a list is set. */
static int enable_transforms(xmlSecDSigCtxPtr ctx, unsigned peer_flags)
{
    const struct {
        xmlSecTransformId id;
        int how;
    } allow[] = {
        {xmlSecTransformExclC14NId, IN_SIG | IN_REF},
        {xmlSecTransformExclC14NWithCommentsId, IN_SIG | IN_REF},
        {xmlSecTransformInclC14NId, IN_SIG | IN_REF},
        {xmlSecTransformInclC14NWithCommentsId, IN_SIG | IN_REF},
        {xmlSecTransformInclC14N11Id, IN_SIG | IN_REF},
        {xmlSecTransformInclC14N11WithCommentsId, IN_SIG | IN_REF},
        {xmlSecTransformEnvelopedId, IN_REF},
        {xmlSecTransformSha256Id, IN_REF},
        {xmlSecTransformSha384Id, IN_REF},
        {xmlSecTransformSha512Id, IN_REF},
        {xmlSecTransformRsaSha256Id, IN_SIG},
        {xmlSecTransformRsaSha384Id, IN_SIG},
        {xmlSecTransformRsaSha512Id, IN_SIG},
        {xmlSecTransformEcdsaSha256Id, IN_SIG},
        {xmlSecTransformEcdsaSha384Id, IN_SIG},
        {xmlSecTransformEcdsaSha512Id, IN_SIG},
        {xmlSecTransformSha1Id, IN_REF | NEEDS_SHA1_OK},
        {xmlSecTransformRsaSha1Id, IN_SIG | NEEDS_SHA1_OK},
        {xmlSecTransformEcdsaSha1Id, IN_SIG | NEEDS_SHA1_OK},
    };
    for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++) {
        if ((allow[i].how & NEEDS_SHA1_OK) &&
            !(peer_flags & CERT_PEER_ALLOW_SHA1))
            continue;
        if ((allow[i].how & IN_SIG) &&
            xmlSecDSigCtxEnableSignatureTransform(ctx, allow[i].id) < 0)
            return -1;
        if ((allow[i].how & IN_REF) &&
            xmlSecDSigCtxEnableReferenceTransform(ctx, allow[i].id) < 0)
            return -1;
    }
    return 0;
}

enum try_result {
    TRY_OK,
    TRY_MODIFIED,
    TRY_OTHER_KEY,
    TRY_KEY_TYPE,
    TRY_ERROR
};

/* Verify sig with the public key of cert: one xmlsec1 run. */
static enum try_result try_cert(xmlNodePtr sig, X509 *cert, unsigned peer_flags,
                                char *why, size_t whysz)
{
    enum try_result r = TRY_ERROR;
    why[0] = '\0';
    cert_xmlsec_err_clear();
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    if (!ctx) {
        snprintf(why, whysz, "out of memory");
        return TRY_ERROR;
    }
    /* Same-document whole references only: no files, no network. */
    ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
    if (enable_transforms(ctx, peer_flags) < 0) {
        snprintf(why, whysz, "cannot set up the transform allow-list");
        goto out;
    }
    xmlSecKeyDataPtr kd = xmlSecOpenSSLX509CertGetKey(cert);
    xmlSecKeyPtr key = kd ? xmlSecKeyCreate() : NULL;
    if (!key || xmlSecKeySetValue(key, kd) < 0) {
        if (key)
            xmlSecKeyDestroy(key);
        if (kd)
            xmlSecKeyDataDestroy(kd);
        snprintf(why, whysz, "cannot use the pinned certificate's key");
        goto out;
    }
    ctx->signKey = key; /* the context owns it; KeyInfo is now ignored */
    if (xmlSecDSigCtxVerify(ctx, sig) < 0) {
        if (cert_xmlsec_err_reason() == XMLSEC_ERRORS_R_KEY_NOT_FOUND) {
            /* e.g. an ECDSA signature and an RSA certificate */
            r = TRY_KEY_TYPE;
            goto out;
        }
        snprintf(why, whysz, "%s",
                 cert_xmlsec_err()[0] ? cert_xmlsec_err()
                                      : "cannot process the signature");
        goto out;
    }
    xmlSecSize nrefs = xmlSecPtrListGetSize(&ctx->signedInfoReferences);
    if (ctx->status != xmlSecDSigStatusSucceeded) {
        r = TRY_OTHER_KEY;
        for (xmlSecSize i = 0; i < nrefs; i++) {
            xmlSecDSigReferenceCtxPtr rc =
                xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
            if (rc && rc->status != xmlSecDSigStatusSucceeded)
                r = TRY_MODIFIED;
        }
        goto out;
    }
    /* Shape: exactly one reference, and it covers the whole document. */
    xmlSecDSigReferenceCtxPtr ref =
        nrefs == 1 ? xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0) : NULL;
    if (!ref || (ref->uri && ref->uri[0])) {
        snprintf(why, whysz,
                 "the signature must have exactly one Reference, with "
                 "URI=\"\" (it has %u)",
                 (unsigned)nrefs);
        goto out;
    }
    r = TRY_OK;
out:
    xmlSecDSigCtxDestroy(ctx);
    ERR_clear_error();
    return r;
}

int cert_xml_verify(xmlDocPtr doc, const struct cert_peer *peer,
                    struct h2h_err *err)
{
    if (!doc || !peer)
        return h2h_err_set(err, H2H_EINVALID, "xml verify: bad arguments");
    if (!cert_initialised())
        return h2h_err_set(err, H2H_ESTATE,
                           "xml verify: cert_init() was not called");
    if (!peer->pinned || sk_X509_num(peer->pinned) == 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "xml verify: the bank has no pinned certificate "
                           "(XML signatures are verified against pinned "
                           "certificates only)");
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root)
        return h2h_err_set(err, H2H_EINVALID, "xml verify: no root element");
    xmlNodePtr sig;
    int n = find_signatures(root, &sig);
    if (n == 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "xml verify: the document is not signed (no "
                           "ds:Signature)");
    if (n > 1)
        return h2h_err_set(err, H2H_EINVALID,
                           "xml verify: %d ds:Signature elements (exactly "
                           "one enveloped signature is accepted)",
                           n);

    struct cert_xml_quiet q;
    cert_xml_quiet_begin(&q);
    int rc = 0;
    enum try_result worst = TRY_ERROR;
    char why[384] = "", first_why[384] = "";
    X509 *ok = NULL;
    for (int i = 0; i < sk_X509_num(peer->pinned) && !ok; i++) {
        X509 *c = sk_X509_value(peer->pinned, i);
        enum try_result r = try_cert(sig, c, peer->flags, why, sizeof(why));
        if (r == TRY_OK)
            ok = c;
        else if (r == TRY_MODIFIED)
            worst = TRY_MODIFIED;
        else if (r == TRY_OTHER_KEY && worst != TRY_MODIFIED)
            worst = TRY_OTHER_KEY;
        else if (r == TRY_KEY_TYPE && worst == TRY_ERROR)
            worst = TRY_KEY_TYPE;
        if (r == TRY_ERROR && !first_why[0])
            snprintf(first_why, sizeof(first_why), "%s", why);
    }
    cert_xml_quiet_end(&q);
    if (!ok) {
        if (worst == TRY_MODIFIED)
            rc = h2h_err_set(err, H2H_EAUTH,
                             "xml verify: digest mismatch: the document was "
                             "modified after it was signed");
        else if (worst == TRY_OTHER_KEY)
            rc = h2h_err_set(err, H2H_EAUTH,
                             "xml verify: the signature does not verify "
                             "with the pinned certificate (signed by another "
                             "key)");
        else if (worst == TRY_KEY_TYPE)
            rc = h2h_err_set(err, H2H_EAUTH,
                             "xml verify: the signature method does not fit "
                             "the pinned certificate's key (signed by "
                             "another key)");
        else
            rc = h2h_err_set(err, H2H_EINVALID,
                             "xml verify: not an accepted enveloped "
                             "signature over the whole document: %s",
                             first_why[0] ? first_why : "refused");
        return rc;
    }
    rc = cert_peer_accept(peer, ok, NULL, err);
    if (rc < 0)
        h2h_err_prefix(err, "xml verify");
    return rc;
}

int cert_xml_verify_mem(const void *buf, size_t len, const char *name,
                        const struct cert_peer *peer, struct h2h_err *err)
{
    xmlDocPtr doc;
    int rc = cert_xml_parse(buf, len, name, &doc, err);
    if (rc < 0)
        return rc;
    rc = cert_xml_verify(doc, peer, err);
    xmlFreeDoc(doc);
    return rc;
}
