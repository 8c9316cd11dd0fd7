/* fuzz_pipeline.h: the compiler stages every ONNX fuzz target drives. */
#ifndef M7CC_FUZZ_PIPELINE_H
#define M7CC_FUZZ_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

/* Loads the bytes as an ONNX model (batch: FrontendOptions.batch) and runs
 * everything after it; aborts on a broken promise (see fuzz_pipeline.c). */
void fuzz_onnx_pipeline(const uint8_t *data, size_t size, int64_t batch);

#endif
