/*
 * The C ABI from C: built by tests/c_abi.rs with the system C compiler against
 * libslimlm.a and run with the data the Rust side computed.
 *
 * usage: c_abi MODEL PROMPT PROMPT_IDS GREEDY_IDS KERNEL_DATA OPS_DATA
 *   PROMPT_IDS, GREEDY_IDS: comma-separated ids the Rust API produced for PROMPT
 *   (tokenized with special tokens) and its first greedy tokens.
 *   KERNEL_DATA: u32 rows, cols, m; rows x cols Q8_0 weights (GGUF bytes); m x cols f32
 *   activations; m x rows f32 outputs of the scalar reference (all little-endian).
 *   OPS_DATA: inputs of RMSNorm, LayerNorm and attention decode with the exact values
 *   and error bounds of the f64 oracles (layout in tests/c_abi.rs, ops_data).
 *
 * Prints one line per failed check and exits 1 if any failed.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slimlm.h"

static int failures = 0;

#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (!(cond)) {                                          \
            failures++;                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                       \
            fprintf(stderr, " [last error: %s]\n", slimlm_last_error()); \
        }                                                       \
    } while (0)

/* Checks that a call returned `want` and that the error message mentions `needle`. */
#define CHECK_ERR(call, want, needle)                                                     \
    do {                                                                                  \
        slimlm_status got_ = (call);                                                      \
        CHECK(got_ == (want), "%s returned %s, expected %s", #call,                       \
              slimlm_status_name(got_), slimlm_status_name(want));                        \
        CHECK(strstr(slimlm_last_error(), (needle)) != NULL, "%s: message lacks \"%s\"", \
              #call, (needle));                                                           \
    } while (0)

#define MAX_IDS 256

static size_t parse_ids(const char *text, uint32_t *ids) {
    size_t n = 0;
    const char *p = text;
    while (*p && n < MAX_IDS) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p) break;
        ids[n++] = (uint32_t)v;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

static void check_version(void) {
    const char *isa = NULL;
    printf("slimlm %s, detected tier %s\n", slimlm_version(), slimlm_isa_detected());
    CHECK(strlen(slimlm_version()) > 0, "empty version");
    CHECK(slimlm_kernels_isa(&isa) == SLIMLM_OK && isa != NULL, "slimlm_kernels_isa");
    CHECK(strcmp(slimlm_status_name(SLIMLM_ERR_CONTEXT_FULL), "SLIMLM_ERR_CONTEXT_FULL") == 0,
          "status name");
}

static void check_load_errors(const char *not_a_model) {
    slimlm_model *model = (slimlm_model *)&model; /* must be reset to NULL */
    CHECK_ERR(slimlm_model_load(NULL, NULL, 0, &model), SLIMLM_ERR_NULL_ARGUMENT, "`path`");
    CHECK(model == NULL, "out not reset to NULL on failure");
    CHECK_ERR(slimlm_model_load("no/such/model.gguf", NULL, 0, &model), SLIMLM_ERR_LOAD,
              "no/such/model.gguf");
    CHECK_ERR(slimlm_model_load(not_a_model, NULL, 0, &model), SLIMLM_ERR_LOAD, "magic");
    CHECK_ERR(slimlm_model_load(not_a_model, NULL, 0, NULL), SLIMLM_ERR_NULL_ARGUMENT, "`out`");
    CHECK_ERR(slimlm_model_load(not_a_model, "fast", 0, &model), SLIMLM_ERR_INVALID_ARGUMENT,
              "fast");
    CHECK(model == NULL, "model set on failure");
    slimlm_model_free(NULL);
    slimlm_session_free(NULL);
    slimlm_sampler_free(NULL);
    slimlm_packed_weights_free(NULL);
}

/* Tokenizes, generates greedily and compares with the Rust API's tokens. */
static void check_generation(const slimlm_model *model, const char *prompt,
                             const uint32_t *want_prompt, size_t n_want_prompt,
                             const uint32_t *want, size_t n_want) {
    uint32_t ids[MAX_IDS] = {0}, got[MAX_IDS] = {0};
    size_t n = 0, i;
    slimlm_session *session = NULL;
    slimlm_sampler *sampler = NULL;
    slimlm_sampler_params params;
    const float *logits = NULL;
    size_t n_vocab = 0;

    /* Size query, then a buffer too small, then the real call. */
    CHECK(slimlm_tokenize(model, prompt, strlen(prompt), true, true, NULL, 0, &n) == SLIMLM_OK,
          "size query");
    CHECK(n == n_want_prompt, "prompt: %zu tokens, Rust has %zu", n, n_want_prompt);
    CHECK_ERR(slimlm_tokenize(model, prompt, strlen(prompt), true, true, ids, 1, &n),
              SLIMLM_ERR_BUFFER_TOO_SMALL, "`capacity` is 1");
    CHECK(slimlm_tokenize(model, prompt, strlen(prompt), true, true, ids, MAX_IDS, &n) ==
              SLIMLM_OK, "tokenize");
    CHECK(n == n_want_prompt && memcmp(ids, want_prompt, n * sizeof *ids) == 0,
          "prompt ids differ from Rust's");
    CHECK_ERR(slimlm_tokenize(model, NULL, 3, true, true, ids, MAX_IDS, &n),
              SLIMLM_ERR_NULL_ARGUMENT, "`text`");
    CHECK_ERR(slimlm_tokenize(model, "\xff", 1, true, true, ids, MAX_IDS, &n),
              SLIMLM_ERR_INVALID_ARGUMENT, "byte 0");
    CHECK_ERR(slimlm_tokenize(NULL, "a", 1, true, true, ids, MAX_IDS, &n),
              SLIMLM_ERR_NULL_ARGUMENT, "`model`");

    CHECK(slimlm_session_create(model, 64, &session) == SLIMLM_OK, "session");
    CHECK_ERR(slimlm_session_logits(session, &logits, &n_vocab), SLIMLM_ERR_INVALID_STATE,
              "no logits");
    CHECK(slimlm_sampler_params_default(&params) == SLIMLM_OK, "default params");
    CHECK(params.temperature == 0.0f, "default is greedy");
    CHECK(slimlm_sampler_create(&params, &sampler) == SLIMLM_OK, "sampler");

    CHECK(slimlm_session_eval(session, ids, n) == SLIMLM_OK, "eval");
    for (i = 0; i < n_want; i++) {
        CHECK(slimlm_session_logits(session, &logits, &n_vocab) == SLIMLM_OK, "logits");
        CHECK(n_vocab == slimlm_model_n_vocab(model), "n_vocab %zu", n_vocab);
        CHECK(slimlm_sampler_sample(sampler, logits, n_vocab, NULL, 0, &got[i]) == SLIMLM_OK,
              "sample");
        if (i + 1 < n_want)
            CHECK(slimlm_session_decode(session, got[i]) == SLIMLM_OK, "decode");
    }
    CHECK(slimlm_session_n_past(session) == n + n_want - 1, "n_past %zu",
          slimlm_session_n_past(session));
    printf("generated:");
    for (i = 0; i < n_want; i++) printf(" %u", (unsigned)got[i]);
    printf("\nexpected: ");
    for (i = 0; i < n_want; i++) printf(" %u", (unsigned)want[i]);
    printf("\n");
    CHECK(memcmp(got, want, n_want * sizeof *got) == 0, "greedy tokens differ from Rust's");

    {
        size_t len = 0;
        char *text;
        CHECK(slimlm_detokenize(model, got, n_want, NULL, 0, &len) == SLIMLM_OK, "query");
        CHECK_ERR(slimlm_detokenize(model, got, n_want, NULL, 5, &len),
                  SLIMLM_ERR_NULL_ARGUMENT, "`text`");
        text = malloc(len + 1);
        CHECK_ERR(slimlm_detokenize(model, got, n_want, text, len, &len),
                  SLIMLM_ERR_BUFFER_TOO_SMALL, "needed");
        CHECK(slimlm_detokenize(model, got, n_want, text, len + 1, &len) == SLIMLM_OK,
              "detokenize");
        CHECK(strlen(text) == len, "text not NUL-terminated at %zu", len);
        printf("text: %s\n", text);
        free(text);
    }

    /* Session errors change nothing. */
    {
        uint32_t bad = (uint32_t)slimlm_model_n_vocab(model);
        size_t before = slimlm_session_n_past(session);
        CHECK_ERR(slimlm_session_eval(session, &bad, 1), SLIMLM_ERR_INVALID_ARGUMENT,
                  "outside the vocabulary");
        CHECK_ERR(slimlm_session_eval(session, ids, 0), SLIMLM_ERR_INVALID_ARGUMENT, "empty");
        CHECK_ERR(slimlm_session_eval(session, NULL, 2), SLIMLM_ERR_NULL_ARGUMENT, "`tokens`");
        CHECK_ERR(slimlm_session_eval(session, ids, 64), SLIMLM_ERR_CONTEXT_FULL, "overflow");
        CHECK(slimlm_session_n_past(session) == before, "errors changed the context");
    }

    /* After a reset the same prompt gives the same first token. */
    CHECK(slimlm_session_reset(session) == SLIMLM_OK, "reset");
    CHECK_ERR(slimlm_session_logits(session, &logits, &n_vocab), SLIMLM_ERR_INVALID_STATE,
              "no logits");
    CHECK(slimlm_session_eval(session, ids, n) == SLIMLM_OK, "eval after reset");
    CHECK(slimlm_session_logits(session, &logits, &n_vocab) == SLIMLM_OK, "logits");
    CHECK(slimlm_sampler_sample(sampler, logits, n_vocab, NULL, 0, &got[0]) == SLIMLM_OK &&
              got[0] == want[0], "first token after reset: %u", (unsigned)got[0]);

    slimlm_sampler_free(sampler);
    slimlm_session_free(session);
    /* Failed creates set their output to NULL. */
    params.top_p = 1.5f;
    CHECK_ERR(slimlm_sampler_create(&params, &sampler), SLIMLM_ERR_INVALID_ARGUMENT, "top_p");
    CHECK_ERR(slimlm_session_create(model, 0, &session), SLIMLM_ERR_INVALID_ARGUMENT,
              "context");
    CHECK(sampler == NULL && session == NULL, "outputs not reset on failure");
}

/* Frees the model first: the session keeps it alive and still computes. */
static void check_session_outlives_model(slimlm_model *model, const uint32_t *prompt,
                                         size_t n_prompt, uint32_t first) {
    slimlm_session *session = NULL;
    slimlm_sampler *sampler = NULL;
    slimlm_sampler_params params;
    const float *logits = NULL;
    size_t n_vocab = 0;
    uint32_t token = 0;

    CHECK(slimlm_session_create(model, 16, &session) == SLIMLM_OK, "session");
    slimlm_model_free(model);
    CHECK(slimlm_session_eval(session, prompt, n_prompt) == SLIMLM_OK, "eval after model free");
    CHECK(slimlm_session_logits(session, &logits, &n_vocab) == SLIMLM_OK, "logits");
    slimlm_sampler_params_default(&params);
    CHECK(slimlm_sampler_create(&params, &sampler) == SLIMLM_OK, "sampler");
    CHECK(slimlm_sampler_sample(sampler, logits, n_vocab, NULL, 0, &token) == SLIMLM_OK &&
              token == first, "first token after the model was freed: %u", (unsigned)token);
    slimlm_sampler_free(sampler);
    slimlm_session_free(session);
}

static uint32_t read_u32(FILE *f) {
    unsigned char b[4] = {0, 0, 0, 0};
    if (fread(b, 1, 4, f) != 4) return 0;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Q8_0 activations x packed Q8_0 weights against the Rust scalar reference, bit for bit. */
static void check_kernel(const char *path) {
    FILE *f = fopen(path, "rb");
    uint32_t rows, cols, m;
    size_t w_size, a_size, i;
    unsigned char *w, *act;
    float *x, *want, *got;
    slimlm_packed_weights *packed = NULL;

    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return;
    rows = read_u32(f);
    cols = read_u32(f);
    m = read_u32(f);
    w_size = (size_t)rows * cols / 32 * 34;
    a_size = (size_t)m * cols / 32 * 34;
    w = malloc(w_size);
    x = malloc((size_t)m * cols * sizeof *x);
    want = malloc((size_t)m * rows * sizeof *want);
    got = calloc((size_t)m * rows, sizeof *got);
    act = malloc(a_size);
    CHECK(fread(w, 1, w_size, f) == w_size && fread(x, sizeof *x, (size_t)m * cols, f) == m * cols &&
              fread(want, sizeof *want, (size_t)m * rows, f) == m * rows,
          "short kernel data file");
    fclose(f);

    CHECK(slimlm_quantize_q8_0(x, (size_t)m * cols, act, a_size) == SLIMLM_OK, "quantize");
    CHECK_ERR(slimlm_quantize_q8_0(x, 31, act, a_size), SLIMLM_ERR_INVALID_ARGUMENT, "`n`");
    CHECK_ERR(slimlm_pack_weights(SLIMLM_TYPE_Q8_0, w, w_size - 1, rows, cols, &packed),
              SLIMLM_ERR_INVALID_ARGUMENT, "`size`");
    CHECK_ERR(slimlm_pack_weights(SLIMLM_TYPE_Q8_1, w, w_size, rows, cols, &packed),
              SLIMLM_ERR_UNSUPPORTED, "`type`");
    CHECK(slimlm_pack_weights(SLIMLM_TYPE_Q8_0, w, w_size, rows, cols, &packed) == SLIMLM_OK,
          "pack");

    /* GEMV of the first activation row, then GEMM of all m rows. */
    CHECK(slimlm_gemv(packed, act, a_size / m, got, rows) == SLIMLM_OK, "gemv");
    CHECK(memcmp(got, want, rows * sizeof *got) == 0, "gemv differs from the reference");
    memset(got, 0, (size_t)m * rows * sizeof *got);
    CHECK(slimlm_gemm(packed, act, a_size, m, got, (size_t)m * rows, rows) == SLIMLM_OK, "gemm");
    for (i = 0; i < (size_t)m * rows; i++) {
        if (got[i] != want[i]) {
            CHECK(0, "gemm[%zu] = %.9g, reference %.9g", i, got[i], want[i]);
            break;
        }
    }
    printf("gemv/gemm Q8_0 %ux%u x %u rows: bit-identical to the scalar reference\n",
           (unsigned)rows, (unsigned)cols, (unsigned)m);

    CHECK_ERR(slimlm_gemv(packed, act, a_size / m, NULL, rows), SLIMLM_ERR_NULL_ARGUMENT,
              "`out`");
    CHECK_ERR(slimlm_gemv(packed, act, a_size / m, got, rows - 1), SLIMLM_ERR_INVALID_ARGUMENT,
              "`out_len`");
    CHECK_ERR(slimlm_gemv(packed, act, a_size, got, rows), SLIMLM_ERR_INVALID_ARGUMENT,
              "`act_size`");
    CHECK_ERR(slimlm_gemv(NULL, act, a_size / m, got, rows), SLIMLM_ERR_NULL_ARGUMENT,
              "`weights`");
    CHECK_ERR(slimlm_gemm(packed, act, a_size, m, (float *)act, (size_t)m * rows, rows),
              SLIMLM_ERR_INVALID_ARGUMENT, "overlaps");

    slimlm_packed_weights_free(packed);
    free(w);
    free(x);
    free(want);
    free(got);
    free(act);
}

static float *read_f32s(FILE *f, size_t n) {
    float *p = malloc(n * sizeof *p);
    if (p && fread(p, sizeof *p, n, f) != n) {
        free(p);
        p = NULL;
    }
    return p;
}

static double *read_f64s(FILE *f, size_t n) {
    double *p = malloc(n * sizeof *p);
    if (p && fread(p, sizeof *p, n, f) != n) {
        free(p);
        p = NULL;
    }
    return p;
}

/* Every got[i] within bound[i] of the oracle's exact want[i]; reports the worst. */
static void check_within(const char *what, const float *got, size_t n, FILE *f) {
    double *want = read_f64s(f, n), *bound = read_f64s(f, n);
    double worst = 0.0;
    size_t i, at = 0;
    CHECK(want && bound, "%s: short ops data file", what);
    for (i = 0; want && bound && i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= bound[i])) {
            CHECK(0, "%s[%zu] = %.9g, exact %.12g, error %.3g over the bound %.3g", what, i,
                  got[i], want[i], err, bound[i]);
            break;
        }
        if (bound[i] > 0 && err / bound[i] > worst) worst = err / bound[i], at = i;
    }
    printf("%s: %zu values within the f64 oracle's bounds (worst %.3f of its bound at %zu)\n",
           what, n, worst, at);
    free(want);
    free(bound);
}

/* RMSNorm, LayerNorm and attention decode against the independent f64 oracles. */
static void check_ops(const char *path) {
    FILE *f = fopen(path, "rb");
    uint32_t rows, cols, heads, kv_heads, head_dim, keys;
    float *x, *w, *b, *eps, *out, *scale, *q, *k, *v, *scores, *att;
    size_t n, qn, cn;
    slimlm_attention_shape shape;

    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return;
    rows = read_u32(f);
    cols = read_u32(f);
    n = (size_t)rows * cols;
    x = read_f32s(f, n);
    w = read_f32s(f, cols);
    b = read_f32s(f, cols);
    eps = read_f32s(f, 1);
    out = calloc(n, sizeof *out);
    CHECK(x && w && b && eps && out, "short ops data file");
    if (x && w && b && eps && out) {
        CHECK(slimlm_rmsnorm_f32(x, w, rows, cols, *eps, out) == SLIMLM_OK, "rmsnorm");
        check_within("slimlm_rmsnorm_f32", out, n, f);
        CHECK(slimlm_layernorm_f32(x, w, b, rows, cols, *eps, out) == SLIMLM_OK, "layernorm");
        check_within("slimlm_layernorm_f32", out, n, f);
    }
    heads = read_u32(f);
    kv_heads = read_u32(f);
    head_dim = read_u32(f);
    keys = read_u32(f);
    qn = (size_t)heads * head_dim;
    cn = (size_t)keys * kv_heads * head_dim;
    scale = read_f32s(f, 1);
    q = read_f32s(f, qn);
    k = read_f32s(f, cn);
    v = read_f32s(f, cn);
    scores = calloc(keys, sizeof *scores);
    att = calloc(qn, sizeof *att);
    CHECK(scale && q && k && v && scores && att, "short ops data file (attention)");
    if (scale && q && k && v && scores && att) {
        shape.n_heads = heads;
        shape.n_kv_heads = kv_heads;
        shape.head_dim = head_dim;
        shape.n_keys = keys;
        shape.scale = *scale;
        CHECK(slimlm_attention_decode_f32(&shape, q, k, v, scores, att) == SLIMLM_OK,
              "attention decode");
        check_within("slimlm_attention_decode_f32", att, qn, f);
    }
    fclose(f);
    free(x), free(w), free(b), free(eps), free(out);
    free(scale), free(q), free(k), free(v), free(scores), free(att);
}

/* Q4_K weights pack (as Q4_1 panels) and take Q8_1 activations: 4 rows of 256 codes 1 with
   every sub-block scale 1 and d = 1, times activations of 1.0, give 256 per row (up to
   the rounding of the activation scale 1/127 to f16). */
static void check_q4_k(void) {
    enum { ROWS = 4, COLS = 256 };
    unsigned char w[ROWS * 144], act[COLS / 32 * 36];
    float x[COLS], out[ROWS];
    static const unsigned char scales[12] = {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1};
    slimlm_packed_weights *packed = NULL;
    size_t r, i;

    for (r = 0; r < ROWS; r++) {
        unsigned char *b = w + r * 144;
        b[0] = 0x00, b[1] = 0x3c; /* d = 1.0 */
        b[2] = 0x00, b[3] = 0x00; /* dmin = 0 */
        memcpy(b + 4, scales, sizeof scales);
        memset(b + 16, 0x11, 128);
    }
    for (i = 0; i < COLS; i++) x[i] = 1.0f;
    CHECK_ERR(slimlm_pack_weights(SLIMLM_TYPE_Q4_K, w, 144, 1, 32, &packed),
              SLIMLM_ERR_INVALID_ARGUMENT, "multiple of 256 for Q4_K");
    CHECK(slimlm_pack_weights(SLIMLM_TYPE_Q4_K, w, sizeof w, ROWS, COLS, &packed) == SLIMLM_OK,
          "pack Q4_K");
    CHECK(slimlm_quantize_q8_1(x, COLS, act, sizeof act) == SLIMLM_OK, "quantize Q8_1");
    CHECK(slimlm_gemv(packed, act, sizeof act, out, ROWS) == SLIMLM_OK, "gemv Q4_K");
    for (r = 0; r < ROWS; r++) {
        CHECK(fabsf(out[r] - 256.0f) < 0.1f, "Q4_K row %zu: %.9g, not about 256", r, out[r]);
    }
    printf("gemv Q4_K %dx%d: %.6g per row\n", ROWS, COLS, out[0]);
    slimlm_packed_weights_free(packed);
}

int main(int argc, char **argv) {
    uint32_t want_prompt[MAX_IDS], want[MAX_IDS];
    size_t n_prompt, n_want;
    slimlm_model *model = NULL;

    if (argc != 7) {
        fprintf(stderr, "usage: %s MODEL PROMPT PROMPT_IDS GREEDY_IDS KERNEL_DATA OPS_DATA\n",
                argv[0]);
        return 2;
    }
    n_prompt = parse_ids(argv[3], want_prompt);
    n_want = parse_ids(argv[4], want);

    check_version();
    check_load_errors(argv[5]);
    CHECK(slimlm_model_load(argv[1], NULL, 0, &model) == SLIMLM_OK, "load %s", argv[1]);
    if (model) {
        printf("model: vocab %zu, trained context %zu, tier %s\n", slimlm_model_n_vocab(model),
               slimlm_model_n_ctx_train(model), slimlm_model_isa(model));
        check_generation(model, argv[2], want_prompt, n_prompt, want, n_want);
        check_session_outlives_model(model, want_prompt, n_prompt, want[0]);
    }
    check_kernel(argv[5]);
    check_ops(argv[6]);
    check_q4_k();

    if (failures) {
        fprintf(stderr, "c_abi: %d checks failed\n", failures);
        return 1;
    }
    printf("c_abi: all checks passed\n");
    return 0;
}
