/* m7_machine.c: the M7004 description's defaults (MACHINE.md; docs/machine.md
 * marks each as published or assumption) and its override by name.
 * One table of fields drives set, format and the error messages. */
#include "m7_machine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void m7_machine_default(M7Machine *m) {
    memset(m, 0, sizeof *m);
    m->cores = 4;
    m->clock_ghz = 1.8;
    m->lanes = 32;
    m->vregs = 64;
    m->issue_width = 11;
    m->window = 1;
    m->n_vmac = 3;
    m->n_vls = 2;
    m->n_bcast = 2;
    m->n_sld = 1;
    m->n_vieu = 1;
    m->lat_vload = 9;
    m->lat_vstore = 4;
    m->lat_fma = 6;
    m->lat_bcast = 4;
    m->lat_sload = 6;
    m->lat_vint = 2;
    m->lat_reduce = 20;
    m->reduce_busy = 5;
    m->am_bytes = 768 * 1024;
    m->sm_bytes = 64 * 1024;
    m->gsm_bytes = 6 * 1024 * 1024;
    m->ddr_bytes = INT64_C(16) * 1024 * 1024 * 1024;
    m->dma_channels = 16;
    m->dma_setup = 200;
    m->dma_row_overhead = 4;
    m->ddr_bw = 32e9 / 1.8e9; /* 32 GB/s at 1.8 GHz, whole chip */
    m->gsm_bw = 64;
    m->barrier_cycles = 100;
}

enum { F_INT, F_I64, F_DBL };

typedef struct {
    const char *key;
    int type;
    size_t off;
    double min, max; /* inclusive range */
    const char *why; /* said when the value is out of range */
} Field;

#define FI(k, lo, hi, why) {#k, F_INT, offsetof(M7Machine, k), lo, hi, why}
#define FL(k, lo, hi, why) {#k, F_I64, offsetof(M7Machine, k), lo, hi, why}
#define FD(k, lo, hi, why) {#k, F_DBL, offsetof(M7Machine, k), lo, hi, why}

/* Ranges: what the simulator's bookkeeping supports (unit and issue counts
 * are packed in 8-bit fields, addresses in 60 bits, lanes fixed by m7rt.h). */
static const Field fields[] = {
    FI(cores, 1, 64, "1..64"),
    FD(clock_ghz, 0.001, 100, "0.001..100"),
    FI(lanes, 32, 32, "fixed at 32 by m7rt.h (M7_LANES)"),
    FI(vregs, 1, 4096, "1..4096"),
    FI(issue_width, 1, 255, "1..255"),
    FI(window, 1, 4096, "1..4096"),
    FI(n_vmac, 1, 255, "1..255"),
    FI(n_vls, 1, 255, "1..255"),
    FI(n_bcast, 1, 255, "1..255"),
    FI(n_sld, 1, 255, "1..255"),
    FI(n_vieu, 1, 255, "1..255"),
    FI(lat_vload, 1, 1000, "1..1000"),
    FI(lat_vstore, 1, 1000, "1..1000"),
    FI(lat_fma, 1, 1000, "1..1000"),
    FI(lat_bcast, 1, 1000, "1..1000"),
    FI(lat_sload, 1, 1000, "1..1000"),
    FI(lat_vint, 1, 1000, "1..1000"),
    FI(lat_reduce, 1, 1000, "1..1000"),
    FI(reduce_busy, 1, 1000, "1..1000"),
    FL(am_bytes, 256, 1099511627776.0, "256 B..1 TiB"),
    FL(sm_bytes, 8, 1099511627776.0, "8 B..1 TiB"),
    FL(gsm_bytes, 0, 1099511627776.0, "0..1 TiB"),
    FL(ddr_bytes, 0, 1152921504606846976.0, "0..2^60 B"),
    FI(dma_channels, 1, 1024, "1..1024"),
    FI(dma_setup, 0, 1e9, "0..1e9"),
    FI(dma_row_overhead, 0, 1e9, "0..1e9"),
    FD(ddr_bw, 1e-6, 1e9, "1e-6..1e9 bytes/cycle"),
    FD(gsm_bw, 1e-6, 1e9, "1e-6..1e9 bytes/cycle"),
    FI(barrier_cycles, 0, 1e9, "0..1e9"),
};
enum { NFIELDS = sizeof fields / sizeof fields[0] };

/* A number with an optional binary size suffix (K, M, G, T; "KiB" too). */
static int parse_number(const char *s, double *out) {
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v))
        return -1;
    double scale = 1;
    switch (*end) {
    case 'k': case 'K': scale = 1024.0; end++; break;
    case 'm': case 'M': scale = 1024.0 * 1024; end++; break;
    case 'g': case 'G': scale = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': scale = 1024.0 * 1024 * 1024 * 1024; end++; break;
    }
    if (scale != 1 && (end[0] == 'i' && (end[1] == 'B' || end[1] == 'b')))
        end += 2;
    else if (scale != 1 && (end[0] == 'B' || end[0] == 'b'))
        end++;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end)
        return -1;
    *out = v * scale;
    return 0;
}

int m7_machine_set(M7Machine *m, const char *key, const char *value, char *err, size_t errlen) {
    const Field *f = NULL;
    for (int i = 0; i < NFIELDS; i++)
        if (!strcmp(fields[i].key, key))
            f = &fields[i];
    if (!f) {
        snprintf(err, errlen, "unknown machine key '%s' (known: cores, clock_ghz, issue_width, "
                 "window, n_vmac, lat_fma, am_bytes, ddr_bw, ...; see docs/machine.md)", key);
        return -1;
    }
    double v;
    if (parse_number(value, &v) < 0) {
        snprintf(err, errlen, "machine key '%s': '%s' is not a number", key, value);
        return -1;
    }
    if (f->type != F_DBL && v != floor(v)) {
        snprintf(err, errlen, "machine key '%s': '%s' is not an integer", key, value);
        return -1;
    }
    if (v < f->min || v > f->max) {
        snprintf(err, errlen, "machine key '%s': %s is out of range (%s)", key, value, f->why);
        return -1;
    }
    char *p = (char *)m + f->off;
    switch (f->type) {
    case F_INT: *(int *)p = (int)v; break;
    case F_I64: *(int64_t *)p = (int64_t)v; break;
    default: *(double *)p = v; break;
    }
    if (m->reduce_busy > m->lat_reduce) {
        snprintf(err, errlen, "machine key '%s': reduce_busy (%d) exceeds lat_reduce (%d)", key,
                 m->reduce_busy, m->lat_reduce);
        return -1;
    }
    return 0;
}

/* Strips blanks around s[0..n) into buf. */
static void trimmed(const char *s, size_t n, char *buf, size_t len) {
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
}

/* One "key=value" item of n bytes. */
static int apply_item(M7Machine *m, const char *s, size_t n, char *err, size_t errlen) {
    const char *eq = memchr(s, '=', n);
    char item[256];
    if (!eq) {
        trimmed(s, n, item, sizeof item);
        snprintf(err, errlen, "machine setting '%s' is not of the form key=value", item);
        return -1;
    }
    char key[128], val[128];
    trimmed(s, (size_t)(eq - s), key, sizeof key);
    trimmed(eq + 1, n - (size_t)(eq - s) - 1, val, sizeof val);
    return m7_machine_set(m, key, val, err, errlen);
}

int m7_machine_apply_list(M7Machine *m, const char *list, char *err, size_t errlen) {
    if (!list)
        return 0;
    const char *s = list;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        char probe[8];
        trimmed(s, n, probe, sizeof probe);
        if (probe[0] && apply_item(m, s, n, err, errlen) < 0)
            return -1;
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

int m7_machine_apply_file(M7Machine *m, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open machine file: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char probe[8];
        trimmed(line, strlen(line), probe, sizeof probe);
        if (!probe[0])
            continue;
        char msg[400];
        if (apply_item(m, line, strlen(line), msg, sizeof msg) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

void m7_machine_format(const M7Machine *m, char *buf, size_t len) {
    size_t used = 0;
    if (len)
        buf[0] = 0;
    for (int i = 0; i < NFIELDS && used < len; i++) {
        const char *p = (const char *)m + fields[i].off;
        int n;
        const char *sep = i ? "," : "";
        switch (fields[i].type) {
        case F_INT: n = snprintf(buf + used, len - used, "%s%s=%d", sep, fields[i].key, *(const int *)p); break;
        case F_I64: n = snprintf(buf + used, len - used, "%s%s=%lld", sep, fields[i].key,
                                 (long long)*(const int64_t *)p); break;
        default: n = snprintf(buf + used, len - used, "%s%s=%.17g", sep, fields[i].key, *(const double *)p); break;
        }
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
