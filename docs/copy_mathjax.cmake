# cmake -DSRC=<MathJax 2 directory> -DDST=<html/mathjax> -P copy_mathjax.cmake
# Copies the parts of MathJax 2 that Doxygen's pages load (the TeX input, the HTML-CSS
# output with its TeX web fonts, the menu and zoom extensions) next to the HTML, so the
# docs render formulas offline. About 7 MB instead of the package's 55 MB.
if(NOT EXISTS "${SRC}/MathJax.js")
  message(FATAL_ERROR "docs: ${SRC}/MathJax.js is missing; expected a MathJax 2 installation")
endif()
file(REMOVE_RECURSE "${DST}")
file(MAKE_DIRECTORY "${DST}/jax/output" "${DST}/fonts/HTML-CSS" "${DST}/localization")
file(COPY "${SRC}/MathJax.js" "${SRC}/extensions" DESTINATION "${DST}")
file(COPY "${SRC}/jax/input" "${SRC}/jax/element" DESTINATION "${DST}/jax")
file(COPY "${SRC}/jax/output/HTML-CSS" DESTINATION "${DST}/jax/output")
file(COPY "${SRC}/fonts/HTML-CSS/TeX" DESTINATION "${DST}/fonts/HTML-CSS")
if(EXISTS "${SRC}/localization/en")
  file(COPY "${SRC}/localization/en" DESTINATION "${DST}/localization")
endif()
foreach(part MathJax.js extensions/tex2jax.js extensions/TeX/AMSmath.js extensions/TeX/AMSsymbols.js
             jax/input/TeX/config.js jax/output/HTML-CSS/config.js fonts/HTML-CSS/TeX)
  if(NOT EXISTS "${DST}/${part}")
    message(FATAL_ERROR "docs: MathJax in ${SRC} has no ${part}; expected a complete MathJax 2")
  endif()
endforeach()
