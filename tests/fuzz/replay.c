/* replay.c: runs a fuzz target's entry point (LLVMFuzzerTestOneInput, linked
 * in from fuzz_<target>.c) on every file of the directories given, as an
 * ordinary test in every build: the seed corpus and every input that once
 * crashed the target (regressions/<target>/) must go through cleanly.  A
 * broken promise aborts inside the target; ASan/UBSan builds also catch
 * memory errors and leaks. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/cunit_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_dirs;
static char **dirs;

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feeds one file; returns 1 if it could be read. */
static int feed(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t cap = 1 << 16, n = 0, r;
    uint8_t *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += r) == cap)
            buf = realloc(buf, cap *= 2);
    fclose(f);
    if (!buf)
        return 0;
    /* An exact-size copy, so ASan sees reads past the end as libFuzzer would. */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 1;
}

static void test_replay(void) {
    for (int k = 0; k < n_dirs; k++) {
        DIR *dp = opendir(dirs[k]);
        CU_ASSERT_PTR_NOT_NULL(dp);
        if (!dp)
            continue;
        char **names = NULL;
        int n = 0;
        for (struct dirent *e; (e = readdir(dp));) {
            if (e->d_name[0] == '.' || !strcmp(e->d_name, "README.md"))
                continue;
            names = realloc(names, (size_t)(n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
        closedir(dp);
        if (n)
            qsort(names, (size_t)n, sizeof *names, by_name);
        for (int i = 0; i < n; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dirs[k], names[i]);
            fprintf(stderr, "replay %s\n", path);
            CU_ASSERT(feed(path));
            free(names[i]);
        }
        free(names);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR...\n", argv[0]);
        return 2;
    }
    n_dirs = argc - 1;
    dirs = argv + 1;
    static const TestCase tests[] = {
        {"every corpus and regression input", test_replay},
        {NULL, NULL},
    };
    return cunit_run("fuzz replay", tests);
}
