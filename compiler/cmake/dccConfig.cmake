# dccConfig.cmake — find_package(dcc) for the dcc derivative compiler.
#
#   find_package(dcc 0.1 REQUIRED)      # CMAKE_PREFIX_PATH: dcc's install prefix
#   add_executable(train main.c)
#   dcc_add_model(train net.expr PREFIX net REAL double WRT x1 x2)
#   target_link_libraries(train PRIVATE dcc::runtime)
#
# Defines:
#   dcc::dcc       imported executable: the compiler
#   dcc::runtime   imported static library libdccrt.a (dcc_train.h,
#                  dcc_host.h; links m), for models made with REAL double.
#   dcc::runtime_float  the same built with -DDCC_TRAIN_REAL=float
#                  (libdccrt-float.a), for models made with REAL float; it
#                  passes DCC_TRAIN_REAL=float on to the target's sources.
#   dcc_RUNTIME_SOURCES  the runtime's portable sources (dcc_train.c, dcc_store.c), and
#   dcc_RUNTIME_DIR      its folder (dcc_train.h), for firmware builds
#   dcc_add_model(<target> <file.expr> [PREFIX <name>] [REAL float|double]
#                 [WRT <input>...] [OPTIONS <dcc option>...])
#       runs dcc at build time, whenever the .expr or dcc changes, into
#       ${CMAKE_CURRENT_BINARY_DIR}/<stem>_grad.c and <stem>_grad.h (<stem>:
#       the .expr's name without the extension), adds the .c to <target>'s
#       sources and that folder to its include directories.
#
# Needs CMake 3.5 or newer.  Everything is found relative to this file (<prefix>/lib/cmake/dcc/), so an
# install tree can be moved (or staged with DESTDIR) and still be found.

get_filename_component(_dcc_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

foreach(_dcc_file bin/dcc lib/libdccrt.a lib/libdccrt-float.a include/dcc/dcc_train.h share/dcc/runtime/dcc_train.c)
  if(NOT EXISTS "${_dcc_prefix}/${_dcc_file}")
    set(dcc_FOUND FALSE)
    set(dcc_NOT_FOUND_MESSAGE "dcc's install in ${_dcc_prefix} lacks ${_dcc_file}")
    unset(_dcc_prefix)
    return()
  endif()
endforeach()

if(NOT TARGET dcc::dcc)
  add_executable(dcc::dcc IMPORTED)
  set_target_properties(dcc::dcc PROPERTIES IMPORTED_LOCATION "${_dcc_prefix}/bin/dcc")
endif()

if(NOT TARGET dcc::runtime)
  add_library(dcc::runtime STATIC IMPORTED)
  set_target_properties(dcc::runtime PROPERTIES
    IMPORTED_LOCATION "${_dcc_prefix}/lib/libdccrt.a"
    IMPORTED_LINK_INTERFACE_LANGUAGES C
    INTERFACE_INCLUDE_DIRECTORIES "${_dcc_prefix}/include/dcc")
  if(UNIX)
    set_property(TARGET dcc::runtime PROPERTY INTERFACE_LINK_LIBRARIES m)
  endif()
endif()

if(NOT TARGET dcc::runtime_float)
  add_library(dcc::runtime_float STATIC IMPORTED)
  set_target_properties(dcc::runtime_float PROPERTIES
    IMPORTED_LOCATION "${_dcc_prefix}/lib/libdccrt-float.a"
    IMPORTED_LINK_INTERFACE_LANGUAGES C
    INTERFACE_INCLUDE_DIRECTORIES "${_dcc_prefix}/include/dcc"
    INTERFACE_COMPILE_DEFINITIONS "DCC_TRAIN_REAL=float")
  if(UNIX)
    set_property(TARGET dcc::runtime_float PROPERTY INTERFACE_LINK_LIBRARIES m)
  endif()
endif()

set(dcc_EXECUTABLE "${_dcc_prefix}/bin/dcc")
set(dcc_RUNTIME_DIR "${_dcc_prefix}/share/dcc/runtime")
set(dcc_RUNTIME_SOURCES "${dcc_RUNTIME_DIR}/dcc_train.c" "${dcc_RUNTIME_DIR}/dcc_store.c")
unset(_dcc_prefix)

function(dcc_add_model target expr)
  cmake_parse_arguments(_dcc "" "PREFIX;REAL" "WRT;OPTIONS" ${ARGN})
  if(_dcc_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "dcc_add_model: unknown arguments: ${_dcc_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "dcc_add_model: ${target} is not a target")
  endif()
  get_filename_component(_src "${expr}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  get_filename_component(_stem "${_src}" NAME_WE)
  set(_out "${CMAKE_CURRENT_BINARY_DIR}/${_stem}_grad.c")
  set(_hdr "${CMAKE_CURRENT_BINARY_DIR}/${_stem}_grad.h")
  set(_args)
  if(DEFINED _dcc_PREFIX)
    list(APPEND _args --prefix "${_dcc_PREFIX}")
  endif()
  if(DEFINED _dcc_REAL)
    if(NOT _dcc_REAL MATCHES "^(float|double)$")
      message(FATAL_ERROR "dcc_add_model: REAL must be float or double, not '${_dcc_REAL}'")
    endif()
    list(APPEND _args --real ${_dcc_REAL})
  endif()
  if(_dcc_WRT)
    string(REPLACE ";" "," _wrt "${_dcc_WRT}")
    list(APPEND _args --wrt "${_wrt}")
  endif()
  list(APPEND _args ${_dcc_OPTIONS})
  add_custom_command(
    OUTPUT "${_out}" "${_hdr}"
    COMMAND dcc::dcc ${_args} "${_src}" -o "${_out}"
    DEPENDS "${_src}" "$<TARGET_FILE:dcc::dcc>"
    COMMENT "dcc ${expr} -> ${_stem}_grad.c"
    VERBATIM)
  target_sources(${target} PRIVATE "${_out}" "${_hdr}")
  target_include_directories(${target} PRIVATE "${CMAKE_CURRENT_BINARY_DIR}")
endfunction()
