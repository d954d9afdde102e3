# Finds every dependency of the build. Versions are pinned to Debian 12's
# packages plus LLVM/MLIR 22 (scripts/install-deps.sh installs them).

set(QET_LLVM_ROOT "/usr/lib/llvm-22" CACHE PATH "LLVM/MLIR 22 installation")
if(QET_ENABLE_MLIR)
  find_package(MLIR REQUIRED CONFIG HINTS "${QET_LLVM_ROOT}/lib/cmake/mlir")
  if(NOT LLVM_VERSION_MAJOR EQUAL 22)
    message(FATAL_ERROR "qet needs LLVM/MLIR 22, found ${LLVM_PACKAGE_VERSION} "
                        "at ${MLIR_DIR}; run scripts/install-deps.sh")
  endif()
  message(STATUS "Using MLIR ${LLVM_PACKAGE_VERSION} from ${MLIR_DIR}")

  list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
  # Tools link the monolithic libMLIR.so / libLLVM.so shipped by Debian.
  set(MLIR_LINK_MLIR_DYLIB ON)
  include(TableGen)
  include(AddLLVM)
  include(AddMLIR)
  include(HandleLLVMOptions)

  # lit, FileCheck and friends come from the same LLVM installation.
  set(LLVM_EXTERNAL_LIT "${LLVM_TOOLS_BINARY_DIR}/lit" CACHE STRING "lit")
endif()

find_package(Eigen3 3.4 REQUIRED CONFIG)
find_package(GTest REQUIRED CONFIG)
find_package(benchmark REQUIRED CONFIG)
find_package(nlohmann_json 3 REQUIRED CONFIG)
find_package(Threads REQUIRED)
set(BLA_VENDOR OpenBLAS)
find_package(BLAS REQUIRED)

# The CUDA toolkit is optional: with it, PTX/cubin tests run; without it they
# are reported as unsupported by lit.
find_package(CUDAToolkit QUIET)
if(CUDAToolkit_FOUND)
  get_filename_component(QET_CUDA_TOOLKIT_DIR "${CUDAToolkit_BIN_DIR}" DIRECTORY)
  find_program(QET_PTXAS ptxas HINTS "${CUDAToolkit_BIN_DIR}")
  message(STATUS "CUDA toolkit ${CUDAToolkit_VERSION} at ${QET_CUDA_TOOLKIT_DIR}: GPU code-generation tests enabled")
else()
  set(QET_CUDA_TOOLKIT_DIR "")
  set(QET_PTXAS "")
  message(STATUS "CUDA toolkit not found: GPU code-generation tests will be reported unsupported")
endif()
