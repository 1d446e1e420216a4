/*
 * dirdrop.h - the directory bank: the bank is a folder.
 *
 * For mounted shares and bank gateway appliances that watch a folder (SWIFT
 * AutoClient-style set-ups).  Submit copies the rendered payload into the
 * bank's inbox under a hidden temporary name (".h2h-tmp.*": the gateway
 * must ignore dot files), fsyncs it and renames it to its final name,
 * never overwriting.  Recover asks "is the final name there (or in one of
 * the bank's archive folders)?".  Poll collects what the bank leaves in its
 * outbox for us.
 *
 * Settings (the bank's `dirdrop` group):
 *   outbox           folder we write payments into (the bank's inbox); required
 *   inbox            folder the bank writes files for us into; optional
 *   archive_dirs     folders where the gateway moves processed files; recover
 *                    looks there too
 *   consumed_by_bank true when the gateway removes files it has read: a
 *                    missing final name then proves nothing, so recover
 *                    answers "unknown" and the message is held for a person
 *   after_fetch      "delete" (default) or "keep" files in inbox once fetched
 *
 * All file I/O runs on the libuv thread pool; callbacks on the loop thread.
 */
#ifndef H2H_DIRDROP_H
#define H2H_DIRDROP_H

#include "adapter.h"

extern const struct h2h_adapter_ops dirdrop_ops;

#endif
