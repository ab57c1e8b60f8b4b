# Use ccache when it is installed (scripts/setup installs it); the 2-core machines rebuild often.
# Paths are hashed relative to the source tree (CCACHE_BASEDIR, no working-directory hash), so a
# fresh clone elsewhere — CI's — reuses what any other checkout of the same sources compiled.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CMAKE_COMMAND};-E;env;CCACHE_BASEDIR=${PROJECT_SOURCE_DIR};CCACHE_NOHASHDIR=1;${CCACHE_PROGRAM}")
  message(STATUS "ccache: ${CCACHE_PROGRAM} (base dir ${PROJECT_SOURCE_DIR})")
endif()
