# cmake -DINDEX=<html/index.html> -DOUT=<html dir> -P check_docs.cmake
# The docs were built, the contract is documented, and formulas go through MathJax.
foreach(page "${INDEX}" "${OUT}/contract_8hpp.html" "${OUT}/reference_8hpp.html")
  if(NOT EXISTS "${page}")
    message(FATAL_ERROR "docs: ${page} is missing; expected Doxygen to generate it")
  endif()
endforeach()
file(READ "${OUT}/contract_8hpp.html" contract)
if(NOT contract MATCHES "MathJax")
  message(FATAL_ERROR "docs: contract_8hpp.html does not load MathJax; expected USE_MATHJAX")
endif()
if(NOT contract MATCHES "beta_")
  message(FATAL_ERROR "docs: contract_8hpp.html lacks the beta_ij formula of the cards")
endif()
