/* The text softmax's training loop in C: what sgd.py's numpy path computes, row by row,
 * without Python's per-row overhead (which is nearly the whole cost of a short text).
 * Optional: when this module is not built, the numpy path runs instead, and
 * tests/training/test_sgd_kernel.py checks that both give the same weights, bit for bit.
 *
 * Every operation is one IEEE operation in a fixed order, mirrored by the numpy path:
 *   logits   z32[j] = sum over the row's entries, in order, of (float)(x_i * W[f_i][j]),
 *            accumulated in float32 (numpy: cumsum along the entries); z[j] = (double)z32[j] + b[j]
 *   softmax  e[j] = det_exp(z[j] - max z) (the polynomial below, not libm's exp, so numpy can
 *            repeat it exactly), summed in order; p[j] = e[j] / sum
 *   update   unless p[target] > 1 - margin: p[target] -= 1, g[j] = (float)(p[j] * lr),
 *            W[f_i][j] -= (float)(x_i * g[j]), b[j] -= g[j]
 *   step     lr = lr0 * (1 - step / total_steps), step counting every row seen
 * Built with -ffp-contract=off (setup.py): a fused multiply-add would round differently.
 * A row's feature indices are distinct (features.py merges duplicates), so reading a weight
 * row and writing it back cannot see another entry's update.
 *
 * sgd_pass(W, b, n_labels, indptr, indices, data, targets, order, lr0, step0, total_steps,
 *          margin) -> loss_sum     (W float32 [n_features][n_labels], b float32, updated in place)
 * logits(W, b, n_labels, indptr, indices, data, rows, out) -> None     (out float64 [rows][n_labels])
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define LOG2E 1.4426950408889634
#define LN2_HI 0.693145751953125
#define LN2_LO 1.4286068203094173e-06
#define EXP_FLOOR -1000.0

/* floor(t) for |t| < 2^62, without a libm call (the baseline x86-64 has no rounding
 * instruction): the same value as floor, so numpy's np.floor mirrors it exactly */
static inline double floor_exact(double t) {
    double k = (double)(long long)t;  /* truncation toward zero */
    return k > t ? k - 1.0 : k;
}

/* p * 2^k, rounded once: the same value as ldexp(p, k), by one multiplication when 2^k is a
 * normal double (ldexp is a libm call; this runs for every label of every row) */
static inline double scale2(double p, int k) {
    if (k < -1022) return ldexp(p, k);
    union { uint64_t bits; double value; } two_k = {.bits = (uint64_t)(k + 1023) << 52};
    return p * two_k.value;
}

/* e^x for x <= 0: x = k ln2 + r (Cody-Waite), e^r by a degree-13 Taylor polynomial (Horner),
 * scaled by 2^k. The same operations in det_exp of sgd.py. */
static inline double det_exp(double x) {
    if (x < EXP_FLOOR) x = EXP_FLOOR;
    double k = floor_exact(x * LOG2E + 0.5);
    double r = (x - k * LN2_HI) - k * LN2_LO;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return scale2(p, (int)k);
}

typedef struct {
    float *W, *b;
    Py_ssize_t n_labels, n_features, n_rows;
    const int64_t *indptr;
    const int32_t *indices;
    const float *data;
} Model;

/* Asks the memory system for weight rows early: W is tens of MB and a row's features are
 * scattered over it, so the loop waits on memory, not arithmetic, unless rows are prefetched. */
#define AHEAD 8
static inline void prefetch_row(const Model *m, int64_t e, int64_t end) {
    if (e < end) {
        const char *w = (const char *)(m->W + (Py_ssize_t)m->indices[e] * m->n_labels);
        for (Py_ssize_t off = 0; off < m->n_labels * (Py_ssize_t)sizeof(float); off += 64)
            __builtin_prefetch(w + off, 1, 1);
    }
}

/* The two loops over a row's weights, compiled twice on x86-64 Linux (AVX2 and baseline SSE2)
 * and picked when the module loads: each label's value is the same float32 multiply and add
 * in the same order either way (AVX2 without FMA), so the bits do not depend on the CPU. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define WIDE __attribute__((target_clones("avx2", "default")))
#else
#define WIDE
#endif

/* z (double, n_labels) = the logits of row i; z32 is scratch */
WIDE static void row_logits(const Model *m, Py_ssize_t i, float *restrict z32, double *restrict z) {
    Py_ssize_t K = m->n_labels;
    const int64_t end = m->indptr[i + 1];
    for (Py_ssize_t j = 0; j < K; j++) z32[j] = 0.0f;
    for (int64_t e = m->indptr[i]; e < m->indptr[i] + AHEAD; e++) prefetch_row(m, e, end);
    for (int64_t e = m->indptr[i]; e < end; e++) {
        prefetch_row(m, e + AHEAD, end);
        const float x = m->data[e];
        const float *restrict w = m->W + (Py_ssize_t)m->indices[e] * K;
        for (Py_ssize_t j = 0; j < K; j++) {
            float t = x * w[j];
            z32[j] += t;
        }
    }
    for (Py_ssize_t j = 0; j < K; j++) z[j] = (double)z32[j] + (double)m->b[j];
}

/* W[f][j] -= x * g[j] for each entry (f, x) of row i, then b -= g */
WIDE static void row_update(const Model *m, Py_ssize_t i, const float *restrict g) {
    Py_ssize_t K = m->n_labels;
    for (int64_t e = m->indptr[i]; e < m->indptr[i + 1]; e++) {
        const float x = m->data[e];
        float *restrict w = m->W + (Py_ssize_t)m->indices[e] * K;
        for (Py_ssize_t j = 0; j < K; j++) {
            float o = x * g[j];
            w[j] = w[j] - o;
        }
    }
    for (Py_ssize_t j = 0; j < K; j++) m->b[j] = m->b[j] - g[j];
}

/* p = softmax(z), in place */
static void softmax(double *z, Py_ssize_t K) {
    double top = z[0];
    for (Py_ssize_t j = 1; j < K; j++) if (z[j] > top) top = z[j];
    double sum = 0.0;
    for (Py_ssize_t j = 0; j < K; j++) {
        z[j] = det_exp(z[j] - top);
        sum += z[j];
    }
    for (Py_ssize_t j = 0; j < K; j++) z[j] = z[j] / sum;
}

/* the shared checks of both entry points: shapes, dtypes by size, indices in range */
static int make_model(Model *m, Py_buffer *W, Py_buffer *b, Py_ssize_t K, Py_buffer *indptr,
                      Py_buffer *indices, Py_buffer *data) {
    if (K <= 0 || W->len % (K * (Py_ssize_t)sizeof(float)) || b->len != K * (Py_ssize_t)sizeof(float)) {
        PyErr_SetString(PyExc_ValueError, "W and b must be float32 of n_labels columns");
        return -1;
    }
    m->W = (float *)W->buf;
    m->b = (float *)b->buf;
    m->n_labels = K;
    m->n_features = W->len / (K * (Py_ssize_t)sizeof(float));
    m->n_rows = indptr->len / (Py_ssize_t)sizeof(int64_t) - 1;
    m->indptr = (const int64_t *)indptr->buf;
    m->indices = (const int32_t *)indices->buf;
    m->data = (const float *)data->buf;
    Py_ssize_t nnz = indices->len / (Py_ssize_t)sizeof(int32_t);
    if (m->n_rows < 0 || data->len != nnz * (Py_ssize_t)sizeof(float) || m->indptr[m->n_rows] != nnz) {
        PyErr_SetString(PyExc_ValueError, "indptr, indices and data do not describe one matrix");
        return -1;
    }
    for (Py_ssize_t e = 0; e < nnz; e++) {
        if (m->indices[e] < 0 || m->indices[e] >= m->n_features) {
            PyErr_SetString(PyExc_ValueError, "a feature index is outside W");
            return -1;
        }
    }
    return 0;
}

static int check_rows(const int64_t *rows, Py_ssize_t n, Py_ssize_t n_rows) {
    for (Py_ssize_t r = 0; r < n; r++) {
        if (rows[r] < 0 || rows[r] >= n_rows) {
            PyErr_SetString(PyExc_ValueError, "a row number is outside the matrix");
            return -1;
        }
    }
    return 0;
}

static PyObject *sgd_pass(PyObject *self, PyObject *args) {
    Py_buffer W, b, indptr, indices, data, targets, order;
    Py_ssize_t K;
    double lr0, margin;
    long long step0, total_steps;
    if (!PyArg_ParseTuple(args, "w*w*ny*y*y*y*y*dLLd", &W, &b, &K, &indptr, &indices, &data, &targets,
                          &order, &lr0, &step0, &total_steps, &margin))
        return NULL;
    PyObject *result = NULL;
    float *z32 = NULL, *g = NULL;
    double *p = NULL;
    Model m;
    if (make_model(&m, &W, &b, K, &indptr, &indices, &data) < 0) goto done;
    const int64_t *rows = (const int64_t *)order.buf;
    const int64_t *y = (const int64_t *)targets.buf;
    Py_ssize_t n = order.len / (Py_ssize_t)sizeof(int64_t);
    if (targets.len != m.n_rows * (Py_ssize_t)sizeof(int64_t)) {
        PyErr_SetString(PyExc_ValueError, "one target per row is needed");
        goto done;
    }
    if (check_rows(rows, n, m.n_rows) < 0) goto done;
    for (Py_ssize_t r = 0; r < n; r++) {
        if (y[rows[r]] < 0 || y[rows[r]] >= K) {
            PyErr_SetString(PyExc_ValueError, "a target is not a label number");
            goto done;
        }
    }
    z32 = malloc(K * sizeof(float));
    g = malloc(K * sizeof(float));
    p = malloc(K * sizeof(double));
    if (!z32 || !g || !p) {
        PyErr_NoMemory();
        goto done;
    }
    double loss = 0.0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n; r++) {
        Py_ssize_t i = (Py_ssize_t)rows[r];
        double lr = lr0 * (1.0 - (double)(step0 + r) / (double)total_steps);
        row_logits(&m, i, z32, p);
        softmax(p, K);
        Py_ssize_t t = (Py_ssize_t)y[i];
        double pt = p[t];
        loss -= log(pt > 1e-12 ? pt : 1e-12);
        if (1.0 - pt >= margin) {
            p[t] -= 1.0;
            for (Py_ssize_t j = 0; j < K; j++) g[j] = (float)(p[j] * lr);
            row_update(&m, i, g);
        }
    }
    Py_END_ALLOW_THREADS
    result = PyFloat_FromDouble(loss);
done:
    free(z32);
    free(g);
    free(p);
    PyBuffer_Release(&W);
    PyBuffer_Release(&b);
    PyBuffer_Release(&indptr);
    PyBuffer_Release(&indices);
    PyBuffer_Release(&data);
    PyBuffer_Release(&targets);
    PyBuffer_Release(&order);
    return result;
}

static PyObject *logits(PyObject *self, PyObject *args) {
    Py_buffer W, b, indptr, indices, data, rows_buf, out;
    Py_ssize_t K;
    if (!PyArg_ParseTuple(args, "y*y*ny*y*y*y*w*", &W, &b, &K, &indptr, &indices, &data, &rows_buf, &out))
        return NULL;
    PyObject *result = NULL;
    float *z32 = NULL;
    Model m;
    if (make_model(&m, &W, &b, K, &indptr, &indices, &data) < 0) goto done;
    const int64_t *rows = (const int64_t *)rows_buf.buf;
    Py_ssize_t n = rows_buf.len / (Py_ssize_t)sizeof(int64_t);
    if (out.len != n * K * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "out must be float64 [rows][n_labels]");
        goto done;
    }
    if (check_rows(rows, n, m.n_rows) < 0) goto done;
    z32 = malloc(K * sizeof(float));
    if (!z32) {
        PyErr_NoMemory();
        goto done;
    }
    double *o = (double *)out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n; r++) row_logits(&m, (Py_ssize_t)rows[r], z32, o + r * K);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    free(z32);
    PyBuffer_Release(&W);
    PyBuffer_Release(&b);
    PyBuffer_Release(&indptr);
    PyBuffer_Release(&indices);
    PyBuffer_Release(&data);
    PyBuffer_Release(&rows_buf);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"sgd_pass", sgd_pass, METH_VARARGS, "One pass of per-row SGD over the given rows (see the module source)."},
    {"logits", logits, METH_VARARGS, "The logits of the given rows (see the module source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sgd", "The text softmax's SGD loop in C.", -1, methods};

PyMODINIT_FUNC PyInit__sgd(void) { return PyModule_Create(&module); }
