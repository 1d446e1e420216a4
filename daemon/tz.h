/*
 * tz.h - time zones and civil dates, without the process's TZ.
 *
 * The scheduler evaluates every bank's schedule in that bank's time zone.
 * localtime()/mktime() only know the one zone in $TZ and are not
 * thread-safe when it changes, so this module reads the zone data itself:
 *
 *   - IANA names ("Asia/Shanghai", "Europe/Berlin", "Etc/UTC") are read
 *     from TZif files (RFC 8536, versions 1 to 4) under a zoneinfo
 *     directory, /usr/share/zoneinfo unless the caller names another.
 *     From version 2 on the 64-bit section is used, and the POSIX TZ
 *     string of the footer (with the version 3 extensions: hours up to
 *     167, negative rule times) gives the rules for instants after the
 *     last transition in the file.  Instants before the first transition
 *     use time type 0, as RFC 8536 says.
 *   - "UTC" and fixed offsets "+08:00", "-05:30" (sign, two-digit hours
 *     00-18, a colon, two-digit minutes) need no file.
 *
 * Names are checked before any file is opened: 1-255 characters from
 * [A-Za-z0-9_+-/], no leading, trailing or doubled '/', so no absolute
 * path and no ".." can reach the file system.  TZif files with leap
 * seconds ("right/" zones) are refused: their clock counts leap seconds
 * and would disagree with time_t.
 *
 * A NULL struct tz means UTC in every function below.
 *
 * Civil time and the two awkward cases (tz_resolve_local):
 *   - gap: a civil time skipped by a forward change (Europe/Berlin,
 *     2026-03-29 02:30) does not exist.  tz_from_local moves it forward
 *     by the length of the gap (02:30 -> 03:30 CEST), i.e. reads it with
 *     the offset in force before the change, as Python's zoneinfo does
 *     with fold=0; tz_resolve_local also reports the first instant after
 *     the gap (the change itself, 03:00 CEST) for callers, like cron,
 *     that want that instead.
 *   - overlap: a civil time repeated by a backward change (2026-10-25
 *     02:30 happens in CEST and again in CET) has two instants;
 *     tz_from_local returns the first unless fold is 1.
 *
 * Range: instants from 0001-01-01 to 9999-12-31 (UTC or civil); outside
 * it the functions that can fail return H2H_EINVALID.
 *
 * Ownership: tz_load* returns a struct tz the caller frees with tz_free.
 * A loaded zone is immutable: any thread may use it concurrently.
 */
#ifndef H2H_TZ_H
#define H2H_TZ_H

#include <stdint.h>
#include <time.h>

#include "h2h_err.h"

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"

/* The instants (and civil times) this module handles. */
#define TZ_TIME_MIN INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */
#define TZ_TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

struct tz;

/*
 * Load the zone called name from TZ_DEFAULT_DIR (or a fixed offset).
 * 0, or: H2H_EINVALID (refused name), H2H_ENOTFOUND (no such zone),
 * H2H_EPARSE (not a valid TZif file), H2H_EUNSUPPORTED (leap seconds),
 * H2H_ETOOBIG, H2H_ENOMEM, -errno from reading the file.
 */
int tz_load(const char *name, struct tz **out, struct h2h_err *err);

/* The same from another zoneinfo directory (dir NULL: TZ_DEFAULT_DIR). */
int tz_load_dir(const char *dir, const char *name, struct tz **out,
                struct h2h_err *err);

void tz_free(struct tz *z); /* NULL ok */

/* The name the zone was loaded by ("UTC" for NULL). */
const char *tz_name(const struct tz *z);

/* Offset from UTC in seconds (east positive) in force at utc. */
int tz_offset_at(const struct tz *z, time_t utc);

/*
 * Civil time at utc: every struct tm field including tm_wday, tm_yday,
 * tm_isdst, tm_gmtoff and tm_zone (the abbreviation, e.g. "CEST", which
 * lives as long as z).  0 or H2H_EINVALID (utc out of range).
 */
int tz_to_local(const struct tz *z, time_t utc, struct tm *out);

enum tz_local_kind {
    TZ_LOCAL_UNIQUE = 0,  /* the civil time happens exactly once */
    TZ_LOCAL_GAP = 1,     /* skipped by a forward change */
    TZ_LOCAL_OVERLAP = 2, /* repeated by a backward change */
};

struct tz_local {
    enum tz_local_kind kind;
    /* UNIQUE: the instant.  OVERLAP: the earlier of the two.  GAP: the
     * civil time moved forward by the gap (read with the offset before
     * the change). */
    time_t first;
    /* OVERLAP: the later instant; otherwise equal to first. */
    time_t second;
    /* GAP: the change, the first instant after the gap; otherwise equal
     * to first. */
    time_t after_gap;
};

/*
 * Everything about the civil time `civil` in zone z.  Only tm_year,
 * tm_mon, tm_mday, tm_hour, tm_min and tm_sec are read, and they are
 * normalised like timegm() does (tm_mday 32 is the next month's 1st).
 * 0 or H2H_EINVALID (out of range).
 */
int tz_resolve_local(const struct tz *z, const struct tm *civil,
                     struct tz_local *out);

/*
 * The instant of the civil time `civil` in zone z: in a gap, moved
 * forward by the gap; in an overlap, the first occurrence, or the second
 * if fold is 1.  0 or H2H_EINVALID.
 */
int tz_from_local(const struct tz *z, const struct tm *civil, int fold,
                  time_t *out);

/*
 * The first instant strictly after t at which the zone's offset, DST flag
 * or abbreviation may change (from the file's transitions, then from the
 * footer's rules).  0, or H2H_ENOTFOUND when the zone never changes again
 * (or not before TZ_TIME_MAX).
 */
int tz_next_transition(const struct tz *z, time_t t, time_t *at);

/* The last such instant at or before t; H2H_ENOTFOUND if there is none. */
int tz_prev_transition(const struct tz *z, time_t t, time_t *at);

/*
 * Civil dates in the proleptic Gregorian calendar, as days since
 * 1970-01-01 (negative before).  Exact for any int year; callers keep to
 * 1..9999.  tz_days_from_civil does not check its input (month 1-12,
 * day 1-31); tz_valid_date does.
 */
int64_t tz_days_from_civil(int y, int m, int d);
void tz_civil_from_days(int64_t days, int *y, int *m, int *d);
int tz_weekday(int64_t days); /* 0 = Sunday .. 6 = Saturday */
int tz_is_leap_year(int y);
int tz_days_in_month(int y, int m);     /* 0 if m is not 1-12 */
int tz_valid_date(int y, int m, int d); /* 1 if a real date in 1..9999 */
/* A day as "YYYY-MM-DD" (out: 11 bytes), and back: 0 with *days when s is
 * exactly a real date in that form, else H2H_EINVALID. */
void tz_day_text(int64_t days, char out[11]);
int tz_day_parse(const char *s, int64_t *days);

/* The civil date at utc in zone z, as days since 1970-01-01.
 * 0 or H2H_EINVALID. */
int tz_local_day(const struct tz *z, time_t utc, int64_t *day);

#endif
