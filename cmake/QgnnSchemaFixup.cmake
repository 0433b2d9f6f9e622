# Post-processes a flatc-generated C++ header (cmake -DHEADER=<file> -P QgnnSchemaFixup.cmake).
#
# flatc 2.0.8 with --scoped-enums appends MIN/MAX sentinels to every enum; for an enum that has its own value
# named MAX (qgnn.fbs: Reduce.MAX) it emits `MAX = MAX`, a redeclaration that does not compile. Newer flatc
# versions skip the clashing sentinel; this does the same.
if(NOT HEADER)
  message(FATAL_ERROR "QgnnSchemaFixup: -DHEADER=<generated header> is required")
endif()
file(READ "${HEADER}" _text)
set(_orig "${_text}")
foreach(_s MIN MAX)
  string(REGEX REPLACE ",\n  ${_s} = ${_s}\n};" "\n};" _text "${_text}")
endforeach()
if(NOT _text STREQUAL _orig)
  file(WRITE "${HEADER}" "${_text}")
endif()
