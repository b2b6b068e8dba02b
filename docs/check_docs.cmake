# cmake -DHTML=<docs/html> -DGENERATED=<docs/generated> -DSOURCE=<project source dir>
#       -DSTEP_PAGES=<step1_dot,...>
#       [-DLOCAL_MATHJAX=<dir>] [-DPLOTS=<python>] -P check_docs.cmake
# The docs were built and hold what the course promises its readers, checked in the HTML itself (the
# browser check, check_browser.py, then looks at it rendered):
#   - the overview, every step page, the instability analysis, the references, the worked
#     examples (the cards) and the design page exist;
#   - formulas go through MathJax (the cards' beta_ij and alpha_ij on the overview);
#   - every step page has formulas, its worked example's real output, the answer key's code
#     and links to the stub, the answer key, the tests (once they exist), the contract and
#     the reference;
#   - the instability page shows the report's table; the pictures were drawn and copied;
#   - with a local MathJax, the parts the pages load are next to the HTML (offline);
#   - the teaching text's numbers and citations were checked (check_text.py) on the way.
string(REPLACE "," ";" step_pages "${STEP_PAGES}")
set(failures "")
macro(fail what)
  list(APPEND failures "${what}")
endmacro()
# Stops with every failure found so far, one a line.
macro(stop_on_failures)
  if(failures)
    string(REPLACE ";" "\n  " failures "${failures}")
    message(FATAL_ERROR "docs:\n  ${failures}")
  endif()
endmacro()

foreach(page index instability references worked_examples design sources contract_8hpp reference_8hpp namespaceattn
             namespaceattn_1_1ref ${step_pages})
  if(NOT EXISTS "${HTML}/${page}.html")
    fail("${page}.html is missing; expected Doxygen to generate it from docs/")
  endif()
endforeach()
stop_on_failures()  # the other checks read these pages

# The text of a page with tags removed and entities decoded enough to compare program output.
function(page_text page out)
  file(READ "${HTML}/${page}.html" text)
  string(REGEX REPLACE "<[^>]*>" "" text "${text}")
  string(REPLACE "&lt;" "<" text "${text}")
  string(REPLACE "&gt;" ">" text "${text}")
  string(REPLACE "&amp;" "&" text "${text}")
  string(REPLACE "&#160;" " " text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# The build checked the teaching text (check_text.py) before it ran Doxygen.
if(NOT EXISTS "${GENERATED}/../text_checked.stamp")
  fail("the docs were built without the text check; expected docs/check_text.py to run first")
endif()

file(READ "${HTML}/index.html" index)
if(NOT index MATCHES "MathJax")
  fail("index.html does not load MathJax; expected USE_MATHJAX")
endif()
if(NOT index MATCHES "beta_{ij}" OR NOT index MATCHES "alpha_{ij}")
  fail("index.html lacks the cards' notation beta_ij and alpha_ij")
endif()

foreach(page IN LISTS step_pages)
  string(REGEX MATCH "^step([0-9]+)_" _ "${page}")
  set(n "${CMAKE_MATCH_1}")
  file(READ "${HTML}/${page}.html" html)
  if(NOT html MATCHES "class=\"formulaDsp\"")
    fail("${page}.html has no displayed formula")
  endif()
  if(NOT html MATCHES "class=\"fragment\"")
    fail("${page}.html shows no code (worked example, answer key)")
  endif()
  # Every line the worked example printed at docs build appears on the page.
  page_text(${page} text)
  file(STRINGS "${GENERATED}/worked_step${n}.txt" lines)
  if(NOT lines)
    fail("${GENERATED}/worked_step${n}.txt is empty; expected the worked example's output")
  endif()
  foreach(line IN LISTS lines)
    string(FIND "${text}" "${line}" at)
    if(at EQUAL -1)
      fail("${page}.html lacks the worked example's output line '${line}'")
      break()
    endif()
  endforeach()
  set(targets "src_exercises_step${n}.html" "src_solutions_step${n}.html" "namespaceattn.html#"
              "namespaceattn_1_1ref.html#")
  file(GLOB tests "${SOURCE}/tests/test_step${n}_*.cpp")
  if(tests)
    list(APPEND targets "src_tests_step${n}.html")
  endif()
  foreach(target IN LISTS targets)
    string(FIND "${html}" "href=\"${target}" at)
    if(at EQUAL -1)
      fail("${page}.html has no link to ${target}; expected the step's files section")
    endif()
  endforeach()
  file(READ "${HTML}/src_solutions_step${n}.html" solution)
  if(NOT solution MATCHES "namespace")
    fail("src_solutions_step${n}.html does not show solutions/ code")
  endif()
endforeach()

page_text(instability text)
file(STRINGS "${GENERATED}/instability_table.txt" lines)
list(LENGTH lines nlines)
if(nlines LESS 8)
  fail("instability_table.txt has ${nlines} lines; expected the header and rows for d = 16 ... 1024")
endif()
foreach(line IN LISTS lines)
  string(FIND "${text}" "${line}" at)
  if(at EQUAL -1)
    fail("instability.html lacks the report's line '${line}'")
    break()
  endif()
endforeach()

if(PLOTS)
  foreach(picture heatmap saturation instability)
    if(NOT EXISTS "${HTML}/${picture}.png")
      fail("${picture}.png is not in the HTML; expected docs/plots.py to draw it")
    endif()
  endforeach()
  # The training lab's sweep (docs/lab.md), drawn by tools/lab/sweep.py when attn_lab is built.
  if(EXISTS "${GENERATED}/lab_summary.txt")
    foreach(picture lab_sweep lab_run)
      if(NOT EXISTS "${HTML}/${picture}.png")
        fail("${picture}.png is not in the HTML; expected tools/lab/sweep.py to draw it for lab.html")
      endif()
    endforeach()
  endif()
endif()

if(LOCAL_MATHJAX)
  foreach(part MathJax.js extensions/tex2jax.js jax/input/TeX/config.js jax/output/HTML-CSS/jax.js
               fonts/HTML-CSS/TeX)
    if(NOT EXISTS "${HTML}/mathjax/${part}")
      fail("mathjax/${part} is missing; expected a local MathJax next to the HTML for offline reading")
    endif()
  endforeach()
  if(NOT index MATCHES "src=\"mathjax/MathJax.js\"")
    fail("index.html does not load the local mathjax/MathJax.js")
  endif()
endif()

stop_on_failures()
list(LENGTH step_pages nsteps)
message(STATUS "docs: overview, ${nsteps} step pages, instability analysis and references built, "
               "with worked examples, links and formulas")
