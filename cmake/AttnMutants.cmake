# The mutation check: the tests must reject typical wrong solutions and accept correct
# but different ones.
#
# Typical mistakes live in the catalogue (course/mistakes/), which checks itself
# (mistakes.step<n>: each entry fails its step's tests and is diagnosed as itself). What
# the catalogue cannot hold stays here: correct alternatives written as small edits, and
# wrong ones that no entry can reproduce (an entry must be deterministic; seeding from
# std::random_device is not).
#
# tests/mutants/mutants.json lists edits of the answer key:
#   {"name": ..., "step": n, "expect": "reject" | "accept", "find": ..., "replace": ...,
#    "why": "the mistake it models"}
# Each edit is applied to solutions/<step file> at configure time (configuration stops if
# the text to find is no longer there, so the list cannot silently drift from the answer
# key) and linked with step n's tests and the solutions of steps 1..n-1.
# Whole-file variants in tests/variants/step<n>_<name>.cpp are correct alternatives that
# must be accepted.

function(_attn_mutant_test name step source expect)
  set(exe attn_mutant_${name})
  attn_flavour_objects(objects solutions ${step})
  list(REMOVE_AT objects -1)  # step n itself comes from the mutant source
  attn_add_step_test(${exe} ${step} "${source}" ${objects})
  if(expect STREQUAL "reject")
    add_test(NAME mutants.${name}
             COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:${exe}> -DNAME=${name}
                     -P "${PROJECT_SOURCE_DIR}/cmake/expect_rejected.cmake")
    set_tests_properties(mutants.${name} PROPERTIES LABELS "mutants;step${step}"
                         TIMEOUT ${ATTN_STEP_${step}_TIMEOUT})
  else()
    add_test(NAME variants.${name} COMMAND ${exe})
    set_tests_properties(variants.${name} PROPERTIES LABELS "variants;step${step}"
                         TIMEOUT ${ATTN_STEP_${step}_TIMEOUT})
  endif()
endfunction()

function(attn_add_mutants manifest)
  if(NOT EXISTS "${manifest}")
    return()
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${manifest}")
  file(READ "${manifest}" json)
  string(JSON count LENGTH "${json}" mutants)
  if(count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
      foreach(field name step expect find replace)
        string(JSON ${field} GET "${json}" mutants ${i} ${field})
      endforeach()
      if(NOT TARGET attn_tests_step${step})
        continue()
      endif()
      set(original "${PROJECT_SOURCE_DIR}/solutions/${ATTN_STEP_${step}_FILE}")
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${original}")
      file(READ "${original}" text)
      string(FIND "${text}" "${find}" at)
      if(at EQUAL -1)
        message(FATAL_ERROR "attn: mutant '${name}': the text\n  ${find}\nis not in "
                            "${original} any more; update tests/mutants/mutants.json")
      endif()
      string(REPLACE "${find}" "${replace}" text "${text}")
      set(generated "${CMAKE_CURRENT_BINARY_DIR}/mutants/${name}.cpp")
      file(WRITE "${generated}.tmp" "// Generated from ${original} by tests/mutants/mutants.json ('${name}').\n${text}")
      file(COPY_FILE "${generated}.tmp" "${generated}" ONLY_IF_DIFFERENT)
      _attn_mutant_test(${name} ${step} "${generated}" ${expect})
    endforeach()
  endif()

  file(GLOB variants CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/variants/step*_*.cpp")
  foreach(source IN LISTS variants)
    get_filename_component(base "${source}" NAME_WE)
    string(REGEX MATCH "^step([0-9]+)_(.*)$" _ "${base}")
    if(TARGET attn_tests_step${CMAKE_MATCH_1})
      _attn_mutant_test(${base} ${CMAKE_MATCH_1} "${source}" accept)
    endif()
  endforeach()
endfunction()
