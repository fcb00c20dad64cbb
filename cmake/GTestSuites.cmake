# SPDX-License-Identifier: GPL-3.0-or-later
# uidsync_add_gtest_suites(TARGET LABEL TIMEOUT): one ctest test per GoogleTest
# *suite* of TARGET (run as `TARGET --gtest_filter=Suite.*`).
#
# GoogleTest's gtest_discover_tests makes one ctest test per test case; with
# ~1000 table rows, each a process start under ASan, that costs minutes. A
# suite per process keeps failures attributable and a Dovecot fixture shared per
# suite (SetUpTestSuite), at a fraction of the cost. The list is taken after
# each build, like gtest_discover_tests does.
set(_uidsync_gtest_suites_script "${CMAKE_CURRENT_LIST_FILE}")

function(uidsync_add_gtest_suites target label timeout)
  set(ctest_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites.cmake")
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND "${CMAKE_COMMAND}"
            -D "UIDSYNC_EXE=$<TARGET_FILE:${target}>"
            -D "UIDSYNC_OUT=${ctest_file}"
            -D "UIDSYNC_LABEL=${label}"
            -D "UIDSYNC_TIMEOUT=${timeout}"
            -D "UIDSYNC_WORKDIR=${CMAKE_CURRENT_BINARY_DIR}"
            -P "${_uidsync_gtest_suites_script}"
    VERBATIM)
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${ctest_file}")
endfunction()

# Script mode: list the suites of UIDSYNC_EXE and write the add_test() calls.
if(CMAKE_SCRIPT_MODE_FILE AND DEFINED UIDSYNC_EXE)
  execute_process(COMMAND "${UIDSYNC_EXE}" --gtest_list_tests
    OUTPUT_VARIABLE listing RESULT_VARIABLE rc TIMEOUT 120)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${UIDSYNC_EXE} --gtest_list_tests failed (${rc}):\n${listing}")
  endif()
  string(REPLACE "\n" ";" lines "${listing}")
  set(content "")
  foreach(line IN LISTS lines)
    # Suite lines start in column 0 and end with '.', optionally followed by a comment.
    if(line MATCHES "^([^ #][^ ]*)\\.( |$)")
      set(suite "${CMAKE_MATCH_1}")
      # Suites named *Memory measure the process's peak RSS. Under ASan, freed
      # memory stays resident in its quarantine (256 MB by default) and would be
      # counted; keep the quarantine small for them.
      set(env "")
      if(suite MATCHES "Memory$")
        set(env " ENVIRONMENT ASAN_OPTIONS=quarantine_size_mb=1:thread_local_quarantine_size_kb=64")
      endif()
      # The reliability suites run for an hour or more with UIDSYNC_LONG=1
      # (`contrib/check --long`); each of their runs has a time limit of its own.
      set(timeout ${UIDSYNC_TIMEOUT})
      if(suite MATCHES "Reliability")
        set(timeout 7200)
      endif()
      string(APPEND content
        "add_test([=[${suite}]=] [==[${UIDSYNC_EXE}]==] [==[--gtest_filter=${suite}.*]==])\n"
        "set_tests_properties([=[${suite}]=] PROPERTIES LABELS ${UIDSYNC_LABEL}"
        " TIMEOUT ${timeout} WORKING_DIRECTORY [==[${UIDSYNC_WORKDIR}]==]${env})\n")
    endif()
  endforeach()
  file(WRITE "${UIDSYNC_OUT}" "${content}")
endif()
