/* embed.c: build tool; turns a text file into a C string (kernels.c goes
 * into every generated program). usage: m7embed IN OUT SYMBOL */
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: m7embed IN OUT SYMBOL\n");
        return 1;
    }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!in || !out) {
        fprintf(stderr, "m7embed: cannot open %s or %s\n", argv[1], argv[2]);
        return 1;
    }
    fprintf(out, "/* generated from %s */\nconst char %s[] = {\n", argv[1], argv[3]);
    int c, n = 0;
    while ((c = fgetc(in)) != EOF)
        fprintf(out, "%d,%s", c, ++n % 20 ? "" : "\n");
    fprintf(out, "0};\n");
    fclose(in);
    return fclose(out) ? 1 : 0;
}
