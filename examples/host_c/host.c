/* A C host embedding Plexus: loads a model and a checkpoint, then classifies
 * the model's test images from several threads sharing one session.
 *
 *   host MODEL CHECKPOINT [THREADS]
 *
 * Prints one line, e.g.
 *   accuracy 0.9445 (1889/2000) throughput 12345 samples/s threads 4
 * On an error: plx_last_error() (naming the failed call) on stderr, exit code 1.
 * C99 + POSIX threads; see README.md for the build line. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <plexus/plexus.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 100
#define MAX_THREADS 256

/* One thread's share of the test set: rows [begin, end). */
typedef struct {
    plx_session* session;
    const char* input;     /* the model's feature input, e.g. "image" */
    const float* images;   /* [n, sample] */
    const float* labels;   /* [n] class indices, or [n, classes] one-hot */
    int64_t sample;        /* floats per image */
    int64_t label_width;   /* 1, or classes for one-hot labels */
    int64_t begin, end;
    int64_t correct;
    int failed;
    char error[1024];      /* plx_last_error() is per thread: copied here */
} job;

static int64_t argmax(const float* v, int64_t n) {
    int64_t best = 0, i;
    for (i = 1; i < n; ++i)
        if (v[i] > v[best]) best = i;
    return best;
}

static void* classify(void* arg) {
    job* j = (job*)arg;
    int64_t b;
    for (b = j->begin; b < j->end; b += BATCH) {
        const int64_t n = j->end - b < BATCH ? j->end - b : BATCH;
        int64_t shape[2], dims[2], i;
        int32_t ndim = 0;
        plx_view view;
        plx_tensor* out = NULL;
        const float* scores = NULL;
        shape[0] = n;
        shape[1] = j->sample;
        view.data = j->images + b * j->sample;
        view.dtype = PLX_DTYPE_F32;
        view.ndim = 2;
        view.shape = shape;
        if (plx_session_run(j->session, 1, &j->input, &view, 1, NULL, &out) != PLX_STATUS_OK ||
            plx_tensor_shape(out, dims, 2, &ndim) != PLX_STATUS_OK || plx_tensor_data(out, &scores) != PLX_STATUS_OK) {
            snprintf(j->error, sizeof j->error, "%s", plx_last_error());
            j->failed = 1;
            if (out != NULL) plx_tensor_destroy(out);
            return NULL;
        }
        for (i = 0; i < n; ++i) {
            const float* label = j->labels + (b + i) * j->label_width;
            const int64_t want = j->label_width == 1 ? (int64_t)label[0] : argmax(label, j->label_width);
            if (argmax(scores + i * dims[1], dims[1]) == want) ++j->correct;
        }
        plx_tensor_destroy(out);
    }
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Reports the failed call: plx_last_error() names the function. */
static int fail(void) {
    fprintf(stderr, "host: %s\n", plx_last_error());
    return 0;
}

/* The first model input not fed from labels. */
static int feature_input(const plx_model* model, const char** name) {
    int32_t count = 0, i;
    if (plx_model_input_count(model, &count) != PLX_STATUS_OK) return fail();
    for (i = 0; i < count; ++i) {
        const char* source = NULL;
        if (plx_model_input_source(model, i, &source) != PLX_STATUS_OK) return fail();
        if (strcmp(source, "labels") != 0)
            return plx_model_input_name(model, i, name) == PLX_STATUS_OK ? 1 : fail();
    }
    fprintf(stderr, "host: the model has no feature input\n");
    return 0;
}

static int run(const char* model_path, const char* checkpoint, int threads) {
    plx_runtime* rt = NULL;
    plx_model* model = NULL;
    plx_session* session = NULL;
    plx_tensor *images = NULL, *labels = NULL;
    const float *x = NULL, *y = NULL;
    const char* input = NULL;
    int64_t xdims[PLX_MAX_NDIM], ydims[PLX_MAX_NDIM], n, sample = 1, correct = 0;
    int32_t xnd = 0, ynd = 0, i;
    pthread_t tid[MAX_THREADS];
    job jobs[MAX_THREADS];
    int ok = 0, started = 0;
    double t0, seconds;

    if (plx_runtime_create(NULL, &rt) != PLX_STATUS_OK) return fail();
    if (plx_model_load(rt, model_path, checkpoint, &model) != PLX_STATUS_OK) { fail(); goto done; }
    if (plx_model_load_data(model, "test", &images, &labels) != PLX_STATUS_OK) { fail(); goto done; }
    if (!feature_input(model, &input)) goto done;
    if (plx_session_create(model, &session) != PLX_STATUS_OK) { fail(); goto done; }
    if (plx_tensor_shape(images, xdims, PLX_MAX_NDIM, &xnd) != PLX_STATUS_OK ||
        plx_tensor_shape(labels, ydims, PLX_MAX_NDIM, &ynd) != PLX_STATUS_OK ||
        plx_tensor_data(images, &x) != PLX_STATUS_OK || plx_tensor_data(labels, &y) != PLX_STATUS_OK) {
        fail();
        goto done;
    }
    n = xdims[0];
    for (i = 1; i < xnd; ++i) sample *= xdims[i];
    if (n == 0 || xnd != 2) {
        fprintf(stderr, "host: expected test images [N, features] with N > 0, found rank %d, N %lld\n", (int)xnd, (long long)n);
        goto done;
    }

    t0 = now();
    for (i = 0; i < threads; ++i) {
        job* j = &jobs[i];
        memset(j, 0, sizeof *j);
        j->session = session;
        j->input = input;
        j->images = x;
        j->labels = y;
        j->sample = sample;
        j->label_width = ynd == 2 ? ydims[1] : 1;
        j->begin = n * i / threads; /* contiguous parts */
        j->end = n * (i + 1) / threads;
        if (pthread_create(&tid[i], NULL, classify, j) != 0) {
            fprintf(stderr, "host: cannot start thread %d\n", (int)i);
            break;
        }
        ++started;
    }
    for (i = 0; i < started; ++i) pthread_join(tid[i], NULL);
    seconds = now() - t0;
    if (started < threads) goto done;
    for (i = 0; i < threads; ++i) {
        if (jobs[i].failed) {
            fprintf(stderr, "host: thread %d: %s\n", (int)i, jobs[i].error);
            goto done;
        }
        correct += jobs[i].correct;
    }
    printf("accuracy %.4f (%lld/%lld) throughput %.0f samples/s threads %d\n", (double)correct / (double)n,
           (long long)correct, (long long)n, seconds > 0 ? (double)n / seconds : 0.0, threads);
    ok = 1;

done:
    if (images != NULL) plx_tensor_destroy(images);
    if (labels != NULL) plx_tensor_destroy(labels);
    if (session != NULL) plx_session_destroy(session);
    if (model != NULL) plx_model_destroy(model);
    if (rt != NULL && plx_runtime_destroy(rt) != PLX_STATUS_OK) ok = fail();
    return ok;
}

int main(int argc, char** argv) {
    int threads = 4;
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL CHECKPOINT [THREADS]\n", argv[0]);
        return 1;
    }
    if (argc == 4) {
        char* end = NULL;
        const long t = strtol(argv[3], &end, 10);
        if (*argv[3] == '\0' || *end != '\0' || t < 1 || t > MAX_THREADS) {
            fprintf(stderr, "host: THREADS is '%s'; expected an integer in 1..%d\n", argv[3], MAX_THREADS);
            return 1;
        }
        threads = (int)t;
    }
    return run(argv[1], argv[2], threads) ? 0 : 1;
}
