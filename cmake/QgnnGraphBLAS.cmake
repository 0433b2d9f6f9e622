# SuiteSparse:GraphBLAS, the aggregation peer of bench/peers (Debian: libgraphblas-dev). Optional: nothing in
# qgnn needs it, and CI stays green without it. Included by bench/peers and tests/bench (whichever comes first
# looks it up).
#
#   QGNN_GRAPHBLAS=AUTO (default)  use it when found; otherwise say so and build no GraphBLAS code
#   QGNN_GRAPHBLAS=ON              it must be found (configuration fails otherwise)
#   QGNN_GRAPHBLAS=OFF             do not look for it
#
# Result: QGNN_HAVE_GRAPHBLAS (TRUE/FALSE), QGNN_GRAPHBLAS_WHY_NOT (a sentence when FALSE) and, when TRUE,
# the imported target qgnn::graphblas. The two variables are INTERNAL cache entries, rewritten on every
# configure, because the include guard skips this file in the second directory that includes it.
include_guard(GLOBAL)

set(QGNN_GRAPHBLAS "AUTO" CACHE STRING "SuiteSparse:GraphBLAS for the peer benchmark: AUTO, ON or OFF")
set_property(CACHE QGNN_GRAPHBLAS PROPERTY STRINGS AUTO ON OFF)

set(_have FALSE)
set(_why_not "")
if(QGNN_GRAPHBLAS STREQUAL "OFF")
  set(_why_not "GraphBLAS disabled by configuration (QGNN_GRAPHBLAS=OFF)")
else()
  # Debian installs GraphBLAS.h straight into /usr/include; SuiteSparse's own install uses suitesparse/.
  find_path(QGNN_GRAPHBLAS_INCLUDE_DIR GraphBLAS.h PATH_SUFFIXES suitesparse)
  find_library(QGNN_GRAPHBLAS_LIBRARY NAMES graphblas)
  if(QGNN_GRAPHBLAS_INCLUDE_DIR AND QGNN_GRAPHBLAS_LIBRARY)
    set(_have TRUE)
    if(NOT TARGET qgnn::graphblas)
      add_library(qgnn::graphblas UNKNOWN IMPORTED GLOBAL)
      set_target_properties(qgnn::graphblas PROPERTIES IMPORTED_LOCATION "${QGNN_GRAPHBLAS_LIBRARY}"
                                                       INTERFACE_INCLUDE_DIRECTORIES "${QGNN_GRAPHBLAS_INCLUDE_DIR}")
    endif()
    message(STATUS "GraphBLAS: ${QGNN_GRAPHBLAS_LIBRARY} (qgnn-bench-peers compares qgnn's aggregation with it)")
  else()
    set(_why_not
        "GraphBLAS not found (QGNN_GRAPHBLAS=${QGNN_GRAPHBLAS}; Debian: apt-get install libgraphblas-dev, or scripts/install_deps.sh)")
    if(QGNN_GRAPHBLAS STREQUAL "ON")
      message(FATAL_ERROR "QGNN_GRAPHBLAS=ON: ${_why_not}")
    endif()
    message(STATUS "${_why_not}: qgnn-bench-peers is not built and its GraphBLAS test skips")
  endif()
endif()
set(QGNN_HAVE_GRAPHBLAS ${_have} CACHE INTERNAL "SuiteSparse:GraphBLAS found and enabled")
set(QGNN_GRAPHBLAS_WHY_NOT "${_why_not}" CACHE INTERNAL "why GraphBLAS is not used")
