/*
 * formats_init.h - process-wide set-up of the formats layer (libxml2's
 * parser, the external-entity loader that refuses everything).  Call once
 * from main() before any thread uses formats/.
 */
#ifndef FMT_FORMATS_INIT_H
#define FMT_FORMATS_INIT_H

void formats_init(void);

#endif
