/*
 * iso20022_sftp.h - the ISO 20022 host-to-host bank over SFTP.
 *
 * The commonest corporate bank link: we put pain.001 files into the bank's
 * upload folder on its SFTP server and fetch pain.002 status reports and
 * camt.052/053/054 (or MT940) statements from its download folders.  The
 * daemon renders each payment in the bank's payment_format before submit
 * and classifies what comes back by content, so this adapter only moves
 * bytes: it never parses a payload.  It runs on the asynchronous SFTP
 * transport (adapters/transport/sftp.h): pinned host keys, a session pool
 * of the bank's max_sessions, every wait bounded.
 *
 * Operations:
 *   submit   upload the rendered payload to <upload_dir>/<remote name>
 *            (temporary name, fsync, size check, rename that never
 *            overwrites).  The final name already taken by a regular file
 *            of our size: our own earlier attempt landed -> OK; anything
 *            else there -> PERMFAIL.  A connection lost after the rename
 *            was sent -> UNKNOWN (ask recover, never resend blindly).
 *            When an earlier attempt of the name broke off, what it left
 *            is removed first.
 *   recover  removes a temporary of ours that a dead connection left in
 *            upload_dir, then looks for the final name in upload_dir and
 *            in every archive folder: found with our size -> OK; found
 *            with another size -> PERMFAIL; nowhere -> NOT_SENT (or
 *            UNKNOWN when the bank consumes uploads without archiving
 *            them: consumed_by_bank); the server unreachable -> TEMPFAIL.
 *   poll     lists each download folder, takes the regular files whose
 *            names match its pattern, are valid (names_check_drop) and not
 *            hidden or temporary (names_is_ignored), downloads them one at
 *            a time into the daemon's tmp_dir (temporary name, size checked
 *            against the listing and the server's stat, SHA-256 computed,
 *            fsync'd) and delivers each; when the daemon answers 0 or
 *            H2H_EDUP the remote file is deleted, moved to move_to or kept
 *            (after_fetch); any other answer leaves it for the next poll.
 *            Kept files (and files whose delete/move failed) are remembered
 *            in memory by folder, name, size and mtime, so they are not
 *            fetched again on every poll.  One poll at a time.
 *   health   "ok", or "degraded: <the last transport error>" verbatim
 *            (a changed host key names the presented fingerprint).
 *   sweep    temporaries that dead connections left in upload_dir are
 *            removed: all of ours when an instance is the first on its
 *            upload folder (one upload folder belongs to one h2hd), later
 *            hourly those over an hour old (iso20022_sftp_sweep.c).
 *            Submits and recovers of a name never overlap (H2H_ESTATE).
 *   close    no new operations; those in flight finish (each is bounded
 *            by op_timeout), then the pool closes and cb runs.
 *
 * Settings (the bank's "iso20022_sftp" group; local paths are relative to
 * the daemon's base_dir, remote folders to the SFTP login folder):
 *   host, port [22], user            the bank's server and our login
 *   key                              private key (ed25519 / ECDSA) file
 *   passphrase_file                  optional: the key's passphrase
 *   password_file                    password login (instead of, or after
 *                                    a refused, key)
 *   known_hosts                      required, OpenSSH format (pinned key)
 *   upload_dir                       required: where payments go
 *   downloads                        list of { dir; pattern ["*"] }
 *   after_fetch                      "delete" (default) | "keep" | "move"
 *   move_to                          with "move": the folder to move to
 *   archive_dirs                     folders the bank moves processed
 *                                    uploads to: "dir" (same name) or
 *                                    { dir; match = "*_{name}"; }
 *   consumed_by_bank [false]         the bank removes uploads it read
 *   connect_timeout [10], op_timeout [30], keepalive [30],
 *   idle_timeout [60]                seconds
 *   max_download_mb [1024]           largest file fetched
 * The daemon's own bank settings used here: max_sessions [4].
 *
 * Nothing is logged here: results carry the reasons and the daemon logs.
 * Threads: loop thread only, like every adapter.
 */
#ifndef H2H_ISO20022_SFTP_H
#define H2H_ISO20022_SFTP_H

#include "adapter.h"

extern const struct h2h_adapter_ops iso20022_sftp_ops;

#endif
