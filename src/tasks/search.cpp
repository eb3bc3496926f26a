// Architecture search (include/archbert/tasks.h): rank models by cos(J_query, J_g), with the
// zoo's graph embeddings cached on disk per checkpoint.
//
// Cache file (native byte order; written atomically, verified before use):
//   "ABZE" | u32 format version | u64 checkpoint checksum | u64 zoo version | u32 dim | u32 count
//   | count x (u32 name length | name bytes | dim x f32) | u64 FNV-1a of every byte before it
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "archbert/tasks.h"
#include "archbert/zoo.h"

namespace archbert {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[4] = {'A', 'B', 'Z', 'E'};
constexpr uint32_t kCacheFormat = 1;

// FNV-1a, 64 bit: a content checksum (not cryptographic; it guards against corruption and
// stale files, not against tampering).
struct Fnv64 {
  uint64_t h = 1469598103934665603ull;
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  void add(const std::string& s) {
    uint64_t n = s.size();
    add(&n, sizeof n);
    add(s.data(), s.size());
  }
  template <typename T>
  void add_pod(T v) {
    add(&v, sizeof v);
  }
};

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Checksum of the checkpoint file's content, so a retrained checkpoint at the same path gets
// a fresh cache.
uint64_t file_checksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input(path, "cannot read checkpoint");
  Fnv64 f;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    f.add(buf.data(), static_cast<size_t>(in.gcount()));
  }
  return f.h;
}

// Version of the zoo data: every entry's name, file, size and modification time, plus the
// import limits (they decide which graphs load).
uint64_t zoo_version(const std::vector<ZooEntry>& entries, const ImportOptions& import) {
  Fnv64 f;
  f.add(std::to_string(entries.size()));
  for (const ZooEntry& e : entries) {
    f.add(e.name);
    f.add(e.path);
    struct stat st {};
    if (::stat(e.path.c_str(), &st) == 0) {
      f.add_pod<int64_t>(st.st_size);
      f.add_pod<int64_t>(st.st_mtim.tv_sec);
      f.add_pod<int64_t>(st.st_mtim.tv_nsec);
    }
  }
  f.add_pod<int64_t>(import.limits.max_nodes);
  f.add_pod<int64_t>(import.limits.max_edges);
  return f.h;
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string encode_cache(uint64_t ckpt, uint64_t zoo, const NamedEmbeddings& e, uint32_t dim) {
  std::string out(kMagic, 4);
  put(out, kCacheFormat);
  put(out, ckpt);
  put(out, zoo);
  put(out, dim);
  put(out, static_cast<uint32_t>(e.names.size()));
  for (size_t i = 0; i < e.names.size(); ++i) {
    put(out, static_cast<uint32_t>(e.names[i].size()));
    out += e.names[i];
    out.append(reinterpret_cast<const char*>(e.vectors[i].data()), dim * sizeof(float));
  }
  Fnv64 f;
  f.add(out.data(), out.size());
  put(out, f.h);
  return out;
}

// Reads a bounds-checked value; false when the buffer is too short.
template <typename T>
bool get(const std::string& in, size_t& pos, T& v) {
  if (in.size() - pos < sizeof v) return false;
  std::memcpy(&v, in.data() + pos, sizeof v);
  pos += sizeof v;
  return true;
}

// Parses and verifies a cache file; false (never a throw) when anything is off.
bool decode_cache(const std::string& in, uint64_t ckpt, uint64_t zoo, uint32_t dim,
                  const std::set<std::string>& zoo_names, NamedEmbeddings& e) {
  if (in.size() < 4 + 4 + 8 + 8 + 4 + 4 + 8 || std::memcmp(in.data(), kMagic, 4) != 0) return false;
  Fnv64 f;
  f.add(in.data(), in.size() - 8);
  uint64_t stored = 0;
  std::memcpy(&stored, in.data() + in.size() - 8, 8);
  if (stored != f.h) return false;
  const std::string body = in.substr(0, in.size() - 8);
  size_t pos = 4;
  uint32_t format = 0, file_dim = 0, count = 0;
  uint64_t file_ckpt = 0, file_zoo = 0;
  if (!get(body, pos, format) || format != kCacheFormat) return false;
  if (!get(body, pos, file_ckpt) || file_ckpt != ckpt) return false;
  if (!get(body, pos, file_zoo) || file_zoo != zoo) return false;
  if (!get(body, pos, file_dim) || file_dim != dim) return false;
  if (!get(body, pos, count) || count > zoo_names.size()) return false;
  std::vector<std::string> names;
  std::vector<std::vector<float>> vectors;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    if (!get(body, pos, len) || body.size() - pos < len) return false;
    std::string name = body.substr(pos, len);
    pos += len;
    if (!zoo_names.count(name)) return false;
    std::vector<float> v(dim);
    const size_t bytes = size_t(dim) * sizeof(float);
    if (body.size() - pos < bytes) return false;
    std::memcpy(v.data(), body.data() + pos, bytes);
    pos += bytes;
    for (float x : v)
      if (!std::isfinite(x)) return false;
    names.push_back(std::move(name));
    vectors.push_back(std::move(v));
  }
  if (pos != body.size()) return false;
  e.names = std::move(names);
  e.vectors = std::move(vectors);
  return true;
}

// Embeds graphs in batches of similar size (less padding), returning rows in input order.
std::vector<std::vector<float>> embed_all(const LoadedModel& m, const std::vector<ArchGraph>& gs,
                                          int batch) {
  std::vector<size_t> order(gs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return gs[a].nodes.size() < gs[b].nodes.size(); });
  std::vector<const ArchGraph*> sorted;
  for (size_t i : order) sorted.push_back(&gs[i]);
  auto rows = m.model.embed_graphs(sorted, batch);
  std::vector<std::vector<float>> out(gs.size());
  for (size_t k = 0; k < order.size(); ++k) out[order[k]] = std::move(rows[k]);
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const char* cache_use_name(CacheUse use) {
  switch (use) {
    case CacheUse::kOff:
      return "off";
    case CacheUse::kHit:
      return "hit";
    case CacheUse::kWritten:
      return "written";
    case CacheUse::kUnwritable:
      return "unwritable";
  }
  return "off";
}

std::string default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x && x[0] == '/')
    return std::string(x) + "/archbert";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/archbert";
  return "";
}

std::string zoo_cache_path(const LoadedModel& m, const std::string& cache_dir) {
  return cache_dir + "/zoo-" + hex16(file_checksum(m.path)) + ".emb";
}

NamedEmbeddings zoo_embeddings(const LoadedModel& m, const SearchOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  NamedEmbeddings out;
  const std::vector<ZooEntry> entries = zoo_list();
  if (entries.empty())
    throw_bad_input(data_dir() + "/zoo", "the zoo is empty (is ARCHBERT_DATA set correctly?)");
  const uint32_t dim = static_cast<uint32_t>(m.model.config().d_model);
  const std::string dir =
      options.use_cache ? (options.cache_dir.empty() ? default_cache_dir() : options.cache_dir)
                        : std::string();
  uint64_t ckpt = 0, zoo = 0;
  if (!dir.empty()) {
    ckpt = file_checksum(m.path);
    zoo = zoo_version(entries, options.import);
    out.cache_path = dir + "/zoo-" + hex16(ckpt) + ".emb";
    std::set<std::string> names;
    for (const ZooEntry& e : entries) names.insert(e.name);
    std::error_code ec;
    if (fs::is_regular_file(out.cache_path, ec)) {
      std::string bytes;
      try {
        bytes = read_file(out.cache_path, int64_t(1) << 30);
      } catch (const Error&) {
        bytes.clear();  // unreadable: rebuild
      }
      if (decode_cache(bytes, ckpt, zoo, dim, names, out)) {
        out.cache = CacheUse::kHit;
        out.seconds = seconds_since(t0);
        return out;
      }
    }
  }

  // Compute: load every zoo graph (skipping unreadable entries), embed, then try to cache.
  std::vector<ArchGraph> graphs;
  std::vector<std::string> skipped;
  for (const ZooEntry& e : entries) {
    try {
      graphs.push_back(load_graph(e.name, options.import));
      out.names.push_back(e.name);
    } catch (const Error& err) {
      skipped.push_back(err.what());
    }
  }
  if (!skipped.empty())
    out.warnings.push_back(
        std::to_string(skipped.size()) +
        " zoo models could not be read and are not searched (first: " + skipped[0] + ")");
  out.vectors = embed_all(m, graphs, options.graph_batch);
  if (!dir.empty()) {
    try {
      std::error_code ec;
      fs::create_directories(dir, ec);
      write_file_atomic(out.cache_path, encode_cache(ckpt, zoo, out, dim));
      out.cache = CacheUse::kWritten;
    } catch (const std::exception&) {
      out.cache = CacheUse::kUnwritable;  // read-only home, full disk: just computed
    }
  }
  out.seconds = seconds_since(t0);
  return out;
}

SearchResult search(const LoadedModel& m, const std::string& query, int top_k,
                    const std::vector<std::string>& candidates, const SearchOptions& options) {
  if (top_k < 1) throw Error(ErrorKind::kUsage, "top_k must be at least 1");
  SearchResult r;
  // The query first: a bad query fails before any graph work.
  std::vector<float> jq = embed_text(m, query, &r.warnings);
  NamedEmbeddings g;
  if (candidates.empty()) {
    g = zoo_embeddings(m, options);
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<ArchGraph> graphs;
    for (const std::string& c : candidates) {
      graphs.push_back(load_graph(c, options.import));
      g.names.push_back(c);
    }
    g.vectors = embed_all(m, graphs, options.graph_batch);
    g.seconds = seconds_since(t0);
  }
  r.warnings.insert(r.warnings.end(), g.warnings.begin(), g.warnings.end());
  r.cache = g.cache;
  r.cache_path = g.cache_path;
  r.seconds = g.seconds;
  r.candidates = static_cast<int64_t>(g.names.size());
  for (size_t i = 0; i < g.names.size(); ++i)
    r.results.push_back({g.names[i], cosine_similarity(jq, g.vectors[i])});
  std::sort(r.results.begin(), r.results.end(), [](const SearchHit& a, const SearchHit& b) {
    return a.score != b.score ? a.score > b.score : a.name < b.name;
  });
  if (r.results.size() > static_cast<size_t>(top_k)) r.results.resize(top_k);
  return r;
}

}  // namespace archbert
