# Helpers shared by the project's CMakeLists.

# Warnings for the project's own plain C++ code (third-party headers are
# SYSTEM includes). MLIR targets get LLVM's own set instead (HandleLLVMOptions:
# -Wall -Wextra and more, without -Wunused-parameter, which ODS-generated code
# included into our sources would trip).
function(qet_enable_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
endfunction()

# A plain C++ library (no MLIR): built with exceptions and RTTI.
function(qet_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK_LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE -fexceptions)
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(${name} PUBLIC ${ARG_LINK_LIBS})
  qet_enable_warnings(${name})
endfunction()
