// WordNet synset reader and the synonym paraphraser used for text augmentation.

#include "archbert/synonyms.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "archbert/error.h"

namespace archbert {
namespace {

// Function words: never replaced (their WordNet senses are rarely the meant ones).
const std::unordered_set<std::string> kStopWords = {
    "the",     "and",     "for",     "are",    "but",    "not",    "you",   "all",   "any",
    "can",     "had",     "her",     "was",    "one",    "our",    "out",   "has",   "have",
    "him",     "his",     "how",     "its",    "may",    "new",    "now",   "old",   "see",
    "two",     "way",     "who",     "did",    "get",    "let",    "put",   "say",   "she",
    "too",     "use",     "uses",    "used",   "using",  "this",   "that",  "with",  "from",
    "into",    "onto",    "over",    "under",  "than",   "then",   "them",  "they",  "their",
    "there",   "these",   "those",   "what",   "when",   "where",  "which", "while", "will",
    "would",   "could",   "should",  "been",   "being",  "were",   "does",  "each",  "every",
    "some",    "such",    "only",    "also",   "more",   "most",   "many",  "much",  "very",
    "just",    "both",    "same",    "other",  "after",  "before", "about", "above", "below",
    "between", "through", "without", "within", "per",    "via",    "top",   "total", "altogether",
    "one",     "three",   "four",    "five",   "six",    "seven",  "eight", "nine",  "ten",
    "first",   "second",  "last",    "single", "double", "is",     "be",    "it",    "of",
    "in",      "on",      "to",      "as",     "by",     "an",     "or",    "at",    "no"};

// Domain vocabulary whose meaning must survive augmentation exactly.
const std::unordered_set<std::string> kProtected = {"layer",
                                                    "layers",
                                                    "convolution",
                                                    "convolutions",
                                                    "convolutional",
                                                    "conv",
                                                    "pooling",
                                                    "pool",
                                                    "normalization",
                                                    "normalisation",
                                                    "normalize",
                                                    "normalized",
                                                    "attention",
                                                    "linear",
                                                    "dense",
                                                    "dropout",
                                                    "activation",
                                                    "activations",
                                                    "relu",
                                                    "gelu",
                                                    "sigmoid",
                                                    "tanh",
                                                    "softmax",
                                                    "softplus",
                                                    "swish",
                                                    "silu",
                                                    "mish",
                                                    "embedding",
                                                    "embeddings",
                                                    "batch",
                                                    "kernel",
                                                    "kernels",
                                                    "stride",
                                                    "strides",
                                                    "padding",
                                                    "dilation",
                                                    "dilated",
                                                    "depthwise",
                                                    "pointwise",
                                                    "separable",
                                                    "grouped",
                                                    "group",
                                                    "groups",
                                                    "channel",
                                                    "channels",
                                                    "filter",
                                                    "filters",
                                                    "feature",
                                                    "features",
                                                    "map",
                                                    "maps",
                                                    "max",
                                                    "average",
                                                    "mean",
                                                    "global",
                                                    "adaptive",
                                                    "residual",
                                                    "skip",
                                                    "shortcut",
                                                    "connection",
                                                    "connections",
                                                    "block",
                                                    "blocks",
                                                    "stage",
                                                    "stages",
                                                    "head",
                                                    "heads",
                                                    "token",
                                                    "tokens",
                                                    "transformer",
                                                    "encoder",
                                                    "decoder",
                                                    "network",
                                                    "networks",
                                                    "model",
                                                    "models",
                                                    "architecture",
                                                    "architectures",
                                                    "parameter",
                                                    "parameters",
                                                    "weight",
                                                    "weights",
                                                    "bias",
                                                    "input",
                                                    "inputs",
                                                    "output",
                                                    "outputs",
                                                    "node",
                                                    "nodes",
                                                    "edge",
                                                    "edges",
                                                    "graph",
                                                    "cell",
                                                    "cells",
                                                    "operation",
                                                    "operations",
                                                    "op",
                                                    "ops",
                                                    "add",
                                                    "addition",
                                                    "concat",
                                                    "concatenation",
                                                    "multiply",
                                                    "matmul",
                                                    "flatten",
                                                    "reshape",
                                                    "upsample",
                                                    "upsampling",
                                                    "transposed",
                                                    "fully",
                                                    "connected",
                                                    "affine",
                                                    "projection",
                                                    "recurrent",
                                                    "lstm",
                                                    "gru",
                                                    "rnn",
                                                    "cnn",
                                                    "mlp",
                                                    "gap",
                                                    "image",
                                                    "images",
                                                    "classification",
                                                    "classifier",
                                                    "detection",
                                                    "segmentation",
                                                    "vision",
                                                    "language",
                                                    "text",
                                                    "resnet",
                                                    "vgg",
                                                    "alexnet",
                                                    "densenet",
                                                    "mobilenet",
                                                    "efficientnet",
                                                    "inception",
                                                    "googlenet",
                                                    "squeezenet",
                                                    "shufflenet",
                                                    "regnet",
                                                    "convnext",
                                                    "bert",
                                                    "gpt",
                                                    "vit",
                                                    "swin",
                                                    "deit",
                                                    "roberta",
                                                    "t5",
                                                    "yolo",
                                                    "unet",
                                                    "mnasnet",
                                                    "wide",
                                                    "autonet",
                                                    "imagenet",
                                                    "cifar",
                                                    "million",
                                                    "billion",
                                                    "thousand",
                                                    "trainable",
                                                    "spatial",
                                                    "square",
                                                    "width",
                                                    "height",
                                                    "depth",
                                                    "sequence",
                                                    "squeeze",
                                                    "excitation",
                                                    "expand",
                                                    "expansion",
                                                    "bottleneck",
                                                    "project",
                                                    "projects",
                                                    "softmax",
                                                    "gate",
                                                    "gated",
                                                    "learned",
                                                    "learnable",
                                                    "transformation",
                                                    "value",
                                                    "values",
                                                    "query",
                                                    "key",
                                                    "scale",
                                                    "shift",
                                                    "sum",
                                                    "element",
                                                    "wise",
                                                    "generated",
                                                    "family",
                                                    "norm",
                                                    "norms",
                                                    "atrous",
                                                    "apply",
                                                    "applies",
                                                    "statistics",
                                                    "mini",
                                                    "run",
                                                    "runs",
                                                    "holds",
                                                    "hold",
                                                    "state",
                                                    "states",
                                                    "hidden",
                                                    "unit",
                                                    "units",
                                                    "size",
                                                    "sizes",
                                                    "shape",
                                                    "shapes"};

// A small deterministic PRNG (splitmix64): identical results on every platform.
struct Prng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
};

void read_data_file(const std::string& path, SynonymTable* table) {
  std::ifstream in(path);
  if (!in) return;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == ' ') continue;  // licence header lines start with "  "
    const std::string where = path + ":" + std::to_string(line_no);
    std::istringstream ss(line);
    std::string offset, lex_filenum, ss_type, w_cnt_hex;
    if (!(ss >> offset >> lex_filenum >> ss_type >> w_cnt_hex)) {
      throw_bad_input(where, "truncated synset line");
    }
    if (offset.find_first_not_of("0123456789") != std::string::npos) {
      throw_bad_input(where, "synset offset \"" + offset + "\" is not a number");
    }
    int w_cnt = 0;
    try {
      w_cnt = std::stoi(w_cnt_hex, nullptr, 16);
    } catch (const std::exception&) {
      throw_bad_input(where, "word count \"" + w_cnt_hex + "\" is not hexadecimal");
    }
    std::vector<std::string> words;
    for (int i = 0; i < w_cnt; ++i) {
      std::string word, lex_id;
      if (!(ss >> word >> lex_id)) {
        throw_bad_input(where, "synset lists fewer than " + std::to_string(w_cnt) + " words");
      }
      // Adjective markers: "big(a)", "galore(ip)" -> "big", "galore".
      const size_t paren = word.find('(');
      if (paren != std::string::npos) word.resize(paren);
      for (char& c : word) {
        c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (!word.empty() && std::find(words.begin(), words.end(), word) == words.end()) {
        words.push_back(word);
      }
    }
    std::string p_cnt;
    if (!(ss >> p_cnt) || p_cnt.find_first_not_of("0123456789") != std::string::npos) {
      throw_bad_input(where, "missing pointer count after the words");
    }
    if (words.size() < 2) continue;  // no synonyms to offer
    const int32_t id = static_cast<int32_t>(table->synsets.size());
    for (const auto& w : words) table->word_synsets[w].push_back(id);
    table->synsets.push_back(std::move(words));
  }
}

}  // namespace

std::vector<std::string> SynonymTable::synonyms(const std::string& word) const {
  std::vector<std::string> out;
  auto it = word_synsets.find(word);
  if (it == word_synsets.end()) return out;
  for (int32_t s : it->second) {
    for (const auto& w : synsets[s]) {
      if (w != word && std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
    }
  }
  return out;
}

SynonymTable load_wordnet(const std::string& dir) {
  SynonymTable table;
  int found = 0;
  for (const char* pos : {"noun", "verb", "adj", "adv"}) {
    const std::string path = dir + "/data." + pos;
    if (std::ifstream(path)) ++found;
    read_data_file(path, &table);
  }
  if (found == 0) throw_bad_input(dir, "no WordNet data.{noun,verb,adj,adv} files");
  return table;
}

bool is_protected_term(const std::string& w) { return kProtected.count(w) > 0; }

std::string paraphrase(const std::string& text, const SynonymTable& table, uint64_t seed,
                       double rate) {
  Prng rng{seed ^ 0x50415241ull};
  std::string out;
  out.reserve(text.size() + 16);
  size_t i = 0;
  bool sentence_start = true;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isalpha(c)) {
      if (c == '.' || c == '!' || c == '?')
        sentence_start = true;
      else if (!std::isspace(c))
        sentence_start = false;
      out.push_back(text[i++]);
      continue;
    }
    size_t j = i;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    // A word glued to digits, hyphens or apostrophes ("7x7", "depth-wise", "model's") is kept.
    const bool glued = (i > 0 && (std::isdigit(static_cast<unsigned char>(text[i - 1])) ||
                                  text[i - 1] == '-' || text[i - 1] == '\'')) ||
                       (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) ||
                                            text[j] == '-' || text[j] == '\''));
    const std::string word = text.substr(i, j - i);
    std::string lower = word;
    bool inner_caps = false;
    for (size_t k = 0; k < lower.size(); ++k) {
      if (std::isupper(static_cast<unsigned char>(lower[k]))) {
        if (k > 0 || !sentence_start) inner_caps = true;  // a name ("ResNet", "Inception")
        lower[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[k])));
      }
    }
    std::string replacement;
    // Draw for every word (not only eligible ones) so the choice depends on position only.
    const double draw = rng.uniform();
    const uint64_t pick = rng.next();
    if (!glued && !inner_caps && lower.size() >= 3 && draw < rate && !kStopWords.count(lower) &&
        !kProtected.count(lower)) {
      std::vector<std::string> syn = table.synonyms(lower);
      syn.erase(std::remove_if(syn.begin(), syn.end(),
                               [](const std::string& s) {
                                 // Verb frames like "lend oneself" read badly.
                                 if (s.find("oneself") != std::string::npos ||
                                     s.find("someone") != std::string::npos ||
                                     s.find("something") != std::string::npos) {
                                   return true;
                                 }
                                 for (char ch : s) {
                                   if (!std::isalpha(static_cast<unsigned char>(ch)) && ch != ' ')
                                     return true;
                                 }
                                 return false;
                               }),
                syn.end());
      if (!syn.empty()) {
        replacement = syn[pick % syn.size()];
        if (std::isupper(static_cast<unsigned char>(word[0]))) {
          replacement[0] =
              static_cast<char>(std::toupper(static_cast<unsigned char>(replacement[0])));
        }
      }
    }
    out += replacement.empty() ? word : replacement;
    sentence_start = false;
    i = j;
  }
  return out;
}

}  // namespace archbert
