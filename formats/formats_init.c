/* formats_init.c - see formats_init.h. */
#include "formats_init.h"

#include "xmlsafe.h"

void formats_init(void)
{
    fmt_xml_init();
}
