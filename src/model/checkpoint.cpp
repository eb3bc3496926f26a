// Checkpoints: one file with config, tokenizer, metadata and every tensor, written atomically and
// verified with a CRC-32 on load.
//
// Layout (little-endian):
//   8 bytes  magic "ABCKPT1\n"
//   8 bytes  payload size P (uint64)
//   4 bytes  CRC-32 of the payload (zlib polynomial)
//   P bytes  payload: uint64 header size H, H bytes of header JSON
//            {format, config, tokenizer, extra, tensors: [{name, shape, offset}]},
//            then the float32 data of every tensor at its offset (relative to the data start).
// A raw layout (rather than torch::pickle_save) keeps every tensor's name and shape checkable
// against the config before any data is copied.

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "archbert/error.h"
#include "archbert/model_torch.h"
#include "util/crc32.h"

namespace archbert {

namespace {

constexpr char kMagic[8] = {'A', 'B', 'C', 'K', 'P', 'T', '1', '\n'};
constexpr size_t kPrefix = 8 + 8 + 4;

std::string shape_text(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

// Every parameter and buffer with its dotted name.
std::vector<std::pair<std::string, torch::Tensor>> named_state(ArchBertNet& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : net->named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : net->named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

template <typename T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <typename T>
T get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

void save_checkpoint(const std::string& path, ArchBertNet& net, const CheckpointMeta& meta) {
  nlohmann::json header;
  header["format"] = 1;
  header["config"] = nlohmann::json::parse(net->config().to_json());
  header["tokenizer"] = meta.tokenizer_json;
  header["extra"] = meta.extra;
  auto state = named_state(net);
  std::vector<torch::Tensor> data;
  int64_t offset = 0;
  nlohmann::json tensors = nlohmann::json::array();
  for (auto& [name, t] : state) {
    auto c = t.detach().to(torch::kFloat).contiguous();
    tensors.push_back({{"name", name}, {"shape", c.sizes().vec()}, {"offset", offset}});
    offset += c.numel() * static_cast<int64_t>(sizeof(float));
    data.push_back(c);
  }
  header["tensors"] = tensors;
  const std::string h = header.dump();

  std::string payload;
  payload.reserve(8 + h.size() + static_cast<size_t>(offset));
  put<uint64_t>(payload, h.size());
  payload += h;
  for (auto& c : data) {
    payload.append(static_cast<const char*>(c.data_ptr()), c.numel() * sizeof(float));
  }
  std::string prefix(kMagic, 8);
  put<uint64_t>(prefix, payload.size());
  put<uint32_t>(prefix, crc32_of(payload.data(), payload.size()));

  // Atomic: write a temporary file beside the target, flush it to disk, then rename.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    throw_bad_input(path, "cannot write checkpoint (" + std::string(std::strerror(errno)) + ")");
  bool ok = std::fwrite(prefix.data(), 1, prefix.size(), f) == prefix.size() &&
            std::fwrite(payload.data(), 1, payload.size(), f) == payload.size() &&
            std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(tmp, ec);
    throw_bad_input(path, "cannot write checkpoint (disk full or I/O error)");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw_bad_input(path, "cannot move checkpoint into place: " + ec.message());
  }
}

ArchBertNet load_checkpoint(const std::string& path, CheckpointMeta* meta) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input(path, "cannot open checkpoint");
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < kPrefix) {
    throw_bad_input(path, "truncated checkpoint (" + std::to_string(file.size()) + " bytes)");
  }
  if (std::memcmp(file.data(), kMagic, 8) != 0) {
    throw_bad_input(path, "not an archbert checkpoint (bad magic)");
  }
  const uint64_t size = get<uint64_t>(file.data() + 8);
  const uint32_t crc = get<uint32_t>(file.data() + 16);
  const uint64_t have = file.size() - kPrefix;
  if (have < size) {
    throw_bad_input(path, "truncated checkpoint (payload has " + std::to_string(have) + " of " +
                              std::to_string(size) + " bytes)");
  }
  if (have > size) throw_bad_input(path, "corrupt checkpoint (trailing bytes after the payload)");
  const char* payload = file.data() + kPrefix;
  if (crc32_of(payload, size) != crc) {
    throw_bad_input(path, "corrupt checkpoint (checksum mismatch)");
  }
  if (size < 8) throw_bad_input(path, "corrupt checkpoint (no header)");
  const uint64_t hsize = get<uint64_t>(payload);
  if (hsize > size - 8) throw_bad_input(path, "corrupt checkpoint (header size)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(payload + 8, payload + 8 + hsize);
  } catch (const nlohmann::json::exception& e) {
    throw_bad_input(path, std::string("corrupt checkpoint header: ") + e.what());
  }
  const char* data = payload + 8 + hsize;
  const uint64_t data_size = size - 8 - hsize;

  ModelConfig config;
  CheckpointMeta m;
  std::map<std::string, std::pair<std::vector<int64_t>, int64_t>> stored;
  try {
    if (header.value("format", 0) != 1) throw_bad_input(path, "unsupported checkpoint format");
    config = ModelConfig::from_json(header.at("config").dump(), path);
    m.tokenizer_json = header.at("tokenizer").get<std::string>();
    m.extra = header.at("extra").get<std::map<std::string, std::string>>();
    for (const auto& t : header.at("tensors")) {
      stored[t.at("name").get<std::string>()] = {t.at("shape").get<std::vector<int64_t>>(),
                                                 t.at("offset").get<int64_t>()};
    }
  } catch (const nlohmann::json::exception& e) {
    throw_bad_input(path, std::string("corrupt checkpoint header: ") + e.what());
  }

  ArchBertNet net(config);
  torch::NoGradGuard no_grad;
  auto state = named_state(net);
  for (auto& [name, t] : state) {
    auto it = stored.find(name);
    if (it == stored.end()) {
      throw_bad_input(path, "checkpoint does not match its config: tensor '" + name + "' missing");
    }
    const auto& [shape, offset] = it->second;
    if (shape != t.sizes().vec()) {
      throw_bad_input(path, "checkpoint does not match its config: tensor '" + name +
                                "' has shape " + shape_text(shape) + ", the config needs " +
                                shape_text(t.sizes().vec()));
    }
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * sizeof(float);
    if (offset < 0 || static_cast<uint64_t>(offset) + bytes > data_size) {
      throw_bad_input(path, "corrupt checkpoint: tensor '" + name + "' lies outside the file");
    }
    if (t.scalar_type() == torch::kFloat && t.is_contiguous()) {
      std::memcpy(t.data_ptr<float>(), data + offset, bytes);  // data may be unaligned
    } else {
      auto tmp = torch::empty(t.sizes(), torch::kFloat);
      std::memcpy(tmp.data_ptr<float>(), data + offset, bytes);
      t.copy_(tmp);
    }
    stored.erase(it);
  }
  if (!stored.empty()) {
    throw_bad_input(path, "checkpoint does not match its config: unexpected tensor '" +
                              stored.begin()->first + "'");
  }
  if (meta) *meta = std::move(m);
  return net;
}

}  // namespace archbert
