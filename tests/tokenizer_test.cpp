// Tests of the WordPiece tokenizer, its trainer, word-vector loading and WordNet synonyms.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "archbert/error.h"
#include "archbert/synonyms.h"
#include "archbert/tokenizer.h"
#include "archbert/word_vectors.h"

namespace archbert {
namespace {

const std::string kData = std::string(ARCHBERT_TEST_DATA) + "/text";

std::vector<std::string> small_corpus() {
  std::vector<std::string> c;
  const char* base[] = {
      "The network uses a convolution layer with a 3x3 kernel.",
      "This model contains a batch normalization layer after every convolution.",
      "A max pooling layer halves the spatial size.",
      "The architecture has 169 layers in total and 11,689,512 trainable parameters.",
      "An attention layer mixes tokens; a linear layer projects them.",
      "The convolutional network applies global average pooling before the classifier.",
  };
  for (int r = 0; r < 20; ++r) {
    for (const char* s : base) c.push_back(s);
  }
  return c;
}

TokenizerTrainOptions small_options() {
  TokenizerTrainOptions o;
  o.vocab_size = 300;
  o.min_frequency = 2;
  o.max_length = 64;
  return o;
}

TEST(Tokenizer, SpecialTokensAndKnownPieces) {
  const Tokenizer tok = train_tokenizer(small_corpus(), small_options());
  EXPECT_EQ(tok.piece(0), "[PAD]");
  EXPECT_EQ(tok.piece(1), "[UNK]");
  EXPECT_EQ(tok.piece(2), "[CLS]");
  EXPECT_EQ(tok.piece(3), "[SEP]");
  EXPECT_EQ(tok.piece(4), "[MASK]");
  // Frequent whole words become single pieces.
  for (const char* w : {"convolution", "layer", "normalization", "pooling", "the"}) {
    EXPECT_TRUE(tok.contains(w)) << w;
  }
  EXPECT_EQ(tok.tokenize("Convolution layer"), (std::vector<std::string>{"convolution", "layer"}));
  // Word-internal pieces carry ##: "layers" = "layer" + "##s".
  EXPECT_EQ(tok.tokenize("kernels"), (std::vector<std::string>{"kernel", "##s"}));
  EXPECT_LE(tok.size(), 300);
}

TEST(Tokenizer, DigitsAreSinglePieces) {
  const Tokenizer tok = train_tokenizer(small_corpus(), small_options());
  EXPECT_EQ(tok.tokenize("11,689,512"),
            (std::vector<std::string>{"1", "##1", ",", "6", "##8", "##9", ",", "5", "##1", "##2"}));
  EXPECT_EQ(tok.tokenize("7x7"), (std::vector<std::string>{"7", "##x", "##7"}));
  EXPECT_EQ(tok.tokenize("3.5M"), (std::vector<std::string>{"3", ".", "5", "##m"}));
  // An unseen number never produces [UNK].
  const Encoding e = tok.encode("987654321");
  EXPECT_EQ(e.unknown_words, 0);
  EXPECT_EQ(e.ids.size(), 11u);
  EXPECT_EQ(tok.decode(e.ids), "987654321");
}

TEST(Tokenizer, NumberValuesAreReadFromPieces) {
  auto corpus = small_corpus();
  for (int r = 0; r < 5; ++r) {
    corpus.push_back("It has about 2.85 million parameters, or 1.2 billion, or 12 thousand.");
  }
  const Tokenizer tok = train_tokenizer(corpus, small_options());
  const auto roles = number_roles(tok);
  ASSERT_EQ(roles.size(), static_cast<size_t>(tok.size()));
  auto values = [&](const std::string& text) {
    const auto ids = tok.encode(text).ids;  // [CLS] ... [SEP]
    auto v = number_values(ids, roles);
    return std::vector<double>(v.begin() + 1, v.end() - 1);
  };
  // 1 ##1 , 6 ##8 ##9 , 5 ##1 ##2: one number over all ten pieces.
  EXPECT_EQ(values("11,689,512"), std::vector<double>(10, 11689512.0));
  // "the model has 39 relu" -> only the two digit pieces carry 39.
  auto v = values("the model has 39 layers");
  ASSERT_EQ(v.size(), tok.tokenize("the model has 39 layers").size());
  EXPECT_EQ(v[0], -1.0);
  EXPECT_EQ(v[3], 39.0);
  EXPECT_EQ(v[4], 39.0);
  EXPECT_EQ(v.back(), -1.0);
  // Decimals and magnitudes, glued or as a word.
  EXPECT_EQ(values("3.5M"), std::vector<double>(4, 3.5e6));
  auto m = values("2.85 million");
  ASSERT_EQ(m.size(), 5u);  // 2 . 8 ##5 million
  for (double x : m) EXPECT_NEAR(x, 2.85e6, 1e-3);
  EXPECT_NEAR(values("1.2 billion")[0], 1.2e9, 1e-2);
  EXPECT_EQ(values("12 thousand")[0], 12000.0);
  // A kernel "7x1" is two numbers; a sentence-final period and a list comma end a number.
  auto k = values("7x1");
  EXPECT_EQ(k, (std::vector<double>{7.0, -1.0, 1.0}));
  auto p = values("it has 3. then 4, 5 and 6,12");
  std::vector<double> got;
  for (double x : p)
    if (x >= 0 && (got.empty() || got.back() != x)) got.push_back(x);
  EXPECT_EQ(got, (std::vector<double>{3.0, 4.0, 5.0, 6.0, 12.0}));
  // Ids outside the role table are not numbers.
  EXPECT_EQ(number_values({-5, 100000}, roles), (std::vector<double>{-1.0, -1.0}));
}

TEST(Tokenizer, KernelSizesAreReadFromPieces) {
  auto corpus = small_corpus();
  for (int r = 0; r < 5; ++r) corpus.push_back("It uses 7x1 and 3 x 3 kernels, 5×5 and 1x1x1.");
  const Tokenizer tok = train_tokenizer(corpus, small_options());
  const auto roles = number_roles(tok);
  using Pair = std::array<int64_t, 2>;
  const Pair none{-1, -1};
  auto kernels = [&](const std::string& text) {
    const auto ids = tok.encode(text).ids;  // [CLS] ... [SEP]
    auto k = kernel_sizes(ids, roles);
    return std::vector<Pair>(k.begin() + 1, k.end() - 1);
  };
  // "7 ##x ##1": every piece of the pattern carries (7, 1); the order matters.
  EXPECT_EQ(kernels("7x1"), (std::vector<Pair>(3, Pair{7, 1})));
  EXPECT_EQ(kernels("1x7"), (std::vector<Pair>(3, Pair{1, 7})));
  // Spaced, with the multiplication sign, and two-digit sizes.
  EXPECT_EQ(kernels("a 3 x 3 b"), (std::vector<Pair>{none, {3, 3}, {3, 3}, {3, 3}, none}));
  EXPECT_EQ(kernels("5\u00d75"), (std::vector<Pair>(3, Pair{5, 5})));
  EXPECT_EQ(kernels("11x11"), (std::vector<Pair>(5, Pair{11, 11})));
  // A chain: the first two sizes; the rest is no kernel.
  EXPECT_EQ(kernels("1x1x1"), (std::vector<Pair>{{1, 1}, {1, 1}, {1, 1}, none, none}));
  // A sentence's period or a list's comma after the second size ends the pattern, and the
  // next kernel of a list starts after the comma.
  EXPECT_EQ(kernels("7x1."), (std::vector<Pair>{{7, 1}, {7, 1}, {7, 1}, none}));
  EXPECT_EQ(kernels("3x3, 5x5"),
            (std::vector<Pair>{{3, 3}, {3, 3}, {3, 3}, none, {5, 5}, {5, 5}, {5, 5}}));
  // Plain numbers, decimals and thousands groups are no kernels; nor is a lone "x".
  for (const std::string t :
       {"it has 39 layers", "2.5x3", "3x2.5", "1,024x3", "3x1,024", "x 3", "3 x"}) {
    for (const Pair& p : kernels(t)) EXPECT_EQ(p, none) << t;
  }
  // Ids outside the role table are not kernels.
  EXPECT_EQ(kernel_sizes({-5, 100000}, roles), (std::vector<Pair>{none, none}));
}

TEST(Tokenizer, EncodeDecodeRoundTrip) {
  const Tokenizer tok = train_tokenizer(small_corpus(), small_options());
  for (const std::string& s : small_corpus()) {
    const Encoding e = tok.encode(s);
    EXPECT_EQ(e.ids.front(), Tokenizer::kCls);
    EXPECT_EQ(e.ids.back(), Tokenizer::kSep);
    EXPECT_EQ(e.unknown_words, 0) << s;
    EXPECT_EQ(tok.decode(e.ids), normalize_text(s)) << s;
  }
  EXPECT_EQ(tok.decode(tok.encode("A 2D conv (3.5M params), 7x7 kernel!").ids),
            "a 2d conv (3.5m params), 7x7 kernel!");
}

TEST(Tokenizer, NormalisationIsExplicit) {
  EXPECT_EQ(normalize_text("ÉCOLE Café naïve"), "ecole cafe naive");
  // Decomposed (e + U+0301) and composed forms agree.
  EXPECT_EQ(normalize_text("cafe\xCC\x81"), normalize_text("caf\xC3\xA9"));
  EXPECT_EQ(normalize_text("7\xC3\x97"
                           "7 \xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x80\x94 x"),
            "7x7 \"quoted\" - x");
  EXPECT_EQ(normalize_text("a\tb\xC2\xA0"
                           "c"),
            "a b c");
}

TEST(Tokenizer, UnknownCharactersBecomeUnk) {
  const Tokenizer tok = train_tokenizer(small_corpus(), small_options());
  const Encoding e = tok.encode("layer \xE2\x98\x83 \xE6\xBC\xA2 layer\xCE\xB6");  // snowman, 漢, ζ
  EXPECT_EQ(e.unknown_words, 3);
  std::vector<std::string> pieces;
  for (int32_t id : e.ids) pieces.push_back(tok.piece(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"[CLS]", "layer", "[UNK]", "[UNK]", "layer", "[UNK]",
                                              "[SEP]"}));
}

TEST(Tokenizer, InvalidUtf8NamesTheInput) {
  const Tokenizer tok = train_tokenizer(small_corpus(), small_options());
  const std::string bad = std::string("The network has ") + "\xFF" + " layers";
  try {
    tok.encode(bad, 0, "query");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_STREQ(e.what(), "query: invalid UTF-8 at byte 16");
  }
  // Truncated multi-byte sequence, overlong encoding and a surrogate are all rejected.
  for (const std::string& s :
       {std::string("ab\xC3"), std::string("\xC0\xAF"), std::string("\xED\xA0\x80")}) {
    EXPECT_THROW(tok.encode(s), Error);
  }
  std::vector<std::string> corpus = small_corpus();
  corpus.push_back("\x80");
  try {
    train_tokenizer(corpus, small_options());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "corpus[120]: invalid UTF-8 at byte 0");
  }
}

TEST(Tokenizer, EmptyAndHugeText) {
  const Tokenizer tok = train_tokenizer(small_corpus(), small_options());
  const Encoding empty = tok.encode("");
  EXPECT_EQ(empty.ids, (std::vector<int32_t>{Tokenizer::kCls, Tokenizer::kSep}));
  EXPECT_FALSE(empty.truncated);
  std::string huge;
  while (huge.size() < 10u * 1024 * 1024) huge += "convolution layers with 3x3 kernels. ";
  const auto t0 = std::chrono::steady_clock::now();
  const Encoding e = tok.encode(huge, 32);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(e.ids.size(), 32u);
  EXPECT_TRUE(e.truncated);
  EXPECT_EQ(e.ids.back(), Tokenizer::kSep);
  EXPECT_LT(s, 2.0);
  // One 10 MB "word" is a single [UNK], not a quadratic search.
  const Encoding w = tok.encode(std::string(10u * 1024 * 1024, 'a'), 16);
  EXPECT_EQ(w.ids, (std::vector<int32_t>{Tokenizer::kCls, Tokenizer::kUnk, Tokenizer::kSep}));
}

TEST(Tokenizer, BatchEncodingPadsAndMasks) {
  const Tokenizer tok = train_tokenizer(small_corpus(), small_options());
  const BatchEncoding b = tok.encode_batch({"layer", "", "convolution layer pooling layer"});
  ASSERT_EQ(b.batch, 3);
  ASSERT_EQ(b.length, 6);
  ASSERT_EQ(b.ids.size(), 18u);
  EXPECT_EQ(std::vector<int32_t>(b.ids.begin(), b.ids.begin() + 6),
            (std::vector<int32_t>{2, tok.id("layer"), 3, 0, 0, 0}));
  EXPECT_EQ(std::vector<int32_t>(b.attention_mask.begin() + 6, b.attention_mask.begin() + 12),
            (std::vector<int32_t>{1, 1, 0, 0, 0, 0}));
  const BatchEncoding p = tok.encode_batch({"layer"}, 10, true);
  EXPECT_EQ(p.length, 10);
}

TEST(Tokenizer, TrainingIsDeterministic) {
  std::vector<std::string> corpus = small_corpus();
  const Tokenizer a = train_tokenizer(corpus, small_options());
  const Tokenizer b = train_tokenizer(corpus, small_options());
  EXPECT_EQ(a.vocab(), b.vocab());
  EXPECT_EQ(a.to_json(), b.to_json());
  // Corpus order does not matter either (counts are sorted before merging).
  std::reverse(corpus.begin(), corpus.end());
  EXPECT_EQ(train_tokenizer(corpus, small_options()).vocab(), a.vocab());
}

TEST(Tokenizer, JsonRoundTripAndCorruptJson) {
  const Tokenizer tok = train_tokenizer(small_corpus(), small_options());
  const Tokenizer back = Tokenizer::from_json(tok.to_json(), "ckpt/tokenizer");
  EXPECT_EQ(back.vocab(), tok.vocab());
  EXPECT_EQ(back.max_length(), 64);
  EXPECT_EQ(back.encode("a 3x3 convolution").ids, tok.encode("a 3x3 convolution").ids);

  auto error_of = [](const std::string& json) -> std::string {
    try {
      Tokenizer::from_json(json, "ckpt/tokenizer");
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
      return e.what();
    }
    return "no error";
  };
  std::string j = tok.to_json();
  EXPECT_NE(
      error_of(j.substr(0, j.size() / 2)).find("ckpt/tokenizer: tokenizer JSON does not parse"),
      std::string::npos);
  std::string v2 = j;
  v2.replace(v2.find("\"version\":1"), 11, "\"version\":2");
  EXPECT_EQ(error_of(v2),
            "ckpt/tokenizer: tokenizer version 2 is not supported (this build reads version 1)");
  std::string dup = j;
  dup.replace(dup.find("\"[MASK]\""), 8, "\"[SEP]\"");
  EXPECT_EQ(error_of(dup), "ckpt/tokenizer: vocabulary entry 4 must be [MASK], found \"[SEP]\"");
  EXPECT_NE(error_of("{\"format\":\"other\"}").find("not an archbert tokenizer"),
            std::string::npos);
  EXPECT_NE(error_of("[]").find("not an object"), std::string::npos);
}

TEST(WordNet, ParsesFixture) {
  const SynonymTable t = load_wordnet(kData);
  EXPECT_EQ(t.synonyms("picture"), (std::vector<std::string>{"image", "icon", "depiction"}));
  EXPECT_EQ(t.synonyms("big"), (std::vector<std::string>{"large"}));  // "(a)" marker removed
  EXPECT_EQ(t.synonyms("ice cream"), (std::vector<std::string>{"frozen dessert"}));
  EXPECT_TRUE(t.synonyms("loner").empty());  // one-word synsets are dropped
  EXPECT_THROW(load_wordnet(kData + "/missing"), Error);
}

TEST(WordNet, MalformedLineNamesFileAndLine) {
  const std::string dir = ::testing::TempDir() + "/wn_bad";
  std::system(("mkdir -p " + dir).c_str());
  std::ofstream(dir + "/data.noun") << "  1 header\n00001 03 n 03 a 0 b 0\n";
  try {
    load_wordnet(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/data.noun:2: synset lists fewer than 3 words");
  }
}

TEST(WordNet, ParaphraseIsDeterministicAndProtectsDomainTerms) {
  const SynonymTable t = load_wordnet(kData);
  const std::string s = "A big picture of the convolution layer in ResNet with 7x7 kernels.";
  const std::string all = paraphrase(s, t, 1, 1.0);
  EXPECT_EQ(all, paraphrase(s, t, 1, 1.0));
  EXPECT_EQ(paraphrase(s, t, 1, 0.0), s);
  EXPECT_NE(all, s);
  EXPECT_NE(all.find("convolution layer in ResNet with 7x7 kernels."), std::string::npos);
  EXPECT_EQ(all.find("big"), std::string::npos);  // "big" -> "large"
  EXPECT_NE(all.find("large"), std::string::npos);
  EXPECT_TRUE(is_protected_term("model"));
  EXPECT_EQ(paraphrase("The model", t, 3, 1.0), "The model");
}

TEST(WordNet, RealWordNetHasPictureImage) {
  if (!std::ifstream("/usr/share/wordnet/data.noun")) GTEST_SKIP() << "wordnet-base missing";
  const SynonymTable t = load_wordnet("/usr/share/wordnet");
  const auto syn = t.synonyms("picture");
  EXPECT_NE(std::find(syn.begin(), syn.end(), "image"), syn.end());
  EXPECT_GT(t.synsets.size(), 50000u);
}

TEST(WordVectors, LoadsPackageLayoutAndInitialisesEmbeddings) {
  const WordVectors wv = load_word_vectors(kData + "/vectors.json");
  ASSERT_EQ(wv.dim, 4);
  ASSERT_EQ(wv.words.size(), 5u);
  EXPECT_EQ(wv.words[1], "convolution");
  ASSERT_NE(wv.find("layer"), nullptr);
  EXPECT_FLOAT_EQ(wv.find("layer")[1], 1.0f);
  EXPECT_EQ(wv.find("pooling"), nullptr);
  const std::unordered_set<std::string> keep = {"kernel"};
  EXPECT_EQ(load_word_vectors(kData + "/vectors.json", &keep).words,
            (std::vector<std::string>{"kernel"}));
  EXPECT_THROW(load_word_vectors(kData + "/missing.json"), Error);
  EXPECT_THROW(load_word_vectors(kData + "/data.noun"), Error);

  const Tokenizer tok = train_tokenizer(small_corpus(), small_options());
  EmbeddingCoverage cov;
  const std::vector<float> e = initial_embeddings(tok, wv, 4, 7, &cov, 1.0f);
  ASSERT_EQ(e.size(), static_cast<size_t>(tok.size()) * 4);
  EXPECT_EQ(cov.vocab, tok.size());
  EXPECT_EQ(cov.whole_words, 5);  // every fixture word is a whole-word piece
  const int32_t conv = tok.id("convolution");
  // Unit vector e0 scaled by the mean norm: direction preserved.
  EXPECT_GT(e[conv * 4 + 0], 0.5f);
  EXPECT_FLOAT_EQ(e[conv * 4 + 1], 0.0f);
  for (int j = 0; j < 4; ++j) EXPECT_EQ(e[j], 0.0f);  // [PAD] is zero
  EXPECT_EQ(e, initial_embeddings(tok, wv, 4, 7));    // deterministic
  EXPECT_EQ(initial_embeddings(tok, wv, 8, 7).size(), static_cast<size_t>(tok.size()) * 8);
}

}  // namespace
}  // namespace archbert
