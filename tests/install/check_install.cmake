# Installs a qgnn build tree into a fresh prefix and builds + runs tests/install/consumer against it with
# find_package(qgnn CONFIG). Run as:
#   cmake -DBUILD_DIR=<qgnn build> -DWORK_DIR=<scratch dir> [-DMODEL=<file.qgnn>] [-DGENERATOR=Ninja]
#         [-DEXPECT_TOOLS="qgnn-inspect;qgnn-run"] -P tests/install/check_install.cmake
foreach(_v BUILD_DIR WORK_DIR)
  if(NOT ${_v})
    message(FATAL_ERROR "check_install: -D${_v}=... is required")
  endif()
endforeach()
if(NOT GENERATOR)
  set(GENERATOR Ninja)
endif()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "check_install: ${what} failed (${_rc}):\n${_out}\n${_err}")
  endif()
  set(STEP_OUTPUT "${_out}" PARENT_SCOPE)
endfunction()

set(_prefix ${WORK_DIR}/prefix)
set(_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${WORK_DIR})

run_step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${_prefix})

foreach(_f include/qgnn/qgnn.h include/qgnn/kernels/numerics.h lib/cmake/qgnn/qgnnConfig.cmake
           lib/cmake/qgnn/qgnnConfigVersion.cmake lib/cmake/qgnn/qgnnTargets.cmake)
  if(NOT EXISTS ${_prefix}/${_f})
    message(FATAL_ERROR "check_install: ${_f} was not installed")
  endif()
endforeach()
foreach(_tool IN LISTS EXPECT_TOOLS)
  if(NOT EXISTS ${_prefix}/bin/${_tool})
    message(FATAL_ERROR "check_install: bin/${_tool} was not installed")
  endif()
endforeach()

# Only the fresh prefix may provide qgnn: no package registry, no build tree.
run_step("configure consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/consumer -B ${_build} -G ${GENERATOR}
         -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${_prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(NOT STEP_OUTPUT MATCHES "qgnn [0-9.]+ from ${_prefix}/")
  message(FATAL_ERROR "check_install: qgnn was not found in ${_prefix}:\n${STEP_OUTPUT}")
endif()
run_step("build consumer" ${CMAKE_COMMAND} --build ${_build})
set(_args)
if(MODEL AND EXISTS ${MODEL})
  set(_args ${MODEL})
endif()
run_step("run consumer" ${_build}/qgnn_consumer ${_args})
message("${STEP_OUTPUT}")
message("check_install: OK (prefix ${_prefix})")
