/* fuzz_scratch.c: see fuzz_scratch.h. */
#include "tests/fuzz/fuzz_scratch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_FILES = 8 };
static char dir[256];
static char *path[MAX_FILES];
static const char *name_of[MAX_FILES];
static int n_files;

static void remove_all(void) {
    for (int i = 0; i < n_files; i++) {
        unlink(path[i]);
        free(path[i]);
    }
    rmdir(dir);
}

const char *fuzz_scratch(const char *name) {
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
            tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof dir, "%s/m7fuzzXXXXXX", tmp);
        if (!mkdtemp(dir))
            abort();
        atexit(remove_all);
    }
    for (int i = 0; i < n_files; i++)
        if (!strcmp(name_of[i], name))
            return path[i];
    if (n_files == MAX_FILES)
        abort();
    path[n_files] = malloc(strlen(dir) + strlen(name) + 2);
    if (!path[n_files])
        abort();
    sprintf(path[n_files], "%s/%s", dir, name);
    name_of[n_files] = name;
    return path[n_files++];
}
