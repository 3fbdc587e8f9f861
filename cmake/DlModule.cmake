# dl_add_module(name dep [sources-subdir...]): one static library per layer, globbing its
# sources, linking PUBLIC only the layer below it.
function(dl_add_module name below)
  set(globs ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  foreach(sub ${ARGN})
    list(APPEND globs ${CMAKE_CURRENT_SOURCE_DIR}/${sub}/*.cpp)
  endforeach()
  file(GLOB srcs CONFIGURE_DEPENDS ${globs})
  if(srcs)
    add_library(${name} STATIC ${srcs})
    target_link_libraries(${name} PUBLIC ${below})
  else()  # a layer whose issue has not landed yet
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE ${below})
  endif()
endfunction()
