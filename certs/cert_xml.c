/*
 * cert_xml.c - the DOM side of XML-DSig: a hardened parse of documents to
 * sign or verify, exact serialisation, and keeping libxml2 quiet (it
 * prints to stderr by default; this module never prints).  See cert.h.
 *
 * formats/xmlsafe.c hardens the streaming reader used for conversion;
 * XML-DSig needs a whole tree, so the same rules are applied here to
 * libxml2's DOM parser: no network, no entity substitution, no DTD
 * loading, libxml2's own limits left on (no XML_PARSE_HUGE), and a
 * DOCTYPE refused from the SAX callback that announces it, which runs
 * before the internal subset (where entities would be declared) is read.
 */
#include "cert_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

/* ---- libxml2 errors ----------------------------------------------- */

static void quiet_serror(void *data, xmlErrorPtr e)
{
    struct cert_xml_quiet *q = data;
    if (!q || q->msg[0] || !e || e->level < XML_ERR_ERROR)
        return;
    snprintf(q->msg, sizeof(q->msg), "%s", e->message ? e->message : "?");
    size_t n = strlen(q->msg);
    while (n && (q->msg[n - 1] == '\n' || q->msg[n - 1] == ' '))
        q->msg[--n] = '\0';
    q->line = e->line;
}

static void quiet_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

void cert_xml_quiet_begin(struct cert_xml_quiet *q)
{
    memset(q, 0, sizeof(*q));
    /* These are per-thread in libxml2, so this is safe on the pool. */
    q->old_s = xmlStructuredError;
    q->old_sctx = xmlStructuredErrorContext;
    q->old_g = xmlGenericError;
    q->old_gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(q, quiet_serror);
    xmlSetGenericErrorFunc(NULL, quiet_generic);
}

void cert_xml_quiet_end(struct cert_xml_quiet *q)
{
    xmlSetStructuredErrorFunc(q->old_sctx, q->old_s);
    xmlSetGenericErrorFunc(q->old_gctx, q->old_g);
}

/* ---- parse -------------------------------------------------------- */

struct parse_state {
    int doctype;
    int doctype_line;
    struct cert_xml_quiet q;
};

static void refuse_doctype(void *ctx, const xmlChar *name,
                           const xmlChar *ext_id, const xmlChar *sys_id)
{
    (void)name;
    (void)ext_id;
    (void)sys_id;
    xmlParserCtxtPtr c = ctx;
    struct parse_state *st = c->_private;
    st->doctype = 1;
    st->doctype_line = c->input ? c->input->line : 0;
    xmlStopParser(c);
}

static void parse_serror(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr c = data;
    struct parse_state *st = c->_private;
    quiet_serror(&st->q, e);
}

int cert_xml_parse(const void *buf, size_t len, const char *name,
                   xmlDocPtr *doc, struct h2h_err *err)
{
    *doc = NULL;
    if (!name)
        name = "document";
    if (!buf)
        return h2h_err_set(err, H2H_EINVALID, "%s: no input", name);
    if (len > CERT_XML_MAX_INPUT)
        return h2h_err_set(err, H2H_ETOOBIG, "%s: larger than %u bytes", name,
                           CERT_XML_MAX_INPUT);
    if (len == 0)
        return h2h_err_set(err, H2H_EPARSE, "%s: empty document", name);

    int rc = 0;
    struct parse_state st;
    memset(&st, 0, sizeof(st));
    struct cert_xml_quiet q;
    cert_xml_quiet_begin(&q);
    xmlDocPtr d = NULL;
    xmlParserCtxtPtr c = xmlCreateMemoryParserCtxt(buf, (int)len);
    if (!c) {
        rc = h2h_err_set(err, H2H_ENOMEM, "%s: out of memory", name);
        goto out;
    }
    c->_private = &st;
    /* The context owns a private copy of the SAX table: changing it
     * affects this parse only. */
    c->sax->internalSubset = refuse_doctype;
    c->sax->serror = parse_serror;
    xmlCtxtUseOptions(c, XML_PARSE_NONET);
    xmlParseDocument(c);
    d = c->myDoc;
    c->myDoc = NULL;
    if (st.doctype) {
        rc = h2h_err_set(err, H2H_ESECURITY,
                         "%s: line %d: DOCTYPE not allowed (no DTD, no "
                         "entities)",
                         name, st.doctype_line);
        goto out;
    }
    if (!c->wellFormed || !d) {
        if (st.q.msg[0])
            rc =
                h2h_err_set(err, H2H_EPARSE, "%s: line %d: not well-formed: %s",
                            name, st.q.line, st.q.msg);
        else
            rc = h2h_err_set(err, H2H_EPARSE, "%s: not well-formed", name);
        goto out;
    }
    /* Belt and braces: the callback above should have seen any DTD. */
    if (d->intSubset || d->extSubset) {
        rc = h2h_err_set(err, H2H_ESECURITY, "%s: DOCTYPE not allowed", name);
        goto out;
    }
    if (!xmlDocGetRootElement(d)) {
        rc = h2h_err_set(err, H2H_EPARSE, "%s: no root element", name);
        goto out;
    }
    *doc = d;
    d = NULL;
out:
    if (d)
        xmlFreeDoc(d);
    if (c)
        xmlFreeParserCtxt(c);
    cert_xml_quiet_end(&q);
    return rc;
}

/* ---- dump --------------------------------------------------------- */

int cert_xml_dump(xmlDocPtr doc, char **out, size_t *out_len,
                  struct h2h_err *err)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!doc)
        return h2h_err_set(err, H2H_EINVALID, "xml dump: no document");
    const char *enc = doc->encoding ? (const char *)doc->encoding : "UTF-8";
    xmlChar *mem = NULL;
    int size = 0;
    struct cert_xml_quiet q;
    cert_xml_quiet_begin(&q);
    /* format = 0: whitespace is content, and it is signed. */
    xmlDocDumpFormatMemoryEnc(doc, &mem, &size, enc, 0);
    cert_xml_quiet_end(&q);
    if (!mem || size <= 0) {
        xmlFree(mem);
        return h2h_err_set(err, H2H_EIO, "xml dump: cannot serialise%s%s",
                           q.msg[0] ? ": " : "", q.msg);
    }
    char *b = malloc((size_t)size + 1);
    if (!b) {
        xmlFree(mem);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    memcpy(b, mem, (size_t)size);
    b[size] = '\0';
    xmlFree(mem);
    *out = b;
    if (out_len)
        *out_len = (size_t)size;
    return 0;
}
