# mysqlop_add_test(NAME name SOURCES ... LIBS ... [LABELS unit|integration|e2e])
# One Catch2 binary per module; every TEST_CASE becomes its own ctest test, labelled so that
# `ctest -L unit` selects the fast hermetic ones (the sanitizer runs use that).
function(mysqlop_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT BUILD_TESTING)
    return()
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} Catch2::Catch2WithMain)
  mysqlop_warnings(${T_NAME})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  # A test name may not hold ";" (a CMake list separator); "-w NoTests" turns a filter that
  # matches nothing into a failure instead of a silent pass.
  catch_discover_tests(${T_NAME} EXTRA_ARGS -w NoTests
                       PROPERTIES LABELS "${T_LABELS}" TIMEOUT 120)
endfunction()
