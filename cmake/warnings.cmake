# One INTERFACE target carries the project's warning flags and sanitizer settings, so that every
# library and test links the same policy and nothing is repeated per folder.
add_library(kentongan_warnings INTERFACE)
add_library(kentongan::warnings ALIAS kentongan_warnings)
target_compile_options(kentongan_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wconversion -Wsign-conversion -Wnull-dereference -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # g++ 12 reports false positives from inside libstdc++ and Boost headers with these when
  # optimising (Asio's recycling coroutine-frame allocator trips mismatched-new-delete, its
  # scheduler null-dereference at -O2).
  target_compile_options(kentongan_warnings INTERFACE
    -Wno-maybe-uninitialized -Wno-mismatched-new-delete -Wno-null-dereference -Wno-stringop-overflow -Wno-array-bounds
    -Wno-restrict)
endif()

if(KENTONGAN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(KENTONGAN_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Asio's fenced blocks use atomic_thread_fence, which TSan does not model; g++ 12 warns (and
    # -Werror fails) for every translation unit that includes Asio. Its locks are still seen.
    add_compile_options(-Wno-tsan)
  endif()
  add_link_options(-fsanitize=thread)
endif()
