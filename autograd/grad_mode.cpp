// grad_mode.cpp — the per-thread switch behind NoGradGuard (tutorial chapter 2).
#include "autograd/grad_mode.h"

namespace dl::ag {

namespace {
thread_local bool grad_enabled = true;
}

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool on) { grad_enabled = on; }

}  // namespace dl::ag
