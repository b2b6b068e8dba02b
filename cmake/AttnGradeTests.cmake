# Grading with ctest (the `grade` configure and test presets): instead of building the course,
# the build registers one ctest test per graded unit of the submission in ATTN_EXERCISES_DIR,
# each running the grader's own code (tools/grade.py, grading/session.py), so a step's
# verdict and points are the same as ./attn grade gives:
#   grade.prepare        compiles the submission in the grading build (ATTN_GRADE_BUILD_DIR,
#                        by default build/grade, or build/grade-sanitize with ATTN_SANITIZE:
#                        the ones ./attn grade uses) inside the sandbox;
#                        the fixture every unit needs
#   grade.step<n>        step n's tests: passes when every test case passes; its output says
#                        the points ("attn grade: Step n: ...: x of y points") and carries them
#                        as CTest measurements (points, max_points, passed_share)
#   grade.hidden.step<n> step n's hidden tests (ATTN_HIDDEN_TESTS_DIR), the same way
#   grade.report         results.json, junit.xml and report.txt in <build>/grades, the total
# Labels: grade, step<n>, core or extension, hidden. The units' timeouts are the manifest's,
# plus the judge's own margin.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
enable_testing()

if(ATTN_EXERCISES_DIR STREQUAL "${PROJECT_SOURCE_DIR}/exercises")
  message(FATAL_ERROR "attn: grading with ctest needs a submission: configure with "
                      "-DATTN_EXERCISES_DIR=<the student's exercises folder> (it is the course's own "
                      "exercises/ now)")
endif()
if(NOT IS_DIRECTORY "${ATTN_EXERCISES_DIR}")
  message(FATAL_ERROR "attn: ATTN_EXERCISES_DIR '${ATTN_EXERCISES_DIR}' is not a folder; expected "
                      "the student's exercises folder (or a clone holding exercises/)")
endif()
set(ATTN_HIDDEN_TESTS_DIR "" CACHE PATH "A folder of hidden tests (hidden_step<n>_*.cpp); empty: none")
if(ATTN_SANITIZE)
  set(default_build "${PROJECT_SOURCE_DIR}/build/grade-sanitize")  # as ./attn grade --sanitize
else()
  set(default_build "${PROJECT_SOURCE_DIR}/build/grade")
endif()
set(ATTN_GRADE_BUILD_DIR "${default_build}" CACHE PATH
    "The grading build that compiles the submissions (shared with ./attn grade)")
set(ATTN_GRADE_SEED "" CACHE STRING "Seed of the randomised tests (empty: a fresh one per run, printed)")
set(ATTN_GRADE_NAME "" CACHE STRING "The student's name in the reports (empty: the folder's name)")
option(ATTN_GRADE_NO_SANDBOX "Grade without the sandbox (the student's code runs with your rights)" OFF)

set(state "${PROJECT_BINARY_DIR}/grade-state")
set(grader "${PROJECT_SOURCE_DIR}/tools/grade.py")
set(options --build-dir "${ATTN_GRADE_BUILD_DIR}")
if(ATTN_HIDDEN_TESTS_DIR)
  list(APPEND options --hidden "${ATTN_HIDDEN_TESTS_DIR}")
endif()
if(ATTN_SANITIZE)
  list(APPEND options --sanitize)
endif()
if(NOT ATTN_GRADE_SEED STREQUAL "")
  list(APPEND options --seed "${ATTN_GRADE_SEED}")
endif()
if(ATTN_GRADE_NAME)
  list(APPEND options --name "${ATTN_GRADE_NAME}")
endif()
if(ATTN_GRADE_NO_SANDBOX)
  list(APPEND options --no-sandbox)
endif()

add_test(NAME grade.prepare
         COMMAND Python3::Interpreter "${grader}" ctest-prepare "${ATTN_EXERCISES_DIR}" --state "${state}" ${options})
set_tests_properties(grade.prepare PROPERTIES FIXTURES_SETUP attn_grade LABELS "grade" TIMEOUT 3600)

# attn_grade_unit(<test> <unit> <step> <labels>)
function(attn_grade_unit test unit step labels)
  math(EXPR timeout "${ATTN_STEP_${step}_TIMEOUT} + 60")  # the judge's margin (tools/course.py, JUDGE_MARGIN)
  add_test(NAME ${test} COMMAND Python3::Interpreter "${grader}" ctest-unit ${unit} --state "${state}")
  set_tests_properties(${test} PROPERTIES FIXTURES_REQUIRED attn_grade LABELS "${labels}" TIMEOUT ${timeout})
endfunction()

foreach(n IN LISTS ATTN_STEPS)
  if(ATTN_STEP_${n}_CORE)
    set(kind core)
  else()
    set(kind extension)
  endif()
  attn_grade_unit(grade.step${n} step${n} ${n} "grade;step${n};${kind}")
  if(ATTN_HIDDEN_TESTS_DIR)
    file(GLOB hidden CONFIGURE_DEPENDS "${ATTN_HIDDEN_TESTS_DIR}/hidden_step${n}_*.cpp")
    if(hidden)
      attn_grade_unit(grade.hidden.step${n} hidden${n} ${n} "grade;step${n};${kind};hidden")
    endif()
  endif()
endforeach()

add_test(NAME grade.report
         COMMAND Python3::Interpreter "${grader}" ctest-report --state "${state}" --out "${PROJECT_BINARY_DIR}/grades")
set_tests_properties(grade.report PROPERTIES FIXTURES_CLEANUP attn_grade LABELS "grade" TIMEOUT 120)
message(STATUS "attn: grading ${ATTN_EXERCISES_DIR} with ctest (ctest --preset grade); "
               "the submission compiles in ${ATTN_GRADE_BUILD_DIR}")
