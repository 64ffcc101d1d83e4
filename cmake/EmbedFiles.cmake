# askdesk_embed_files(<output.cpp> <symbol> <files...>)
#
# Generates <output.cpp> defining `askdesk::embedded_file <symbol>[]` (name and contents of
# each file, null-terminated list) so that Lua scripts and similar text ship inside the binary.
function(askdesk_embed_files output symbol)
  set(files ${ARGN})
  string(REPLACE ";" "|" files_arg "${files}")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND ${CMAKE_COMMAND} "-DOUTPUT=${output}" "-DSYMBOL=${symbol}" "-DFILES=${files_arg}"
            -P "${ASKDESK_SOURCE_DIR}/cmake/embed.cmake"
    DEPENDS ${files} "${ASKDESK_SOURCE_DIR}/cmake/embed.cmake"
    COMMENT "Embedding ${symbol}"
    VERBATIM)
endfunction()
