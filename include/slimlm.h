/*
 * slimlm.h: the C ABI of slimlm (CPU inference for small language models).
 *
 * Link with libslimlm.a (plus -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc on Linux) or
 * libslimlm.so, both built by `cargo build` (target/<profile>/). C99.
 *
 * Conventions, for every function:
 * - Fallible functions return a slimlm_status. On failure, slimlm_last_error() gives a
 *   message naming the function and the argument at fault; outputs are left unwritten
 *   except where stated (handle outputs are set to NULL first).
 * - No panic or C++-style exception ever crosses the boundary: an internal bug is
 *   reported as SLIMLM_ERR_INTERNAL (free the objects involved afterwards).
 * - Pointers are checked for NULL, sizes for overflow and pointers for alignment before
 *   anything is read; a NULL pointer is accepted wherever its size argument is 0. What
 *   cannot be checked is the caller's promise: a non-NULL pointer is valid for the size
 *   given, and a handle is live (not yet freed).
 * - Ownership: every object made by a *_load / *_create / slimlm_pack_weights call is
 *   owned by the caller and released by the matching *_free function, exactly once;
 *   *_free(NULL) does nothing. Strings returned as `const char *` are static or owned by
 *   the library (never free them).
 * - Thread-safety: slimlm_model and slimlm_packed_weights are immutable and may be used
 *   from any number of threads at once. A slimlm_session or slimlm_sampler is used by one
 *   thread at a time (it may move between threads). The kernel entry points are stateless.
 *   The last error message is per thread. A model owns `threads - 1` worker threads; the
 *   thread that calls slimlm_session_eval/_decode takes part in every parallel step (it is
 *   not pinned by the library), and sessions of one model evaluating at once take turns.
 * - Output buffers must not overlap input buffers (checked: SLIMLM_ERR_INVALID_ARGUMENT).
 * - Size-query convention (slimlm_tokenize, slimlm_detokenize): the needed count is
 *   always written to the size output; a NULL buffer with capacity 0 is a query
 *   (returns SLIMLM_OK, writes nothing else); a buffer that is too small gives
 *   SLIMLM_ERR_BUFFER_TOO_SMALL and is not written.
 */
#ifndef SLIMLM_H
#define SLIMLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------- */
/* Status, errors, version                                                            */
/* ---------------------------------------------------------------------------------- */

typedef enum slimlm_status {
    SLIMLM_OK = 0,
    /* A pointer that must not be NULL was NULL. */
    SLIMLM_ERR_NULL_ARGUMENT = 1,
    /* An argument is out of range, malformed (e.g. not UTF-8), misaligned, or an output
       overlaps an input. */
    SLIMLM_ERR_INVALID_ARGUMENT = 2,
    /* The output buffer is too small; the needed size was written. */
    SLIMLM_ERR_BUFFER_TOO_SMALL = 3,
    /* The model file could not be loaded: missing, not GGUF, malformed, unsupported. */
    SLIMLM_ERR_LOAD = 4,
    /* The tokens do not fit in the session's context (nothing was evaluated). */
    SLIMLM_ERR_CONTEXT_FULL = 5,
    /* Not valid in the object's current state (e.g. logits before any eval). */
    SLIMLM_ERR_INVALID_STATE = 6,
    /* This CPU or library cannot do it (kernel tier, weight type). */
    SLIMLM_ERR_UNSUPPORTED = 7,
    /* An allocation failed. */
    SLIMLM_ERR_OUT_OF_MEMORY = 8,
    /* A bug in slimlm (caught panic); free the objects involved. Please report it. */
    SLIMLM_ERR_INTERNAL = 9
} slimlm_status;

/* The message of the last failed call on the calling thread ("" if none). Owned by the
   library; valid until the next failed call on this thread. Never NULL. */
const char *slimlm_last_error(void);

/* The name of a status constant, e.g. "SLIMLM_ERR_NULL_ARGUMENT" (static). */
const char *slimlm_status_name(int status);

/* The library version, e.g. "0.1.0" (static). */
const char *slimlm_version(void);

/* The best kernel tier this CPU reports: "scalar", "neon", "dotprod", "i8mm", "avx2" or
   "avx512" (static). Ignores SLIMLM_ISA. */
const char *slimlm_isa_detected(void);

/* ---------------------------------------------------------------------------------- */
/* Models                                                                             */
/* ---------------------------------------------------------------------------------- */

/* A loaded model (weights repacked for the kernel tier, tokenizer, worker threads). */
typedef struct slimlm_model slimlm_model;

/* Loads the GGUF file at `path` (NUL-terminated) into *out (set to NULL on failure).
   isa:     NULL to use $SLIMLM_ISA if set, else the best tier of this CPU; or a tier name
            (a tier this CPU lacks: SLIMLM_ERR_UNSUPPORTED, an unknown name:
            SLIMLM_ERR_INVALID_ARGUMENT).
   threads: threads of each parallel step, the calling thread included (threads - 1
            workers are started, spinning ~2 ms after a step, then sleeping); 0 = one
            per big core.
   Errors: NULL path or out; SLIMLM_ERR_LOAD for files that are missing or not valid
   models (the message names the file and, for malformed files, the byte offset). */
slimlm_status slimlm_model_load(const char *path, const char *isa, uint32_t threads,
                                slimlm_model **out);

/* Releases the caller's reference. Sessions made from the model keep it alive: they may
   be used and freed after this call. */
void slimlm_model_free(slimlm_model *model);

/* Vocabulary size: token ids are 0 .. n_vocab - 1 (0 for NULL). */
size_t slimlm_model_n_vocab(const slimlm_model *model);

/* Context length the model was trained with (0 for NULL). */
size_t slimlm_model_n_ctx_train(const slimlm_model *model);

/* Whether generating `token` ends a generation (EOS, end of turn, <|im_end|>...). */
bool slimlm_model_is_end_token(const slimlm_model *model, uint32_t token);

/* The kernel tier the model runs on (static; NULL for NULL). */
const char *slimlm_model_isa(const slimlm_model *model);

/* Encodes `text_len` bytes of UTF-8 text (need not be NUL-terminated; NULL if
   text_len is 0) into token ids, size-query convention: *n_tokens = ids needed.
   add_special:   add BOS/EOS as the model's metadata asks.
   parse_special: turn control tokens written in the text (e.g. "<|im_start|>") into
                  their ids; false for untrusted user text.
   Invalid UTF-8: SLIMLM_ERR_INVALID_ARGUMENT naming the byte offset. */
slimlm_status slimlm_tokenize(const slimlm_model *model, const char *text, size_t text_len,
                              bool add_special, bool parse_special, uint32_t *tokens,
                              size_t capacity, size_t *n_tokens);

/* Decodes token ids to UTF-8 text followed by a NUL, size-query convention: *text_len =
   bytes of text without the NUL, so `capacity` must be at least *text_len + 1. Bytes
   that form no valid UTF-8 become U+FFFD. An id outside the vocabulary:
   SLIMLM_ERR_INVALID_ARGUMENT. */
slimlm_status slimlm_detokenize(const slimlm_model *model, const uint32_t *tokens,
                                size_t n_tokens, char *text, size_t capacity,
                                size_t *text_len);

/* ---------------------------------------------------------------------------------- */
/* Sessions: a conversation's KV cache, position and logits                           */
/* ---------------------------------------------------------------------------------- */

typedef struct slimlm_session slimlm_session;

/* Creates a session whose context holds n_ctx tokens (1 .. 8 x the trained context for
   RoPE models, the trained context for MPT) into *out (NULL on failure). The KV cache
   (n_layers x 2 x n_ctx x n_kv_heads x head_dim floats) is allocated here. */
slimlm_status slimlm_session_create(const slimlm_model *model, uint32_t n_ctx,
                                    slimlm_session **out);

void slimlm_session_free(slimlm_session *session);

/* Forgets the whole context; logits are unavailable until the next eval or decode. */
slimlm_status slimlm_session_reset(slimlm_session *session);

/* Tokens in the context so far (0 for NULL). */
size_t slimlm_session_n_past(const slimlm_session *session);

/* Appends n_tokens tokens to the context in batches (prefill) and keeps the logits of
   the last one. Errors change nothing: no tokens (SLIMLM_ERR_INVALID_ARGUMENT), an id
   outside the vocabulary (SLIMLM_ERR_INVALID_ARGUMENT), more tokens than the context
   has room for (SLIMLM_ERR_CONTEXT_FULL). */
slimlm_status slimlm_session_eval(slimlm_session *session, const uint32_t *tokens,
                                  size_t n_tokens);

/* Appends one token (a decode step) and keeps its logits. Errors as slimlm_session_eval. */
slimlm_status slimlm_session_decode(slimlm_session *session, uint32_t token);

/* Points *logits at the n_vocab logits (float, by token id) of the last evaluated token
   and writes *n_vocab. The array is owned by the session and valid until its next eval,
   decode, reset or free. Before any eval: SLIMLM_ERR_INVALID_STATE. */
slimlm_status slimlm_session_logits(const slimlm_session *session, const float **logits,
                                    size_t *n_vocab);

/* ---------------------------------------------------------------------------------- */
/* Sampling                                                                           */
/* ---------------------------------------------------------------------------------- */

/* The chain, in llama.cpp's default order: repetition penalty over the distinct tokens
   of the last repetition_window history tokens; then greedy (argmax) if temperature is
   0, else top-k, top-p, min-p (on the untempered distribution), temperature and one draw
   from a xoshiro256** generator seeded with `seed`. The same seed, parameters, logits
   and history give the same tokens on every platform. */
typedef struct slimlm_sampler_params {
    float temperature;        /* >= 0; 0 = greedy */
    uint32_t top_k;           /* 0 = off */
    float top_p;              /* (0, 1]; 1 = off */
    float min_p;              /* [0, 1]; 0 = off */
    float repetition_penalty; /* > 0; 1 = off */
    uint32_t repetition_window;
    uint64_t seed;
} slimlm_sampler_params;

typedef struct slimlm_sampler slimlm_sampler;

/* Greedy, every filter off, penalty window 64, seed 0. */
slimlm_status slimlm_sampler_params_default(slimlm_sampler_params *params);

/* Validates the parameters (NaN, infinities and out-of-range values are
   SLIMLM_ERR_INVALID_ARGUMENT naming the field) and creates a sampler into *out. */
slimlm_status slimlm_sampler_create(const slimlm_sampler_params *params,
                                    slimlm_sampler **out);

void slimlm_sampler_free(slimlm_sampler *sampler);

/* Returns the random generator to its seed. */
slimlm_status slimlm_sampler_reset(slimlm_sampler *sampler);

/* Picks the next token from n_logits logits (e.g. from slimlm_session_logits) given the
   n_history tokens prompted and generated so far (for the repetition penalty; NULL with
   0 when off). `logits` is not modified (the sampler works on its own copy). */
slimlm_status slimlm_sampler_sample(slimlm_sampler *sampler, const float *logits,
                                    size_t n_logits, const uint32_t *history,
                                    size_t n_history, uint32_t *token);

/* ---------------------------------------------------------------------------------- */
/* Kernel entry points, for other runtimes                                            */
/* ---------------------------------------------------------------------------------- */
/*
 * Stateless; they run on the calling thread, never allocate (except the packed weights)
 * and may be called from any number of threads at once. The matrix products use the
 * tier of $SLIMLM_ISA if set, else the best this CPU reports (chosen on first use);
 * every tier's results are bit-identical to the scalar reference.
 *
 * Block layouts (ggml's, little-endian, 32 values per block, element order):
 *   Q8_0 (34 bytes): uint16_t d (f16 bits); int8_t qs[32].          x = qs[i] * d
 *   Q8_1 (36 bytes): uint16_t d; uint16_t s (f16 of d * sum(qs)); int8_t qs[32].
 *   Q4_0 (18 bytes): uint16_t d; uint8_t qs[16]: value i < 16 is the low nibble of
 *                    qs[i], value i + 16 its high nibble.            x = (nibble - 8) * d
 *   Q4_1 (20 bytes): uint16_t d; uint16_t m; uint8_t qs[16] as Q4_0.  x = nibble * d + m
 *   Q5_0 (22 bytes): uint16_t d; uint8_t qh[4]: bit i of the little-endian uint32 is
 *                    bit 4 of value i's code; uint8_t qs[16]: the low 4 bits, as Q4_0.
 *                                                                     x = (code - 16) * d
 *   Q4_K (144 bytes, 256 values): ggml's block_q4_K (uint16_t d, dmin; uint8_t
 *                    scales[12]; uint8_t qs[128]); rows of Q4_K weights hold a multiple
 *                    of 256 values.
 *   Q6_K (210 bytes, 256 values): ggml's block_q6_K (uint8_t ql[128], qh[64]; int8_t
 *                    scales[16]; uint16_t d), rows a multiple of 256 values too.
 * A weight matrix is GGUF's row-major layout: `rows` rows (output features) of `cols`
 * values (input features, a multiple of 32), each row cols / 32 consecutive blocks, no
 * padding between rows. An activation matrix is m rows of cols / 32 blocks, likewise.
 */

/* GGUF type ids (ggml_type) the kernel entry points take. */
enum {
    SLIMLM_TYPE_Q4_0 = 2,
    SLIMLM_TYPE_Q4_1 = 3,
    SLIMLM_TYPE_Q5_0 = 6,
    SLIMLM_TYPE_Q8_0 = 8,
    SLIMLM_TYPE_Q8_1 = 9,
    SLIMLM_TYPE_Q4_K = 12,
    SLIMLM_TYPE_Q6_K = 14
};

/* The tier the matrix products run on, into *name (static). An invalid $SLIMLM_ISA:
   SLIMLM_ERR_INVALID_ARGUMENT, or SLIMLM_ERR_UNSUPPORTED for a tier this CPU lacks (the
   matrix products then fail the same way). */
slimlm_status slimlm_kernels_isa(const char **name);

/* Quantizes n floats (a multiple of 32) to n / 32 activation blocks, bit for bit ggml's
   quantize_row_q8_0_ref / quantize_row_q8_1_ref. `out` (any alignment) must hold at
   least out_size >= n / 32 * 34 (Q8_0) or * 36 (Q8_1) bytes. Q8_0 activations go with
   Q4_0, Q5_0, Q8_0 and Q6_K weights, Q8_1 with Q4_1 and Q4_K weights. */
slimlm_status slimlm_quantize_q8_0(const float *x, size_t n, void *out, size_t out_size);
slimlm_status slimlm_quantize_q8_1(const float *x, size_t n, void *out, size_t out_size);

/* A weight matrix repacked for the matrix products: rows in groups of 4, interleaved 8
   bytes at a time ("x4x8" panels, f32 scales; Q4_0 nibbles stored XOR 0x88), rows padded
   to a multiple of 4 with zeros. Opaque: the layout may change between versions. About
   the size of the GGUF data (e.g. 144 bytes per 4 x 32 Q8_0 values). */
typedef struct slimlm_packed_weights slimlm_packed_weights;

/* Repacks `size` bytes at `data` (any alignment; not referenced after the call) holding
   a rows x cols matrix of `type` (SLIMLM_TYPE_Q4_0, _Q4_1, _Q5_0, _Q8_0, _Q4_K or _Q6_K;
   other types: SLIMLM_ERR_UNSUPPORTED) into *out. size must equal rows * cols / block
   values * block bytes. Q4_K weights become Q4_1 panels losslessly (each sub-block of 32
   a Q4_1 block with f32 scales) and take Q8_1 activations; Q5_0 weights become Q8_0
   panels losslessly (quants code - 16, same d; 9 bits per weight) and take Q8_0
   activations; Q6_K panels keep the 6-bit codes and scales (unpacked to bytes) and take
   Q8_0 activations. */
slimlm_status slimlm_pack_weights(uint32_t type, const void *data, size_t size, size_t rows,
                                  size_t cols, slimlm_packed_weights **out);

void slimlm_packed_weights_free(slimlm_packed_weights *weights);

/* out[j] = dot(weight row j, activation row) for j < rows: one activation row of
   cols / 32 blocks (Q8_1 for Q4_1 and Q4_K weights, Q8_0 otherwise; act_size must equal its
   bytes; `act` 2-byte aligned). `out` holds out_len >= rows floats. */
slimlm_status slimlm_gemv(const slimlm_packed_weights *weights, const void *act,
                          size_t act_size, float *out, size_t out_len);

/* out[i * ldo + j] = dot(weight row j, activation row i) for i < m, j < rows: m
   activation rows as for slimlm_gemv (act_size = m rows' bytes). ldo >= rows;
   out_len >= (m - 1) * ldo + rows floats. Elements between rows are not written. */
slimlm_status slimlm_gemm(const slimlm_packed_weights *weights, const void *act,
                          size_t act_size, size_t m, float *out, size_t out_len, size_t ldo);

/* RMSNorm of rows x cols row-major floats:
   out[r][i] = x[r][i] / sqrt(mean_i(x[r][i]^2) + eps) * weight[i]; weight has cols
   floats; eps finite and >= 0. Computed on the detected tier in f32: the sum of squares
   in a fixed lane order (the same bits on every tier), the square root in double. Each
   value is within (k + 3) / 2 + 5 units of f32 rounding (2^-24, relative) of the exact
   result, k = cols / 64 + 21 (derivation: slimlm_kernels::oracle::rms_norm). */
slimlm_status slimlm_rmsnorm_f32(const float *x, const float *weight, size_t rows,
                                 size_t cols, float eps, float *out);

/* LayerNorm with bias (population variance, as PyTorch):
   out[r][i] = (x[r][i] - mean) / sqrt(var + eps) * weight[i] + bias[i]. Computed on the
   detected tier in f32 like RMSNorm (mean, then the sum of squared deviations); error
   bound: slimlm_kernels::oracle::layer_norm. */
slimlm_status slimlm_layernorm_f32(const float *x, const float *weight, const float *bias,
                                   size_t rows, size_t cols, float eps, float *out);

/* One attention call: one query position over the first n_keys positions of a cache. */
typedef struct slimlm_attention_shape {
    size_t n_heads;    /* query heads, a multiple of n_kv_heads */
    size_t n_kv_heads; /* KV heads; query head h reads KV head h / (n_heads / n_kv_heads) */
    size_t head_dim;
    size_t n_keys; /* cache positions the query sees (causal: all of rows 0 .. n_keys-1) */
    float scale;   /* multiplies q . k, usually 1 / sqrt(head_dim) */
} slimlm_attention_shape;

/* out = softmax(scale * q . K^T) V for every query head (GQA).
   q, out:           n_heads * head_dim floats, head-major (head h at h * head_dim).
   k_cache, v_cache: n_keys rows of n_kv_heads * head_dim floats (position-major, then
                     head-major), i.e. row t holds position t's keys / values.
   scores:           scratch of n_keys floats.
   The dot products and the weighted sum of values are accumulated in double, the softmax
   in f32 (slimlm_kernels::reference::attention); error bound:
   slimlm_kernels::oracle::attention_decode. */
slimlm_status slimlm_attention_decode_f32(const slimlm_attention_shape *shape,
                                          const float *q, const float *k_cache,
                                          const float *v_cache, float *scores, float *out);

#ifdef __cplusplus
}
#endif

#endif /* SLIMLM_H */
