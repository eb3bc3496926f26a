#pragma once
// The per-family graph builders (private to src/import/huggingface_*.cpp). Each adds the nodes
// of one Hugging Face model_type to `n`, for the class that config.architectures[0] names.

namespace archbert::hf {
class HfConfig;
}  // namespace archbert::hf

namespace archbert::hf::detail {

class Net;

// huggingface_encoders.cpp
void build_bert(Net& n, const HfConfig& c);
void build_roberta(Net& n, const HfConfig& c);
void build_electra(Net& n, const HfConfig& c);
void build_longformer(Net& n, const HfConfig& c);
void build_albert(Net& n, const HfConfig& c);
void build_distilbert(Net& n, const HfConfig& c);

// huggingface_decoders.cpp
void build_gpt2(Net& n, const HfConfig& c);
void build_gpt_neo(Net& n, const HfConfig& c);
void build_gptj(Net& n, const HfConfig& c);
void build_gpt_neox(Net& n, const HfConfig& c);
void build_bloom(Net& n, const HfConfig& c);
void build_opt(Net& n, const HfConfig& c);
void build_llama(Net& n, const HfConfig& c);

// huggingface_seq2seq.cpp
void build_t5(Net& n, const HfConfig& c);
void build_bart(Net& n, const HfConfig& c);
void build_mbart(Net& n, const HfConfig& c);
void build_pegasus(Net& n, const HfConfig& c);
void build_marian(Net& n, const HfConfig& c);

// huggingface_vision_speech.cpp
void build_vit(Net& n, const HfConfig& c);
void build_deit(Net& n, const HfConfig& c);
void build_wav2vec2(Net& n, const HfConfig& c);

}  // namespace archbert::hf::detail
