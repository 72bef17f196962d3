/* The C embedding API as a C program: plexus.h compiles as strict C99
 * (-std=c99 -Wall -Wextra -pedantic -Werror, see tests.cmake), the program
 * links against libplexus_runtime alone, as an external C host would, and
 * runs a model end to end. Usage: plexus_h_c99 MODEL. Prints "ok" and exits
 * 0, or names the failed call and exits 1. */
#include <plexus/plexus.h>

#include <stdio.h>
#include <string.h>

#define CHECK(call)                                                              \
    do {                                                                         \
        if ((call) != PLX_STATUS_OK) {                                           \
            fprintf(stderr, "%s failed: %s\n", #call, plx_last_error());         \
            return 1;                                                            \
        }                                                                        \
    } while (0)

#define EXPECT(cond)                                                             \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "expected %s (last error: %s)\n", #cond, plx_last_error()); \
            return 1;                                                            \
        }                                                                        \
    } while (0)

static float pixels[2 * 784];

int main(int argc, char** argv) {
    plx_runtime_options opts;
    plx_runtime* rt = NULL;
    plx_model* model = NULL;
    plx_session* session = NULL;
    plx_tensor* out = NULL;
    const char* input = "image";
    const char* output = NULL;
    int64_t shape[2] = {2, 784};
    int64_t dims[PLX_MAX_NDIM];
    int32_t ndim = 0;
    const float* data = NULL;
    plx_view view;
    int i;

    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL\n", argv[0]);
        return 2;
    }
    EXPECT(strlen(plx_version()) > 0);
    EXPECT(plx_model_init_params(NULL, 0) == PLX_STATUS_INVALID);
    EXPECT(strstr(plx_last_error(), "plx_model_init_params") != NULL);

    CHECK(plx_runtime_options_init(&opts));
    opts.threads = 1;
    CHECK(plx_runtime_create(&opts, &rt));
    CHECK(plx_model_load(rt, argv[1], NULL, &model));
    CHECK(plx_model_init_params(model, 1));
    CHECK(plx_model_output_name(model, &output));
    CHECK(plx_session_create(model, &session));

    for (i = 0; i < 2 * 784; ++i) pixels[i] = (float)(i % 255) / 255.0f;
    view.data = pixels;
    view.dtype = PLX_DTYPE_F32;
    view.ndim = 2;
    view.shape = shape;
    CHECK(plx_session_run(session, 1, &input, &view, 1, &output, &out));
    CHECK(plx_tensor_shape(out, dims, PLX_MAX_NDIM, &ndim));
    EXPECT(ndim == 2 && dims[0] == 2 && dims[1] == 10);
    CHECK(plx_tensor_data(out, &data));
    EXPECT(data[0] == data[0]); /* not NaN */

    EXPECT(plx_model_destroy(model) == PLX_STATUS_BUSY);
    CHECK(plx_tensor_destroy(out));
    CHECK(plx_session_destroy(session));
    CHECK(plx_model_destroy(model));
    CHECK(plx_runtime_destroy(rt));
    EXPECT(plx_runtime_destroy(rt) == PLX_STATUS_INVALID);
    printf("ok\n");
    return 0;
}
