# Warnings and sanitizers for the project's own targets. Never fast-math flags: they break the
# NaN and infinity handling the course teaches.

add_library(attn_warning_options INTERFACE)
if(MSVC)
  target_compile_options(attn_warning_options INTERFACE /W4 $<$<BOOL:${ATTN_WARNINGS_AS_ERRORS}>:/WX>)
else()
  target_compile_options(attn_warning_options INTERFACE -Wall -Wextra -Wpedantic
                         $<$<BOOL:${ATTN_WARNINGS_AS_ERRORS}>:-Werror>)
endif()
add_library(attn_compile_options INTERFACE)
target_link_libraries(attn_compile_options INTERFACE attn_warning_options)

if(ATTN_SANITIZE)
  target_compile_options(attn_compile_options INTERFACE
    -fsanitize=${ATTN_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(attn_compile_options INTERFACE -fsanitize=${ATTN_SANITIZE})
  # Lets the exhaustive tests sample instead of walking 10^9 values under instrumentation.
  target_compile_definitions(attn_compile_options INTERFACE ATTN_SANITIZED=1)
endif()

# attn_use_compile_options(<target>...): the project's warnings and sanitizers.
function(attn_use_compile_options)
  foreach(target IN LISTS ARGN)
    target_link_libraries(${target} PRIVATE attn_compile_options)
  endforeach()
endfunction()

# attn_use_warnings(<target>...): the warnings only, never the sanitizers (the grading
# sandbox's launcher, which sets memory limits that AddressSanitizer could not live with).
function(attn_use_warnings)
  foreach(target IN LISTS ARGN)
    target_link_libraries(${target} PRIVATE attn_warning_options)
  endforeach()
endfunction()
