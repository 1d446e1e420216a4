/*
 * xml_floor.c - the floor of the format-conversion benchmark: a bare
 * libxml2 xmlTextReader pass over a file, touching each element's name and
 * each text node's value, and nothing else.
 *
 *   xml_floor FILE
 *
 * No conversion can read an XML file faster than libxml2 tokenising it,
 * so bench_convert.py reports conversion times as a multiple of this pass
 * over the same file, measured in the same run on the same machine.  The
 * parser options are those formats/xmlsafe.c gives every h2hd reader
 * (NONET, NOCDATA, BIG_LINES), so the floor parses the same way and only
 * the work on top of parsing shows in the ratio.
 *
 * Prints "nodes elements text_bytes checksum" so the pass cannot be
 * optimised away and so two runs over the same file can be compared;
 * exits 1 when the file is not well-formed or cannot be read.
 */
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: xml_floor FILE\n", stderr);
        return 2;
    }
    xmlInitParser();
    xmlTextReaderPtr r = xmlReaderForFile(argv[1], NULL,
                                          XML_PARSE_NONET | XML_PARSE_NOCDATA |
                                              XML_PARSE_BIG_LINES);
    if (!r) {
        fprintf(stderr, "xml_floor: cannot open %s\n", argv[1]);
        return 1;
    }
    unsigned long long nodes = 0, elements = 0, text = 0, sum = 0;
    int rc;
    while ((rc = xmlTextReaderRead(r)) == 1) {
        nodes++;
        int t = xmlTextReaderNodeType(r);
        if (t == XML_READER_TYPE_ELEMENT) {
            /* a reader dispatches on the name: look at it */
            const xmlChar *n = xmlTextReaderConstLocalName(r);
            elements++;
            sum = sum * 31 + (n ? n[0] : 0);
        } else if (t == XML_READER_TYPE_TEXT ||
                   t == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
            /* a reader keeps the value: walk it once */
            const xmlChar *v = xmlTextReaderConstValue(r);
            size_t len = v ? strlen((const char *)v) : 0;
            text += len;
            sum = sum * 31 + len;
        }
    }
    xmlFreeTextReader(r);
    xmlCleanupParser();
    if (rc < 0) {
        fprintf(stderr, "xml_floor: %s: not well-formed\n", argv[1]);
        return 1;
    }
    printf("%llu %llu %llu %llu\n", nodes, elements, text, sum);
    return 0;
}
