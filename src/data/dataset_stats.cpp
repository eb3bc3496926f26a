// Table 1 statistics of a dataset directory (dataset_stats.h).
#include "archbert/dataset_stats.h"

#include "data/jsonl.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "archbert/dataset.h"
#include "archbert/error.h"
#include "archbert/graph_io.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Decodes the UTF-8 code point at s[i] and advances i (a malformed byte is one code point).
uint32_t next_code_point(std::string_view s, size_t& i) {
  const unsigned char c = s[i++];
  int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  uint32_t cp = more == 3 ? c & 0x07 : more == 2 ? c & 0x0F : more == 1 ? c & 0x1F : c;
  for (; more > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80; --more)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  return cp;
}

// Letters and digits: ASCII letters and digits, and every non-ASCII code point except the
// Latin-1 symbols (U+0080-U+00BF, U+00D7, U+00F7), general punctuation (U+2000-U+206F: dashes,
// quotes, ellipsis) and CJK punctuation (U+3000-U+303F).
bool is_word_char(uint32_t cp) {
  if (cp < 0x80)
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x206F) return false;
  if (cp >= 0x3000 && cp <= 0x303F) return false;
  return true;
}

int64_t code_points(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

json summary_json(const Summary& s) {
  return {{"mean", s.mean}, {"sigma", s.sigma}, {"median", s.median}};
}

// The sample-file roles of a manifest: files ending in ".jsonl", except the genotypes.
std::vector<std::string> sample_roles(const DatasetManifest& m) {
  std::vector<std::string> roles;
  for (const auto& [role, file] : m.files)
    if (role != "genotypes" && file.size() > 6 && file.compare(file.size() - 6, 6, ".jsonl") == 0)
      roles.push_back(role);
  return roles;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

}  // namespace

Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  const double n = static_cast<double>(v.size());
  for (double x : v) s.mean += x;
  s.mean /= n;
  double var = 0;
  for (double x : v) var += (x - s.mean) * (x - s.mean);
  s.sigma = std::sqrt(var / n);
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  s.median = v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
  return s;
}

std::vector<std::string> text_tokens(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const uint32_t cp = next_code_point(text, i);
    if (is_word_char(cp)) {
      if (cp >= 'A' && cp <= 'Z')
        cur += static_cast<char>(cp - 'A' + 'a');
      else
        cur.append(text.substr(start, i - start));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

DatasetStats dataset_stats(const std::string& dir, const std::string& role) {
  const DatasetManifest manifest = read_manifest(dir);
  const std::vector<std::string> roles = sample_roles(manifest);
  DatasetStats st;
  if (role.empty()) {
    if (roles.size() > 1)
      throw_bad_input(dir, "has several sample files (" + join(roles) + "): choose one");
    if (roles.size() == 1) st.role = roles[0];
  } else {
    if (std::find(roles.begin(), roles.end(), role) == roles.end())
      throw_bad_input(dir, "has no sample file \"" + role + "\" (it has: " +
                               (roles.empty() ? std::string("none") : join(roles)) + ")");
    st.role = role;
  }
  const GraphStore store = open_dataset_graphs(dir);

  std::set<int64_t> referenced;
  std::vector<double> tokens, characters;
  std::unordered_set<std::string> vocabulary;
  if (!st.role.empty()) {
    const std::string path = (fs::path(dir) / manifest.files.at(st.role)).string();
    for_each_jsonl_object(path, [&](const json& j, const std::string& where) {
      ++st.samples;
      for (const char* key : {"graph", "a", "b"}) {
        if (!j.contains(key)) continue;
        if (!j[key].is_number_integer())
          throw_bad_input(where, std::string("\"") + key + "\" is not an integer");
        const int64_t g = j[key].get<int64_t>();
        if (g < 0 || g >= store.size())
          throw_bad_input(where, "graph index " + std::to_string(g) + " outside 0.." +
                                     std::to_string(store.size() - 1));
        referenced.insert(g);
      }
      const char* field = j.contains("text")       ? "text"
                          : j.contains("question") ? "question"
                                                   : nullptr;
      // ACD pairs ({"a", "b", "label"}) have no text: they count as samples and graphs only.
      if (!field && j.contains("a") && j.contains("b")) return;
      if (!field || !j[field].is_string())
        throw_bad_input(where, "no \"text\" or \"question\" string");
      const std::string& t = j[field].get_ref<const std::string&>();
      const std::vector<std::string> toks = text_tokens(t);
      tokens.push_back(static_cast<double>(toks.size()));
      characters.push_back(static_cast<double>(code_points(t)));
      vocabulary.insert(toks.begin(), toks.end());
    });
  }
  if (st.role.empty())
    for (int64_t i = 0; i < store.size(); ++i) referenced.insert(i);

  std::set<std::string> fingerprints, node_types;
  std::vector<double> nodes, edges;
  for (int64_t i : referenced) {
    const ArchGraph g = store.get(i);
    nodes.push_back(static_cast<double>(g.nodes.size()));
    edges.push_back(static_cast<double>(g.edges.size()));
    fingerprints.insert(g.fingerprint());
    for (const Node& n : g.nodes) node_types.insert(std::string(op_name(n.op)));
  }
  st.graphs = static_cast<int64_t>(referenced.size());
  st.unique_archs = static_cast<int64_t>(fingerprints.size());
  st.unique_node_types = static_cast<int64_t>(node_types.size());
  st.nodes = summarize(std::move(nodes));
  st.edges = summarize(std::move(edges));
  st.unique_tokens = static_cast<int64_t>(vocabulary.size());
  st.tokens = summarize(std::move(tokens));
  st.characters = summarize(std::move(characters));
  return st;
}

std::string dataset_stats_json(const DatasetStats& s, int indent) {
  json j = {{"role", s.role},
            {"samples", s.samples},
            {"graphs", s.graphs},
            {"unique_archs", s.unique_archs},
            {"unique_node_types", s.unique_node_types},
            {"nodes", summary_json(s.nodes)},
            {"edges", summary_json(s.edges)},
            {"unique_tokens", s.unique_tokens},
            {"tokens", summary_json(s.tokens)},
            {"characters", summary_json(s.characters)}};
  return j.dump(indent) + "\n";
}

}  // namespace archbert
