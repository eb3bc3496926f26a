// Loading a checkpoint for inference and encoding texts for it (include/archbert/tasks.h).
#include "archbert/tasks.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "archbert/error.h"

namespace archbert {
namespace {

// Parses a threshold stored in the checkpoint metadata: the whole string must be one finite
// number in [-1, 1] (a cosine); anything else means the checkpoint is corrupt.
double parse_threshold(const CheckpointMeta& meta, const std::string& key, const std::string& path,
                       double fallback) {
  auto it = meta.extra.find(key);
  if (it == meta.extra.end()) return fallback;
  const std::string& s = it->second;
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0])) || end == begin || *end ||
      errno == ERANGE || !std::isfinite(v) || v < -1.0 || v > 1.0)
    throw_bad_input(path, "metadata \"" + key + "\" is not a threshold in [-1, 1]: \"" + s + "\"");
  return v;
}

// Codepoints in a UTF-8 piece.
int codepoints(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Words of 4+ letters (no digits, no [UNK]) that the vocabulary only covers one character per
// piece: words it has never seen, e.g. typos or gibberish ("qwzxv" -> q ##w ##z ##x ##v).
int spelled_words(const std::vector<std::string>& pieces) {
  int count = 0;
  size_t i = 0;
  while (i < pieces.size()) {
    size_t j = i + 1;
    while (j < pieces.size() && pieces[j].rfind("##", 0) == 0) ++j;
    bool single = true, letters_only = true;
    int letters = 0;
    for (size_t k = i; k < j; ++k) {
      std::string p = k == i ? pieces[k] : pieces[k].substr(2);
      if (p == "[UNK]") letters_only = false;
      for (unsigned char c : p)
        if (std::isdigit(c) || std::ispunct(c)) letters_only = false;
      if (codepoints(p) != 1) single = false;
      letters += codepoints(p);
    }
    if (single && letters_only && letters >= 4) ++count;
    i = j;
  }
  return count;
}

bool is_blank(const std::string& s) {
  for (unsigned char c : s)
    if (!std::isspace(c)) return false;
  return true;
}

}  // namespace

std::string default_checkpoint_path() {
  if (const char* env = std::getenv("ARCHBERT_CHECKPOINT"); env && *env) return env;
#ifdef ARCHBERT_MODELS_DIR
  return std::string(ARCHBERT_MODELS_DIR) + "/small/archbert-small.ckpt";
#else
  return "models/small/archbert-small.ckpt";
#endif
}

LoadedModel load_model(const std::string& path_in) {
  const bool is_default = path_in.empty();
  const std::string path = is_default ? default_checkpoint_path() : path_in;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    const char* env = std::getenv("ARCHBERT_CHECKPOINT");
    if (is_default && !(env && *env))
      throw_bad_input(path,
                      "the shipped checkpoint is missing; train one with `archbert train`, then "
                      "pass --ckpt FILE or set ARCHBERT_CHECKPOINT");
    throw_bad_input(path, is_default ? "checkpoint not found (from ARCHBERT_CHECKPOINT)"
                                     : "checkpoint not found");
  }
  if (std::filesystem::is_directory(path, ec))
    throw_bad_input(path, "is a folder, expected a checkpoint file");
  LoadedModel m{path, ArchBertModel::load(path), Tokenizer(), 0.5, 0.5};
  const CheckpointMeta& meta = m.model.meta();
  if (meta.tokenizer_json.empty()) throw_bad_input(path, "checkpoint has no tokenizer");
  m.tokenizer = Tokenizer::from_json(meta.tokenizer_json, path + ": tokenizer");
  if (m.tokenizer.size() > m.model.config().text_vocab)
    throw_bad_input(path, "tokenizer has " + std::to_string(m.tokenizer.size()) +
                              " pieces but the model's text vocabulary is " +
                              std::to_string(m.model.config().text_vocab));
  m.ar_threshold = parse_threshold(meta, "ar_threshold", path, 0.5);
  m.acd_threshold = parse_threshold(meta, "acd_threshold", path, 0.5);
  return m;
}

std::vector<std::vector<int32_t>> encode_texts(const LoadedModel& m,
                                               const std::vector<std::string>& texts,
                                               std::vector<TextCheck>* checks,
                                               const std::string& input_name) {
  std::vector<std::vector<int32_t>> out;
  out.reserve(texts.size());
  if (checks) checks->clear();
  const int max_len = static_cast<int>(m.model.config().max_text_len);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string name =
        texts.size() == 1 ? input_name : input_name + "[" + std::to_string(i) + "]";
    if (is_blank(texts[i])) throw_bad_input(name, "text is empty");
    Encoding e = m.tokenizer.encode(texts[i], max_len, name);
    // Only [CLS] [SEP] left: the text had nothing but dropped control characters.
    if (e.words == 0) throw_bad_input(name, "text is empty");
    if (checks)
      checks->push_back({e.words, e.unknown_words, e.truncated,
                         spelled_words(m.tokenizer.tokenize(texts[i], name))});
    out.push_back(std::move(e.ids));
  }
  return out;
}

}  // namespace archbert
