// univar_spm.cc: the extern "C" shim declared in univar_spm.h, over SentencePieceProcessor and
// SentencePieceTrainer. Every entry point that can fail catches all C++ exceptions and turns them into a
// status code and a message: an exception unwinding into a Java downcall would abort the JVM.
#include "univar_spm.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct univar_spm {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

// Bump when a signature in univar_spm.h changes, together with the Java binding.
constexpr int kAbiVersion = 1;

void set_error(char *err, size_t cap, const std::string &message) {
  if (err == nullptr || cap == 0) return;
  size_t n = message.size() < cap - 1 ? message.size() : cap - 1;
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

int from_status(const sentencepiece::util::Status &status, char *err, size_t cap) {
  if (status.ok()) return UNIVAR_SPM_OK;
  set_error(err, cap, status.ToString());
  return UNIVAR_SPM_ERROR;
}

// Runs `body`, mapping any exception to UNIVAR_SPM_ERROR with its message.
template <typename F>
int guarded(char *err, size_t cap, F body) {
  try {
    return body();
  } catch (const std::exception &e) {
    set_error(err, cap, std::string("sentencepiece: ") + e.what());
  } catch (...) {
    set_error(err, cap, "sentencepiece: unknown C++ exception");
  }
  return UNIVAR_SPM_ERROR;
}

int copy_text(const std::string &s, char *text, size_t cap, size_t *len_out) {
  *len_out = s.size();
  std::memcpy(text, s.data(), s.size() < cap ? s.size() : cap);
  return s.size() <= cap ? UNIVAR_SPM_OK : UNIVAR_SPM_SHORT_BUFFER;
}

int load(univar_spm **out, char *err, size_t cap,
         sentencepiece::util::Status (*how)(sentencepiece::SentencePieceProcessor &, const void *, size_t),
         const void *arg, size_t len) {
  *out = nullptr;
  return guarded(err, cap, [&] {
    auto sp = std::make_unique<univar_spm>();
    int rc = from_status(how(sp->processor, arg, len), err, cap);
    if (rc == UNIVAR_SPM_OK) *out = sp.release();
    return rc;
  });
}

bool in_range(const univar_spm *sp, int id) { return id >= 0 && id < sp->processor.GetPieceSize(); }

}  // namespace

extern "C" {

int univar_spm_abi_version(void) { return kAbiVersion; }

int univar_spm_load_file(const char *path, univar_spm **out, char *err, size_t err_cap) {
  return load(out, err, err_cap,
              [](sentencepiece::SentencePieceProcessor &p, const void *a, size_t) {
                return p.Load(static_cast<const char *>(a));
              },
              path, 0);
}

int univar_spm_load_bytes(const char *data, size_t len, univar_spm **out, char *err, size_t err_cap) {
  return load(out, err, err_cap,
              [](sentencepiece::SentencePieceProcessor &p, const void *a, size_t n) {
                return p.LoadFromSerializedProto(absl::string_view(static_cast<const char *>(a), n));
              },
              data, len);
}

void univar_spm_free(univar_spm *sp) { delete sp; }

int univar_spm_encode_ids(const univar_spm *sp, const char *text, size_t len, int32_t *ids, size_t ids_cap,
                          size_t *n_out, char *err, size_t err_cap) {
  return guarded(err, err_cap, [&] {
    std::vector<int> result;
    int rc = from_status(sp->processor.Encode(absl::string_view(text, len), &result), err, err_cap);
    if (rc != UNIVAR_SPM_OK) return rc;
    *n_out = result.size();
    for (size_t i = 0; i < result.size() && i < ids_cap; i++) ids[i] = result[i];
    return result.size() <= ids_cap ? UNIVAR_SPM_OK : UNIVAR_SPM_SHORT_BUFFER;
  });
}

int univar_spm_encode_pieces(const univar_spm *sp, const char *text, size_t len, char *bytes, size_t bytes_cap,
                             size_t *bytes_out, int32_t *ends, size_t ends_cap, size_t *n_out, char *err,
                             size_t err_cap) {
  return guarded(err, err_cap, [&] {
    std::vector<std::string> pieces;
    int rc = from_status(sp->processor.Encode(absl::string_view(text, len), &pieces), err, err_cap);
    if (rc != UNIVAR_SPM_OK) return rc;
    size_t total = 0;
    for (size_t i = 0; i < pieces.size(); i++) {
      const std::string &p = pieces[i];
      if (total + p.size() <= bytes_cap) std::memcpy(bytes + total, p.data(), p.size());
      total += p.size();
      if (i < ends_cap) ends[i] = static_cast<int32_t>(total);
    }
    *n_out = pieces.size();
    *bytes_out = total;
    return pieces.size() <= ends_cap && total <= bytes_cap ? UNIVAR_SPM_OK : UNIVAR_SPM_SHORT_BUFFER;
  });
}

int univar_spm_decode_ids(const univar_spm *sp, const int32_t *ids, size_t n, char *text, size_t text_cap,
                          size_t *len_out, char *err, size_t err_cap) {
  return guarded(err, err_cap, [&] {
    std::vector<int> in(ids, ids + n);
    for (int id : in) {
      // SentencePiece checks ranges with a fatal CHECK in some paths; refuse them here instead.
      if (!in_range(sp, id)) {
        set_error(err, err_cap, "id " + std::to_string(id) + " is out of range [0, " +
                                    std::to_string(sp->processor.GetPieceSize()) + ")");
        return UNIVAR_SPM_ERROR;
      }
    }
    std::string out;
    int rc = from_status(sp->processor.Decode(in, &out), err, err_cap);
    return rc != UNIVAR_SPM_OK ? rc : copy_text(out, text, text_cap, len_out);
  });
}

int univar_spm_decode_pieces(const univar_spm *sp, const char *bytes, const int32_t *ends, size_t n, char *text,
                             size_t text_cap, size_t *len_out, char *err, size_t err_cap) {
  return guarded(err, err_cap, [&] {
    std::vector<std::string> pieces;
    pieces.reserve(n);
    int32_t start = 0;
    for (size_t i = 0; i < n; i++) {
      if (ends[i] < start) {
        set_error(err, err_cap, "piece ends are not ascending");
        return UNIVAR_SPM_ERROR;
      }
      pieces.emplace_back(bytes + start, ends[i] - start);
      start = ends[i];
    }
    std::string out;
    int rc = from_status(sp->processor.Decode(pieces, &out), err, err_cap);
    return rc != UNIVAR_SPM_OK ? rc : copy_text(out, text, text_cap, len_out);
  });
}

int univar_spm_vocab_size(const univar_spm *sp) { return sp->processor.GetPieceSize(); }

int univar_spm_piece_to_id(const univar_spm *sp, const char *piece, size_t len) {
  return sp->processor.PieceToId(absl::string_view(piece, len));
}

int64_t univar_spm_id_to_piece(const univar_spm *sp, int id, char *buf, size_t cap) {
  if (!in_range(sp, id)) return -1;
  const std::string &p = sp->processor.IdToPiece(id);
  std::memcpy(buf, p.data(), p.size() < cap ? p.size() : cap);
  return static_cast<int64_t>(p.size());
}

int univar_spm_is_unknown(const univar_spm *sp, int id) { return in_range(sp, id) && sp->processor.IsUnknown(id); }
int univar_spm_is_control(const univar_spm *sp, int id) { return in_range(sp, id) && sp->processor.IsControl(id); }
int univar_spm_is_unused(const univar_spm *sp, int id) { return in_range(sp, id) && sp->processor.IsUnused(id); }
int univar_spm_is_byte(const univar_spm *sp, int id) { return in_range(sp, id) && sp->processor.IsByte(id); }

int univar_spm_unk_id(const univar_spm *sp) { return sp->processor.unk_id(); }
int univar_spm_bos_id(const univar_spm *sp) { return sp->processor.bos_id(); }
int univar_spm_eos_id(const univar_spm *sp) { return sp->processor.eos_id(); }
int univar_spm_pad_id(const univar_spm *sp) { return sp->processor.pad_id(); }

int univar_spm_train(const char *const *keys, const char *const *values, size_t n, char *err, size_t err_cap) {
  return guarded(err, err_cap, [&] {
    std::unordered_map<std::string, std::string> kwargs;
    for (size_t i = 0; i < n; i++) kwargs[keys[i]] = values[i];
    return from_status(sentencepiece::SentencePieceTrainer::Train(kwargs), err, err_cap);
  });
}

}  // extern "C"
