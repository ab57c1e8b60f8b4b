# mysqlop_add_test(NAME name SOURCES ... LIBS ... [LABELS unit|integration|e2e])
# One Catch2 binary per module; every TEST_CASE becomes its own ctest test, labelled so that
# `ctest -L unit` selects the fast hermetic ones (the sanitizer runs use that).
function(mysqlop_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT BUILD_TESTING)
    return()
  endif()
  # A ";" in a test name would split it into two ctest tests that both fail: refuse it here.
  foreach(_src IN LISTS T_SOURCES)
    file(STRINGS "${CMAKE_CURRENT_SOURCE_DIR}/${_src}" _bad REGEX "TEST_CASE\\(\"[^\"]*;")
    if(_bad)
      message(FATAL_ERROR "${_src}: a test name holds ';' (ctest would split it): ${_bad}")
    endif()
  endforeach()
  add_executable(${T_NAME} ${T_SOURCES})
  set_property(GLOBAL APPEND PROPERTY MYSQLOP_TEST_TARGETS ${T_NAME})
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

# Targets that tests outside the e2e label run besides the Catch2 binaries (helpers, servers);
# with them, the `mysqlop-tests` target builds all that `ctest -LE e2e` needs (the sanitizer run).
function(mysqlop_test_needs)
  set_property(GLOBAL APPEND PROPERTY MYSQLOP_TEST_TARGETS ${ARGN})
endfunction()

# mysqlop_add_script_test(NAME name SCRIPT path [ARGS ...] [LABELS e2e] [TIMEOUT 300] [ENV K=V ...])
# A shell-script test run as `bash SCRIPT ARGS`: labelled (e2e unless told), with a timeout and the
# environment naming the binaries it drives (generator expressions such as $<TARGET_FILE:x> work).
function(mysqlop_add_script_test)
  cmake_parse_arguments(T "" "NAME;SCRIPT;TIMEOUT;FIXTURES" "ARGS;LABELS;ENV" ${ARGN})
  if(NOT BUILD_TESTING)
    return()
  endif()
  if(NOT T_LABELS)
    set(T_LABELS e2e)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME "${T_NAME}" COMMAND bash "${T_SCRIPT}" ${T_ARGS})
  set_tests_properties("${T_NAME}" PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
  if(T_ENV)
    set_tests_properties("${T_NAME}" PROPERTIES ENVIRONMENT "${T_ENV}")
  endif()
  # FIXTURES: what must run first (e.g. sandbox_images: the images pods run are built).
  if(T_FIXTURES)
    set_tests_properties("${T_NAME}" PROPERTIES FIXTURES_REQUIRED "${T_FIXTURES}")
  endif()
endfunction()
