/* Plexus plugin ABI, version 1.1 (1.1 appends to 1.0; see "since 1.1"). C99; no C++ type, exception or allocation
 * crosses this boundary.
 *
 * A plugin is a shared library that exports exactly one function:
 *
 *     const plx_plugin_desc* plexus_plugin_entry(const plx_host* host, plx_error* err);
 *
 * The runtime calls it once after loading the library. It returns static,
 * read-only descriptor tables (valid while the library stays loaded) or NULL
 * with *err filled. Kernels come in four kinds: layers (own parameters),
 * activations, losses (all three are "ops": forward/backward on tensor views)
 * and optimizers (a step on one parameter and its declared state slots).
 *
 * Contracts, for every function pointer below:
 *  - returns PLX_OK or a PLX_E_* code, fills *err on failure, never throws,
 *    never aborts, never prints (use plx_host.log);
 *  - views are valid during the call only; the plugin keeps no pointer to them;
 *  - the runtime owns every tensor buffer; the plugin owns what it creates
 *    (op instances) and destroys it only through its own destroy function;
 *  - no plugin-wide mutable state, no thread-local storage, no thread creation
 *    (size parallel work with plx_host.thread_budget).
 *
 * Versioning: the first three fields of plx_host and plx_plugin_desc never
 * move. Minor versions only append fields; every struct that can grow starts
 * with struct_size and a reader uses a field only if
 * struct_size >= PLX_END_OF(type, field). The runtime accepts a plugin when
 * its major equals the runtime's and its minor is not newer.
 */
#ifndef PLEXUS_ABI_PLUGIN_H
#define PLEXUS_ABI_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PLX_ABI_MAJOR 1
#define PLX_ABI_MINOR 1
#define PLX_ENTRY_SYMBOL "plexus_plugin_entry"
#define PLX_END_OF(T, m) (offsetof(T, m) + sizeof(((T*)0)->m))
#define PLX_MAX_NDIM 8
#define PLX_ERROR_MESSAGE_SIZE 512

/* Status codes. */
enum {
    PLX_OK = 0,
    PLX_E_INVALID = 1,     /* bad argument, shape or attribute */
    PLX_E_UNSUPPORTED = 2, /* valid request this kernel cannot do */
    PLX_E_NUMERIC = 3,     /* NaN/Inf or similar */
    PLX_E_INTERNAL = 4,    /* a bug or a failed library call inside the plugin */
    PLX_E_ABI = 5          /* version or declaration mismatch */
};

enum { PLX_DTYPE_F32 = 1, PLX_DTYPE_F64 = 2 };

/* Types of attributes (ops) and hyperparameters (optimizers). */
enum { PLX_VALUE_F64 = 1, PLX_VALUE_I64 = 2, PLX_VALUE_BOOL = 3, PLX_VALUE_STR = 4 };

enum { PLX_KIND_LAYER = 1, PLX_KIND_ACTIVATION = 2, PLX_KIND_LOSS = 3, PLX_KIND_OPTIMIZER = 4 };

/* Parameter initializers a layer may name as the default for a parameter. */
enum {
    PLX_INIT_ZEROS = 1,
    PLX_INIT_CONSTANT = 2,
    PLX_INIT_UNIFORM = 3,
    PLX_INIT_NORMAL = 4,
    PLX_INIT_XAVIER_UNIFORM = 5, /* U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
    PLX_INIT_HE_NORMAL = 6       /* N(0, 2 / fan_in) */
};

/* Op flags: what backward reads, so the tape saves only that. */
enum {
    PLX_OP_SAVES_SRC = 1u << 0, /* backward reads the inputs */
    PLX_OP_SAVES_DST = 1u << 1, /* backward reads the output */
    PLX_OP_LAYOUTS = 1u << 2    /* since 1.1: takes inputs in oneDNN blocked layouts
                                   (plx_tensor_view.layout) and may choose a blocked
                                   layout for dst (plx_instance_args.dst_layout) */
};

/* Parameter flags (plx_param_desc.flags, since 1.1). */
enum {
    PLX_PARAM_STATE = 1u << 0   /* not learned: no gradient, no optimizer. A forward in
                                   training mode may overwrite it (batch norm's running
                                   statistics); checkpoints save it like any parameter */
};

/* Optimizer state slot shapes. */
enum { PLX_STATE_LIKE_PARAM = 1, PLX_STATE_SCALAR = 2 };
/* Optimizer flags. */
enum { PLX_OPT_ELEMENTWISE = 1u << 0 }; /* step may run on any element range */

typedef struct plx_error {          /* host-owned; the plugin writes it on failure */
    uint32_t struct_size;
    int32_t code;
    char message[PLX_ERROR_MESSAGE_SIZE]; /* UTF-8, NUL-terminated */
} plx_error;

typedef struct plx_value {          /* a typed attribute / hyperparameter value */
    int32_t type;                   /* PLX_VALUE_* */
    int32_t reserved;
    union {
        double f64;
        int64_t i64;
        int32_t boolean;
        const char* str;            /* static storage in a descriptor; call-scoped otherwise */
    } as;
} plx_value;

typedef struct plx_tensor_view {    /* no ownership; valid during the call only */
    void* data;                     /* 64-byte aligned, contiguous, row-major; NULL = absent */
    int32_t dtype;                  /* PLX_DTYPE_* */
    int32_t ndim;                   /* 0..PLX_MAX_NDIM */
    const int64_t* shape;
    int64_t numel;
    const void* layout;             /* NULL = plain row-major. Since 1.1, for ops with
                                       PLX_OP_LAYOUTS only: a const dnnl_memory_desc_t*
                                       (oneDNN 2.x C API) giving the blocked layout; numel
                                       stays the logical count and the buffer holds
                                       dnnl_memory_desc_get_size(layout) bytes, padding zero.
                                       Ops without the flag always see NULL. */
} plx_tensor_view;

typedef struct plx_shape {          /* a shape by value */
    int32_t ndim;
    int32_t reserved;
    int64_t dims[PLX_MAX_NDIM];
} plx_shape;

/* ---- filled by the runtime ------------------------------------------- */
typedef struct plx_host {
    uint32_t abi_major;             /* frozen prefix: these three never move */
    uint32_t abi_minor;
    uint32_t struct_size;
    const char* runtime_version;    /* "0.1.0", for messages */
    void (*log)(int32_t level, const char* plugin, const char* message); /* may be NULL */
    int32_t (*thread_budget)(void); /* threads a plugin may assume */
} plx_host;

/* ---- filled by the plugin: declarations -------------------------------- */
typedef struct plx_hparam_desc {    /* an attribute (ops) or hyperparameter (optimizers) */
    uint32_t struct_size;
    const char* name;               /* [a-z][a-z0-9_]* */
    plx_value default_value;        /* its type is the attribute's type */
    int32_t required;               /* 1: the model must set it (default is only a type) */
    int32_t reserved;
    const char* doc;                /* one line, shown by `plexus plugins` */
} plx_hparam_desc;

typedef struct plx_param_desc {     /* a learnable parameter of a layer */
    uint32_t struct_size;
    const char* name;               /* role: "weights", "bias" */
    int32_t default_init;           /* PLX_INIT_* used when the model names none */
    int32_t reserved;
    double default_init_value;      /* for PLX_INIT_CONSTANT */
    const char* doc;
    uint32_t flags;                 /* since 1.1: PLX_PARAM_* */
    uint32_t reserved2;
} plx_param_desc;

typedef struct plx_state_desc {     /* an optimizer state slot per parameter */
    uint32_t struct_size;
    const char* name;               /* checkpoint key = param/optimizer/name */
    int32_t shape_rule;             /* PLX_STATE_* */
    int32_t reserved;
    double init_value;              /* the runtime fills the slot before step 0 */
} plx_state_desc;

/* ---- ops: layers, activations, losses ---------------------------------- */
typedef struct plx_infer_args {     /* shape inference; also validates attributes */
    uint32_t struct_size;
    const char* node_name;          /* for messages */
    const plx_value* attrs;         /* resolved, in declaration order */
    uint32_t input_count;
    const plx_shape* inputs;        /* dim 0 is the batch */
    plx_shape* dst;                 /* out */
    plx_shape* params;              /* out: one per declared parameter */
    int64_t* fan;                   /* out: fan_in, fan_out per parameter (2 per param) */
} plx_infer_args;

typedef struct plx_instance_args {  /* one instance per node and input shapes */
    uint32_t struct_size;
    const char* node_name;
    const plx_value* attrs;
    uint32_t input_count;
    const plx_shape* inputs;
    int32_t (*thread_budget)(void);
    /* since 1.1 (read only if struct_size covers them) */
    const void* const* src_layouts; /* input_count entries, NULL = plain; set only for
                                       PLX_OP_LAYOUTS ops, NULL array otherwise */
    int32_t layouts_enabled;        /* 1: the op may choose a blocked dst layout */
    int32_t reserved;
    const void** dst_layout;        /* out: a const dnnl_memory_desc_t* owned by the
                                       instance (valid while it lives), or NULL = plain.
                                       Leave NULL unless layouts_enabled. */
    int64_t* workspace_bytes;       /* out: bytes of per-call workspace (0 = none): the
                                       runtime allocates it for each forward, keeps it on
                                       the tape and hands it to that call's backward */
    /* Scratch memory from the runtime's caching pool, so a step in steady state
       allocates nothing from the system: 64-byte aligned, NULL when out of memory,
       freed with the same size; thread-safe; callable while the instance lives. */
    void* (*scratch_alloc)(size_t bytes);
    void (*scratch_free)(void* p, size_t bytes);
} plx_instance_args;

typedef struct plx_forward_args {
    uint32_t struct_size;
    void* instance;                 /* from create */
    const plx_tensor_view* src;     /* input_count views, read-only */
    const plx_tensor_view* params;  /* param_count views, read-only */
    plx_tensor_view dst;            /* write; runtime-allocated from infer's shape */
    int32_t training;               /* 1 in training mode */
    int32_t reserved;
    /* since 1.1 */
    void* workspace;                /* workspace_bytes from create, write; NULL if none */
    uint64_t seed;                  /* per call; derived from the run's seed, the node and
                                       the step: the same run draws the same numbers */
} plx_forward_args;

typedef struct plx_backward_args {
    uint32_t struct_size;
    void* instance;
    const plx_tensor_view* src;     /* as in forward; data NULL unless PLX_OP_SAVES_SRC */
    const plx_tensor_view* params;  /* as in forward */
    plx_tensor_view dst;            /* data NULL unless PLX_OP_SAVES_DST */
    plx_tensor_view diff_dst;       /* read-only; in dst's layout (PLX_OP_LAYOUTS) */
    plx_tensor_view* diff_src;      /* input_count; data NULL where no gradient is wanted.
                                       Overwrite (do not accumulate): the runtime sums.
                                       Each in its src's layout (PLX_OP_LAYOUTS). */
    plx_tensor_view* diff_params;   /* param_count; same rule. PLX_PARAM_STATE params
                                       get no gradient (data NULL) */
    /* since 1.1 */
    const void* workspace;          /* what the matching forward wrote; NULL if none */
} plx_backward_args;

typedef struct plx_metric_args {    /* losses: how many predictions are right */
    uint32_t struct_size;
    void* instance;
    const plx_tensor_view* src;     /* prediction, target */
    int64_t* correct;               /* out */
    int64_t* counted;               /* out: samples that have a right answer */
} plx_metric_args;

typedef struct plx_op_desc {
    uint32_t struct_size;
    int32_t kind;                   /* PLX_KIND_LAYER / ACTIVATION / LOSS */
    uint32_t flags;                 /* PLX_OP_* */
    const char* name;               /* [a-z][a-z0-9_]*, unique across loaded plugins */
    uint32_t version;
    uint32_t reserved;
    const char* doc;                /* one paragraph; the formula */
    uint32_t attr_count;
    const plx_hparam_desc* attrs;
    uint32_t input_count;           /* losses: 2 (prediction, target) */
    const char* const* inputs;      /* input role names: "src", "target" */
    uint32_t param_count;           /* 0 unless kind is LAYER */
    const plx_param_desc* params;   /* entries params[0].struct_size bytes apart: a 1.0
                                       table (40-byte entries) reads as such in 1.1 */
    int32_t (*infer)(const plx_infer_args* args, plx_error* err);
    /* A PLX_OP_LAYOUTS op may refuse src layouts it cannot take with
       PLX_E_UNSUPPORTED; the runtime then calls create again with plain inputs. */
    int32_t (*create)(const plx_instance_args* args, void** instance, plx_error* err);
    void (*destroy)(void* instance);
    /* forward and backward are const on the instance: callable concurrently */
    int32_t (*forward)(const plx_forward_args* args, plx_error* err);
    int32_t (*backward)(const plx_backward_args* args, plx_error* err);
    int32_t (*metric)(const plx_metric_args* args, plx_error* err); /* losses; may be NULL */
} plx_op_desc;

/* ---- optimizers -------------------------------------------------------- */
typedef struct plx_step_args {
    uint32_t struct_size;
    const char* param_name;         /* "fc1.weights", for messages */
    int64_t step;                   /* t, from 0 */
    double lr;                      /* after the schedule */
    const plx_value* hparams;       /* resolved, in declaration order */
    plx_tensor_view param;          /* read-write */
    plx_tensor_view grad;           /* read-only */
    plx_tensor_view* state;         /* declaration order, read-write */
    int64_t begin, end;             /* element range (whole tensor unless ELEMENTWISE) */
} plx_step_args;

typedef struct plx_optimizer_desc {
    uint32_t struct_size;
    const char* name;               /* [a-z][a-z0-9_]*, unique across loaded plugins */
    uint32_t version;               /* bump when the state layout changes */
    uint32_t flags;                 /* PLX_OPT_* */
    const char* doc;                /* the update formula, one paragraph */
    uint32_t hparam_count;
    const plx_hparam_desc* hparams;
    uint32_t state_count;
    const plx_state_desc* states;
    int32_t (*step)(const plx_step_args* args, plx_error* err); /* reentrant */
} plx_optimizer_desc;

/* ---- the plugin ------------------------------------------------------- */
typedef struct plx_plugin_desc {
    uint32_t abi_major;             /* frozen prefix: these three never move */
    uint32_t abi_minor;
    uint32_t struct_size;
    const char* name;               /* "plexus-layers" */
    const char* version;            /* the plugin's own version */
    const char* sdk_version;        /* SDK it was built with, for messages */
    uint32_t op_count;
    const plx_op_desc* const* ops;
    uint32_t optimizer_count;
    const plx_optimizer_desc* const* optimizers;
} plx_plugin_desc;

typedef const plx_plugin_desc* (*plx_plugin_entry_fn)(const plx_host* host, plx_error* err);

/* The one exported symbol. Signature frozen for the life of the project. */
const plx_plugin_desc* plexus_plugin_entry(const plx_host* host, plx_error* err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PLEXUS_ABI_PLUGIN_H */
