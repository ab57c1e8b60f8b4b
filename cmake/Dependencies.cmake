# Every library comes from Debian (scripts/setup; docs/design.md §3).
find_package(PkgConfig REQUIRED)
# cpp-httplib is a compiled shared library on Debian with no CMake package: the pkg-config target
# carries -DCPPHTTPLIB_OPENSSL_SUPPORT etc., which every includer must get (ABI of ClientImpl).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(yaml-cpp 0.7 REQUIRED)  # target is plain `yaml-cpp` in 0.7
find_package(Boost 1.74 REQUIRED)
find_package(fmt 9 REQUIRED)
find_package(CLI11 2 REQUIRED)  # header-only command-line parsing
find_package(Threads REQUIRED)
if(BUILD_TESTING)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
endif()
