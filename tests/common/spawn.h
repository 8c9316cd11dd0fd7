/* spawn.h: running a command from a test and capturing what it printed. */
#ifndef M7CC_TEST_SPAWN_H
#define M7CC_TEST_SPAWN_H

#include <stddef.h>

typedef struct {
    int status;      /* exit status, or 128 + signal when it died */
    char *out, *err; /* everything it printed (NUL-terminated, owned) */
} SpawnResult;

/* Runs argv (argv[0] is a path), with stdout and stderr captured through
 * files in scratch_dir.  Returns 0, or -1 when it could not start. */
int spawn_run(char *const *argv, const char *scratch_dir, SpawnResult *r);
void spawn_result_free(SpawnResult *r);

#endif
