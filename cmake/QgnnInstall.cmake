# Install rules and the CMake package config, so that an installed qgnn is used as
#   find_package(qgnn CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE qgnn::qgnn)
#
# Installs (host builds only; QGNN_EMBEDDED builds are consumed as static libraries by firmware projects):
#   lib/libqgnn.a, lib/libqgnn_kernels.a, lib/libqgnn_converter.a (when built)
#   bin/qgnn-inspect, bin/qgnn-run, bin/qgnn-convert (when built)
#   include/qgnn/*.h, include/qgnn/kernels/*.h, include/qgnn/converter/*.h
#   lib/cmake/qgnn/{qgnnConfig,qgnnConfigVersion,qgnnTargets*}.cmake
#
# The static libraries carry their private link dependencies ($<LINK_ONLY:...>) into the export: build-only
# helper targets of this project (qgnn_schema, qgnn_flatbuffers: BUILD_INTERFACE include dirs only) join the
# export set, and every IMPORTED dependency (pthreadpool, Threads, ...) is found again by qgnnConfig.cmake.
if(QGNN_EMBEDDED)
  return()
endif()

include(CMakePackageConfigHelpers)

set(QGNN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/qgnn)

# Library targets exported under qgnn::.
set(_qgnn_export)
foreach(_t qgnn qgnn_kernels qgnn_session qgnn_converter)
  if(TARGET ${_t})
    list(APPEND _qgnn_export ${_t})
  endif()
endforeach()

# Link items of a target (direct and interface), with $<LINK_ONLY:x> unwrapped and other generator
# expressions dropped.
function(_qgnn_link_items target out)
  set(_items)
  foreach(_prop LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
    get_target_property(_libs ${target} ${_prop})
    if(_libs)
      foreach(_l IN LISTS _libs)
        if(_l MATCHES "^\\$<LINK_ONLY:([^$<>]+)>$")
          set(_l ${CMAKE_MATCH_1})
        endif()
        if(NOT _l MATCHES "[$<>]")
          list(APPEND _items ${_l})
        endif()
      endforeach()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES _items)
  set(${out} ${_items} PARENT_SCOPE)
endfunction()

# Names of the IMPORTED targets of every directory of this project.
function(_qgnn_directory_imported dir out)
  get_directory_property(_imported DIRECTORY ${dir} IMPORTED_TARGETS)
  get_directory_property(_subdirs DIRECTORY ${dir} SUBDIRECTORIES)
  foreach(_sub IN LISTS _subdirs)
    _qgnn_directory_imported(${_sub} _more)
    list(APPEND _imported ${_more})
  endforeach()
  set(${out} ${_imported} PARENT_SCOPE)
endfunction()
_qgnn_directory_imported(${PROJECT_SOURCE_DIR} _qgnn_dir_imported)

# Walk the link closure: own targets join the export set, imported ones become dependencies of the config.
set(_qgnn_imported)
set(_qgnn_queue ${_qgnn_export})
while(_qgnn_queue)
  list(POP_FRONT _qgnn_queue _t)
  get_target_property(_type ${_t} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(_links ${_t} INTERFACE_LINK_LIBRARIES)
    set(_items)
    foreach(_l IN LISTS _links)
      if(_l AND NOT _l MATCHES "[$<>]")
        list(APPEND _items ${_l})
      endif()
    endforeach()
  else()
    _qgnn_link_items(${_t} _items)
  endif()
  foreach(_dep IN LISTS _items)
    if(NOT TARGET ${_dep})
      # An IMPORTED target created (non-GLOBAL) in a subdirectory is invisible here: known by name only.
      if(_dep IN_LIST _qgnn_dir_imported AND NOT _dep IN_LIST _qgnn_imported)
        list(APPEND _qgnn_imported ${_dep})
      endif()
      continue()
    endif()
    get_target_property(_alias ${_dep} ALIASED_TARGET)
    if(_alias)
      set(_dep ${_alias})
    endif()
    get_target_property(_is_imported ${_dep} IMPORTED)
    if(_is_imported)
      if(NOT _dep IN_LIST _qgnn_imported)
        list(APPEND _qgnn_imported ${_dep})
        list(APPEND _qgnn_queue ${_dep})
      endif()
    elseif(NOT _dep IN_LIST _qgnn_export)
      list(APPEND _qgnn_export ${_dep})
      list(APPEND _qgnn_queue ${_dep})
    endif()
  endforeach()
endwhile()

# Include directories inside the source or build tree are build-only; the installed headers live in
# include/ (INCLUDES DESTINATION below).
foreach(_t IN LISTS _qgnn_export)
  get_target_property(_incs ${_t} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT _incs)
    continue()
  endif()
  set(_fixed)
  foreach(_i IN LISTS _incs)
    string(FIND "${_i}" "${PROJECT_SOURCE_DIR}/" _in_source)
    string(FIND "${_i}" "${PROJECT_BINARY_DIR}/" _in_build)
    if(IS_ABSOLUTE "${_i}" AND (_in_source EQUAL 0 OR _in_build EQUAL 0))
      list(APPEND _fixed "$<BUILD_INTERFACE:${_i}>")
    else()
      list(APPEND _fixed "${_i}")
    endif()
  endforeach()
  set_property(TARGET ${_t} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${_fixed}")
endforeach()

# A program linking the static libraries links their private dependencies too: the config re-creates each
# imported dependency from what this build found (a package's own config where one exists, else the library
# file, found again by name).
set(_qgnn_deps_code "")
set(_qgnn_known_packages "Threads::Threads=Threads" "flatbuffers::=FlatBuffers CONFIG" "Eigen3::=Eigen3 CONFIG"
                         "nlohmann_json::=nlohmann_json CONFIG" "CLI11::=CLI11 CONFIG")
set(_qgnn_found_packages)
foreach(_dep IN LISTS _qgnn_imported)
  set(_pkg "")
  foreach(_kp IN LISTS _qgnn_known_packages)
    string(REPLACE "=" ";" _kp "${_kp}")
    list(GET _kp 0 _prefix)
    list(GET _kp 1 _package)
    string(FIND "${_dep}" "${_prefix}" _pos)
    if(_pos EQUAL 0)
      set(_pkg "${_package}")
    endif()
  endforeach()
  if(_pkg)
    if(NOT _pkg IN_LIST _qgnn_found_packages)
      list(APPEND _qgnn_found_packages "${_pkg}")
      string(APPEND _qgnn_deps_code "find_dependency(${_pkg})\n")
    endif()
    continue()
  endif()
  string(MAKE_C_IDENTIFIER "${_dep}" _var)
  if(NOT TARGET ${_dep})
    # Not visible from here: recognise the Debian libraries the runtime may use by their name.
    string(TOLOWER "${_dep}" _lower)
    set(_lib "")
    foreach(_known pthreadpool xnnpack cpuinfo)
      if(_lower MATCHES "${_known}")
        set(_lib ${_known})
      endif()
    endforeach()
    if(_lib STREQUAL "xnnpack")
      set(_lib XNNPACK)
    endif()
    if(NOT _lib)
      message(WARNING "qgnn install: cannot describe the imported dependency '${_dep}' in qgnnConfig.cmake "
                      "(create it with IMPORTED GLOBAL so its properties can be read)")
      continue()
    endif()
    string(APPEND _qgnn_deps_code
           "if(NOT TARGET ${_dep})\n"
           "  find_library(QGNN_DEP_${_var} NAMES ${_lib})\n"
           "  if(NOT QGNN_DEP_${_var})\n"
           "    set(qgnn_FOUND FALSE)\n"
           "    set(qgnn_NOT_FOUND_MESSAGE \"qgnn needs the library ${_lib}\")\n"
           "    return()\n"
           "  endif()\n"
           "  add_library(${_dep} UNKNOWN IMPORTED)\n"
           "  set_target_properties(${_dep} PROPERTIES IMPORTED_LOCATION \"\${QGNN_DEP_${_var}}\")\n"
           "endif()\n")
    continue()
  endif()
  get_target_property(_type ${_dep} TYPE)
  string(APPEND _qgnn_deps_code "if(NOT TARGET ${_dep})\n")
  set(_loc "")
  if(NOT _type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(_loc ${_dep} IMPORTED_LOCATION)
    if(NOT _loc)
      get_target_property(_configs ${_dep} IMPORTED_CONFIGURATIONS)
      foreach(_c IN LISTS _configs)
        get_target_property(_loc ${_dep} IMPORTED_LOCATION_${_c})
        if(_loc)
          break()
        endif()
      endforeach()
    endif()
  endif()
  if(_loc)
    get_filename_component(_name "${_loc}" NAME)
    get_filename_component(_dir "${_loc}" DIRECTORY)
    string(REGEX REPLACE "^lib" "" _short "${_name}")
    string(REGEX REPLACE "\\.(so|a)(\\.[0-9]+)*$" "" _short "${_short}")
    string(APPEND _qgnn_deps_code
           "  find_library(QGNN_DEP_${_var} NAMES ${_short} ${_name} HINTS \"${_dir}\")\n"
           "  if(NOT QGNN_DEP_${_var})\n"
           "    set(qgnn_FOUND FALSE)\n"
           "    set(qgnn_NOT_FOUND_MESSAGE \"qgnn needs the library ${_short} (${_loc} at build time)\")\n"
           "    return()\n"
           "  endif()\n"
           "  add_library(${_dep} UNKNOWN IMPORTED)\n"
           "  set_target_properties(${_dep} PROPERTIES IMPORTED_LOCATION \"\${QGNN_DEP_${_var}}\")\n")
  else()
    string(APPEND _qgnn_deps_code "  add_library(${_dep} INTERFACE IMPORTED)\n")
  endif()
  # Only what linking needs: the static libraries' users never include a dependency's headers.
  foreach(_prop INTERFACE_LINK_LIBRARIES)
    get_target_property(_val ${_dep} ${_prop})
    if(_val)
      string(APPEND _qgnn_deps_code "  set_property(TARGET ${_dep} PROPERTY ${_prop} \"${_val}\")\n")
    endif()
  endforeach()
  string(APPEND _qgnn_deps_code "endif()\n")
endforeach()
string(REPLACE "find_dependency(Threads)" "set(THREADS_PREFER_PTHREAD_FLAG ON)\nfind_dependency(Threads)"
               _qgnn_deps_code "${_qgnn_deps_code}")
set(QGNN_CONFIG_DEPENDENCIES "${_qgnn_deps_code}")

# Installed names follow the in-tree aliases: qgnn::qgnn, qgnn::kernels, qgnn::session, qgnn::converter.
foreach(_t kernels session converter)
  if(TARGET qgnn_${_t})
    set_target_properties(qgnn_${_t} PROPERTIES EXPORT_NAME ${_t})
  endif()
endforeach()

install(
  TARGETS ${_qgnn_export}
  EXPORT qgnnTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

foreach(_tool qgnn-inspect qgnn-run qgnn-convert)
  if(TARGET ${_tool})
    install(TARGETS ${_tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

# Public headers.
install(
  DIRECTORY ${PROJECT_SOURCE_DIR}/include/qgnn/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qgnn
  FILES_MATCHING
  PATTERN "*.h"
  PATTERN "*.hpp")
if(TARGET qgnn_kernels)
  install(
    DIRECTORY ${PROJECT_SOURCE_DIR}/kernels/include/qgnn/kernels/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qgnn/kernels
    FILES_MATCHING
    PATTERN "*.h")
endif()
if(TARGET qgnn_converter)
  install(
    DIRECTORY ${PROJECT_SOURCE_DIR}/converter/include/qgnn/converter/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qgnn/converter
    FILES_MATCHING
    PATTERN "*.h")
endif()

install(
  EXPORT qgnnTargets
  NAMESPACE qgnn::
  DESTINATION ${QGNN_INSTALL_CMAKEDIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/qgnnConfig.cmake.in ${PROJECT_BINARY_DIR}/qgnnConfig.cmake
                              INSTALL_DESTINATION ${QGNN_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/qgnnConfigVersion.cmake VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/qgnnConfig.cmake ${PROJECT_BINARY_DIR}/qgnnConfigVersion.cmake
        DESTINATION ${QGNN_INSTALL_CMAKEDIR})
