// `archbert eval ar|acd|bacd|search`: the paper's metrics of a checkpoint on a dataset split,
// beside the graph-blind control and the §5.1 baselines (include/archbert/evaluate.h).

#include <iostream>
#include <memory>
#include <optional>

#include "archbert/dataset.h"
#include "archbert/error.h"
#include "archbert/evaluate.h"
#include "archbert/graph_io.h"
#include "archbert/tasks.h"
#include "commands.h"

namespace archbert::cli {

CommandRunner add_eval_commands(CLI::App& app, const GlobalOptions&) {
  struct State {
    CLI::App* cmd = nullptr;
    CLI::Option* threshold_option = nullptr;
    std::string task, data, ckpt, unimodal, split, scores;
    double threshold = 0.5;
    bool json = false;
    bool claims = false;
    int64_t limit = 0;
    uint64_t seed = 0;
    int rerank = 0;
  };
  auto s = std::make_shared<State>();
  s->cmd = app.add_subcommand(
      "eval",
      "Evaluate a checkpoint: AR / ACD / BACD accuracy and F1 at τ, search recall@k and MRR, "
      "with a graph-blind control and the paper's baselines");
  CLI::App* cmd = s->cmd;
  cmd->add_option("task", s->task, "ar (AutoNet or zoo texts), acd, bacd or search (zoo)")
      ->required()
      ->check(CLI::IsMember({"ar", "acd", "bacd", "search"}));
  cmd->add_option("--data", s->data, "Dataset directory (archbert data autonet / zoo)")->required();
  cmd->add_option("--ckpt", s->ckpt,
                  "Checkpoint (default: $ARCHBERT_CHECKPOINT or the shipped small model)");
  cmd->add_option("--split", s->split,
                  "Zoo split: train or val (default val); AutoNet directories hold one split")
      ->check(CLI::IsMember({"train", "val"}));
  s->threshold_option =
      cmd->add_option("--threshold", s->threshold,
                      "Decision threshold τ on the score (default: the checkpoint's, tuned on "
                      "validation)")
          ->check(CLI::Range(-1.0, 1.0));
  cmd->add_option("--limit", s->limit, "Evaluate only the first N samples (search: queries)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 40));
  cmd->add_option("--seed", s->seed, "Seed of the graph-blind permutation (default 0)");
  cmd->add_option("--unimodal-ckpt", s->unimodal,
                  "ACD/BACD: also evaluate this graph-only checkpoint as the uni-modal baseline");
  cmd->add_flag("--claims", s->claims,
                "AR on AutoNet: score each stated fact's own sentence (label: its truth) instead "
                "of the descriptions");
  cmd->add_option("--scores", s->scores,
                  "AR/ACD/BACD: also write every sample's score, decision and label to this "
                  "JSON Lines file");
  cmd->add_option("--rerank", s->rerank,
                  "Search with a statement head: reorder each query's first N models by the "
                  "head's probability (0: cosine only)")
      ->check(CLI::Range(0, 100000));
  cmd->add_flag("--json", s->json, "Write JSON");

  return [s] {
    if (!s->cmd->parsed()) return false;
    read_manifest(s->data);  // a bad directory is reported before the checkpoint is loaded
    const LoadedModel model = load_model(s->ckpt);
    std::optional<LoadedModel> unimodal;
    if (!s->unimodal.empty()) unimodal = load_model(s->unimodal);
    EvalOptions o;
    o.split = s->split;
    if (s->threshold_option->count() > 0) o.threshold = s->threshold;
    o.limit = s->limit;
    o.seed = s->seed;
    o.claims = s->claims;
    o.rerank = s->rerank;
    if (o.rerank > 0 && s->task != "search")
      throw archbert::Error(archbert::ErrorKind::kUsage, "--rerank applies to search");
    if (o.claims && s->task != "ar")
      throw archbert::Error(archbert::ErrorKind::kUsage, "--claims applies to ar");
    if (!s->scores.empty() && s->task == "search")
      throw archbert::Error(archbert::ErrorKind::kUsage, "--scores applies to ar, acd and bacd");
    if (unimodal) o.unimodal = &*unimodal;
    if (s->task == "search") {
      if (unimodal)
        throw archbert::Error(archbert::ErrorKind::kUsage,
                              "--unimodal-ckpt applies to acd and bacd");
      if (o.threshold)
        throw archbert::Error(archbert::ErrorKind::kUsage, "--threshold does not apply to search");
      const SearchEvalReport r = evaluate_search(model, s->data, o);
      std::cout << (s->json ? eval_report_to_json(r) : eval_report_to_text(r));
      return true;
    }
    if (s->task == "ar" && unimodal)
      throw archbert::Error(archbert::ErrorKind::kUsage, "--unimodal-ckpt applies to acd and bacd");
    const BinaryEvalReport r = s->task == "ar"    ? evaluate_ar(model, s->data, o)
                               : s->task == "acd" ? evaluate_acd(model, s->data, o)
                                                  : evaluate_bacd(model, s->data, o);
    if (!s->scores.empty()) write_file_atomic(s->scores, eval_scores_to_jsonl(r));
    std::cout << (s->json ? eval_report_to_json(r) : eval_report_to_text(r));
    return true;
  };
}

}  // namespace archbert::cli
