/* The single-text feature hasher in C: what single_text.SingleTextFeaturizer computes with
 * numpy, for one text, without numpy's per-call overhead (which is the whole cost for a
 * short text). Optional: when this module is not built, the numpy path runs instead, and
 * tests/training/test_single_text.py checks that both give features.featurize's row, bit for
 * bit.
 *
 * featurize(codepoints, n_words, char_lo, char_hi, unigrams, bigrams, log2, tf_weight,
 *           tf_square, out_keys, out_values) -> count
 *
 *   codepoints  the clean string " tok1 tok2 ... " as uint32 code points (UTF-32-LE bytes)
 *   tf_weight   float64 table: the weight of a term seen t times (1 + log t, or t), computed
 *   tf_square   by numpy, with its square, so the values match numpy's log to the last bit
 *   out_keys    int64 buffer, out_values float32 buffer, each with room for every feature
 *
 * The hash: a polynomial prefix hash of the code points modulo 2^64 (multiplier P), a
 * segment's hash made position-free by P^-start, then the splitmix64 finaliser salted per
 * feature kind; word pairs hash the mixed first word times P plus the second. Keys are masked
 * to 2^log2 buckets, sorted, merged with their counts, weighted and L2-normalised with the
 * sum of squares taken in key order, as featurize does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define P 0x100000001B3ULL
#define GOLD 0x9E3779B97F4A7C15ULL
#define M1 0xBF58476D1CE4E5B9ULL
#define M2 0x94D049BB133111EBULL
#define WORD_SALT 0x5157ULL
#define BIGRAM_SALT 0xB16AULL
#define CHAR_SALT 0xC4A0ULL

static uint64_t p_inverse(void) {
    /* Newton's iteration for the inverse of an odd number modulo 2^64 */
    uint64_t x = P;
    for (int i = 0; i < 6; i++) x *= 2 - P * x;
    return x;
}

static inline uint64_t mix(uint64_t z, uint64_t salted) {
    z ^= salted;
    z = (z ^ (z >> 30)) * M1;
    z = (z ^ (z >> 27)) * M2;
    return z ^ (z >> 31);
}

/* LSD radix sort of n keys below 2^bits, 8 bits a pass (tmp: room for n keys) */
static void radix_sort(uint64_t *keys, uint64_t *tmp, Py_ssize_t n, int bits) {
    uint64_t *src = keys, *dst = tmp;
    for (int shift = 0; shift < bits; shift += 8) {
        Py_ssize_t count[257] = {0};
        for (Py_ssize_t i = 0; i < n; i++) count[((src[i] >> shift) & 0xFF) + 1]++;
        for (int b = 0; b < 256; b++) count[b + 1] += count[b];
        for (Py_ssize_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
        uint64_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != keys) memcpy(keys, src, (size_t)n * sizeof(uint64_t));
}

static PyObject *featurize(PyObject *self, PyObject *args) {
    Py_buffer cp_buf, weight_buf, square_buf, keys_buf, values_buf;
    Py_ssize_t n_words;
    int char_lo, char_hi, unigrams, bigrams, log2;
    if (!PyArg_ParseTuple(args, "y*niippiy*y*w*w*", &cp_buf, &n_words, &char_lo, &char_hi, &unigrams,
                          &bigrams, &log2, &weight_buf, &square_buf, &keys_buf, &values_buf))
        return NULL;
    PyObject *result = NULL;
    uint64_t *prefix = NULL, *pinv = NULL, *keys = NULL, *tmp = NULL;
    const uint32_t *cp = (const uint32_t *)cp_buf.buf;
    Py_ssize_t n = cp_buf.len / 4;
    const double *tf_weight = (const double *)weight_buf.buf, *tf_square = (const double *)square_buf.buf;
    Py_ssize_t table = weight_buf.len / 8;
    Py_ssize_t room = keys_buf.len / 8;
    if (values_buf.len / 4 < room) room = values_buf.len / 4;
    if (log2 < 1 || log2 > 62 || square_buf.len / 8 < table) {
        PyErr_SetString(PyExc_ValueError, "bad feature settings");
        goto done;
    }
    Py_ssize_t total = 0;
    for (int k = char_lo; k <= char_hi && k > 0; k++) total += n - k + 1 > 0 ? n - k + 1 : 0;
    if (unigrams) total += n_words;
    if (bigrams && n_words > 1) total += n_words - 1;
    if (total > room || total >= table) {
        PyErr_SetString(PyExc_ValueError, "output buffers or tf tables too small");
        goto done;
    }
    prefix = malloc((size_t)(n + 1) * sizeof(uint64_t));
    pinv = malloc((size_t)(n + 1) * sizeof(uint64_t));
    keys = malloc((size_t)(total + 1) * sizeof(uint64_t));
    tmp = malloc((size_t)(total + 1) * sizeof(uint64_t));
    if (!prefix || !pinv || !keys || !tmp) {
        PyErr_NoMemory();
        goto done;
    }
    uint64_t mask = (1ULL << log2) - 1, p_inv = p_inverse(), power = 1;
    prefix[0] = 0;
    pinv[0] = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        prefix[i + 1] = prefix[i] + (uint64_t)cp[i] * power;
        power *= P;
        pinv[i + 1] = pinv[i] * p_inv;
    }
    Py_ssize_t at = 0;
    for (int k = char_lo; k <= char_hi && k > 0; k++) {
        uint64_t salted = (CHAR_SALT + (uint64_t)k) * GOLD;
        for (Py_ssize_t s = 0; s + k <= n; s++)
            keys[at++] = mix((prefix[s + k] - prefix[s]) * pinv[s], salted) & mask;
    }
    if (n_words) {
        /* " tok1 tok2 ": tokens are the runs between spaces (they hold no space) */
        uint64_t previous = 0;
        Py_ssize_t start = 1, word = 0;
        for (Py_ssize_t i = 1; i < n && word < n_words; i++) {
            if (cp[i] != 32) continue;
            uint64_t h = (prefix[i] - prefix[start]) * pinv[start];
            if (unigrams) keys[at++] = mix(h, WORD_SALT * GOLD) & mask;
            if (bigrams && word > 0)
                keys[at++] = mix(mix(previous, BIGRAM_SALT * GOLD) * P + h, (BIGRAM_SALT + 1) * GOLD) & mask;
            previous = h;
            start = i + 1;
            word++;
        }
    }
    if (at != total) {
        PyErr_SetString(PyExc_ValueError, "the word count does not match the text");
        goto done;
    }
    radix_sort(keys, tmp, total, log2);
    int64_t *out_keys = (int64_t *)keys_buf.buf;
    float *out_values = (float *)values_buf.buf;
    double sum = 0.0;
    Py_ssize_t unique = 0;
    for (Py_ssize_t i = 0; i < total;) {
        Py_ssize_t j = i + 1;
        while (j < total && keys[j] == keys[i]) j++;
        out_keys[unique] = (int64_t)keys[i];
        tmp[unique++] = (uint64_t)(j - i);  /* the count, kept until the norm is known */
        sum += tf_square[j - i];
        i = j;
    }
    double norm = sqrt(sum);
    if (norm == 0.0) norm = 1.0;
    for (Py_ssize_t u = 0; u < unique; u++) out_values[u] = (float)(tf_weight[tmp[u]] / norm);
    result = PyLong_FromSsize_t(unique);
done:
    free(prefix);
    free(pinv);
    free(keys);
    free(tmp);
    PyBuffer_Release(&cp_buf);
    PyBuffer_Release(&weight_buf);
    PyBuffer_Release(&square_buf);
    PyBuffer_Release(&keys_buf);
    PyBuffer_Release(&values_buf);
    return result;
}

static PyMethodDef methods[] = {
    {"featurize", featurize, METH_VARARGS, "Hashed features of one clean text (see the module source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hashing", "The single-text feature hasher in C.", -1, methods};

PyMODINIT_FUNC PyInit__hashing(void) { return PyModule_Create(&module); }
