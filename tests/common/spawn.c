/* spawn.c: runs a command for a test, capturing its output in files. */
#include "tests/common/spawn.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (f) {
        size_t k;
        while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
            n += k;
            if (cap - n - 1 == 0)
                buf = realloc(buf, cap *= 2);
        }
        fclose(f);
    }
    buf[n] = 0;
    return buf;
}

int spawn_run(char *const *argv, const char *scratch_dir, SpawnResult *r) {
    char out_path[1024], err_path[1024];
    snprintf(out_path, sizeof out_path, "%s/spawn-%d.out", scratch_dir, (int)getpid());
    snprintf(err_path, sizeof err_path, "%s/spawn-%d.err", scratch_dir, (int)getpid());
    memset(r, 0, sizeof *r);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0)
            _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = slurp(out_path);
    r->err = slurp(err_path);
    remove(out_path);
    remove(err_path);
    return 0;
}

void spawn_result_free(SpawnResult *r) {
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}
