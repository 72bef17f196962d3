/* Plexus C embedding API. C99; callable from C, C++ and any language's FFI.
 *
 *   plx_runtime* rt = NULL;  plx_model* model = NULL;  plx_session* s = NULL;
 *   plx_tensor* probs = NULL;
 *   if (plx_runtime_create(NULL, &rt) != PLX_STATUS_OK ||
 *       plx_model_load(rt, "models/mnist_mlp.pbtxt", "mnist.ckpt", &model) != PLX_STATUS_OK ||
 *       plx_session_create(model, &s) != PLX_STATUS_OK) {
 *     fprintf(stderr, "%s\n", plx_last_error());
 *     return 1;
 *   }
 *   int64_t shape[2] = {batch, 784};
 *   plx_view x = {pixels, PLX_DTYPE_F32, 2, shape};           // host memory, not copied by the caller
 *   const char* name = "image";
 *   if (plx_session_run(s, 1, &name, &x, 1, NULL, &probs) == PLX_STATUS_OK) {
 *     const float* p = NULL;
 *     plx_tensor_data(probs, &p);                              // [batch, 10]
 *     plx_tensor_destroy(probs);
 *   }
 *   plx_session_destroy(s);  plx_model_destroy(model);  plx_runtime_destroy(rt);
 *
 * Conventions, for every function below:
 *  - returns a plx_status: PLX_STATUS_OK or an error code; on error the
 *    message is in plx_last_error() (per thread) and out-parameters are left
 *    NULL / unchanged. Nothing aborts, prints or throws across this boundary.
 *  - handles are opaque. A NULL, destroyed or wrong-kind handle (a plx_model*
 *    passed as a plx_session*) gives PLX_STATUS_INVALID, not a crash: the
 *    library keeps a registry of live handles and checks every argument
 *    against it before touching it. (A handle address reused by a later
 *    allocation of the same kind cannot be told apart; do not keep stale ones.)
 *  - NULL out-pointers give PLX_STATUS_INVALID; so do the destroy functions
 *    given NULL.
 *  - lifetimes nest: runtime > models > sessions and trainers. Destroying a
 *    handle something else still depends on, or one a call on another thread
 *    is using, gives PLX_STATUS_BUSY and leaves it alive.
 *  - strings are UTF-8, NUL-terminated; returned strings belong to the
 *    library and stay valid as long as the handle they came from.
 *  - tensors are f32, row-major, contiguous, batch-first.
 */
#ifndef PLEXUS_PLEXUS_H
#define PLEXUS_PLEXUS_H

#include <plexus/abi/plugin.h> /* PLX_DTYPE_F32, PLX_MAX_NDIM */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status and errors ------------------------------------------------- */

typedef int32_t plx_status;

enum {
    PLX_STATUS_OK = 0,
    PLX_STATUS_INVALID = 1,   /* bad argument, NULL or invalid handle, shape, dtype, name */
    PLX_STATUS_NOT_FOUND = 2, /* unknown kernel, file, parameter, optimizer */
    PLX_STATUS_IO = 3,        /* cannot read or write a file */
    PLX_STATUS_FORMAT = 4,    /* malformed or corrupt file content */
    PLX_STATUS_PLUGIN = 5,    /* a plugin failed to load or a kernel failed */
    PLX_STATUS_ABI = 6,       /* plugin ABI version or declaration mismatch */
    PLX_STATUS_NUMERIC = 7,   /* NaN/Inf loss, gradient or parameter */
    PLX_STATUS_INTERNAL = 8,  /* a bug in Plexus */
    PLX_STATUS_BUSY = 9,      /* the object is still in use; nothing was done */
    PLX_STATUS_NO_MEMORY = 10 /* an allocation failed */
};

/* Log levels passed to plx_runtime_options.log. */
enum { PLX_LOG_ERROR = 0, PLX_LOG_WARNING = 1, PLX_LOG_INFO = 2 };

/** The message of the last call that failed on the calling thread ("" if
 * none has). Successful calls leave it as it is. Valid until the next failing
 * call on this thread. Thread-safe (each thread has its own). */
const char* plx_last_error(void);

/** The library version, "MAJOR.MINOR.PATCH". Static storage; thread-safe. */
const char* plx_version(void);

/* ---- handles ------------------------------------------------------------ */

typedef struct plx_runtime plx_runtime; /* plugin registry and thread budget */
typedef struct plx_model plx_model;     /* a validated model and its parameters */
typedef struct plx_session plx_session; /* inference on a model, from any number of threads */
typedef struct plx_trainer plx_trainer; /* an optimizer training a model, one batch at a time */
typedef struct plx_tensor plx_tensor;   /* an f32 tensor owned by the caller */

/* ---- tensors ------------------------------------------------------------ */

/* A view of memory the caller owns: nothing is copied or kept by the struct.
 * Functions that take one read it during the call only. */
typedef struct plx_view {
    const void* data;     /* row-major, contiguous; may be NULL only if an extent is 0 */
    int32_t dtype;        /* PLX_DTYPE_F32 (the only dtype accepted) */
    int32_t ndim;         /* 0..PLX_MAX_NDIM */
    const int64_t* shape; /* ndim extents, each >= 0; may be NULL if ndim is 0 */
} plx_view;

/** Copies the memory `view` describes into a new tensor, *out (the caller's,
 * released with plx_tensor_destroy). Thread-safe. */
plx_status plx_tensor_from_view(const plx_view* view, plx_tensor** out);

/** Fills *view with the tensor's data, dtype and shape; the pointers inside
 * stay valid while `tensor` lives. Thread-safe. */
plx_status plx_tensor_get_view(const plx_tensor* tensor, plx_view* view);

/** *data = the tensor's elements (numel floats), valid while `tensor` lives. */
plx_status plx_tensor_data(const plx_tensor* tensor, const float** data);

/** *ndim = the tensor's rank; dims[0..ndim) = its extents. With dims NULL and
 * capacity 0 only *ndim is set. capacity < rank gives PLX_STATUS_INVALID,
 * with *ndim still set so the caller can retry. */
plx_status plx_tensor_shape(const plx_tensor* tensor, int64_t* dims, int32_t capacity, int32_t* ndim);

/** *numel = the number of elements (the product of the extents). */
plx_status plx_tensor_numel(const plx_tensor* tensor, int64_t* numel);

/** Releases the tensor. Any thread, once no other call is using it. */
plx_status plx_tensor_destroy(plx_tensor* tensor);

/* ---- runtime ------------------------------------------------------------ */

/* Fields a caller leaves out by giving a smaller struct_size (an older
 * header) take their defaults. Fill it with plx_runtime_options_init first. */
typedef struct plx_runtime_options {
    int32_t struct_size;          /* sizeof(plx_runtime_options); 0: every field takes its default */
    int32_t threads;              /* thread budget for all work; 0 (default): the hardware threads */
    int32_t load_default_plugins; /* 1 (default): PLEXUS_PLUGIN_PATH, then the installed plugins */
    int32_t reserved;             /* 0 */
    const char* plugin_dirs;      /* colon-separated folders; every *.so in each is loaded; NULL: none */
    const char* plugin_files;     /* colon-separated plugin files, loaded last; NULL: none */
    /* Receives the runtime's messages, from whichever thread they happen on,
     * so it must be thread-safe. NULL (default): the runtime prints nothing. */
    void (*log)(int32_t level, const char* message, void* user);
    void* log_user;               /* passed to log */
} plx_runtime_options;

/** Sets every field of *opts to its default (struct_size included). */
plx_status plx_runtime_options_init(plx_runtime_options* opts);

/** Creates a runtime and loads its plugins; opts NULL: the defaults. The
 * strings in opts are read during the call only. Plugin load failures give
 * PLX_STATUS_PLUGIN / PLX_STATUS_ABI naming the library. Thread-safe. */
plx_status plx_runtime_create(const plx_runtime_options* opts, plx_runtime** out);

/** *threads = the runtime's thread budget. */
plx_status plx_runtime_threads(const plx_runtime* runtime, int32_t* threads);

/** Destroys the runtime and unloads its plugins. PLX_STATUS_BUSY (and nothing
 * happens) while a model made from it is alive. */
plx_status plx_runtime_destroy(plx_runtime* runtime);

/* ---- models ------------------------------------------------------------- */

/** Loads and validates the model definition at model_path (text .pbtxt or
 * binary) against the runtime's kernels, then, unless checkpoint_path is
 * NULL, its parameters from that checkpoint (plx_model_save_weights,
 * plx_trainer_save or `plexus train --save`). Without a checkpoint the
 * parameters are unset: call plx_model_init_params or plx_model_load_weights
 * before running (a trainer initializes them from its seed). Errors name the
 * file, line, node and field. Thread-safe; the model keeps `runtime` busy. */
plx_status plx_model_load(plx_runtime* runtime, const char* model_path, const char* checkpoint_path,
                          plx_model** out);

/** Fills every parameter with its initializer; seeds derive from `seed` and
 * the parameter name, so the same seed gives the same model. Waits for
 * running plx_session_run calls on the model to finish. */
plx_status plx_model_init_params(plx_model* model, uint64_t seed);

/** Reads the parameters from a checkpoint, checking every name and shape; on
 * error nothing changes. Waits for running calls on the model to finish. */
plx_status plx_model_load_weights(plx_model* model, const char* checkpoint_path);

/** Writes the definition and parameters to a checkpoint file (atomically). */
plx_status plx_model_save_weights(plx_model* model, const char* checkpoint_path);

/** *count = the number of the model's inputs (features and labels). */
plx_status plx_model_input_count(const plx_model* model, int32_t* count);

/** *name = the name of input `index` in [0, count), e.g. "image". */
plx_status plx_model_input_name(const plx_model* model, int32_t index, const char** name);

/** *source = what feeds input `index`: "features", "labels" or "" (unset).
 * Inference needs every input but the "labels" ones; training needs all. */
plx_status plx_model_input_source(const plx_model* model, int32_t index, const char** source);

/** The per-sample shape of input `name` (no batch dimension; [] for a scalar
 * label), as plx_tensor_shape returns shapes. A batch fed to it is
 * [N, dims...]. Unknown names give PLX_STATUS_NOT_FOUND. */
plx_status plx_model_input_shape(const plx_model* model, const char* name, int64_t* dims, int32_t capacity,
                                 int32_t* ndim);

/** *name = the model's output node (what plx_session_run returns by default). */
plx_status plx_model_output_name(const plx_model* model, const char** name);

/** Loads the data set the model file names in train { train_data | test_data }
 * (`which` = "train" | "test"; relative paths resolve against the model
 * file's folder), prepared as the file says (rows, scaling, label mapping).
 * *features = [N, per-sample shape...], *labels = [N] class indices (or
 * [N, classes] one-hot), both the caller's. Thread-safe. */
plx_status plx_model_load_data(plx_model* model, const char* which, plx_tensor** features, plx_tensor** labels);

/** Destroys the model. PLX_STATUS_BUSY while a session or trainer on it is alive. */
plx_status plx_model_destroy(plx_model* model);

/* ---- inference ---------------------------------------------------------- */

/** Creates a session running `model` without recording gradients. The
 * session keeps the model busy. Thread-safe. */
plx_status plx_session_create(plx_model* model, plx_session** out);

/** Like plx_session_create, but every run computes with exactly
 * min(threads_per_call, budget) threads, waiting for them if other calls
 * hold them. Outputs are then bit-identical whatever the concurrency (with
 * plx_session_create a run's share of the budget depends on the calls in
 * flight, and oneDNN's summation order on the share, so outputs may differ
 * in the last bits). threads_per_call < 1 gives PLX_STATUS_INVALID. */
plx_status plx_session_create_pinned(plx_model* model, int32_t threads_per_call, plx_session** out);

/** Runs the model on a batch. input_names[i] is fed inputs[i], a view of
 * [N, per-sample shape...] (copied during the call; the caller keeps its
 * memory). outputs[j] receives a new tensor (the caller's) for node or
 * input output_names[j]; with output_names NULL and n_outputs 1, the
 * model's output node. Naming the loss node needs the labels too. On error
 * every outputs[j] is NULL.
 * Thread-safe: any number of threads may run one session (or several
 * sessions of one model) at once; they share the runtime's thread budget.
 * Calls that change the model's parameters wait for running ones. */
plx_status plx_session_run(plx_session* session, int32_t n_inputs, const char* const* input_names,
                           const plx_view* inputs, int32_t n_outputs, const char* const* output_names,
                           plx_tensor** outputs);

/** Destroys the session; PLX_STATUS_BUSY while a run on it is in progress. */
plx_status plx_session_destroy(plx_session* session);

/* ---- training ----------------------------------------------------------- */

/** Creates a trainer updating `model` with an optimizer plugin.
 * optimizer: kernel name ("sgd", "adam", ...); NULL or "": the model file's
 * train.optimizer, else "sgd". The model file's optimizer_hparams apply when
 * the optimizer is the model's; `hparams` ("lr=0.05,momentum=0.9", NULL or
 * "": none) adds to and overrides them. Values parse as integers, reals,
 * true/false or else strings; unknown names give an error listing the
 * optimizer's. `seed` initializes parameters that are still unset at the
 * first step. The trainer keeps the model busy. Thread-safe. */
plx_status plx_trainer_create(plx_model* model, const char* optimizer, const char* hparams, uint64_t seed,
                              plx_trainer** out);

/** One training step on one batch: forward, backward, optimizer update.
 * `inputs` as for plx_session_run, labels included. *loss (if loss is not
 * NULL) = the batch's loss before the update. A NaN/Inf loss, gradient or
 * parameter gives PLX_STATUS_NUMERIC. Waits for running plx_session_run calls
 * on the model, which wait for it in turn; steps on one trainer serialize. */
plx_status plx_trainer_step(plx_trainer* trainer, int32_t n_inputs, const char* const* input_names,
                            const plx_view* inputs, double* loss);

/** Writes parameters, optimizer state and step count to a checkpoint
 * (atomically); plx_model_load and plx_model_load_weights read it. */
plx_status plx_trainer_save(plx_trainer* trainer, const char* checkpoint_path);

/** Destroys the trainer (the model keeps its trained parameters). */
plx_status plx_trainer_destroy(plx_trainer* trainer);

#ifdef __cplusplus
}
#endif

#endif
