# lit runs every GoogleTest executable (names ending in "Tests") below the
# build's unittests/ folder and reports each test case on its own.
import os

import lit.formats

config.name = "qet-unit"
config.test_source_root = config.unittests_obj_root
config.test_exec_root = config.unittests_obj_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.environment["GTEST_COLOR"] = "no"
