# cmake -DEXE=<program> [-DARGS="<arg> <arg>..."] -DOUT=<file> -P run_program.cmake
# Runs one of the project's programs at docs build time and keeps its standard output for
# the pages (worked examples, the instability table, the data behind the pictures). A
# program that fails stops the docs build with its message: the docs never show stale
# or partial numbers.
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${EXE}" ${args} OUTPUT_FILE "${OUT}.tmp" ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUT}.tmp")
  message(FATAL_ERROR "docs: '${EXE} ${ARGS}' failed (${rc}); expected it to print the numbers "
                      "for ${OUT}\n${err}")
endif()
file(RENAME "${OUT}.tmp" "${OUT}")
