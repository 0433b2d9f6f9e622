# Bare-metal Cortex-M55 (Armv8.1-M with Helium / MVE and the FPU, hard float) with the Debian arm-none-eabi
# GCC and newlib. Used by the `cortex-m55-firmware` preset together with QGNN_EMBEDDED=ON.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
find_program(CMAKE_AR arm-none-eabi-ar)
find_program(CMAKE_RANLIB arm-none-eabi-ranlib)
find_program(CMAKE_SIZE arm-none-eabi-size)

# No OS to link executables against: compiler checks build static libraries only.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# -mcpu=cortex-m55 enables MVE (integer and float) and the FPv5 FPU; -mfloat-abi=hard uses them for calls.
set(_qgnn_m55_flags "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard -ffunction-sections -fdata-sections -DNDEBUG -Os")
set(CMAKE_C_FLAGS_INIT "${_qgnn_m55_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_qgnn_m55_flags} -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_ASM_FLAGS_INIT "-mcpu=cortex-m55 -mthumb")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections --specs=nano.specs --specs=nosys.specs")

# Libraries and headers come only from the target sysroot; programs (flatc, python3) from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
