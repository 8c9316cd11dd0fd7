/* main.c: the entry point of a generated program run on the simulator. */
#include "m7sim.h"

int main(int argc, char **argv) { return m7sim_main(argc, argv, &m7_main_program); }
