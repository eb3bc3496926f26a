// load_graph: picks the importer for a path by content, or resolves a zoo name.
#include <filesystem>
#include <fstream>

#include "archbert/error.h"
#include "archbert/importer.h"
#include "archbert/zoo.h"

namespace archbert {

namespace {

std::string read_head(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string head(n, '\0');
  in.read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

bool has_extension(const std::string& path, std::initializer_list<const char*> exts) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* e : exts)
    if (ext == e) return true;
  return false;
}

}  // namespace

ArchGraph load_graph(const std::string& source, const ImportOptions& options) {
  if (is_zoo_name(source)) return zoo_load(source, options);
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(source, ec);
  if (ec || !fs::exists(st))
    throw_bad_input(source, "no such file or folder (nor a zoo name like tv:resnet18)");
  const bool is_dir = fs::is_directory(st);
  if (!is_dir && !fs::is_regular_file(st)) throw_bad_input(source, "not a regular file or folder");
  std::string head = is_dir ? std::string() : read_head(source, 4096);
  if (!is_dir && head.empty()) throw_bad_input(source, "file is empty");

  std::unique_ptr<Importer> importers[] = {make_json_importer(), make_huggingface_importer(),
                                           make_torchscript_importer(), make_onnx_importer()};
  for (auto& imp : importers)
    if (imp->accepts(source, head, is_dir)) return imp->import(source, options);

  if (is_dir) throw_bad_input(source, "folder is not a Hugging Face model (no config.json)");
  if (has_extension(source, {".pth", ".bin", ".ckpt"}) || head.rfind("\x80\x02", 0) == 0 ||
      head.rfind("\x80\x04", 0) == 0)
    throw_bad_input(
        source,
        "a PyTorch pickle checkpoint (state dict), not a model archbert can read; export "
        "it with torch.jit.script(model).save('model.pt') or torch.onnx.export(...)");
  throw_bad_input(source,
                  "unrecognised file format (expected ONNX, TorchScript, a Hugging Face "
                  "config.json or folder, or archbert graph JSON)");
}

}  // namespace archbert
