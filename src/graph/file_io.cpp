// Whole-file reads (with transparent gunzip) and atomic writes.
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "archbert/error.h"
#include "archbert/graph_io.h"
#include "util/strings.h"

namespace archbert {

void throw_bad_input(const std::string& input, const std::string& problem) {
  throw Error(ErrorKind::kBadInput, input + ": " + problem);
}

namespace {

std::string gunzip(const std::string& path, const std::string& data, int64_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw_bad_input(path, "cannot start gunzip");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw_bad_input(path, rc == Z_BUF_ERROR ? "truncated gzip data" : "corrupt gzip data");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (static_cast<int64_t>(out.size()) > max_bytes) {
      inflateEnd(&zs);
      throw_bad_input(path, "decompressed size exceeds " + std::to_string(max_bytes) + " bytes");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      throw_bad_input(path, "truncated gzip data");
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace

std::string read_file(const std::string& path, int64_t max_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_bad_input(path, "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input(path, std::string("cannot open: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw_bad_input(path, "cannot determine file size");
  if (size > max_bytes)
    throw_bad_input(path, "file is " + std::to_string(size) + " bytes, over the limit of " +
                              std::to_string(max_bytes));
  in.seekg(0);
  std::string data(static_cast<size_t>(size), '\0');
  if (size > 0 && !in.read(data.data(), size)) throw_bad_input(path, "read error");
  if (ends_with(path, ".gz")) return gunzip(path, data, max_bytes);
  return data;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::random_device rd;
  fs::path tmp = dir / (target.filename().string() + ".tmp" + std::to_string(rd()));
  bool gz = ends_with(path, ".gz");
  try {
    if (gz) {
      gzFile f = gzopen(tmp.c_str(), "wb9");
      if (!f) throw_bad_input(path, std::string("cannot create: ") + std::strerror(errno));
      size_t off = 0;
      while (off < content.size()) {
        unsigned chunk = static_cast<unsigned>(std::min<size_t>(content.size() - off, 1u << 30));
        if (gzwrite(f, content.data() + off, chunk) != static_cast<int>(chunk)) {
          gzclose(f);
          throw_bad_input(path, "write error");
        }
        off += chunk;
      }
      if (gzclose(f) != Z_OK) throw_bad_input(path, "write error");
    } else {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw_bad_input(path, std::string("cannot create: ") + std::strerror(errno));
      out.write(content.data(), static_cast<std::streamsize>(content.size()));
      out.flush();
      if (!out) throw_bad_input(path, "write error (disk full?)");
    }
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) throw_bad_input(path, "cannot replace: " + ec.message());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

}  // namespace archbert
