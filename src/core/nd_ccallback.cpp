#include "nd_ccallback.h"

#include <map>
#include <memory>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "nd_abi.h"

namespace ndffi {

namespace {

std::mutex plans_mu;
std::map<std::pair<const CType *, bool>, std::unique_ptr<CallbackPlan>> plans;

std::atomic<size_t> n_direct{0}, n_ffi{0}, n_reused{0}, n_released{0}, n_recycled{0};

// libffi's entry: the closure is the user data.
void ffi_entry(ffi_cif *, void *ret, void **args, void *user_data) {
  closure_enter(static_cast<Closure *>(user_data), ret, args);
}

void make_callback_plan(CallbackPlan &plan, const CType *ftype, bool allow_direct) {
  if (ftype->kind != Kind::Func) throw UnsupportedType("'" + ftype->str() + "' is not a function type");
  if (ftype->variadic) throw UnsupportedType("a callback cannot be variadic ('" + ftype->str() + "')");
  plan.type = ftype;
  plan.pointer_type = TypeTable::get().pointer(ftype);
  plan.ret = arg_spec(ftype->target);
  for (const CType *p : ftype->params) plan.args.push_back(arg_spec(p));
  size_t rsize = ftype->target->kind == Kind::Void ? 0 : ftype->target->byte_size();
  // A scalar result is written as a whole register (8 bytes, 16 for long double); a
  // record's exactly: it may go to C's own memory, which holds exactly the type.
  plan.ret_bytes = ftype->target->kind == Kind::Record ? rsize : rsize > 8 ? 16 : 8;
  // A type libffi's closures would take wrongly: the callback needs ndffi's entry.
  const CType *refused = nullptr;
  for (const CType *p : ftype->params) {
    ffi_type *t = ffi_type_of(p);
    if (!t) throw UnsupportedType("libffi cannot pass '" + p->str() + "' to a callback");
    if (const char *why = abi::closure_refusal(p)) {
      plan.libffi_refusal = why;
      refused = p;
    }
    plan.ffi_args.push_back(t);
  }
  if (const char *why = abi::libffi_refusal(ftype->target)) {
    plan.libffi_refusal = why;
    refused = ftype->target;
  }
  ffi_type *rt = ffi_result_type(ftype->target);
  if (!rt) throw UnsupportedType("libffi cannot return '" + ftype->target->str() + "' from a callback");
  if (ffi_prep_cif(&plan.cif, FFI_DEFAULT_ABI, unsigned(plan.ffi_args.size()), rt, plan.ffi_args.data()) != FFI_OK)
    throw UnsupportedType("libffi cannot make a callback of type '" + ftype->str() + "'");
  plan.direct =
      allow_direct && !force_libffi() &&
      abi::plan_closure(ftype, plan.args, plan.ret, &plan.slot, &plan.ret_slot, &plan.reg_args, &plan.reg_float_result);
  if (!plan.direct) plan.reg_args = -1;
  if (!plan.direct && allow_direct && !force_libffi()) {
    plan.engine_handler = abi::plan_engine_closure(ftype, &plan.engine);
    plan.direct = plan.engine_handler != nullptr;
  }
  if (refused && !plan.engine)
    throw UnsupportedType("'" + refused->str() + "' cannot be " +
                          (refused == ftype->target ? "returned from" : "passed to") +
                          " a callback by value through libffi" +
                          (force_libffi() || !allow_direct ? " (NDFFI_FORCE_LIBFFI or allow_direct=False): " : ": ") +
                          plan.libffi_refusal + "; take a pointer to it instead");
  if (plan.reg_args < 0) return;
  // The register entry's values: integer arguments first, then floating ones.
  size_t ni = 0, nf = 0;
  for (const ArgSpec &a : plan.args) (a.conv == Conv::Float || a.conv == Conv::Double ? nf : ni)++;
  size_t i = 0, f = ni;
  for (const ArgSpec &a : plan.args)
    plan.reg_index.push_back(uint8_t(a.conv == Conv::Float || a.conv == Conv::Double ? f++ : i++));
  if (ni != size_t(plan.reg_args) || ni + nf > size_t(kMaxRegArgs)) {
    plan.reg_args = -1;  // not the shape the register handlers take
    plan.reg_index.clear();
    return;
  }
  plan.reg_float_args = int(nf);
}

}  // namespace

const CallbackPlan &callback_plan(const CType *ftype, bool allow_direct) {
  std::lock_guard<std::mutex> lock(plans_mu);
  auto &p = plans[{ftype, allow_direct}];
  if (!p) {
    auto plan = std::make_unique<CallbackPlan>();
    make_callback_plan(*plan, ftype, allow_direct);  // on error nothing is kept
    p = std::move(plan);
  }
  return *p;
}

// A direct entry's frame as argument pointers, for a closure without a frame handler.
static void frame_to_args(Closure *c, uint64_t *frame) {
  const CallbackPlan &plan = *c->plan;
  void *args[32];
  for (size_t i = 0; i < plan.args.size(); i++) args[i] = frame + plan.slot[i];
  closure_enter(c, frame + plan.ret_slot, args);
}

// A register entry's arguments as a frame, for a closure without a register handler:
// each argument in the slot the frame entries save it in.
struct RegToFrame {
  template <size_t NI, size_t NF, bool>
  static void run(Closure *c, uint64_t *args, uint64_t *ret) {
    const CallbackPlan &plan = *c->plan;
    uint64_t frame[16] = {};
    for (size_t i = 0; i < NI + NF; i++) frame[plan.slot[i]] = args[plan.reg_index[i]];
    c->frame_handler(c, frame);
    *ret = frame[c->plan->ret_slot];
  }
};

Closure *closure_new(const CallbackPlan &cplan, ClosureHandler handler, void *user, FrameHandler frame_handler,
                     RegHandler reg_handler, bool recycled) {
  if (!frame_handler) frame_handler = frame_to_args;
  if (cplan.engine_handler) frame_handler = cplan.engine_handler;  // its frame is the engine's
  // A closure from the free list keeps its entry, so every closure of a plan with a
  // register entry has a register handler.
  if (!reg_handler || cplan.reg_args < 0) reg_handler = reg_handler_for<RegToFrame>(cplan);
  auto &plan = const_cast<CallbackPlan &>(cplan);
  if (recycled) {
    std::lock_guard<std::mutex> lock(plan.mu);
    while (plan.free_list.size() > kQuarantine) {
      Closure *c = plan.free_list.front();
      plan.free_list.pop_front();
      if (c->escaped.load(std::memory_order_relaxed)) continue;  // left ownerless for good
      c->handler = handler;
      c->frame_handler = frame_handler;
      c->reg_handler = reg_handler;
      c->user.store(user, std::memory_order_release);
      n_reused++;
      return c;
    }
  }
  auto *c = new Closure{frame_handler, reg_handler, &plan, handler, {user}};
  if (plan.direct) {
    c->code = abi::new_closure_thunk(c);
    if (c->code) {
      n_direct++;
      return c;
    }
    // No executable memory of our own (a hardened system): libffi may still have some,
    // unless its closures would read an argument of this signature wrongly.
    if (cplan.libffi_refusal) {
      delete c;
      throw std::runtime_error("cannot allocate executable memory for a callback of type '" + plan.type->str() +
                               "', which libffi's closures cannot take");
    }
  }
  void *code = nullptr;
  c->ffi = static_cast<ffi_closure *>(ffi_closure_alloc(sizeof(ffi_closure), &code));
  if (!c->ffi) {
    delete c;
    throw std::runtime_error("cannot allocate executable memory for a callback");
  }
  if (ffi_prep_closure_loc(c->ffi, &plan.cif, ffi_entry, c, code) != FFI_OK) {
    ffi_closure_free(c->ffi);
    delete c;
    throw std::runtime_error("libffi cannot prepare a callback of type '" + plan.type->str() + "'");
  }
  c->code = code;
  n_ffi++;
  return c;
}

void closure_release(Closure *c, bool recycle) {
  c->user.store(nullptr, std::memory_order_release);
  n_released++;
  if (!recycle || c->escaped.load(std::memory_order_relaxed)) return;
  auto &plan = const_cast<CallbackPlan &>(*c->plan);
  std::lock_guard<std::mutex> lock(plan.mu);
  plan.free_list.push_back(c);
  n_recycled++;
}

ClosureStats closure_stats() {
  return {n_direct.load(), n_ffi.load(), n_reused.load(), n_released.load(), n_recycled.load()};
}

}  // namespace ndffi
