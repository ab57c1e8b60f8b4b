# Warning policy: -Wall -Wextra -Wshadow everywhere; errors when MYSQLOP_WERROR is on (CI).
option(MYSQLOP_WERROR "Treat compiler warnings as errors" OFF)

function(mysqlop_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wpedantic
                                           # options structs are filled with designated
                                           # initialisers; omitted members keep their defaults
                                           -Wno-missing-field-initializers)
  if(MYSQLOP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
