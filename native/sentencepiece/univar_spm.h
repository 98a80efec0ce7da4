/*
 * univar_spm.h: a C interface over SentencePiece (Debian's libsentencepiece, C++ only), called from Java
 * through the Foreign Function & Memory API (bindings/: dev.univar.bindings.spm.univar_spm_h).
 *
 * Conventions, chosen so that the Java side owns every allocation it sees:
 * - Functions that can fail return a status: UNIVAR_SPM_OK (0) or a negative code, and copy a NUL-terminated
 *   message into the caller's `err` buffer (truncated to `err_cap` bytes). No C++ exception crosses this
 *   boundary: the shim catches them all.
 * - Results are written into caller-provided buffers. The true size is always reported (`*n_out`,
 *   `*len_out`); when it exceeds the capacity given, only what fits is written and the call returns
 *   UNIVAR_SPM_SHORT_BUFFER, so the caller can retry with a buffer of the reported size.
 * - The only memory the shim allocates is the processor itself: univar_spm_load_* create it and
 *   univar_spm_free releases it.
 * - Text is UTF-8 given as (pointer, length): it may contain NUL bytes.
 *
 * Thread safety: a loaded processor is read-only; SentencePieceProcessor's Encode/Decode and vocabulary
 * lookups are const, so any number of threads may use one processor at once. univar_spm_free must not run
 * concurrently with any other call on the same processor (the Java side guarantees that with a lock).
 */
#ifndef UNIVAR_SPM_H
#define UNIVAR_SPM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UNIVAR_SPM_OK 0
#define UNIVAR_SPM_ERROR (-1)
#define UNIVAR_SPM_SHORT_BUFFER (-2)

/* Opaque: a SentencePieceProcessor. */
typedef struct univar_spm univar_spm;

/* The version of this interface; the Java binding checks it. */
int univar_spm_abi_version(void);

/* Loads a model from a file path (NUL-terminated) or from the bytes of a serialized ModelProto. */
int univar_spm_load_file(const char *path, univar_spm **out, char *err, size_t err_cap);
int univar_spm_load_bytes(const char *data, size_t len, univar_spm **out, char *err, size_t err_cap);
void univar_spm_free(univar_spm *sp);

/* Encodes `text` to ids, exactly as `spm_encode --output_format=id` (no BOS/EOS unless the model says so). */
int univar_spm_encode_ids(const univar_spm *sp, const char *text, size_t len,
                          int32_t *ids, size_t ids_cap, size_t *n_out, char *err, size_t err_cap);

/* Encodes `text` to pieces: their UTF-8 bytes concatenated into `bytes`, piece i ending at ends[i]. */
int univar_spm_encode_pieces(const univar_spm *sp, const char *text, size_t len,
                             char *bytes, size_t bytes_cap, size_t *bytes_out,
                             int32_t *ends, size_t ends_cap, size_t *n_out, char *err, size_t err_cap);

/* Decodes ids to UTF-8 text (an unknown id decodes to " \u2047 ", as SentencePiece does). */
int univar_spm_decode_ids(const univar_spm *sp, const int32_t *ids, size_t n,
                          char *text, size_t text_cap, size_t *len_out, char *err, size_t err_cap);

/* Decodes pieces given as univar_spm_encode_pieces returns them (unknown pieces keep their surface). */
int univar_spm_decode_pieces(const univar_spm *sp, const char *bytes, const int32_t *ends, size_t n,
                             char *text, size_t text_cap, size_t *len_out, char *err, size_t err_cap);

/* Vocabulary. */
int univar_spm_vocab_size(const univar_spm *sp);
/* The id of a piece, or the unknown id when the vocabulary lacks it. */
int univar_spm_piece_to_id(const univar_spm *sp, const char *piece, size_t len);
/* Copies the piece of `id` into `buf`; returns its length in bytes, or -1 for an id out of range. */
int64_t univar_spm_id_to_piece(const univar_spm *sp, int id, char *buf, size_t cap);
/* 1 if `id` is the unknown / a control / an unused / a byte piece, else 0 (also for ids out of range). */
int univar_spm_is_unknown(const univar_spm *sp, int id);
int univar_spm_is_control(const univar_spm *sp, int id);
int univar_spm_is_unused(const univar_spm *sp, int id);
int univar_spm_is_byte(const univar_spm *sp, int id);
/* Special ids; -1 where the model defines none. */
int univar_spm_unk_id(const univar_spm *sp);
int univar_spm_bos_id(const univar_spm *sp);
int univar_spm_eos_id(const univar_spm *sp);
int univar_spm_pad_id(const univar_spm *sp);

/*
 * Trains a model with SentencePieceTrainer, from `n` option pairs as spm_train takes them without the
 * leading "--" (e.g. "input" -> "corpus.txt", "model_prefix" -> "out/m", "vocab_size" -> "8000").
 * Writes PREFIX.model and PREFIX.vocab.
 */
int univar_spm_train(const char *const *keys, const char *const *values, size_t n, char *err, size_t err_cap);

#ifdef __cplusplus
}
#endif

#endif /* UNIVAR_SPM_H */
