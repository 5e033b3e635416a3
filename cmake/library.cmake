# kentongan_library(NAME SOURCES ... HEADERS ... DEPS ...)
# One folder, one static library `kentongan_NAME` with alias `kentongan::NAME`; headers are
# included from the repository root ("protocol/gsm/gsm7.hpp") so an include names its layer.
function(kentongan_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;HEADERS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(kentongan_${name} STATIC ${ARG_SOURCES})
  add_library(kentongan::${name} ALIAS kentongan_${name})
  target_sources(kentongan_${name} PUBLIC FILE_SET HEADERS BASE_DIRS ${PROJECT_SOURCE_DIR} FILES ${ARG_HEADERS})
  target_link_libraries(kentongan_${name} PUBLIC ${ARG_DEPS} PRIVATE kentongan::warnings ${ARG_PRIVATE_DEPS})
endfunction()

# kentongan_unit_test(NAME [CONCURRENCY] SOURCES ... DEPS ...): one doctest binary, registered with
# ctest; CONCURRENCY marks the tests that also run under ThreadSanitizer.
function(kentongan_unit_test name)
  cmake_parse_arguments(ARG "CONCURRENCY" "" "SOURCES;DEPS" ${ARGN})
  add_executable(test_${name} ${PROJECT_SOURCE_DIR}/tests/unit/doctest_main.cpp ${ARG_SOURCES})
  target_link_libraries(test_${name} PRIVATE doctest::doctest kentongan::warnings ${ARG_DEPS})
  target_compile_definitions(test_${name} PRIVATE
    KENTONGAN_SOURCE_DIR="${PROJECT_SOURCE_DIR}" KENTONGAN_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  add_test(NAME unit.${name} COMMAND test_${name})
  if(ARG_CONCURRENCY)
    # Run again under ThreadSanitizer by scripts/test (target `concurrency_tests`).
    set_tests_properties(unit.${name} PROPERTIES LABELS "unit;concurrency" TIMEOUT 300)
    set_property(GLOBAL APPEND PROPERTY KENTONGAN_CONCURRENCY_TESTS test_${name})
  else()
    set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 300)
  endif()
endfunction()
