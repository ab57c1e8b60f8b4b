# MYSQLOP_SANITIZE: "" (none), "address,undefined" (asan-ubsan preset) or "thread" (tsan preset).
set(MYSQLOP_SANITIZE "" CACHE STRING "Sanitizers to build with (address,undefined | thread)")
if(MYSQLOP_SANITIZE)
  add_compile_options(-fsanitize=${MYSQLOP_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${MYSQLOP_SANITIZE})
endif()

option(MYSQLOP_FUZZ "Build fuzz targets with libFuzzer (needs clang)" OFF)
# Fuzz builds instrument every library for coverage; the targets add -fsanitize=fuzzer.
if(MYSQLOP_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
