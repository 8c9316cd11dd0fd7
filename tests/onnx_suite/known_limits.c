/* known_limits.c: reads known_limits.txt (see known_limits.h). */
#include "tests/onnx_suite/known_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int limits_read(const char *path, LimitList *l) {
    FILE *f = fopen(path, "r");
    l->v = NULL;
    l->n = 0;
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    char line[1024];
    int lineno = 0, bad = 0;
    while (!bad && fgets(line, sizeof line, f)) {
        lineno++;
        char name[256], paths[16];
        int used = 0;
        line[strcspn(line, "\n")] = 0;
        if (line[0] == '#' || sscanf(line, "%255s %15s %n", name, paths, &used) < 1)
            continue;
        int p = strcmp(paths, "sim") == 0      ? LIMIT_SIM
                : strcmp(paths, "interp") == 0 ? LIMIT_INTERP
                : strcmp(paths, "both") == 0   ? LIMIT_SIM | LIMIT_INTERP
                                               : 0;
        if (!p || !used || !line[used] || limits_find(l, name)) {
            fprintf(stderr, "%s:%d: want 'CASE sim|interp|both REASON', each case once\n", path,
                    lineno);
            bad = 1;
            break;
        }
        l->v = realloc(l->v, (size_t)(l->n + 1) * sizeof *l->v);
        l->v[l->n++] = (Limit){strdup(name), p, strdup(line + used), 0};
    }
    fclose(f);
    return bad ? -1 : 0;
}

Limit *limits_find(LimitList *l, const char *name) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

void limits_free(LimitList *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].reason);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
