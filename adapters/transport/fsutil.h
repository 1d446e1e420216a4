/*
 * fsutil.h - the one place that makes files durable.
 *
 * Discipline (Postfix style): a file becomes visible under its final name
 * only complete and on disk: write a temporary name in the same directory,
 * fsync it, rename it into place without ever replacing an existing file,
 * then fsync the directory so the rename itself survives a crash.  Nothing
 * else in h2hd calls rename(2) on queue files.
 *
 * Every function is blocking: call it from a libuv thread-pool worker (or
 * at start-up), never from the loop thread for large files.  All functions
 * return 0 or a negative code (-errno, H2H_*) with err filled.
 */
#ifndef H2H_FSUTIL_H
#define H2H_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "h2h_err.h"

/* Hide temporaries from pickup and listings: ".h2h-tmp.<rand>.<name>". */
#define FSU_TMP_PREFIX ".h2h-tmp."

enum {
    FSU_NO_DIRSYNC = 1, /* caller fsyncs the directory once for a batch */
    FSU_REPLACE = 2,    /* allow replacing an existing final name */
};

/* fsync a directory so that entries created/renamed in it are durable. */
int fsu_fsync_dir(const char *dir, struct h2h_err *err);

/* mkdir -p with mode for the created components. */
int fsu_mkdirs(const char *path, mode_t mode, struct h2h_err *err);

/* Rename without replacing: -EEXIST when newpath exists. */
int fsu_rename_noreplace(const char *oldpath, const char *newpath,
                         struct h2h_err *err);

/*
 * Copy src_fd (from its current offset to EOF) to dir/name durably, hashing
 * on the way.  sha256_hex (65 bytes) and size receive the content's digest
 * and length when not NULL.  -EEXIST if dir/name exists (unless
 * FSU_REPLACE); the temporary is removed on every failure.
 */
int fsu_copy_fd(int src_fd, const char *dir, const char *name, unsigned flags,
                char *sha256_hex, uint64_t *size, struct h2h_err *err);

/* Same for a source path (opened with O_NOFOLLOW, must be regular). */
int fsu_copy_file(const char *src, const char *dir, const char *name,
                  unsigned flags, char *sha256_hex, uint64_t *size,
                  struct h2h_err *err);

/* Write a buffer durably to dir/name (same rules). */
int fsu_write_file(const char *dir, const char *name, const void *data,
                   size_t len, unsigned flags, struct h2h_err *err);

/*
 * Move path into dir as want (NULL: path's base name); when that name is
 * taken, a suffix ".1", ".2", ... is added.  final_name (may be NULL)
 * receives the name used.  Works on symlinks and special files too (they
 * are moved, never followed).
 */
int fsu_move_into(const char *path, const char *dir, const char *want,
                  char *final_name, size_t final_name_sz, unsigned flags,
                  struct h2h_err *err);

/* SHA-256 of a file, hex. */
int fsu_sha256_file(const char *path, char sha256_hex[65],
                    uint64_t *size, struct h2h_err *err);

/* Remove temporaries (FSU_TMP_PREFIX*) left in dir by a crash. */
int fsu_clean_tmp(const char *dir, struct h2h_err *err);

/* A whole regular file of at most max bytes into a new NUL-terminated
 * buffer (*out, the caller frees; *len without the NUL).  Codes:
 * H2H_ENOTFOUND (no such file), H2H_EINVALID (not a regular file),
 * H2H_ETOOBIG (over max), -errno; messages name the path.  A file that
 * shrinks while read gives what is there. */
int fsu_read_file(const char *path, size_t max, char **out, size_t *len,
                  struct h2h_err *err);

/* Join dir and name into buf; H2H_ETOOBIG if it does not fit. */
int fsu_join(char *buf, size_t bufsz, const char *dir, const char *name);

#endif
