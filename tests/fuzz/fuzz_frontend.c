/* fuzz_frontend.c: libFuzzer target: the input is an ONNX file, mutated
 * byte by byte from real models (corpus/frontend/); it goes through the
 * frontend and every later stage (fuzz_pipeline.c). */
#include "tests/fuzz/fuzz_pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_onnx_pipeline(data, size, 0);
    return 0;
}
