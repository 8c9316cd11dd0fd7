/* sim_driver.c: compiled together with a generated program by the codegen
 * tests.  Runs it on the simulator with raw FP32 files instead of the
 * harness's tensor files:
 *   driver WEIGHTS IN0.raw ... OUT0.raw ...
 * prints one "region NAME CYCLES EFFICIENCY BOUND" line per region and
 * "total CYCLES EFFICIENCY"; exit 1 when a simulator check fired. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m7sim.h"

static int64_t numel(const m7_io *io) {
    int64_t n = 1;
    for (int k = 0; k < io->rank; k++)
        n *= io->dims[k];
    return n;
}

static int xfer(const char *path, uint8_t *p, uint64_t len, int load) {
    FILE *f = fopen(path, load ? "rb" : "wb");
    if (!f || !p || (load ? fread(p, 1, len, f) : fwrite(p, 1, len, f)) != len) {
        fprintf(stderr, "driver: cannot %s %s\n", load ? "read" : "write", path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) ? -1 : 0;
}

int main(int argc, char **argv) {
    const m7_program *p = &m7_main_program;
    if (argc != 2 + p->n_inputs + p->n_outputs) {
        fprintf(stderr, "usage: %s WEIGHTS INPUTS... OUTPUTS...\n", argv[0]);
        return 2;
    }
    M7Machine m;
    char err[512];
    m7_machine_default(&m);
    if (m7_machine_apply_list(&m, p->machine, err, sizeof err)) {
        fprintf(stderr, "driver: %s\n", err);
        return 2;
    }
    M7Sim *s = m7sim_new(&m, p->ddr_bytes, err, sizeof err);
    if (!s) {
        fprintf(stderr, "driver: %s\n", err);
        return 2;
    }
    int rc = xfer(argv[1], m7sim_host_ptr(s, M7_DDR(p->weights_ddr_offset), 0, p->weights_bytes),
                  p->weights_bytes, 1);
    for (int i = 0; i < p->n_inputs && !rc; i++)
        rc = xfer(argv[2 + i], m7sim_host_ptr(s, M7_DDR(p->inputs[i].ddr_offset), 0, numel(&p->inputs[i]) * 4),
                  (uint64_t)numel(&p->inputs[i]) * 4, 1);
    if (!rc && m7sim_run(s, p->kernel)) {
        fprintf(stderr, "driver: %s\n", m7sim_error(s)->msg);
        rc = 1;
    }
    for (int i = 0; i < p->n_outputs && !rc; i++)
        rc = xfer(argv[2 + p->n_inputs + i],
                  m7sim_host_ptr(s, M7_DDR(p->outputs[i].ddr_offset), 0, numel(&p->outputs[i]) * 4),
                  (uint64_t)numel(&p->outputs[i]) * 4, 0);
    if (!rc) {
        for (int i = 0; i < m7sim_region_count(s); i++) {
            const M7SimRegion *r = m7sim_region(s, i);
            printf("region %s %llu %.4f %.4f\n", r->name, (unsigned long long)r->cycles, r->efficiency,
                   r->bound);
        }
        if (getenv("M7CC_TEST_DUMP"))
            m7sim_report(s, stdout);
        const M7SimRegion *t = m7sim_total(s);
        printf("total %llu %.4f\n", (unsigned long long)t->cycles, t->efficiency);
    }
    m7sim_free(s);
    return rc ? 1 : 0;
}
