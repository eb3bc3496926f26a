#pragma once
// Pretraining (paper §3.2, SPEC §5): L = L_SIM + α·L_MAM over the AR descriptions of AutoNet
// and/or Zoo dataset directories, optionally with an in-batch ACD term on Zoo graph pairs.
// AdamW with warm-up and cosine decay, gradient clipping, seeds, resume, atomic checkpoints,
// a progress line and validation after every epoch (which also tunes the thresholds τ stored
// in the checkpoint). No LibTorch in this header.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace archbert {

struct TrainOptions {
  std::vector<std::string> data_dirs;  // AutoNet (train and/or val split) and Zoo directories
  std::string out;                     // checkpoint to write (OUT.optim holds optimizer state)
  std::string preset = "small";
  std::string config_path;  // JSON overriding the preset (ModelConfig::from_json)
  std::string resume;       // checkpoint to resume from (needs RESUME.optim beside it)
  std::string init;         // start from this checkpoint's network and tokenizer (a new run:
                            // step 0, fresh optimizer); with ar_head_weight > 0 a network
                            // without a statement head gets a new one

  int epochs = 3;
  int64_t max_steps = 0;          // stop after this many optimizer steps in total (0: no limit)
  int64_t stop_after = 0;         // leave after this many steps of this run, checkpoint written
                                  // (the schedule still spans every step; resume continues)
  int graphs_per_batch = 32;      // graph units per step; each graph is encoded once per unit
  int texts_per_graph = 10;       // descriptions of a graph in one unit
  int zoo_negatives = 3;          // per epoch, Zoo negatives drawn per positive of a model
  int zoo_repeat = 1;             // per epoch, times each Zoo model's positives are used (each
                                  // time with fresh negatives)
  int claim_texts = 0;            // single-fact sentences (AutoNet, Zoo) added to each unit
  int zoo_number_pairs = 0;       // with claim_texts: Zoo number facts in their other phrasings
                                  // and this many wrong values each (number_pairs, zoo_dataset.h)
  double lr = 5e-4;               // peak learning rate
  double weight_decay = 0.01;     // AdamW, matrices and embeddings only
  double warmup = 0.05;           // share of the steps with linear warm-up
  double min_lr_ratio = 0.1;      // cosine decay ends at lr * min_lr_ratio
  double clip = 1.0;              // gradient-norm clipping (0: off)
  double mam_weight = 0.05;       // α
  double inventory_weight = 0;    // weight of the inventory term (0: off; ModelConfig::
                                  // inventory_head, inventory_loss in model_torch.h)
  double ar_head_weight = 0;      // weight of the statement head's loss (0: no head is created;
                                  // ModelConfig::ar_head_layers, ar_head_loss in model_torch.h)
  int ar_head_layers = 1;         // cross-attention layers of a statement head this run creates
  bool head_only = false;         // train the statement head alone (needs init or resume and
                                  // ar_head_weight): the rest of the network is frozen, graphs
                                  // are not masked, the loss is the head's
  std::string sim_loss = "mse";   // "mse": paper eq. 3; "bce": sim_loss_bce (model_torch.h)
  double sim_temperature = 0.1;   // "bce": logit = (cos - 0.5) / temperature
  double acd_weight = 0.0;        // weight of the Zoo ACD term (0: off)
  int acd_pairs = 4;              // extra balanced Zoo ACD pairs per step (besides in-batch ones)
  double contrastive_weight = 0;  // weight of an in-batch text->graph InfoNCE term (0: off)
  int contrastive_graphs = 0;     // extra Zoo graphs per step as InfoNCE candidates (needs
                                  // contrastive_weight > 0)
  double paraphrase_rate = 0;     // WordNet synonym replacement rate (needs wordnet_dir)
  std::string wordnet_dir = "/usr/share/wordnet";
  std::string word_vectors;  // GloVe JSON (tools/fetch_word_vectors.sh) to initialise tokens
  int tokenizer_vocab = 8000;
  int val_texts = 4000;  // validation descriptions per source (0: all)
  int save_every = 200;  // steps between checkpoints (and after every epoch)
  uint64_t seed = 0;
  bool use_mam = true;            // --no-mam
  bool use_shape = true;          // --no-shape
  bool use_edges = true;          // --no-edges
  bool use_cross = true;          // --no-cross
  bool use_summary = true;        // --no-summary
  bool use_numbers = true;        // --no-numbers
  bool text_kernels = false;      // --text-kernels: ModelConfig::use_text_kernels
  bool balanced_summary = false;  // --balanced-summary: ModelConfig::balanced_summary
  bool balanced_numbers = false;  // --balanced-numbers: ModelConfig::balanced_numbers
  // --graph-only: the uni-modal ACD baseline (paper §5.1). No descriptions are read into the
  // loss: the graph encoder learns from the Zoo ACD term (and MAM) alone. Needs --acd-weight.
  bool graph_only = false;
  bool progress = true;  // progress line on stderr
  std::string recipe;    // the command line, stored in the checkpoint
};

struct TrainReport {
  int64_t steps = 0;
  int64_t samples = 0;  // descriptions seen
  double seconds = 0;
  double last_loss = 0;
  double ar_threshold = 0.5;
  double acd_threshold = 0.5;
  std::string validation_json;  // the last validation (per source: accuracy, F1)
};

// Trains and writes opts.out. Throws Error(kUsage) for inconsistent options, Error(kBadInput)
// naming the directory or file for bad datasets or checkpoints.
TrainReport train_pretrain(const TrainOptions& opts);

}  // namespace archbert
