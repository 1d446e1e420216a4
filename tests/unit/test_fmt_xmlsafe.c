/* test_fmt_xmlsafe.c - the hardened XML reader against hostile input. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "testutil.h"
#include "xmlsafe.h"

#define SECRET "S3CR3T-c0ffee-h2h"

/* Read a whole document; returns the final rc (0 or negative), fills err
 * and collects every text/attribute value seen into *seen (caller frees). */
static int drain(const struct fmt_src *src, struct h2h_err *err, char **seen)
{
    struct fmt_xml x;
    size_t cap = 1024, len = 0;
    char *acc = calloc(1, cap);
    int rc = fmt_xml_open(&x, src, err);
    if (rc < 0)
        goto out;
    while ((rc = fmt_xml_read(&x, err)) == 1) {
        const char *vals[2] = {(const char *)xmlTextReaderConstValue(x.r),
                               (const char *)xmlTextReaderConstName(x.r)};
        for (int k = 0; k < 2; k++) {
            size_t vl = vals[k] ? strlen(vals[k]) : 0;
            if (!vl)
                continue;
            if (len + vl + 2 > cap) {
                while (len + vl + 2 > cap)
                    cap *= 2;
                acc = realloc(acc, cap);
            }
            memcpy(acc + len, vals[k], vl);
            len += vl;
            acc[len++] = '|';
            acc[len] = '\0';
        }
    }
out:
    fmt_xml_close(&x);
    if (seen)
        *seen = acc;
    else
        free(acc);
    return rc;
}

static int drain_mem(const char *doc, size_t len, struct h2h_err *err)
{
    struct fmt_src src = {.buf = doc, .len = len, .name = "t.xml"};
    return drain(&src, err, NULL);
}

/* ---- hostile documents, each with its specific refusal ----------------- */

static const char billion_laughs[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE lolz [\n"
    " <!ENTITY lol \"lol\">\n"
    " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
    "]>\n"
    "<lolz>&lol9;</lolz>\n";

static const char xxe_file[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
    "<d>&x;</d>\n";

static const char xxe_param[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE d [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n"
    "<d/>\n";

static const char ext_dtd[] = "<?xml version=\"1.0\"?>\n"
                              "<!DOCTYPE d SYSTEM \"file:///etc/passwd\">\n"
                              "<d/>\n";

struct hostile {
    const char *label;
    const char *doc;
    size_t len; /* 0: strlen */
    int code;
    const char *words;
};

static void check_hostile(const struct hostile *h)
{
    struct h2h_err err = {0};
    size_t len = h->len ? h->len : strlen(h->doc);
    int rc = drain_mem(h->doc, len, &err);
    if (rc != h->code || !strstr(err.msg, h->words) || getenv("TU_VERBOSE"))
        fprintf(stderr, "\n%s: rc %d (%s) msg \"%s\"\n", h->label, rc,
                h2h_strerror(rc), err.msg);
    CU_ASSERT_EQUAL(rc, h->code);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, h->words));
    CU_ASSERT_PTR_NULL(strstr(err.msg, "root:"));
}

static void test_hostile_small(void)
{
    static const struct hostile t[] = {
        {"billion laughs", billion_laughs, 0, H2H_ESECURITY, "DOCTYPE"},
        {"xxe file", xxe_file, 0, H2H_ESECURITY, "DOCTYPE"},
        {"xxe parameter entity", xxe_param, 0, H2H_ESECURITY, "DOCTYPE"},
        {"external dtd", ext_dtd, 0, H2H_ESECURITY, "DOCTYPE"},
        {"invalid utf-8",
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<a>M\xfcller</a>\n",
         0, H2H_ECHARSET, "not valid UTF-8"},
        {"invalid utf-8 undeclared", "<a>\n<b>\xc3\x28</b></a>", 0,
         H2H_ECHARSET, "line 2: input is not valid UTF-8"},
        {"overlong utf-8", "<a>\xc0\xbc</a>", 0, H2H_ECHARSET, "UTF-8"},
        {"invalid utf-8 in attribute", "<a v=\"\xff\"/>", 0, H2H_ECHARSET,
         "byte 0xFF"},
        {"declared utf-16, 8-bit bytes",
         "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<a>x</a>\n", 0,
         H2H_ECHARSET, "declares encoding UTF-16"},
        {"declared iso-8859-1, utf-8 bytes",
         "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
         "<a>M\xc3\xbcller</a>\n",
         0, H2H_ECHARSET,
         "declares encoding ISO-8859-1 but its content is UTF-8"},
        {"real utf-16 with bom", "\xff\xfe<\0a\0/\0>\0", 10, H2H_EUNSUPPORTED,
         "UTF-16"},
        {"utf-16 without bom", "<\0a\0/\0>\0", 8, H2H_EUNSUPPORTED, "UTF-16"},
        {"unknown encoding",
         "<?xml version=\"1.0\" encoding=\"X-NOPE-42\"?>\n<a/>\n", 0,
         H2H_EUNSUPPORTED, "X-NOPE-42"},
        {"not well-formed", "<a>\n<b>\n</a>\n", 0, H2H_EPARSE, "line 3:"},
        {"unclosed root", "<a>\n<b>x</b>", 0, H2H_EPARSE,
         "line 2: document ends before the root element is closed"},
        {"two roots", "<a/><b/>", 0, H2H_EPARSE, "Extra content"},
        {"undefined entity", "<a>&nope;</a>", 0, H2H_EPARSE, "nope"},
        {"empty", "", 0, H2H_EPARSE, "document is empty"},
        {"only a declaration", "<?xml version=\"1.0\"?>\n", 0, H2H_EPARSE,
         "document is empty"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        check_hostile(&t[i]);
}

static void test_deep_nesting(void)
{
    size_t depth = 5000;
    size_t cap = depth * 8 + 64, n = 0;
    char *doc = malloc(cap);
    for (size_t i = 0; i < depth; i++)
        n += (size_t)sprintf(doc + n, "<a>");
    for (size_t i = 0; i < depth; i++)
        n += (size_t)sprintf(doc + n, "</a>");
    struct hostile h = {"5000 deep", doc, n, H2H_ETOOBIG, "deeper than 256"};
    check_hostile(&h);
    free(doc);

    /* 250 levels are fine */
    cap = 250 * 8 + 64;
    doc = malloc(cap);
    n = 0;
    for (size_t i = 0; i < 250; i++)
        n += (size_t)sprintf(doc + n, "<a>");
    for (size_t i = 0; i < 250; i++)
        n += (size_t)sprintf(doc + n, "</a>");
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(drain_mem(doc, n, &err), 0);
    free(doc);
}

static void test_big_attribute(void)
{
    static const size_t sizes[] = {10u << 20, (1u << 20) + 10};
    for (size_t k = 0; k < 2; k++) {
        size_t big = sizes[k];
        char *doc = malloc(big + 64);
        size_t n = (size_t)sprintf(doc, "<a v=\"");
        memset(doc + n, 'x', big);
        n += big;
        n += (size_t)sprintf(doc + n, "\"/>");
        struct hostile h = {"big attribute", doc, n, H2H_ETOOBIG, "line 1"};
        check_hostile(&h);
        free(doc);
    }
    /* the same for a text node of 2 MB */
    size_t big = 2u << 20;
    char *doc = malloc(big + 64);
    size_t n = (size_t)sprintf(doc, "<a>");
    memset(doc + n, 'y', big);
    n += big;
    n += (size_t)sprintf(doc + n, "</a>");
    struct hostile h = {"big text", doc, n, H2H_ETOOBIG, "longer than"};
    check_hostile(&h);
    free(doc);
}

/* A listening socket on loopback: after parsing, nobody may have
 * connected (XML_PARSE_NONET and the deny loader). */
static void test_xxe_http_no_network(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CU_ASSERT_FATAL(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_FATAL(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
    CU_ASSERT_FATAL(listen(s, 4) == 0);
    socklen_t al = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &al);
    int port = ntohs(a.sin_port);

    char doc[512];
    snprintf(doc, sizeof(doc),
             "<?xml version=\"1.0\"?>\n"
             "<!DOCTYPE d [<!ENTITY x SYSTEM \"http://127.0.0.1:%d/x\">]>\n"
             "<d>&x;</d>\n",
             port);
    struct hostile h = {"xxe http", doc, 0, H2H_ESECURITY, "DOCTYPE"};
    check_hostile(&h);

    /* Layer 3 on its own: even libxml2 with the dangerous options
     * (NOENT + DTDLOAD) must not reach the network once fmt_xml_init has
     * installed the deny loader. */
    fmt_xml_init();
    xmlDocPtr d = xmlReadMemory(doc, (int)strlen(doc), "x.xml", NULL,
                                XML_PARSE_NOENT | XML_PARSE_DTDLOAD |
                                    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlFreeDoc(d);

    int c = accept(s, NULL, NULL);
    CU_ASSERT_EQUAL(c, -1);
    CU_ASSERT(errno == EAGAIN || errno == EWOULDBLOCK);
    if (c >= 0)
        close(c);
    close(s);
}

/* A secret file next to the input: no path of ours may read it. */
static void test_secret_never_read(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char secret[512], in[512], doc[8192];
    snprintf(secret, sizeof(secret), "%s/secret.txt", dir);
    CU_ASSERT_EQUAL_FATAL(tu_write_file(secret, SECRET, strlen(SECRET)), 0);

    static const char *const fmts[] = {
        /* general entity */
        "<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "
        "\"file://%s\">]>\n<d>&x;</d>\n",
        /* relative to the document */
        "<!DOCTYPE d [<!ENTITY x SYSTEM \"secret.txt\">]><d>&x;</d>",
        /* in an attribute */
        "<!DOCTYPE d [<!ENTITY x SYSTEM \"file://%s\">]><d a=\"&x;\"/>",
        /* external DTD */
        "<!DOCTYPE d SYSTEM \"file://%s\"><d/>",
        /* XInclude is not processed at all */
        "<d xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
        "<xi:include href=\"file://%s\" parse=\"text\"/></d>",
        /* DOCTYPE hidden after a long comment (past the first chunk) */
        "<!--%4000s--><!DOCTYPE d [<!ENTITY x SYSTEM \"file://%s\">]>"
        "<d>&x;</d>",
    };
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        if (i == 5)
            snprintf(doc, sizeof(doc), fmts[i], "", secret);
        else
            snprintf(doc, sizeof(doc), fmts[i], secret);
        snprintf(in, sizeof(in), "%s/in%zu.xml", dir, i);
        CU_ASSERT_EQUAL_FATAL(tu_write_file(in, doc, strlen(doc)), 0);
        for (int mode = 0; mode < 2; mode++) {
            struct fmt_src src = {0};
            if (mode == 0) {
                src.path = in;
            } else {
                src.buf = doc;
                src.len = strlen(doc);
            }
            struct h2h_err err = {0};
            char *seen = NULL;
            int rc = drain(&src, &err, &seen);
            CU_ASSERT_PTR_NULL(strstr(seen, SECRET));
            CU_ASSERT_PTR_NULL(strstr(err.msg, SECRET));
            if (i != 4 && rc != H2H_ESECURITY)
                fprintf(stderr, "\nsecret case %zu mode %d: %d %s\n", i, mode,
                        rc, err.msg);
            if (i != 4) {
                CU_ASSERT_EQUAL(rc, H2H_ESECURITY);
            } else {
                CU_ASSERT_EQUAL(rc, 0); /* harmless: just an element */
            }
            free(seen);
        }
    }

    /* Layer 3 alone, with libxml2's most dangerous options. */
    fmt_xml_init();
    snprintf(doc, sizeof(doc), fmts[0], secret);
    xmlDocPtr d = xmlReadMemory(doc, (int)strlen(doc), "x.xml", NULL,
                                XML_PARSE_NOENT | XML_PARSE_DTDLOAD |
                                    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (d) {
        xmlChar *c = xmlNodeGetContent(xmlDocGetRootElement(d));
        CU_ASSERT(c == NULL || strstr((const char *)c, SECRET) == NULL);
        xmlFree(c);
        xmlFreeDoc(d);
    }
    tu_rmtree(dir);
}

/* ---- ordinary documents ------------------------------------------------ */

static const char good[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!-- a comment with <!DOCTYPE x> inside is harmless -->\n"
    "<Doc xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">\n"
    "  <Nm>M\xc3\xbcller &amp; S\xc3\xb6hne &#228;</Nm>\n"
    "  <Empty/>\n"
    "  <Empty2></Empty2>\n"
    "  <Cd><![CDATA[<!DOCTYPE not-really> & raw]]></Cd>\n"
    "  <Mixed>a<b>b</b>c</Mixed>\n"
    "  <Skip><x><y>deep</y></x></Skip>\n"
    "  <Amt Ccy=\"EUR\">12.50</Amt>\n"
    "</Doc>\n";

static char *text_of(struct fmt_xml *x, const char *elem, int *line)
{
    struct h2h_err err = {0};
    int rc;
    while ((rc = fmt_xml_read(x, &err)) == 1) {
        if (xmlTextReaderNodeType(x->r) == XML_READER_TYPE_ELEMENT &&
            !strcmp((const char *)xmlTextReaderConstLocalName(x->r), elem)) {
            if (line)
                *line = fmt_xml_line(x);
            return fmt_xml_text(x, &err);
        }
    }
    return NULL;
}

static void run_good(const struct fmt_src *src)
{
    struct fmt_xml x;
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL_FATAL(fmt_xml_open(&x, src, &err), 0);
    int line = 0;
    char *s = text_of(&x, "Nm", &line);
    CU_ASSERT_STRING_EQUAL(s, "M\xc3\xbcller & S\xc3\xb6hne \xc3\xa4");
    CU_ASSERT_EQUAL(line, 4);
    /* reader left on </Nm> */
    CU_ASSERT_EQUAL(xmlTextReaderNodeType(x.r), XML_READER_TYPE_END_ELEMENT);
    free(s);
    s = text_of(&x, "Empty", NULL);
    CU_ASSERT_STRING_EQUAL(s, "");
    free(s);
    s = text_of(&x, "Empty2", NULL);
    CU_ASSERT_STRING_EQUAL(s, "");
    free(s);
    s = text_of(&x, "Cd", NULL);
    CU_ASSERT_STRING_EQUAL(s, "<!DOCTYPE not-really> & raw");
    free(s);
    s = text_of(&x, "Mixed", NULL);
    CU_ASSERT_STRING_EQUAL(s, "abc");
    free(s);
    /* skip a subtree: the next element seen is Amt */
    while (fmt_xml_read(&x, &err) == 1)
        if (xmlTextReaderNodeType(x.r) == XML_READER_TYPE_ELEMENT)
            break;
    CU_ASSERT_STRING_EQUAL((const char *)xmlTextReaderConstLocalName(x.r),
                           "Skip");
    CU_ASSERT_EQUAL(fmt_xml_skip(&x, &err), 0);
    while (fmt_xml_read(&x, &err) == 1)
        if (xmlTextReaderNodeType(x.r) == XML_READER_TYPE_ELEMENT)
            break;
    CU_ASSERT_STRING_EQUAL((const char *)xmlTextReaderConstLocalName(x.r),
                           "Amt");
    xmlChar *ccy = xmlTextReaderGetAttribute(x.r, BAD_CAST "Ccy");
    CU_ASSERT_STRING_EQUAL((const char *)ccy, "EUR");
    xmlFree(ccy);
    s = fmt_xml_text(&x, &err);
    CU_ASSERT_STRING_EQUAL(s, "12.50");
    CU_ASSERT_EQUAL(fmt_xml_line(&x), 10);
    free(s);
    int rc;
    while ((rc = fmt_xml_read(&x, &err)) == 1)
        ;
    CU_ASSERT_EQUAL(rc, 0);
    fmt_xml_close(&x);
}

static void test_good_memory_and_file(void)
{
    struct fmt_src m = {.buf = good, .len = strlen(good)};
    run_good(&m);
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof(path), "%s/good.xml", dir);
    tu_write_file(path, good, strlen(good));
    struct fmt_src f = {.path = path};
    run_good(&f);
    tu_rmtree(dir);

    struct fmt_xml x;
    struct h2h_err err = {0};
    struct fmt_src nf = {.path = "/nonexistent/h2h/x.xml"};
    CU_ASSERT_EQUAL(fmt_xml_open(&x, &nf, &err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/h2h/x.xml"));
    fmt_xml_close(&x);
    fmt_xml_close(NULL);
}

static void test_declared_encodings(void)
{
    static const struct {
        const char *doc;
        const char *text;
    } t[] = {
        {"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>M\xfcller</a>",
         "M\xc3\xbcller"},
        {"<?xml version='1.0' encoding='iso-8859-15'?><a>\xa4 5</a>",
         "\xe2\x82\xac 5"},
        {"<?xml version=\"1.0\" encoding=\"GBK\"?><a>\xd6\xd0\xce\xc4</a>",
         "\xe4\xb8\xad\xe6\x96\x87"},
        {"<?xml version=\"1.0\" encoding=\"GB18030\"?><a>\xd6\xd0</a>",
         "\xe4\xb8\xad"},
        {"\xef\xbb\xbf<?xml version=\"1.0\" "
         "encoding=\"UTF-8\"?><a>\xc3\xa4</a>",
         "\xc3\xa4"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct fmt_src src = {.buf = t[i].doc, .len = strlen(t[i].doc)};
        struct fmt_xml x;
        struct h2h_err err = {0};
        CU_ASSERT_EQUAL_FATAL(fmt_xml_open(&x, &src, &err), 0);
        char *s = text_of(&x, "a", NULL);
        if (!s || strcmp(s, t[i].text))
            fprintf(stderr, "\nencoding case %zu: %s\n", i, s ? s : x.err.msg);
        CU_ASSERT_PTR_NOT_NULL(s);
        if (s)
            CU_ASSERT_STRING_EQUAL(s, t[i].text);
        free(s);
        fmt_xml_close(&x);
    }
    /* GBK bytes that do not decode fail closed */
    static const char bad_gbk[] =
        "<?xml version=\"1.0\" encoding=\"GBK\"?><a>\xd6\xff\xff</a>";
    struct h2h_err err = {0};
    int rc = drain_mem(bad_gbk, strlen(bad_gbk), &err);
    CU_ASSERT_EQUAL(rc, H2H_ECHARSET);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "GBK"));
}

/* Line numbers stay exact past 65535 (XML_PARSE_BIG_LINES). */
static void test_big_line_numbers(void)
{
    size_t lines = 70000;
    char *doc = malloc(lines * 4 + 64);
    size_t n = (size_t)sprintf(doc, "<a>");
    for (size_t i = 0; i < lines; i++)
        doc[n++] = '\n';
    n += (size_t)sprintf(doc + n, "<b>x</b></a>");
    struct fmt_src src = {.buf = doc, .len = n};
    struct fmt_xml x;
    CU_ASSERT_EQUAL_FATAL(fmt_xml_open(&x, &src, NULL), 0);
    int line = 0;
    char *s = text_of(&x, "b", &line);
    CU_ASSERT_EQUAL(line, 70001);
    free(s);
    fmt_xml_close(&x);
    free(doc);
}

/* Every XML file and schema of the corpus: we accept exactly what
 * xmllint (an independent, non-streaming parse) finds well-formed. */
static void test_corpus_agrees_with_xmllint(void)
{
    if (!tu_corpus_present()) {
        fprintf(stderr, "\ncorpus absent (H2H_CORPUS): skipped\n");
        return;
    }
    static const char *const dirs[] = {"camt",  "pain001", "pain002",
                                       "other", "xsd",     "xsd/variants"};
    int files = 0;
    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s", tu_corpus(dirs[d]));
        DIR *dh = opendir(dir);
        if (!dh)
            continue;
        struct dirent *de;
        while ((de = readdir(dh))) {
            size_t l = strlen(de->d_name);
            if (l < 5 || (strcmp(de->d_name + l - 4, ".xml") &&
                          strcmp(de->d_name + l - 4, ".xsd")))
                continue;
            char path[2048];
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            int lint = tu_system("xmllint --noout --nonet '%s' "
                                 ">/dev/null 2>&1",
                                 path);
            struct fmt_src src = {.path = path};
            struct h2h_err err = {0};
            int rc = drain(&src, &err, NULL);
            if ((lint == 0) != (rc == 0))
                fprintf(stderr, "\n%s: xmllint %d, ours %d %s\n", path, lint,
                        rc, err.msg);
            CU_ASSERT_EQUAL(lint == 0, rc == 0);
            files++;
        }
        closedir(dh);
    }
    CU_ASSERT(files > 50);
}

static const struct tu_case cases[] = {
    {"corpus: same verdict as xmllint", test_corpus_agrees_with_xmllint},
    {"hostile: dtd, xxe, encodings, not well-formed", test_hostile_small},
    {"hostile: 5000-deep nesting", test_deep_nesting},
    {"hostile: 10 MB attribute, 2 MB text", test_big_attribute},
    {"hostile: xxe over http opens no connection", test_xxe_http_no_network},
    {"hostile: a secret file is never read", test_secret_never_read},
    {"text, empty elements, cdata, skip (memory and file)",
     test_good_memory_and_file},
    {"declared encodings decode", test_declared_encodings},
    {"line numbers beyond 65535", test_big_line_numbers},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_xmlsafe", cases);
}
