# arm64 (aarch64) Linux cross build with Debian's g++-aarch64-linux-gnu, run under qemu-aarch64 (user mode).
# Used by the `aarch64` preset; scripts/ci_aarch64.sh prepares everything it needs.
#
# Target libraries (GoogleTest, FlatBuffers, Eigen, nlohmann_json, cpuinfo, pthreadpool) come from a private
# sysroot of arm64 Debian packages unpacked with `dpkg-deb -x`: installing them as multiarch packages
# (`libpthreadpool-dev:arm64`, ...) would remove the amd64 ones (they are Multi-Arch: no). The sysroot is
# $QGNN_AARCH64_SYSROOT, else build/aarch64-sysroot of this checkout. Programs (flatc) come from the host.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(DEFINED ENV{QGNN_AARCH64_SYSROOT} AND NOT "$ENV{QGNN_AARCH64_SYSROOT}" STREQUAL "")
  set(QGNN_AARCH64_SYSROOT "$ENV{QGNN_AARCH64_SYSROOT}")
else()
  get_filename_component(QGNN_AARCH64_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../../build/aarch64-sysroot" ABSOLUTE)
endif()

# The cross compiler's own libc / libstdc++ live in /usr/aarch64-linux-gnu; everything else in the sysroot.
set(CMAKE_FIND_ROOT_PATH "${QGNN_AARCH64_SYSROOT}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (libcpuinfo.pc) must read the sysroot's .pc files, never the host's.
set(ENV{PKG_CONFIG_LIBDIR} "${QGNN_AARCH64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${QGNN_AARCH64_SYSROOT}")

# Tests run under qemu-aarch64 (no binfmt needed); QEMU_CPU in the environment picks the emulated core.
# With -L, qemu's loader takes the cross libc from /usr/aarch64-linux-gnu. Once libc6:arm64 is installed as a
# multiarch package, /lib/ld-linux-aarch64.so.1 exists and -L would mix two glibc builds (every
# pthread_create then hangs), so it is left out.
if(EXISTS /lib/ld-linux-aarch64.so.1)
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
endif()
