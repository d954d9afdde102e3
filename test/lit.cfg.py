# lit configuration of the qet FileCheck tests.
import ctypes
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "qet"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qet_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "make_inputs.py"]

llvm_config.use_default_substitutions()
llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tools = ["qet-opt", "qet-quantize", "qet-container-fuzzer", "qet-container-seeds", "qet-mlp-aot",
         "mlir-opt", "mlir-runner", "mlir-translate", "llc", "llvm-size"]
llvm_config.add_tool_substitutions(tools, [config.qet_tools_dir, config.llvm_tools_dir])

config.substitutions.append(("%shlibext", config.llvm_shlib_ext))
config.substitutions.append(
    ("%qet_cuda_runtime",
     os.path.join(config.qet_obj_root, "lib", "libqet_cuda_runtime" + config.llvm_shlib_ext)))
config.substitutions.append(
    ("%qet_runtime",
     os.path.join(config.qet_obj_root, "lib", "libqet_runtime" + config.llvm_shlib_ext)))
config.substitutions.append(
    ("%mlir_runner_utils",
     os.path.join(config.llvm_lib_dir, "libmlir_runner_utils" + config.llvm_shlib_ext)))
config.substitutions.append(
    ("%mlir_c_runner_utils",
     os.path.join(config.llvm_lib_dir, "libmlir_c_runner_utils" + config.llvm_shlib_ext)))

# The container fuzzer is built only with clang (libFuzzer).
if os.path.exists(os.path.join(config.qet_tools_dir, "qet-container-fuzzer")):
    config.available_features.add("container-fuzzer")

# GPU code generation needs the CUDA toolkit (ptxas); running GPU code needs a
# driver and a device. Tests say which with `REQUIRES:` and are reported as
# unsupported, never silently passed, where the machine lacks it.
if config.cuda_toolkit_dir and config.ptxas:
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%cuda_toolkit", config.cuda_toolkit_dir))


def cuda_device_present():
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count = ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return False
    return count.value > 0


if cuda_device_present():
    config.available_features.add("cuda-device")
