# Generates the C++ headers of schema/*.fbs at build time with the system flatc, so the generated code
# always matches the installed FlatBuffers headers (they static_assert the flatc version).
#
# Provides the INTERFACE target qgnn_schema: include <qgnn/schema/qgnn_generated.h>.

find_program(QGNN_FLATC flatc NO_CMAKE_FIND_ROOT_PATH REQUIRED)

if(QGNN_EMBEDDED)
  # Bare-metal compilers do not search /usr/include: expose only the FlatBuffers headers.
  find_path(QGNN_FLATBUFFERS_HOST_INCLUDE flatbuffers/flatbuffers.h PATHS /usr/include /usr/local/include
            NO_CMAKE_FIND_ROOT_PATH NO_DEFAULT_PATH REQUIRED)
  set(_qgnn_fb_shim ${CMAKE_BINARY_DIR}/flatbuffers-include)
  file(MAKE_DIRECTORY ${_qgnn_fb_shim})
  file(CREATE_LINK ${QGNN_FLATBUFFERS_HOST_INCLUDE}/flatbuffers ${_qgnn_fb_shim}/flatbuffers SYMBOLIC)
  add_library(qgnn_flatbuffers INTERFACE)
  target_include_directories(qgnn_flatbuffers SYSTEM INTERFACE $<BUILD_INTERFACE:${_qgnn_fb_shim}>)
else()
  find_package(FlatBuffers CONFIG REQUIRED)
  get_target_property(_qgnn_fb_inc flatbuffers::flatbuffers INTERFACE_INCLUDE_DIRECTORIES)
  add_library(qgnn_flatbuffers INTERFACE)
  target_include_directories(qgnn_flatbuffers SYSTEM INTERFACE $<BUILD_INTERFACE:${_qgnn_fb_inc}>)
endif()

set(QGNN_SCHEMA_DIR ${PROJECT_SOURCE_DIR}/schema)
set(QGNN_SCHEMA_OUT ${CMAKE_BINARY_DIR}/generated/qgnn/schema)
set(QGNN_SCHEMA_FILES common qgnn qgd)
set(_qgnn_generated)
foreach(_s ${QGNN_SCHEMA_FILES})
  list(APPEND _qgnn_generated ${QGNN_SCHEMA_OUT}/${_s}_generated.h)
endforeach()
add_custom_command(
  OUTPUT ${_qgnn_generated}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${QGNN_SCHEMA_OUT}
  COMMAND ${QGNN_FLATC} --cpp --scoped-enums --gen-mutable -o ${QGNN_SCHEMA_OUT}
          ${QGNN_SCHEMA_DIR}/common.fbs ${QGNN_SCHEMA_DIR}/qgnn.fbs ${QGNN_SCHEMA_DIR}/qgd.fbs
  COMMAND ${CMAKE_COMMAND} -DHEADER=${QGNN_SCHEMA_OUT}/qgnn_generated.h -P ${CMAKE_CURRENT_LIST_DIR}/QgnnSchemaFixup.cmake
  DEPENDS ${QGNN_SCHEMA_DIR}/common.fbs ${QGNN_SCHEMA_DIR}/qgnn.fbs ${QGNN_SCHEMA_DIR}/qgd.fbs
          ${CMAKE_CURRENT_LIST_DIR}/QgnnSchemaFixup.cmake
  COMMENT "flatc: generating qgnn schema headers"
  VERBATIM)
add_custom_target(qgnn_schema_gen DEPENDS ${_qgnn_generated})

add_library(qgnn_schema INTERFACE)
add_dependencies(qgnn_schema qgnn_schema_gen)
target_include_directories(qgnn_schema INTERFACE $<BUILD_INTERFACE:${CMAKE_BINARY_DIR}/generated>
                                                $<BUILD_INTERFACE:${QGNN_SCHEMA_DIR}/include>)
target_link_libraries(qgnn_schema INTERFACE qgnn_flatbuffers)
