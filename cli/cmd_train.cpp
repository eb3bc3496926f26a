// archbert train pretrain: SIM + MAM pretraining on AutoNet and/or Zoo directories.
#include <cstdio>
#include <memory>

#include "archbert/error.h"
#include "archbert/evaluate.h"
#include "archbert/metrics.h"
#include "archbert/tasks.h"
#include "archbert/train.h"
#include "commands.h"

namespace archbert::cli {

CommandRunner add_train_commands(CLI::App& app, const GlobalOptions& global) {
  auto* train = app.add_subcommand("train", "Train ArchBERT models");
  train->require_subcommand(1);
  auto* pre = train->add_subcommand(
      "pretrain", "Pretrain on descriptions: L = L_SIM + alpha L_MAM (+ in-batch ACD)");
  auto o = std::make_shared<TrainOptions>();
  pre->add_option("--data", o->data_dirs, "Dataset directories (AutoNet train/val, Zoo)")
      ->required()
      ->expected(1, -1);
  pre->add_option("--out", o->out, "Checkpoint to write (OUT.optim: optimizer state)")->required();
  pre->add_option("--preset", o->preset, "Model preset")
      ->check(CLI::IsMember({"small", "base", "tiny"}));
  pre->add_option("--config", o->config_path, "Model config JSON (overrides the preset)");
  pre->add_option("--resume", o->resume, "Resume from this checkpoint (and its .optim)");
  pre->add_option("--init", o->init,
                  "Start a new run from this checkpoint's network and tokenizer (step 0, new "
                  "optimizer); with --ar-head-weight a network without a statement head gets one");
  pre->add_option("--epochs", o->epochs, "Epochs")->check(CLI::Range(1, 1000));
  pre->add_option("--max-steps", o->max_steps, "Stop after this many steps (0: no limit)");
  pre->add_option("--stop-after", o->stop_after,
                  "Leave after this many steps of this run (checkpoint written; --resume goes on)");
  pre->add_option("--graphs-per-batch", o->graphs_per_batch, "Graph units per step")
      ->check(CLI::Range(1, 4096));
  pre->add_option("--texts-per-graph", o->texts_per_graph, "Descriptions per graph unit")
      ->check(CLI::Range(1, 4096));
  pre->add_option("--claim-texts", o->claim_texts,
                  "single-fact sentences (AutoNet facts, Zoo computed sentences; each labelled by "
                  "its truth) added to each graph unit beside its descriptions (0: none)")
      ->check(CLI::Range(0, 1024));
  pre->add_option("--zoo-number-pairs", o->zoo_number_pairs,
                  "With --claim-texts: each Zoo number fact (parameters, depth, layers, counts, "
                  "attention) whose sentence is a train text also in its other train phrasings, "
                  "and this many clearly wrong values of it (minimal pairs; 0: none)")
      ->check(CLI::Range(0, 64));
  pre->add_option("--zoo-negatives", o->zoo_negatives,
                  "Zoo negatives drawn per positive each epoch (-1: all)");
  pre->add_option("--zoo-repeat", o->zoo_repeat,
                  "Times each Zoo model's descriptions are used per epoch, each time with fresh "
                  "negatives")
      ->check(CLI::Range(1, 100));
  pre->add_option("--lr", o->lr, "Peak learning rate")->check(CLI::Range(0.0, 1.0));
  pre->add_option("--weight-decay", o->weight_decay, "AdamW weight decay");
  pre->add_option("--warmup", o->warmup, "Share of steps with linear warm-up")
      ->check(CLI::Range(0.0, 1.0));
  pre->add_option("--clip", o->clip, "Gradient-norm clipping (0: off)");
  pre->add_option("--mam-weight", o->mam_weight, "alpha, the weight of L_MAM");
  pre->add_option("--inventory-weight", o->inventory_weight,
                  "Weight of the inventory term: J_g must tell which node ops the graph holds "
                  "(0: off)");
  auto* head_weight =
      pre->add_option("--ar-head-weight", o->ar_head_weight,
                      "Weight of the statement head's loss; > 0 gives the network a statement head "
                      "whose probability is the AR score (0: AR scores are cos(J_t, J_g))")
          ->check(CLI::Range(0.0, 100.0));
  pre->add_option("--ar-head-layers", o->ar_head_layers,
                  "Cross-attention layers of the statement head (with --ar-head-weight)")
      ->check(CLI::Range(1, 12))
      ->needs(head_weight);
  pre->add_flag("--head-only", o->head_only,
                "Train the statement head alone over the --init network (frozen, graphs not "
                "masked); needs --ar-head-weight")
      ->needs(head_weight);
  pre->add_option("--sim-loss", o->sim_loss,
                  "L_SIM: mse (paper eq. 3, (y - cos)^2) or bce (cross-entropy of "
                  "sigmoid((cos - 0.5) / T))")
      ->check(CLI::IsMember({"mse", "bce"}));
  pre->add_option("--sim-temperature", o->sim_temperature, "T of --sim-loss bce")
      ->check(CLI::PositiveNumber);
  pre->add_option("--acd-weight", o->acd_weight, "Weight of the in-batch Zoo ACD term (0: off)");
  pre->add_option("--acd-pairs", o->acd_pairs,
                  "Extra balanced Zoo ACD pairs per step (with --acd-weight)")
      ->check(CLI::Range(0, 1024));
  pre->add_option("--contrastive-weight", o->contrastive_weight,
                  "Weight of an in-batch InfoNCE term over positive descriptions (0: off)");
  pre->add_option("--contrastive-graphs", o->contrastive_graphs,
                  "Extra Zoo graphs per step as candidates of the InfoNCE term")
      ->check(CLI::Range(0, 1024));
  pre->add_option("--paraphrase", o->paraphrase_rate, "WordNet synonym replacement rate (0: off)")
      ->check(CLI::Range(0.0, 1.0));
  pre->add_option("--wordnet", o->wordnet_dir, "WordNet data directory");
  pre->add_option("--word-vectors", o->word_vectors,
                  "GloVe JSON (tools/fetch_word_vectors.sh) to initialise token embeddings");
  pre->add_option("--vocab", o->tokenizer_vocab, "Tokenizer vocabulary size")
      ->check(CLI::Range(100, 200000));
  pre->add_option("--val-texts", o->val_texts, "Validation descriptions per source (0: all)");
  pre->add_option("--save-every", o->save_every, "Steps between checkpoints");
  pre->add_option("--seed", o->seed, "Seed");
  pre->add_flag(
      "--no-mam", [o](int64_t) { o->use_mam = false; }, "Ablation: no MAM loss");
  pre->add_flag(
      "--no-shape", [o](int64_t) { o->use_shape = false; }, "Ablation: no shape embedding");
  pre->add_flag(
      "--no-edges", [o](int64_t) { o->use_edges = false; },
      "Ablation: the graph attention sees self-loops only");
  pre->add_flag(
      "--no-cross", [o](int64_t) { o->use_cross = false; },
      "Ablation: graph states bypass the shared cross encoder");
  pre->add_flag(
      "--no-summary", [o](int64_t) { o->use_summary = false; },
      "Ablation: no graph summary tokens (op counts, kernels, parameters, layers, depth)");
  pre->add_flag(
      "--no-numbers", [o](int64_t) { o->use_numbers = false; },
      "Ablation: numbers in text get no value embedding");
  pre->add_flag("--text-kernels", o->text_kernels,
                "Kernel sizes written HxW in text get the kernel embedding of the graph's "
                "(op, kernel) summary tokens");
  pre->add_flag("--balanced-summary", o->balanced_summary,
                "Summary tokens sum what they count and how many at equal scale (not the "
                "paper's; docs/model.md)");
  pre->add_flag("--balanced-numbers", o->balanced_numbers,
                "Number pieces in text sum where they stand and the value they spell at equal "
                "scale (not the paper's; docs/model.md)");
  pre->add_flag("--graph-only", o->graph_only,
                "Uni-modal ACD baseline: train the graph side on the ACD term (and MAM) alone, "
                "no descriptions");
  pre->add_flag(
      "--quiet", [o](int64_t) { o->progress = false; }, "No progress output");
  // tune-threshold: re-tune τ of a trained checkpoint on a dataset's validation split.
  auto* tune = train->add_subcommand(
      "tune-threshold",
      "Set a checkpoint's AR or ACD threshold to the F1-best value on a validation split");
  struct Tune {
    std::string ckpt, data, task = "ar", split = "val", out;
  };
  auto t = std::make_shared<Tune>();
  tune->add_option("--ckpt", t->ckpt, "Checkpoint to tune")->required();
  tune->add_option("--data", t->data, "Dataset directory (AutoNet val or Zoo)")->required();
  tune->add_option("--task", t->task, "ar or acd")->check(CLI::IsMember({"ar", "acd"}));
  tune->add_option("--split", t->split, "Zoo split to tune on")->check(CLI::IsMember({"val"}));
  tune->add_option("--out", t->out, "Write the tuned checkpoint here (default: in place)");

  return [pre, o, &global, tune, t] {
    if (tune->parsed()) {
      LoadedModel m = load_model(t->ckpt);
      EvalOptions eo;
      eo.split = t->split;
      const BinaryEvalReport r =
          t->task == "ar" ? evaluate_ar(m, t->data, eo) : evaluate_acd(m, t->data, eo);
      const BinaryMetrics best = best_threshold(r.scores, r.labels);
      const double before = t->task == "ar" ? m.ar_threshold : m.acd_threshold;
      const BinaryMetrics old = binary_metrics_at(r.scores, r.labels, before);
      m.model.meta().extra[t->task + "_threshold"] = std::to_string(best.threshold);
      m.model.meta().extra[t->task + "_threshold_source"] =
          r.data + " (" + r.file + ", " + std::to_string(r.model.samples()) + " samples)";
      m.model.save(t->out.empty() ? t->ckpt : t->out);
      std::printf("%s threshold %.4f -> %.4f on %s (%s): F1 %.4f -> %.4f, accuracy %.4f -> %.4f\n",
                  t->task.c_str(), before, best.threshold, r.data.c_str(), r.file.c_str(), old.f1(),
                  best.f1(), old.accuracy(), best.accuracy());
      return true;
    }
    if (!pre->parsed()) return false;
    o->recipe = global.command_line;  // stored in the checkpoint
    TrainReport r = train_pretrain(*o);
    std::printf(
        "trained %lld steps (%lld descriptions) in %.1f min; tau_ar %.2f tau_acd %.2f\n%s\n",
        static_cast<long long>(r.steps), static_cast<long long>(r.samples), r.seconds / 60.0,
        r.ar_threshold, r.acd_threshold, r.validation_json.c_str());
    return true;
  };
}

}  // namespace archbert::cli
