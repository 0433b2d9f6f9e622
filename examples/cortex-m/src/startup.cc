// Cortex-M boot for the qemu MPS2/MPS3 boards: the vector table the core reads SP and PC from at address 0,
// and a reset handler that enables the FPU (and Helium on M55), sets up .data/.bss, runs static
// constructors and main, and ends the emulation with main's status.
#include <cstdint>
#include <cstring>

#include "semihosting.h"
#include "stack_usage.h"

extern "C" {
// Defined by the board's linker script (boards/*.ld).
extern uint32_t __stack_top__;
extern uint8_t __stack_bottom__[];
extern uint8_t __data_load__[], __data_start__[], __data_end__[], __bss_start__[], __bss_end__[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();

int main();
void Reset_Handler();
void Fault_Handler();
}

namespace {

// SCB->CPACR: full access to coprocessors 10 and 11, which gate both the FPU and the M-profile Vector
// Extension; any FP or MVE instruction before this line faults.
void enable_fpu() {
  volatile uint32_t* const cpacr = reinterpret_cast<volatile uint32_t*>(0xE000ED88u);
  *cpacr |= (0xFu << 20);
  __asm__ volatile("dsb\n\tisb" ::: "memory");
}

constexpr uint8_t kStackPaint = 0xCD;
// Bytes at the top of the stack the reset handler itself may be using while it paints.
constexpr size_t kPaintMargin = 256;

// Fills the unused stack with a pattern so stack_high_water() can tell how deep main went.
void paint_stack() {
  uint8_t* const top = reinterpret_cast<uint8_t*>(&__stack_top__);
  std::memset(__stack_bottom__, kStackPaint, static_cast<size_t>(top - __stack_bottom__) - kPaintMargin);
}

}  // namespace

size_t stack_high_water() {
  const uint8_t* const top = reinterpret_cast<const uint8_t*>(&__stack_top__);
  const uint8_t* p = __stack_bottom__;
  while (p < top && *p == kStackPaint) ++p;
  return static_cast<size_t>(top - p);
}

void Reset_Handler() {
  enable_fpu();
  std::memcpy(__data_start__, __data_load__, static_cast<size_t>(__data_end__ - __data_start__));
  std::memset(__bss_start__, 0, static_cast<size_t>(__bss_end__ - __bss_start__));
  paint_stack();
  for (void (**ctor)() = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
  semihost_exit(main());
}

// Any fault ends the run with a distinct status instead of hanging until the CI timeout.
void Fault_Handler() { semihost_exit(99); }

using Vector = void (*)();
__attribute__((section(".vectors"), used)) extern const Vector qgnn_fw_vectors[16] = {
    reinterpret_cast<Vector>(&__stack_top__),  // initial SP
    Reset_Handler,
    Fault_Handler,  // NMI
    Fault_Handler,  // HardFault
    Fault_Handler,  // MemManage
    Fault_Handler,  // BusFault
    Fault_Handler,  // UsageFault
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    Fault_Handler,  // SVCall
    Fault_Handler,  // DebugMon
    nullptr,
    Fault_Handler,  // PendSV
    Fault_Handler,  // SysTick
};
