/* check_c.h: libclang checks of generated C (see check_c.c). */
#ifndef M7CC_CHECK_C_H
#define M7CC_CHECK_C_H

#include <stddef.h>

/* 0 if the file at path passes; -1 with a one-line reason in err. */
int check_generated_c(const char *path, const char *const *includes, int n_inc, char *err, size_t n);

#endif
