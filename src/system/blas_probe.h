#pragma once
// Internal helpers shared by blas.cpp and doctor.cpp.

#include <string>

namespace archbert {

// Resolved path of the BLAS library mapped into this process ("" if none is).
std::string loaded_blas_path();
// "openblas", "reference", "mkl", "blis" or "unknown", judged from the library path.
std::string blas_kind_of(const std::string& path);
bool cpu_has_avx512();
// True in the process that ensure_fast_blas re-executed.
bool was_reexecuted();

}  // namespace archbert
