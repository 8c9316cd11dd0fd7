/* fuzz_scratch.h: a private folder for the files a fuzz target writes. */
#ifndef M7CC_FUZZ_SCRATCH_H
#define M7CC_FUZZ_SCRATCH_H

/* The path of `name` in the folder (the same pointer for the same name).
 * The folder is made on first use in $TMPDIR, else /dev/shm (creating files
 * on disk took most of each run), else /tmp, and removed at exit with every
 * file named here. */
const char *fuzz_scratch(const char *name);

#endif
